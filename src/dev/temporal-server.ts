/**
 * The official Temporal server and its schema tool, for a cluster with PostgreSQL
 * persistence (temporal-config/): built once with `go install` into a cache folder
 * outside the clone, like the CLI (temporal-cli.ts), together with the server's
 * PostgreSQL schema folders that the schema tool applies. Only
 * `scripts/ensure-tools.ts --cluster` and the cluster test need them.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { cacheDir, portOpen } from './temporal-cli';

/** The server version the CLI's dev server embeds (TEMPORAL_CLI_VERSION v1.5.1). */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
const MODULE = 'go.temporal.io/server';

/** The four services of a cluster, each run as its own process. */
export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];

/** temporal-config/ of this clone: the static config, the dynamic config, the schema and namespace setup. */
export const TEMPORAL_CONFIG_DIR = join(__dirname, '..', '..', 'temporal-config');
/** The static config's environment name: temporal-config/<env>.yaml is what the server loads. */
export const TEMPORAL_CONFIG_ENV = 'cluster';
/** The dynamic config the cluster runs with (TEMPORAL_DYNAMIC_CONFIG_FILE in the static config). */
export const TEMPORAL_DYNAMIC_CONFIG_FILE = join(TEMPORAL_CONFIG_DIR, 'dynamicconfig', 'development.yaml');
/** Creates Temporal's databases and schemas (docker-compose's schema job runs it too). */
export const SCHEMA_SETUP_SCRIPT = join(TEMPORAL_CONFIG_DIR, 'setup-schema.sh');
/** Creates the namespace and registers the search attributes (docker-compose's namespace job runs it too). */
export const NAMESPACE_SETUP_SCRIPT = join(TEMPORAL_CONFIG_DIR, 'setup-namespace.ts');

export interface TemporalServerTools {
  /** `temporal-server` (go.temporal.io/server/cmd/server). */
  server: string;
  /** `temporal-sql-tool` (go.temporal.io/server/cmd/tools/sql). */
  sqlTool: string;
  /** schema/postgresql/v12 of the server module: temporal/ and visibility/, each with versioned/. */
  schemaDir: string;
}

function onPath(program: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, program);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

function toolsIn(dir: string): TemporalServerTools {
  return {
    server: join(dir, 'temporal-server'),
    sqlTool: join(dir, 'temporal-sql-tool'),
    schemaDir: join(dir, 'schema', 'postgresql', 'v12'),
  };
}

