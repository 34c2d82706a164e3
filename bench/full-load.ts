/**
 * Full-load benchmark: pgtransit's migrationWorkflow (mode full) against three
 * baselines, in one process, on one dataset built here on an embedded PostgreSQL 15
 * source, each method writing into an empty database on a fresh target server:
 *
 *   (p) pgtransit: precheck, pre-data, parallel chunked binary COPY, post-data, through
 *       a Temporal dev server and a worker run as its own process (for its peak RSS)
 *   (a) raw binary `psql COPY TO | psql COPY FROM` pipes over the same chunks, N at
 *       once; data only (schema pre-created)
 *   (b) pg_dump -Fd -j N + pg_restore -j N
 *   (c) a native subscription's initial copy (schema pre-created), until every table
 *       is ready; data only
 *
 * (a) and (c) leave out the index builds that (p) and (b) include, so each is also
 * timed with pg_restore --section=post-data -j N after it: the like-for-like figure.
 * Every method is checked: per-table row counts and row checksums equal the source's.
 *
 *   npx tsx bench/full-load.ts        ROWS (10000000) PARALLELISM (4) TARGET_MAJOR (17)
 *                                     CHUNK_MB (big table / 2N) METHODS (p,a,b,c)
 *                                     CASES (all,big: the whole dataset, then the big table alone)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startPostgres, type PgServer } from '../src/dev/embedded-postgres';
import type { Client } from '@temporalio/client';
import { ensurePgClientTools } from '../src/dev/debian-tools';
import { ensureTemporalCli, type DevServer } from '../src/dev/temporal-cli';
import { parsePlan } from '../src/plan/plan';
import type { Chunk } from '../src/model/activities';
import type { MigrationResult } from '../src/model/workflows';
import { chunkPredicate, listLoadTables, planChunks } from '../src/postgres/chunks';
import {
  DB,
  busySeconds,
  clientRunner,
  conninfo,
  dumpSchema,
  envInt,
  exec,
  libpqEnv,
  log,
  postmasterPid,
  procStatus,
  seconds,
  sleep,
  startTemporal,
  startWorker,
  subscriptionState,
  tableFacts,
  tool,
  treeSeconds,
  version,
  writeResults,
  type TableFacts,
  type Worker,
} from './common';
import { migrationWorkflow } from '../workflows';
import { databaseStatusQuery } from '../src/model/messages';
import { childIds, workflowIds } from '../src/model/names';

const withClient = clientRunner();

const ROWS = envInt('ROWS', 10_000_000);
const N = envInt('PARALLELISM', 4);
const TARGET_MAJOR = envInt('TARGET_MAJOR', 17);
const METHODS = (process.env.METHODS ?? 'p,a,b,c').split(',').map((s) => s.trim());
const CASES = (process.env.CASES ?? 'all,big').split(',').map((s) => s.trim());
const SMALL_TABLES = 20;
const SMALL_ROWS = 10_000;
const TOAST_ROWS = 2_000;
const TOAST_MD5S = 3_200; // 3,200 x 32 hex characters = 100 kB per value
if (TARGET_MAJOR !== 15 && TARGET_MAJOR !== 17)
  throw new Error('TARGET_MAJOR must be 15 or 17 (pg_dump 15 reads only <= 15, pg_restore 15 writes into 17)');

/** The same bulk-load settings on every server, so no method gets a better-tuned target. */
const SETTINGS: Record<string, string> = {
  shared_buffers: '1GB',
  max_wal_size: '16GB',
  min_wal_size: '1GB',
  checkpoint_timeout: '30min',
  maintenance_work_mem: '512MB',
  autovacuum: 'off',
  max_wal_senders: String(Math.max(10, 2 * N + 4)),
  max_replication_slots: String(Math.max(10, 2 * N + 4)),
  max_worker_processes: String(N + 8),
  max_logical_replication_workers: String(N + 4),
  // (c) at the parallelism of the others: one table sync worker per lane.
  max_sync_workers_per_subscription: String(N),
};

const mb = (bytes: number) => bytes / (1024 * 1024);

/** Processes whose CPU each timed method reports apart: the source's and the target's servers, the worker. */
const measured = new Map<string, number>();

/** Machine CPU seconds, and those of each measured process tree. */
type CpuFigures = Record<string, number>;

