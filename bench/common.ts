/**
 * What the benchmarks (bench/full-load.ts, bench/cdc.ts) share: configuration from the
 * environment, logging, child processes killed on exit, libpq tools and sessions, the
 * pgtransit worker run as its own process, the Temporal dev server and the results file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { freePort, type PgServer } from '../src/dev/embedded-postgres';
import { startDevServer, type DevServer } from '../src/dev/temporal-cli';
import { connectClient } from '../src/temporal/client';
import { findTool } from '../src/postgres/tools';

export const ROOT = join(__dirname, '..');
export const DB = 'app';

export function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not ${JSON.stringify(v)}`);
  return n;
}

export const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
export const seconds = (ms: number) => Math.round(ms / 10) / 100;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- processes

/** Every child still running; killed when the benchmark exits, however it ends. */
export const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));

export function libpqEnv(server: PgServer, database = DB): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHOST: server.host,
    PGPORT: String(server.port),
    PGUSER: 'postgres',
    PGPASSWORD: server.password,
    PGDATABASE: database,
  };
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Starts a program; `done` settles when it exits, whatever the exit code. */
export function run(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(program, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<Finished>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, out, err });
    });
  });
  return { child, done };
}

/** Runs a program (or a bash pipeline) to completion; rejects with the tail of its stderr. */
export async function exec(program: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<string> {
  const r = await run(program, args, env).done;
  if (r.code !== 0)
    throw new Error(
      `${what} failed (${r.signal ?? `exit ${r.code}`}):\n${r.err.trim().split('\n').slice(-10).join('\n')}`,
    );
  return r.out;
}

/** The newest installed client program of at least `minMajor`. */
export function tool(program: Parameters<typeof findTool>[0], minMajor: number): string {
  const found = findTool(program).find((t) => t.major >= minMajor);
  if (!found) throw new Error(`no ${program} ${minMajor}+ found`);
  return found.path;
}

// ---------------------------------------------------------------- sessions

/** A `withClient` whose sessions carry `applicationName` (none given: pg's default). */
export function clientRunner(applicationName?: string) {
  return async function withClient<T>(server: PgServer, fn: (c: pg.Client) => Promise<T>, database = DB): Promise<T> {
    const c = new pg.Client({
      connectionString: server.url({ database }),
      ...(applicationName === undefined ? {} : { application_name: applicationName }),
    });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  };
}

export async function version(server: PgServer): Promise<string> {
  return (await server.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0]!.v;
}

/** A libpq connection string to `server`, for CREATE SUBSCRIPTION. */
export function conninfo(server: PgServer, database = DB): string {
  return `host=${server.host} port=${server.port} dbname=${database} user=postgres password=${server.password}`;
}

/** Tables of the subscription `name` (queried on its server), and how many of them are ready. */
export async function subscriptionState(c: pg.Client, name: string): Promise<{ n: number; ready: number }> {
  const r = await c.query<{ n: number; ready: number }>(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE r.srsubstate = 'r')::int AS ready FROM ` +
      `pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = $1`,
    [name],
  );
  return r.rows[0]!;
}

export interface TableFacts {
  table: string;
  rows: number;
  checksum: string;
}

/** Rows and an order-independent checksum of every row's text form, per table; `only`: FROM ONLY (no inheritance children). */
export async function tableFacts(c: pg.Client, tables: readonly string[], only: boolean): Promise<TableFacts[]> {
  const out: TableFacts[] = [];
  for (const table of tables) {
    const r = await c.query<{ n: string; h: string }>(
      `SELECT count(*)::text AS n, coalesce(sum(hashtext(t::text)::bigint), 0)::text AS h FROM ${only ? 'ONLY ' : ''}${table} t`,
    );
    out.push({ table, rows: Number(r.rows[0]!.n), checksum: r.rows[0]!.h });
  }
  return out;
}

/** The source's schema (all sections, no data) as a custom-format archive in `dir`. */
export async function dumpSchema(source: PgServer, dir: string): Promise<string> {
  const file = join(dir, 'schema.dump');
  await exec(tool('pg_dump', 15), ['--schema-only', '-Fc', '-f', file], libpqEnv(source), 'pg_dump --schema-only');
  return file;
}

// ---------------------------------------------------------------- Temporal and the pgtransit worker

/** A Temporal dev server on free ports, its state in `scratch`; killed on exit too, should the benchmark die. */
export async function startTemporal(scratch: string): Promise<DevServer> {
  const temporal = await startDevServer({
    port: await freePort(),
    uiPort: await freePort(),
    dbFile: join(scratch, 'temporal.sqlite'),
    quiet: true,
  });
  children.add(temporal.process);
  return temporal;
}

export async function waitForPollers(
  client: Client,
  taskQueue: string,
  worker: ChildProcess,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (worker.exitCode !== null)
      throw new Error(`the worker exited with ${worker.exitCode}:\n${readFileSync(logFile, 'utf8')}`);
    // 1: workflow task queue, 2: activity task queue.
    const polled = await Promise.all(
      [1, 2].map(async (taskQueueType) => {
        const r = await client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue },
          taskQueueType,
        });
        return (r.pollers?.length ?? 0) > 0;
      }),
    );
    if (polled.every(Boolean)) return;
    if (Date.now() > deadline)
      throw new Error(`the worker did not poll ${taskQueue} within 120 s:\n${readFileSync(logFile, 'utf8')}`);
    await sleep(200);
  }
}

export interface Worker {
  client: Client;
  taskQueue: string;
  logFile: string;
  pid: number;
  /** Closes the client, then SIGTERM (SIGKILL after 15 s) and waits for the worker's exit. */
  stop(): Promise<void>;
}

/**
 * `pgtransit worker` as its own process on a fresh task queue, its output appended to
 * `logFile`; returns once it polls both task queues. `urls` are the env: references the
 * plans use. Should it not come up, it is stopped and the error rethrown. With
 * WORKER_PROFILE=DIR the worker writes a V8 CPU profile there when it stops.
 */
export async function startWorker(temporal: DevServer, urls: Record<string, string>, logFile: string): Promise<Worker> {
  const taskQueue = `bench-${randomBytes(4).toString('hex')}`;
  const logFd = openSync(logFile, 'a');
  const profile = process.env.WORKER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.WORKER_PROFILE}`] : [];
  const worker = spawn(process.execPath, [...profile, join(ROOT, 'bin', 'pgtransit.js'), 'worker'], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...urls,
      TEMPORAL_ADDRESS: temporal.address,
      PGTRANSIT_TASK_QUEUE: taskQueue,
      PGTRANSIT_LOG_LEVEL: 'WARN',
    },
    stdio: ['ignore', logFd, logFd],
  });
  children.add(worker);
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const stopProcess = async () => {
    worker.kill('SIGTERM');
    const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
    children.delete(worker);
  };
  let client: Client | undefined;
  try {
    client = await connectClient({ address: temporal.address, namespace: 'default', taskQueue });
    await waitForPollers(client, taskQueue, worker, logFile);
  } catch (e) {
    await client?.connection.close();
    await stopProcess();
    throw e;
  }
  const connected = client;
  return {
    client: connected,
    taskQueue,
    logFile,
    pid: worker.pid!,
    async stop() {
      await connected.connection.close();
      await stopProcess();
    },
  };
}

