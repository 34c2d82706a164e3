/**
 * The Temporal CLI for the local stack: `temporal` from PATH when there is one,
 * otherwise built once with `go install` into a cache folder outside the clone
 * (so every clone on the machine reuses it).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { connect } from 'node:net';
import { SEARCH_ATTRIBUTE_FLAGS } from '../temporal/search-attributes';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export function cacheDir(): string {
  const base =
    process.env.PGTRANSIT_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pgtransit');
  return base;
}

function onPath(program: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, program);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** Path of a usable `temporal` binary, building it when needed. */
export function ensureTemporalCli(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  if (process.env.TEMPORAL_CLI_PATH && existsSync(process.env.TEMPORAL_CLI_PATH)) return process.env.TEMPORAL_CLI_PATH;
  const fromPath = onPath('temporal');
  if (fromPath) return fromPath;
  const dir = join(cacheDir(), `temporal-${TEMPORAL_CLI_VERSION}`);
  const bin = join(dir, 'temporal');
  if (existsSync(bin)) return bin;
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go) {
    throw new Error(
      'the Temporal CLI is needed and neither `temporal` nor `go` is on PATH.\n' +
        'Install one of them: the Temporal CLI (https://docs.temporal.io/cli, put `temporal` on PATH) ' +
        'or Go 1.22+ (pgtransit then builds the CLI itself), or set TEMPORAL_CLI_PATH.',
    );
  }
  mkdirSync(dir, { recursive: true });
  log(
    `building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install into ${dir} (once per machine; a few minutes)...`,
  );
  const result = spawnSync(go, ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, GOBIN: dir, GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0 || !existsSync(bin)) {
    throw new Error(`go install of the Temporal CLI failed (exit ${result.status}); see the output above`);
  }
  log(`built ${execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()}`);
  return bin;
}

export interface DevServerOptions {
  ip?: string;
  port?: number;
  uiPort?: number;
  /** SQLite file; with one, a restart keeps running workflows. */
  dbFile?: string;
  namespace?: string;
  quiet?: boolean;
  /** A codec server the Web UI decodes payloads through (`--ui-codec-endpoint`). */
  uiCodecEndpoint?: string;
  /** In a process group of its own: a Ctrl-C at the terminal reaches only its owner, which stops it in order. */
  detached?: boolean;
  /** Append the server's output here (instead of inheriting stdio, or dropping it with `quiet`). */
  logFile?: string;
}

export interface DevServer {
  address: string;
  uiAddress: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function defaultStateDir(): string {
  return (
    process.env.PGTRANSIT_STATE_DIR ??
    join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'pgtransit')
  );
}

/** Starts `temporal server start-dev` and waits until its frontend accepts connections. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const bin = ensureTemporalCli();
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const uiPort = options.uiPort ?? 8233;
  const dbFile = options.dbFile ?? join(defaultStateDir(), 'temporal.sqlite');
  mkdirSync(join(dbFile, '..'), { recursive: true });
  if (await portOpen(ip, port)) {
    throw new Error(
      `${ip}:${port} is already in use: is a Temporal server already running? Stop it, or point TEMPORAL_ADDRESS at it and run \`pgtransit worker\` instead`,
    );
  }
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    dbFile,
    '--namespace',
    options.namespace ?? 'default',
    '--log-level',
    'warn',
    // pgtransit's workflows set these; a server without them fails their workflow tasks.
    ...SEARCH_ATTRIBUTE_FLAGS.flatMap((f) => ['--search-attribute', f]),
    ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
  ];
  const log = options.logFile ? openSync(options.logFile, 'a') : undefined;
  const child = spawn(bin, args, {
    stdio: log !== undefined ? ['ignore', log, log] : options.quiet ? 'ignore' : ['ignore', 'inherit', 'inherit'],
    detached: options.detached,
  });
  if (log !== undefined) closeSync(log);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? -1));
  const deadline = Date.now() + 60_000;
  while (!(await portOpen(ip, port))) {
    if (exited !== null) throw new Error(`temporal server start-dev exited with ${exited}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`the Temporal dev server did not listen on ${ip}:${port} within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address: `${ip}:${port}`,
    uiAddress: `http://${ip}:${uiPort}`,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