function cpuNow(): CpuFigures {
  const out: CpuFigures = { machine: busySeconds() };
  for (const [name, pid] of measured) out[name] = treeSeconds(pid);
  return out;
}

function cpuSince(c0: CpuFigures): CpuFigures {
  const c1 = cpuNow();
  return Object.fromEntries(Object.keys(c1).map((k) => [k, seconds((c1[k]! - (c0[k] ?? c1[k]!)) * 1000)]));
}

const addCpu = (a: CpuFigures, b: CpuFigures): CpuFigures =>
  Object.fromEntries(Object.keys({ ...a, ...b }).map((k) => [k, seconds(((a[k] ?? 0) + (b[k] ?? 0)) * 1000)]));

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; cpu: CpuFigures; value: T }> {
  const t0 = performance.now();
  const c0 = cpuNow();
  const value = await fn();
  return { ms: performance.now() - t0, cpu: cpuSince(c0), value };
}

// ---------------------------------------------------------------- dataset

interface Dataset {
  tables: TableFacts[];
  rows: number;
  /** pg_table_size (heap + TOAST, no indexes) summed over the tables. */
  bytes: number;
  bigBytes: number;
  bigRows: number;
}

async function buildDataset(source: PgServer): Promise<void> {
  await source.query(`CREATE DATABASE ${DB}`);
  await withClient(source, (c) =>
    c.query(`
      CREATE TABLE big (id bigint NOT NULL, payload text NOT NULL);
      CREATE TABLE docs (id int PRIMARY KEY, title text NOT NULL, body text NOT NULL);
      ${Array.from(
        { length: SMALL_TABLES },
        (_, i) =>
          `CREATE TABLE small_${String(i + 1).padStart(2, '0')} ` +
          `(id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL, price numeric(10,2) NOT NULL, created timestamptz NOT NULL);`,
      ).join('\n')}
    `),
  );
  // The big table in two halves at once (2 cores), its key added afterwards, as a bulk load would.
  const half = Math.floor(ROWS / 2);
  const ranges = [
    [1, half],
    [half + 1, ROWS],
  ].filter(([lo, hi]) => lo! <= hi!);
  await Promise.all([
    ...ranges.map(([lo, hi]) =>
      withClient(source, (c) =>
        c.query(
          `INSERT INTO big SELECT g, 'row ' || g || ' ' || md5(g::text) FROM generate_series(${lo}::bigint, ${hi}::bigint) g`,
        ),
      ),
    ),
    withClient(source, async (c) => {
      // Incompressible values, so each is stored out of line in TOAST rather than compressed inline.
      await c.query(
        `INSERT INTO docs SELECT i, 'doc ' || i, (SELECT string_agg(md5(i || ':' || j), '') FROM ` +
          `generate_series(1, ${TOAST_MD5S}) j) FROM generate_series(1, ${TOAST_ROWS}) i`,
      );
      for (let i = 1; i <= SMALL_TABLES; i++) {
        await c.query(
          `INSERT INTO small_${String(i).padStart(2, '0')} SELECT g, 'item ' || g || ' of ${i}', g % 97, (g % ` +
            `10000) / 100.0, timestamptz '2024-01-01 00:00+00' + g * interval '1 minute' FROM generate_series(1, ${SMALL_ROWS}) g`,
        );
      }
    }),
  ]);
  await withClient(source, (c) => c.query('ALTER TABLE big ADD PRIMARY KEY (id)'));
  // Hint bits set and statistics fresh: no method's first read pays for writing them.
  await withClient(source, (c) => c.query('VACUUM (FREEZE, ANALYZE)'));
}

/** Rows and an order-independent checksum of every row's text form, per table (FROM ONLY). */
async function facts(server: PgServer, tables: string[]): Promise<TableFacts[]> {
  return withClient(server, (c) => tableFacts(c, tables, true));
}