/** A field of /proc/PID/status in kB (VmRSS now, VmHWM the peak); 0 once the process is gone. */
export function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Seconds the machine's CPUs have been busy (every process: servers, worker, Temporal, tools), from /proc/stat. */
export function busySeconds(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]!
    .split(/\s+/);
  return [user, nice, system, irq, softirq, steal].reduce((n, x) => n + Number(x ?? 0), 0) / 100;
}

/** A process's CPU seconds and those of its children, the ended ones (reaped) and the running ones. */
export function treeSeconds(pid: number): number {
  const fields = (p: string | number) => {
    try {
      return readFileSync(`/proc/${p}/stat`, 'utf8')
        .replace(/^.*\) /, '')
        .split(' ')
        .map(Number);
    } catch {
      return null; // ended meanwhile
    }
  };
  const own = fields(pid);
  if (!own) return 0;
  // After the name: state, ppid, ... utime (12th), stime, cutime, cstime.
  let ticks = own[11]! + own[12]! + own[13]! + own[14]!;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const f = fields(p);
    if (f && f[1] === pid) ticks += f[11]! + f[12]! + f[13]! + f[14]!;
  }
  return ticks / 100;
}

/** The postmaster's pid of a server started here. */
export function postmasterPid(server: PgServer): number {
  return Number(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

// ---------------------------------------------------------------- results

/**
 * Writes bench/results/<prefix>-<UTC stamp>.json: the date, the machine, then `fields`;
 * prints its path and returns it.
 */
export function writeResults(prefix: string, fields: Record<string, unknown>): string {
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '').replace(/\..*$/, 'Z');
  const file = join(resultsDir, `${prefix}-${stamp}.json`);
  const json = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, memoryGB: Math.round(totalmem() / 2 ** 30), node: process.version },
    ...fields,
  };
  writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  console.log(`figures written to ${file.slice(ROOT.length + 1)}`);
  return file;
}
