/** Worker bootstrap: one place that knows the workflows, the activities and the task queue. */
import {
  DefaultLogger,
  NativeConnection,
  makeTelemetryFilterString,
  Runtime,
  Worker,
  type LogLevel,
  type WorkerOptions,
} from '@temporalio/worker';
import { createActivities } from '../../activities';
import { bundleInChildProcess } from './bundle';
import { codecFromEnvironment, codecDataConverter, ENCRYPTED_FAILURES_PATH } from './codec';
import { temporalConfig, type TemporalConfig } from './config';
import { activityLogInterceptor, jsonLogFunction, logFormatFrom, logLevelFrom, type LogFormat } from './logging';
import { checkSearchAttributes } from './search-attributes';

export const WORKFLOWS_PATH = require.resolve('../../workflows');

/**
 * Options every pgtransit worker runs with. Heartbeats carry cancellation back to an
 * activity, and the SDK throttles them to 0.8 x the heartbeat timeout (4 s for a round of
 * change capture) unless told otherwise: a pause or a switchover should stop a round at once.
 */
export const WORKER_DEFAULTS = { maxHeartbeatThrottleInterval: '1 second' } as const satisfies Partial<WorkerOptions>;

export interface StartWorkerOptions {
  config?: TemporalConfig;
  connection?: NativeConnection;
  /** A prebuilt workflow bundle (tests build it once). */
  workflowBundle?: WorkerOptions['workflowBundle'];
  activities?: ReturnType<typeof createActivities>;
  /** The environment the payload codec's key is read from (PGTRANSIT_CODEC_KEY; off when unset). */
  env?: NodeJS.ProcessEnv;
  /** Metrics and log format; flags of `pgtransit worker` override PGTRANSIT_METRICS_PORT and PGTRANSIT_LOG_FORMAT. */
  telemetry?: TelemetrySettings;
}

export interface TelemetrySettings {
  /** `port` or `host:port` of the Prometheus endpoint (a bare port listens on every interface); none: no endpoint. */
  metrics?: string;
  logFormat?: LogFormat;
}

/** The Prometheus endpoint's address from `port` or `host:port`. */
export function metricsBindAddress(value: string): string {
  const m = /^(?:([\w.-]+|\[[0-9a-fA-F:]+\]):)?(\d+)$/.exec(value.trim());
  const port = Number(m?.[2]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`metrics port ${value}: give a port (9464) or host:port (127.0.0.1:9464)`);
  return `${m[1] ?? '0.0.0.0'}:${port}`;
}

export function telemetryFromEnvironment(env: NodeJS.ProcessEnv = process.env): TelemetrySettings {
  return { metrics: env.PGTRANSIT_METRICS_PORT?.trim() || undefined, logFormat: logFormatFrom(env) };
}

let runtimeInstalled = false;

/**
 * Worker logs at WARN unless PGTRANSIT_LOG_LEVEL says otherwise (the SDK's INFO lines drown the CLI's output);
 * JSON logs are for a collector and start at INFO. The SDK's Prometheus endpoint serves pgtransit's metrics too.
 */
export function installRuntime(level?: LogLevel, telemetry: TelemetrySettings = telemetryFromEnvironment()): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const json = telemetry.logFormat === 'json';
  const lvl = level ?? logLevelFrom(process.env, json ? 'INFO' : 'WARN');
  Runtime.install({
    logger: json ? new DefaultLogger(lvl, jsonLogFunction()) : new DefaultLogger(lvl),
    telemetryOptions: {
      // JSON lines only on stdout: the native side's lines go through the same logger.
      ...(json ? { logging: { forward: {}, filter: makeTelemetryFilterString({ core: lvl, other: lvl }) } } : {}),
      ...(telemetry.metrics ? { metrics: { prometheus: { bindAddress: metricsBindAddress(telemetry.metrics) } } } : {}),
    },
  });
}

export async function connectWorker(config: TemporalConfig): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect({ address: config.address });
  } catch (e) {
    throw new Error(
      `cannot reach Temporal at ${config.address}: ${(e as Error).message}. Start it with \`pgtransit dev\` or set TEMPORAL_ADDRESS.`,
    );
  }
}

export async function createWorker(
  options: StartWorkerOptions = {},
): Promise<{ worker: Worker; connection: NativeConnection; ownsConnection: boolean }> {
  installRuntime(undefined, options.telemetry);
  const config = options.config ?? temporalConfig();
  // Read before connecting or bundling, so a bad key fails at once with its message.
  const codec = codecFromEnvironment(options.env);
  const connection = options.connection ?? (await connectWorker(config));
  let built: Awaited<ReturnType<typeof bundleInChildProcess>> | undefined;
  try {
    await checkSearchAttributes(connection, config.namespace, (line) => Runtime.instance().logger.warn(line));
    // With the codec on, workflow failures are encoded in the sandbox: the bundle carries the converter.
    // (A prebuilt bundle keeps the one it was built with.)
    if (!options.workflowBundle) {
      built = await bundleInChildProcess(
        WORKFLOWS_PATH,
        codec ? { failureConverterPath: ENCRYPTED_FAILURES_PATH } : {},
      );
    }
    const dataConverter = codecDataConverter(codec);
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      workflowBundle: options.workflowBundle ?? { codePath: built!.codePath },
      activities: options.activities ?? createActivities(),
      interceptors: { activity: [activityLogInterceptor] },
      shutdownGraceTime: '10 seconds',
      ...(dataConverter ? { dataConverter } : {}),
      ...WORKER_DEFAULTS,
    });
    return { worker, connection, ownsConnection: !options.connection };
  } catch (e) {
    if (!options.connection) await connection.close();
    throw e;
  } finally {
    built?.dispose();
  }
}

/** Runs a worker until SIGINT/SIGTERM, then lets running activities finish their grace time. */
export async function runWorkerUntilSignal(options: StartWorkerOptions = {}): Promise<void> {
  const { worker, connection, ownsConnection } = await createWorker(options);
  const stop = () => worker.shutdown();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await worker.run();
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (ownsConnection) await connection.close();
  }
}