async function describeDataset(source: PgServer): Promise<Dataset> {
  const names = await withClient(source, (c) =>
    c.query<{ t: string; bytes: string }>(
      `SELECT format('%I.%I', schemaname, relname) AS t, pg_table_size(relid)::text AS bytes FROM pg_stat_user_tables ORDER BY 1`,
    ),
  );
  const tables = await facts(
    source,
    names.rows.map((r) => r.t),
  );
  const big = names.rows.find((r) => r.t === 'public.big')!;
  return {
    tables,
    rows: tables.reduce((n, t) => n + t.rows, 0),
    bytes: names.rows.reduce((n, r) => n + Number(r.bytes), 0),
    bigBytes: Number(big.bytes),
    bigRows: tables.find((t) => t.table === 'public.big')!.rows,
  };
}

/** Every table of the target equal to the source's, or an error naming the differences. */
async function verify(method: string, target: PgServer, data: Dataset): Promise<void> {
  const got = await facts(
    target,
    data.tables.map((t) => t.table),
  );
  const bad = data.tables.filter((t, i) => got[i]!.rows !== t.rows || got[i]!.checksum !== t.checksum);
  if (bad.length) {
    const detail = bad.map(
      (t) =>
        `${t.table}: source ${t.rows} rows, target ${got.find((g) => g.table === t.table)!.rows} ` +
        `rows${got.find((g) => g.table === t.table)!.checksum !== t.checksum ? ', checksums differ' : ''}`,
    );
    throw new Error(`${method}: the target differs from the source:\n${detail.join('\n')}`);
  }
  log(`${method}: verified ${got.length} tables, ${got.reduce((n, t) => n + t.rows, 0)} rows, checksums equal`);
}

async function freshTarget(): Promise<PgServer> {
  const t = await startPostgres({ major: TARGET_MAJOR as 15 | 17, settings: SETTINGS, name: 'target' });
  await t.query(`CREATE DATABASE ${DB}`);
  return t;
}

// ---------------------------------------------------------------- schema archive

async function restoreSection(target: PgServer, archive: string, section: 'pre-data' | 'post-data'): Promise<void> {
  const args = ['--section', section, '--exit-on-error', '--no-owner', '--no-acl', '-d', DB, archive];
  if (section === 'post-data') args.unshift('-j', String(N));
  else args.unshift('--single-transaction');
  await exec(tool('pg_restore', 0), args, libpqEnv(target), `pg_restore --section=${section}`);
}

// ---------------------------------------------------------------- (p) pgtransit

interface WorkerRss {
  /** VmHWM once the worker polls (startup includes bundling the workflow code). */
  startupPeakKB: number;
  /** VmHWM over the migration alone (reset through clear_refs when the kernel allows). */
  migrationPeakKB: number;
  /** Highest VmRSS seen by sampling every 100 ms during the migration. */
  sampledPeakKB: number;
  hwmReset: boolean;
}

interface PgtransitStep {
  step: string;
  /** Seconds since the migration workflow started (workflow clock). */
  at: number;
  seconds: number;
  detail?: string;
}

/** The database workflow's activities by type: how many, their seconds in all, and their wait for a worker. */
interface ActivityFigure {
  type: string;
  count: number;
  seconds: number;
  maxSeconds: number;
  /** Scheduled to started, mean milliseconds: the time a lane spends between two activities. */
  meanQueueMs: number;
}

/** The activities of one workflow, from its history. */
async function activityFigures(client: Client, workflowId: string): Promise<ActivityFigure[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const ms = (t: unknown) => {
    const x = t as { seconds?: { toNumber(): number } | number; nanos?: number };
    return Number(x.seconds ?? 0) * 1000 + (x.nanos ?? 0) / 1e6;
  };
  const scheduled = new Map<string, { type: string; at: number; started?: number }>();
  const by = new Map<string, { count: number; total: number; max: number; queue: number }>();
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    if (e.activityTaskScheduledEventAttributes) {
      const type = e.activityTaskScheduledEventAttributes.activityType?.name ?? '?';
      scheduled.set(id, { type, at: ms(e.eventTime) });
    } else if (e.activityTaskStartedEventAttributes) {
      const s = scheduled.get(String(e.activityTaskStartedEventAttributes.scheduledEventId));
      if (s) s.started = ms(e.eventTime);
    } else if (e.activityTaskCompletedEventAttributes) {
      const s = scheduled.get(String(e.activityTaskCompletedEventAttributes.scheduledEventId));
      if (!s || s.started === undefined) continue;
      const f = by.get(s.type) ?? { count: 0, total: 0, max: 0, queue: 0 };
      const d = ms(e.eventTime) - s.started;
      f.count++;
      f.total += d;
      f.max = Math.max(f.max, d);
      f.queue += s.started - s.at;
      by.set(s.type, f);
    }
  }
  return [...by].map(([type, f]) => ({
    type,
    count: f.count,
    seconds: seconds(f.total),
    maxSeconds: seconds(f.max),
    meanQueueMs: Math.round(f.queue / f.count),
  }));
}

