/**
 * A real Temporal cluster for a test: an embedded PostgreSQL 17 holding Temporal's two
 * databases, their schemas set up by temporal-config/setup-schema.sh with the schema tool,
 * the four services (frontend, history, matching, worker) each a `temporal-server` process
 * started from temporal-config/cluster.yaml on ports of their own, and the namespace set up
 * by temporal-config/setup-namespace.ts. A test restarts a service like a crashed machine.
 */
import { join } from 'node:path';
import { startPostgres, type PgServer } from '../../src/dev/embedded-postgres';
import {
  TEMPORAL_DYNAMIC_CONFIG_FILE,
  TEMPORAL_SERVICES,
  clusterEnv,
  databaseEnv,
  ensureTemporalServer,
  freeClusterPort,
  logTail,
  setupTemporalSchema,
  startTemporalService,
  waitForPort,
  type ClusterPorts,
  type ServiceProcess,
  type TemporalService,
} from '../../src/dev/temporal-server';
import { setupNamespace } from '../../temporal-config/setup-namespace';

export interface Cluster {
  /** The frontend, host:port. */
  address: string;
  namespace: string;
  db: PgServer;
  ports: ClusterPorts;
  services: Record<TemporalService, ServiceProcess>;
  /** Kills a service (SIGKILL by default) and starts it again on the same ports and config. */
  restart(service: TemporalService, o?: { signal?: NodeJS.Signals; downMs?: number }): Promise<void>;
  /** The services' log lines, for a failure message. */
  logTail(service: TemporalService, lines?: number): string;
  stop(): Promise<void>;
}

/** The port that shows a service is up (the worker service serves no gRPC: its membership port). */
const READY_PORT: Record<TemporalService, keyof ClusterPorts> = {
  frontend: 'frontend',
  history: 'history',
  matching: 'matching',
  worker: 'workerMembership',
};

export async function startCluster(o: { scratch: string; namespace?: string }): Promise<Cluster> {
  const tools = ensureTemporalServer();
  const namespace = o.namespace ?? 'default';
  const db = await startPostgres({ major: 17, name: 'temporal-db' });
  const services = {} as Record<TemporalService, ServiceProcess>;
  try {
    const database = { host: db.host, port: db.port, user: 'postgres', password: db.password };
    await setupTemporalSchema(tools, database);
    const taken = new Set<number>();
    const port = async (): Promise<number> => {
      for (;;) {
        const p = await freeClusterPort();
        if (taken.has(p)) continue;
        taken.add(p);
        return p;
      }
    };
    const ports: ClusterPorts = {
      frontend: await port(),
      frontendHttp: await port(),
      frontendMembership: await port(),
      history: await port(),
      historyMembership: await port(),
      matching: await port(),
      matchingMembership: await port(),
      worker: await port(),
      workerMembership: await port(),
    };
    const env = {
      ...databaseEnv(database),
      ...clusterEnv(ports),
      TEMPORAL_DYNAMIC_CONFIG_FILE,
      TEMPORAL_LOG_LEVEL: process.env.TEMPORAL_CLUSTER_LOG_LEVEL ?? 'warn',
    };
    const spawnService = (service: TemporalService) =>
      (services[service] = startTemporalService(tools, service, env, join(o.scratch, `temporal-${service}.log`)));
    const start = (service: TemporalService) =>
      waitForPort('127.0.0.1', ports[READY_PORT[service]], spawnService(service), 90_000);
    // The frontend first: the first service up writes the cluster's metadata, and two writing it at
    // once make one exit ("failed to initialize current cluster metadata"). Then the others together:
    // the worker service's start waits for a frontend.
    await start('frontend');
    await Promise.all((['history', 'matching', 'worker'] as const).map(start));
    const address = `127.0.0.1:${ports.frontend}`;
    await setupNamespace({ address, namespace, log: () => undefined });
    return {
      address,
      namespace,
      db,
      ports,
      services,
      async restart(service, r = {}) {
        await services[service].stop(r.signal ?? 'SIGKILL');
        await new Promise((res) => setTimeout(res, r.downMs ?? 1000));
        await start(service);
      },
      logTail: (service, lines = 40) => logTail(services[service].logFile, lines),
      async stop() {
        for (const service of [...TEMPORAL_SERVICES].reverse()) await services[service]?.stop();
        await db.stop();
      },
    };
  } catch (e) {
    await Promise.all(Object.values(services).map((s) => s.stop('SIGKILL')));
    await db.stop();
    throw e;
  }
}
