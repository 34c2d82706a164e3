/** `pgtransit worker [--metrics-port PORT] [--log-json]`: its flags win over PGTRANSIT_METRICS_PORT and PGTRANSIT_LOG_FORMAT. */
import { parseArgs } from 'node:util';
import { runWorkerUntilSignal, telemetryFromEnvironment, type TelemetrySettings } from '../temporal/worker';

export function workerTelemetry(args: string[], env: NodeJS.ProcessEnv = process.env): TelemetrySettings {
  const { values } = parseArgs({
    args,
    options: { 'metrics-port': { type: 'string' }, 'log-json': { type: 'boolean' } },
  });
  const fromEnv = telemetryFromEnvironment(env);
  return {
    metrics: values['metrics-port'] ?? fromEnv.metrics,
    logFormat: values['log-json'] ? 'json' : fromEnv.logFormat,
  };
}

export async function workerCommand(args: string[]): Promise<number> {
  await runWorkerUntilSignal({ telemetry: workerTelemetry(args) });
  return 0;
}