interface PgtransitRun {
  activities: ActivityFigure[];
  ms: number;
  cpu: CpuFigures;
  startupMs: number;
  result: MigrationResult;
  steps: PgtransitStep[];
  chunks: number;
  rss: WorkerRss;
}

async function runPgtransit(
  temporal: DevServer,
  source: PgServer,
  target: PgServer,
  chunkSizeMB: number,
  scratch: string,
): Promise<PgtransitRun> {
  const urls = {
    PGT_BENCH_SOURCE_URL: source.url({ database: DB }),
    PGT_BENCH_TARGET_URL: target.url({ database: DB }),
  };
  const logFile = join(scratch, 'worker.log');
  const t0 = performance.now();
  let w: Worker | undefined;
  try {
    w = await startWorker(temporal, urls, logFile);
    measured.set('worker', w.pid);
    const { client, taskQueue, pid } = w;
    const startupMs = performance.now() - t0;
    const startupPeakKB = procStatus(pid, 'VmHWM');
    let hwmReset = false;
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
      hwmReset = true;
    } catch {
      // Not allowed here: the sampled peak still covers the migration.
    }
    let sampledPeakKB = procStatus(pid, 'VmRSS');
    const sampler = setInterval(() => {
      try {
        sampledPeakKB = Math.max(sampledPeakKB, procStatus(pid, 'VmRSS'));
      } catch {
        // the worker is gone; the run fails below
      }
    }, 100);

    const parsed = parsePlan({
      name: `bench-${randomBytes(3).toString('hex')}`,
      source: { url: 'env:PGT_BENCH_SOURCE_URL' },
      target: { url: 'env:PGT_BENCH_TARGET_URL' },
      mode: 'full',
      fullLoad: { parallelism: N, chunkSizeMB },
    });
    if (!parsed.ok) throw new Error(`bench plan invalid: ${JSON.stringify(parsed.issues)}`);
    const workflowId = workflowIds(parsed.plan.name).migration;
    let run: { ms: number; cpu: CpuFigures; value: MigrationResult };
    try {
      run = await time(() =>
        client.workflow.execute(migrationWorkflow, { args: [parsed.plan], taskQueue, workflowId }),
      );
    } finally {
      clearInterval(sampler);
    }
    const migrationPeakKB = procStatus(pid, 'VmHWM');
    if (run.value.phase !== 'completed') throw new Error(`pgtransit ended in phase ${run.value.phase}`);
    const st = await client.workflow.getHandle(childIds(workflowId).database(DB)).query(databaseStatusQuery);
    const [main, precheck] = await Promise.all(
      [workflowId, childIds(workflowId).migrationPrecheck].map((id) => client.workflow.getHandle(id).describe()),
    );
    const origin = main!.startTime.getTime();
    const steps: PgtransitStep[] = [
      {
        step: 'precheck',
        at: seconds(precheck!.startTime.getTime() - origin),
        seconds: seconds(precheck!.closeTime!.getTime() - precheck!.startTime.getTime()),
      },
      ...st.steps.map((x) => ({
        step: x.step,
        at: seconds(Date.parse(x.startedAt) - origin),
        seconds: x.endedAt ? seconds(Date.parse(x.endedAt) - Date.parse(x.startedAt)) : NaN,
        detail: x.detail,
      })),
    ];
    return {
      activities: await activityFigures(client, childIds(workflowId).database(DB)),
      ms: run.ms,
      cpu: run.cpu,
      startupMs,
      result: run.value,
      steps,
      chunks: st.totals.chunksTotal,
      rss: { startupPeakKB, migrationPeakKB, sampledPeakKB, hwmReset },
    };
  } catch (e) {
    log(`worker log:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
    throw e;
  } finally {
    measured.delete('worker');
    await w?.stop();
  }
}

// ---------------------------------------------------------------- (a) raw COPY pipes

/** The chunks pgtransit would copy, for the same pieces in the raw pipes. */
async function chunkPlan(source: PgServer, chunkSizeMB: number): Promise<Chunk[]> {
  return withClient(source, async (c) => planChunks(c, await listLoadTables(c, {}), chunkSizeMB * 1024 * 1024));
}

async function rawCopy(source: PgServer, target: PgServer, chunks: Chunk[]): Promise<void> {
  const psql = tool('psql', 0);
  const queue = [...chunks];
  const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
  // Both servers have the same superuser password; only the ports differ.
  const env = { ...libpqEnv(source), PSQL: psql, SRC_PORT: String(source.port), DST_PORT: String(target.port) };
  const script = [
    'set -o pipefail;',
    '"$PSQL" -X -q -v ON_ERROR_STOP=1 -p "$SRC_PORT" -c "$SRC_SQL" |',
    '"$PSQL" -X -q -v ON_ERROR_STOP=1 -p "$DST_PORT" -c "$DST_SQL"',
  ].join(' ');
  const lane = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const table = `${ident(c.schema)}.${ident(c.name)}`;
      const where = chunkPredicate(c, ident);
      const out = where
        ? `COPY (SELECT * FROM ONLY ${table} ${where}) TO STDOUT (FORMAT binary)`
        : `COPY ${table} TO STDOUT (FORMAT binary)`;
      await exec(
        'bash',
        ['-c', script],
        { ...env, SRC_SQL: out, DST_SQL: `COPY ${table} FROM STDIN (FORMAT binary)` },
        `copy pipe of ${c.id}`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(N, queue.length) }, lane));
}

// ---------------------------------------------------------------- (b) pg_dump + pg_restore

async function dumpRestore(
  source: PgServer,
  target: PgServer,
  scratch: string,
): Promise<{ dumpMs: number; restoreMs: number; dumpBytes: number; cpu: CpuFigures }> {
  const dir = join(scratch, 'dump');
  // Uncompressed: on 2 cores gzip would make the baseline CPU-bound and flatter pgtransit.
  const dump = await time(() =>
    exec(tool('pg_dump', 15), ['-Fd', '-j', String(N), '-Z', '0', '-f', dir], libpqEnv(source), 'pg_dump -Fd'),
  );
  const dumpBytes = Number((await exec('du', ['-sb', dir], process.env, 'du')).split('\t')[0]);
  const restore = await time(() =>
    exec(
      tool('pg_restore', 0),
      ['-j', String(N), '--exit-on-error', '--no-owner', '--no-acl', '-d', DB, dir],
      libpqEnv(target),
      'pg_restore -j',
    ),
  );
  rmSync(dir, { recursive: true, force: true });
  return { dumpMs: dump.ms, restoreMs: restore.ms, dumpBytes, cpu: addCpu(dump.cpu, restore.cpu) };
}

// ---------------------------------------------------------------- (c) subscription

async function subscriptionCopy(
  source: PgServer,
  target: PgServer,
  tables: number,
): Promise<{ ms: number; cpu: CpuFigures }> {
  await withClient(source, (c) => c.query('CREATE PUBLICATION bench_pub FOR ALL TABLES'));
  try {
    return await withClient(target, async (c) => {
      const t0 = performance.now();
      const c0 = cpuNow();
      await c.query(
        `CREATE SUBSCRIPTION bench_sub CONNECTION ${c.escapeLiteral(conninfo(source))} PUBLICATION bench_pub WITH (copy_data = true)`,
      );
      const deadline = Date.now() + 3_600_000;
      for (;;) {
        const state = await subscriptionState(c, 'bench_sub');
        if (state.n === tables && state.ready === tables) break;
        if (Date.now() > deadline) throw new Error(`subscription not ready after an hour: ${JSON.stringify(state)}`);
        await sleep(100);
      }
      const ms = performance.now() - t0;
      const cpu = cpuSince(c0);
      await c.query('DROP SUBSCRIPTION bench_sub'); // drops its slot on the source too
      return { ms, cpu };
    });
  } finally {
    await withClient(source, (c) => c.query('DROP PUBLICATION IF EXISTS bench_pub'));
  }
}

// ---------------------------------------------------------------- main

interface CaseResult {
  name: string;
  data: Dataset;
  chunks: Chunk[];
  chunkSizeMB: number;
  bigChunks: number;
  figures: MethodFigure[];
  pt: PgtransitRun | undefined;
  targetVersion: string;
}

interface MethodFigure {
  method: string;
  label: string;
  seconds: number;
  rowsPerSecond: number;
  mbPerSecond: number;
  /** pgtransit's time divided by this one's. */
  ratio?: number;
  /** CPU seconds the whole machine spent while it ran (2 CPUs: at most twice its seconds). */
  cpuSeconds: number;
  /** The same by process tree: machine, source, target, worker (pgtransit's, its pg_dump and pg_restore included). */
  cpu: CpuFigures;
  detail?: Record<string, unknown>;
}

async function main(): Promise<void> {
  const started = performance.now();
  ensurePgClientTools(log);
  ensureTemporalCli(log);
  const scratch = mkdtempSync(join(tmpdir(), 'pgtransit-bench-'));
  let source: PgServer | undefined;
  let temporal: DevServer | undefined;
  const targets = new Set<PgServer>();
  const target = async () => {
    const t = await freshTarget();
    targets.add(t);
    measured.set('target', postmasterPid(t));
    return t;
  };
  const done = async (t: PgServer) => {
    targets.delete(t);
    measured.delete('target');
    await t.stop();
  };
  try {
    log(`starting PostgreSQL 15 (source) and the Temporal dev server`);
    [source, temporal] = await Promise.all([
      startPostgres({ major: 15, settings: SETTINGS, name: 'source' }),
      startTemporal(scratch),
    ]);
    measured.set('source', postmasterPid(source));
    log(
      `building the dataset: big ${ROWS} rows, ${SMALL_TABLES} small tables of ${SMALL_ROWS} rows, docs ${TOAST_ROWS} x 100 kB`,
    );
    const src = source;
    const tmp = temporal;
    const build = await time(() => buildDataset(src));
    const data = await describeDataset(source);
    const chunkSizeMB = envInt('CHUNK_MB', Math.max(1, Math.floor(mb(data.bigBytes) / (2 * N))));
    const chunks = await chunkPlan(source, chunkSizeMB);
    const bigChunks = chunks.filter((c) => c.name === 'big').length;
    const sourceVersion = await version(source);
    log(
      `dataset built in ${seconds(build.ms)} s: ${data.tables.length} tables, ${data.rows} rows, ` +
        `${mb(data.bytes).toFixed(0)} MB; chunks of ${chunkSizeMB} MB: ${chunks.length} (big: ${bigChunks})`,
    );
    /** Every method on the source database as it is now. */
    const runCase = async (name: string, data: Dataset, chunks: Chunk[], chunkSizeMB: number): Promise<CaseResult> => {
      const archive = await dumpSchema(src, scratch);
      const figures: MethodFigure[] = [];
      const figure = (
        method: string,
        label: string,
        ms: number,
        cpu: CpuFigures,
        detail?: Record<string, unknown>,
      ): MethodFigure => {
        const f = {
          method,
          label,
          seconds: seconds(ms),
          cpuSeconds: cpu.machine!,
          cpu,
          rowsPerSecond: Math.round(data.rows / (ms / 1000)),
          mbPerSecond: Math.round((mb(data.bytes) / (ms / 1000)) * 10) / 10,
          detail,
        };
        figures.push(f);
        return f;
      };
      let pt: PgtransitRun | undefined;
      let targetVersion = '';

      if (METHODS.includes('p')) {
        log('(p) pgtransit migrationWorkflow mode full');
        const t = await target();
        targetVersion = await version(t);
        pt = await runPgtransit(tmp, src, t, chunkSizeMB, scratch);
        await verify('(p)', t, data);
        figure('p', `pgtransit full load, parallelism ${N}`, pt.ms, pt.cpu, {
          chunks: pt.chunks,
          copiedBytes: pt.result.databases[0]?.bytes,
          steps: pt.steps,
          activities: pt.activities,
          workerStartupSeconds: seconds(pt.startupMs),
        });
        await done(t);
      }
      if (METHODS.includes('a')) {
        log('(a) raw binary COPY pipes');
        const t = await target();
        await restoreSection(t, archive, 'pre-data');
        const run = await time(() => rawCopy(src, t, chunks));
        const post = await time(() => restoreSection(t, archive, 'post-data'));
        await verify('(a)', t, data);
        figure('a', `raw psql COPY TO | COPY FROM, ${N} at once (data only)`, run.ms, run.cpu, {
          chunks: chunks.length,
        });
        figure('a+post', `(a) + pg_restore post-data -j ${N}`, run.ms + post.ms, addCpu(run.cpu, post.cpu), {
          postDataSeconds: seconds(post.ms),
        });
        await done(t);
      }
      if (METHODS.includes('b')) {
        log('(b) pg_dump -Fd + pg_restore');
        const t = await target();
        const r = await dumpRestore(src, t, scratch);
        await verify('(b)', t, data);
        figure('b', `pg_dump -Fd -j ${N} -Z 0 + pg_restore -j ${N}`, r.dumpMs + r.restoreMs, r.cpu, {
          dumpSeconds: seconds(r.dumpMs),
          restoreSeconds: seconds(r.restoreMs),
          dumpMB: Math.round(mb(r.dumpBytes)),
        });
        await done(t);
      }
      if (METHODS.includes('c')) {
        log('(c) subscription initial copy');
        const t = await target();
        await restoreSection(t, archive, 'pre-data');
        const run = await subscriptionCopy(src, t, data.tables.length);
        const post = await time(() => restoreSection(t, archive, 'post-data'));
        await verify('(c)', t, data);
        figure('c', `subscription initial copy, ${N} sync workers (data only)`, run.ms, run.cpu);
        figure('c+post', `(c) + pg_restore post-data -j ${N}`, run.ms + post.ms, addCpu(run.cpu, post.cpu), {
          postDataSeconds: seconds(post.ms),
        });
        await done(t);
      }

      const p = figures.find((f) => f.method === 'p');
      for (const f of figures) if (p && f !== p) f.ratio = Math.round((p.seconds / f.seconds) * 100) / 100;
      return {
        name,
        data,
        chunks,
        chunkSizeMB,
        bigChunks: chunks.filter((c) => c.name === 'big').length,
        figures,
        pt,
        targetVersion,
      };
    };
    const cases: CaseResult[] = [];
    if (CASES.includes('all')) cases.push(await runCase('the whole dataset', data, chunks, chunkSizeMB));
    if (CASES.includes('big')) {
      // The same big table alone: one table, which a native subscription copies with one COPY.
      log('single-big-table case: every other table dropped on the source');
      await withClient(source, (c) =>
        c.query(
          `DROP TABLE docs, ${Array.from({ length: SMALL_TABLES }, (_, i) => `small_${String(i + 1).padStart(2, '0')}`).join(', ')}`,
        ),
      );
      const one = await describeDataset(source);
      cases.push(await runCase('the big table alone', one, await chunkPlan(source, chunkSizeMB), chunkSizeMB));
    }
    const targetVersion = cases.find((c) => c.targetVersion)?.targetVersion ?? '';
    const totalSeconds = seconds(performance.now() - started);

    const lines: string[] = [];
    lines.push(`pgtransit full-load benchmark, ${new Date().toISOString()}`);
    lines.push(
      `source PostgreSQL ${sourceVersion} -> target PostgreSQL ${targetVersion || TARGET_MAJOR}, parallelism ${N}`,
    );
    for (const k of cases) {
      const d = k.data;
      lines.push('');
      lines.push(
        `${k.name}: ${d.tables.length} tables, ${d.rows.toLocaleString('en-US')} rows, ${mb(d.bytes).toFixed(0)} MB ` +
          `(pg_table_size); big ${d.bigRows.toLocaleString('en-US')} rows ${mb(d.bigBytes).toFixed(0)} MB` +
          (d.tables.length > 1 ? `, ${SMALL_TABLES} x ${SMALL_ROWS} rows, docs ${TOAST_ROWS} x 100 kB TOASTed` : '') +
          `; chunkSizeMB ${k.chunkSizeMB} (${k.chunks.length} chunks, big table in ${k.bigChunks})`,
      );
      lines.push(
        `${'method'.padEnd(58)}${'seconds'.padStart(9)}${'rows/s'.padStart(12)}${'MB/s'.padStart(8)}${'CPU s'.padStart(8)}` +
          `${'pgtransit/this'.padStart(16)}`,
      );
      for (const f of k.figures) {
        lines.push(
          [
            (f.method.includes('+') ? `    ${f.label}` : `(${f.method}) ${f.label}`).padEnd(58),
            f.seconds.toFixed(2).padStart(9),
            f.rowsPerSecond.toLocaleString('en-US').padStart(12),
            f.mbPerSecond.toFixed(1).padStart(8),
            f.cpuSeconds.toFixed(1).padStart(8),
            (f.ratio !== undefined ? f.ratio.toFixed(2) : '').padStart(16),
          ].join(''),
        );
      }
      lines.push(
        `CPU seconds by process tree: ${k.figures
          .map(
            (f) =>
              `(${f.method}) ${Object.entries(f.cpu)
                .map(([n, v]) => `${n} ${v.toFixed(1)}`)
                .join(' ')}`,
          )
          .join('; ')}`,
      );
      const pt = k.pt;
      if (pt) {
        lines.push(`pgtransit steps (seconds): ${pt.steps.map((x) => `${x.step} ${x.seconds.toFixed(2)}`).join(', ')}`);
        lines.push(
          `pgtransit activities: ${pt.activities
            .map(
              (a) =>
                `${a.type} ${a.count}x ${a.seconds.toFixed(2)} s (max ${a.maxSeconds.toFixed(2)}, queued ${a.meanQueueMs} ms each)`,
            )
            .join(', ')}`,
        );
        // Time between one step's end and the next one's start is waiting the steps do not show.
        const idle = pt.steps
          .slice(1)
          .map((x, n) => ({ after: pt.steps[n]!, gap: x.at - (pt.steps[n]!.at + pt.steps[n]!.seconds), next: x }))
          .filter((g) => g.gap >= 0.5);
        for (const g of idle)
          lines.push(`pgtransit idle ${g.gap.toFixed(2)} s between ${g.after.step} and ${g.next.step}`);
        lines.push(
          `pgtransit worker (separate process): startup ${seconds(pt.startupMs).toFixed(2)} s, peak RSS at ` +
            `startup ${(pt.rss.startupPeakKB / 1024).toFixed(0)} MB; during the migration: peak RSS ` +
            `${(pt.rss.migrationPeakKB / 1024).toFixed(0)} MB ` +
            `(VmHWM${pt.rss.hwmReset ? ' reset after startup' : ', includes startup'}), sampled max ${(pt.rss.sampledPeakKB / 1024).toFixed(0)} MB`,
        );
      }
      const b = k.figures.find((f) => f.method === 'b');
      if (b)
        lines.push(
          `pg_dump ${b.detail!.dumpSeconds} s (${b.detail!.dumpMB} MB on disk) + pg_restore ${b.detail!.restoreSeconds} s`,
        );
    }
    lines.push('');
    lines.push(`every method verified: per-table row counts and row checksums equal the source's`);
    lines.push(`dataset build ${seconds(build.ms).toFixed(2)} s; whole benchmark ${totalSeconds.toFixed(0)} s`);
    console.log(lines.join('\n'));

    writeResults('full-load', {
      source: sourceVersion,
      target: targetVersion || String(TARGET_MAJOR),
      parallelism: N,
      settings: SETTINGS,
      build: {
        rows: ROWS,
        smallTables: SMALL_TABLES,
        smallRows: SMALL_ROWS,
        toastRows: TOAST_ROWS,
        seconds: seconds(build.ms),
      },
      cases: cases.map((k) => ({
        name: k.name,
        chunkSizeMB: k.chunkSizeMB,
        chunks: k.chunks.length,
        bigTableChunks: k.bigChunks,
        dataset: {
          tables: k.data.tables.length,
          rows: k.data.rows,
          bytes: k.data.bytes,
          bigRows: k.data.bigRows,
          bigBytes: k.data.bigBytes,
        },
        methods: k.figures,
        worker: k.pt ? { startupSeconds: seconds(k.pt.startupMs), ...k.pt.rss } : null,
      })),
      verified: 'per-table row counts and checksums equal',
      totalSeconds,
    });
  } finally {
    await Promise.all([...targets].map((t) => t.stop()));
    await Promise.all([source?.stop(), temporal?.stop()]);
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