/** Paths of the server, the schema tool and the schema folders, building them when needed. */
export function ensureTemporalServer(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): TemporalServerTools {
  const dir = join(cacheDir(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const tools = toolsIn(dir);
  // The binaries are renamed into place last, so their presence means a complete build.
  if (existsSync(tools.server) && existsSync(tools.sqlTool) && existsSync(join(tools.schemaDir, 'temporal')))
    return tools;
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) {
    throw new Error(
      `the Temporal server ${TEMPORAL_SERVER_VERSION} is needed for the cluster and \`go\` is not on PATH.\n` +
        'Install Go 1.24+ (pgtransit then builds the server and its schema tool itself).',
    );
  }
  mkdirSync(dir, { recursive: true });
  log(
    `building the Temporal server ${TEMPORAL_SERVER_VERSION} and its schema tool with go install into ${dir} ` +
      '(once per machine; several minutes)...',
  );
  const env = { ...process.env, GOBIN: dir, GOFLAGS: '-mod=mod' };
  const result = spawnSync(
    go,
    [
      'install',
      `${MODULE}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
      `${MODULE}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
    ],
    { env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (result.status !== 0 || !existsSync(join(dir, 'server')) || !existsSync(join(dir, 'sql'))) {
    throw new Error(`go install of the Temporal server failed (exit ${result.status}); see the output above`);
  }
  // The schema folders come with the module source; a copy keeps the cache whole when the module cache is cleaned.
  const modCache = execFileSync(go, ['env', 'GOMODCACHE'], { env, encoding: 'utf8' }).trim();
  const moduleSchema = join(modCache, `${MODULE}@${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
  if (!existsSync(join(moduleSchema, 'temporal', 'versioned'))) {
    throw new Error(`the server module has no PostgreSQL schema at ${moduleSchema}`);
  }
  cpSync(moduleSchema, tools.schemaDir, { recursive: true });
  makeWritable(join(dir, 'schema'));
  renameSync(join(dir, 'sql'), tools.sqlTool);
  renameSync(join(dir, 'server'), tools.server);
  log(`built temporal-server ${execFileSync(tools.server, ['--version'], { encoding: 'utf8' }).trim()}`);
  return tools;
}

/** The module cache's files are read-only; the cached copy may be deleted like any other cache. */
function makeWritable(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) for (const entry of readdirSync(path)) makeWritable(join(path, entry));
}

/** Where Temporal's own PostgreSQL is; what temporal-config/cluster.yaml and setup-schema.sh read. */
export interface TemporalDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Default `temporal` and `temporal_visibility`. */
  database?: string;
  visibilityDatabase?: string;
}

export function databaseEnv(db: TemporalDatabase): Record<string, string> {
  return {
    TEMPORAL_DB_HOST: db.host,
    TEMPORAL_DB_PORT: String(db.port),
    TEMPORAL_DB_USER: db.user,
    TEMPORAL_DB_PASSWORD: db.password,
    TEMPORAL_DB_NAME: db.database ?? 'temporal',
    TEMPORAL_VISIBILITY_DB_NAME: db.visibilityDatabase ?? 'temporal_visibility',
  };
}

/**
 * Creates Temporal's two databases and brings their schemas to the server's version with
 * temporal-config/setup-schema.sh, the script the docker-compose schema job runs; safe to run again.
 */
export function setupTemporalSchema(tools: TemporalServerTools, db: TemporalDatabase): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [SCHEMA_SETUP_SCRIPT], {
      env: {
        ...process.env,
        ...databaseEnv(db),
        TEMPORAL_SQL_TOOL: tools.sqlTool,
        TEMPORAL_SCHEMA_DIR: tools.schemaDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`setup-schema.sh exited with ${code}:\n${out.slice(-4000)}`)),
    );
  });
}

/** Ports of one cluster on one host: each service's gRPC and membership port, the frontend's HTTP port. */
export interface ClusterPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/**
 * A free port for one of the cluster's listeners, between 20000 and 32000: below 32768, since the
 * cluster_membership table keeps membership ports as a smallint (a service with a higher one dies
 * at start with "out of range for type smallint"), and outside the kernel's range for outgoing
 * connections, so no connection takes the port between this check and the service's bind.
 */
export async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port between 20000 and 32000 for the Temporal cluster');
}

export function clusterEnv(ports: ClusterPorts, ip = '127.0.0.1'): Record<string, string> {
  return {
    TEMPORAL_BIND_IP: ip,
    TEMPORAL_BROADCAST_ADDRESS: ip,
    TEMPORAL_FRONTEND_GRPC_PORT: String(ports.frontend),
    TEMPORAL_FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    TEMPORAL_HISTORY_GRPC_PORT: String(ports.history),
    TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    TEMPORAL_MATCHING_GRPC_PORT: String(ports.matching),
    TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    TEMPORAL_WORKER_GRPC_PORT: String(ports.worker),
    TEMPORAL_WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
  };
}

export interface ServiceProcess {
  service: TemporalService;
  process: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
  /** The service's log file. */
  logFile: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts one service of the cluster from temporal-config/cluster.yaml, as
 * `temporal-server --root <clone> --config temporal-config --env cluster --allow-no-auth start --service=<service>`;
 * `env` holds what the config is templated with (databaseEnv, clusterEnv, TEMPORAL_DYNAMIC_CONFIG_FILE...).
 */
export function startTemporalService(
  tools: TemporalServerTools,
  service: TemporalService,
  env: Record<string, string>,
  logFile: string,
): ServiceProcess {
  const args = [
    '--root',
    join(TEMPORAL_CONFIG_DIR, '..'),
    '--config',
    'temporal-config',
    '--env',
    TEMPORAL_CONFIG_ENV,
    '--allow-no-auth',
    'start',
    `--service=${service}`,
  ];
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(tools.server, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out, { end: false });
  child.stderr!.pipe(out, { end: false });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      out.end();
      resolve();
    }),
  );
  return {
    service,
    process: child,
    exited,
    logFile,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill(signal);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The last lines of a service's log, for an error message (the folder may be gone when it is read). */
export function logTail(logFile: string, lines = 5): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n').slice(-4000);
  } catch {
    return '(no log)';
  }
}

/** Waits until `host:port` accepts connections, failing early when `service` exits. */
export async function waitForPort(
  host: string,
  port: number,
  service: ServiceProcess,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await portOpen(host, port))) {
    if (service.process.exitCode !== null || service.process.signalCode !== null)
      throw new Error(
        `temporal-server ${service.service} exited (${service.process.exitCode}); ${service.logFile} ends:\n` +
          logTail(service.logFile),
      );
    if (Date.now() > deadline)
      throw new Error(`temporal-server ${service.service} did not listen on ${host}:${port}; see ${service.logFile}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
