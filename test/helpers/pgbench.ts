/**
 * pgbench for the long suites (faults, cluster): the initial database, and an application
 * that keeps writing while the migration runs: pgbench in short runs, each started again
 * after it ends (a restarted source ends a run), and the sample writer beside it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../src/dev/sample-data';
import { startWriter, type Writer } from '../../src/dev/writer';
import { findTool } from '../../src/postgres/tools';
import type { PgServer } from './postgres';
import { sleep } from './wait';

export function pgbenchPath(): string {
  const found = findTool('pgbench').find((t) => t.major >= 15);
  if (!found) throw new Error('pgbench 15 or newer is needed (postgresql-client-15)');
  return found.path;
}

const libpq = (server: PgServer): NodeJS.ProcessEnv => ({
  ...process.env,
  PGHOST: server.host,
  PGPORT: String(server.port),
  PGUSER: 'postgres',
  PGPASSWORD: server.password,
  PGDATABASE: 'app',
});

/** `pgbench -i` of the `app` database at `scale`; resolves with its exit code. */
export function initPgbench(server: PgServer, scale: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(pgbenchPath(), ['-i', '-q', '-s', String(scale)], { env: libpq(server), stdio: 'ignore' });
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

/**
 * The source of the long suites: the sample schema and a pgbench database of `scale` in `app`,
 * the keyless tables followed by all their old values. Resolves with pgbench -i's exit code.
 */
export async function prepareSource(source: PgServer, scale: number): Promise<number> {
  await source.query(SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL, [], 'app');
  const code = await initPgbench(source, scale);
  await source.query(
    `ALTER TABLE pgbench_history REPLICA IDENTITY FULL; ALTER TABLE audit_log REPLICA IDENTITY FULL`,
    [],
    'app',
  );
  return code;
}

export class Workload {
  private running = true;
  private writerOn = true;
  private pgbench: ChildProcess | null = null;
  private writer: Writer | null;
  private readonly loop: Promise<void>;

  constructor(private readonly source: PgServer) {
    this.loop = (async () => {
      while (this.running) {
        this.pgbench = spawn(pgbenchPath(), ['-n', '-c', '2', '-j', '1', '-R', '40', '-T', '5'], {
          env: libpq(source),
          stdio: 'ignore',
        });
        await new Promise((r) => this.pgbench!.once('exit', r));
        if (!this.running) break;
        await sleep(200);
      }
    })();
    this.writer = startWriter(source.url({ database: 'app' }));
  }

  /** The sample writer again: a restarted source ended its session. */
  async restartWriter(): Promise<void> {
    await this.writer?.stop().catch(() => undefined);
    if (this.writerOn) this.writer = startWriter(this.source.url({ database: 'app' }));
  }

  /** No pgbench run starts any more; resolves once the running one ended. The sample writer goes on. */
  endPgbench(): Promise<void> {
    this.running = false;
    return this.loop;
  }

  async stopWriter(): Promise<void> {
    this.writerOn = false;
    await this.writer?.stop();
  }

  /** Ends everything at once (after hooks, whether the test passed or threw). */
  async kill(): Promise<void> {
    this.running = false;
    this.writerOn = false;
    this.pgbench?.kill('SIGKILL');
    await this.writer?.stop().catch(() => undefined);
  }
}
