/**
 * A PgBouncer (Debian's) in front of a test server: transaction pooling, trust logins for
 * the harness's user, the admin console for `postgres`, and the [databases] entries in a
 * file of their own that pgbouncer.ini %includes (the file switchover.pooler.configFile names).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/dev/embedded-postgres';
import { ensurePgbouncer } from '../../src/dev/debian-tools';
import type { PgServer } from './postgres';
import { waitFor } from './wait';

export interface Bouncer {
  port: number;
  /** The admin console's URL (no password: trust). */
  adminUrl: string;
  /** The file holding the [databases] entries. */
  databasesFile: string;
  /** A URL of `database` through the pooler. */
  url(database: string): string;
  log(): string;
  stop(): Promise<void>;
}

/** Starts PgBouncer with one entry per `databases`, each pointing at `server`. */
export async function startPgbouncer(server: PgServer, databases: string[]): Promise<Bouncer> {
  const bin = ensurePgbouncer();
  const dir = mkdtempSync(join(tmpdir(), 'pgtransit-pgbouncer-'));
  const port = await freePort();
  const databasesFile = join(dir, 'databases.ini');
  const entries = databases.map(
    (d) => `${d} = host=${server.host} port=${server.port} dbname=${d} user=postgres password=${server.password}`,
  );
  writeFileSync(databasesFile, `${entries.join('\n')}\n`);
  writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `%include ${databasesFile}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'admin_users = postgres',
      'pool_mode = transaction',
      'max_client_conn = 200',
      'default_pool_size = 20',
      'server_check_delay = 0',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      'ignore_startup_parameters = extra_float_digits,options',
      '',
    ].join('\n'),
  );
  // PgBouncer refuses to run as root: as the servers' own user then.
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()) : undefined;
  const gid = asRoot ? Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()) : undefined;
  if (asRoot) for (const f of ['', 'databases.ini', 'users.txt', 'pgbouncer.ini']) chownSync(join(dir, f), uid!, gid!);
  const child: ChildProcess = spawn(bin, [join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(asRoot ? { uid, gid } : {}),
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const log = () => (existsSync(join(dir, 'pgbouncer.log')) ? readFileSync(join(dir, 'pgbouncer.log'), 'utf8') : '');
  await waitFor(
    'PgBouncer listening',
    async () => {
      if (child.exitCode !== null) throw new Error(`pgbouncer exited ${child.exitCode}: ${stderr}${log()}`);
      return /process up|listening on/i.test(log());
    },
    20_000,
  );
  return {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/pgbouncer`,
    databasesFile,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    log,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
