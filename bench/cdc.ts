/**
 * Change-capture benchmark, in one process, on embedded servers (source PostgreSQL 15,
 * targets 17), a Temporal dev server and a pgtransit worker run as its own process.
 *
 * Part 1, apply: a pgbench (tpcb-like) database on the source is followed at the same
 * time by
 *   (p) pgtransit: migrationWorkflow full+cdc, in incremental
 *   (n) a native subscription (schema pre-created with pg_dump, initial copy done first)
 * and both see the same pgbench runs: full speed, then a fixed rate of half the native
 * subscription's full-speed rate (pgbench -R), each for DURATION seconds. Both are measured
 * the same way: rows applied per second from the target's pg_stat_user_tables, lag in
 * bytes from each one's slot on the source, sampled every second, lag in seconds (how long
 * ago the source was at the slot's confirmed position) sampled every 100 ms, and the time
 * to catch up after pgbench stops. The targets are then
 * compared with the source: per-table row counts and row checksums once caught up, and,
 * caught up or not, the pgbench_history ids the source has below the target's frontier
 * and the target lacks (whole transactions the stream skipped).
 *
 * Part 1b, backlog: both consumers stopped (pgtransit paused, the subscription disabled),
 * pgbench writes BACKLOG transactions, then each consumer alone applies them, timed from
 * its start (resume, ENABLE) until its slot confirms the source's position at pgbench's
 * end; BACKLOG_RUNS times, the order of the two alternating.
 *
 * Part 1c, long transaction: pgbench at full speed for LONG_SECONDS, then again with a
 * source transaction open and idle all the while (BEGIN; one write): each consumer's
 * rows/s with it against without it.
 *
 * Part 0, large transaction: a table of LARGE_ROWS rows followed by both consumers (database
 * lg), then one UPDATE of every row, in one source transaction: the time each consumer
 * takes to apply it (from the UPDATE's commit until its slot confirms it and its target
 * holds every updated row), the worker's peak RSS meanwhile, the progress status showed,
 * and both targets compared.
 *
 * Part 2, switchover: RUNS small migrations (pgbench -s 1, a fresh source database each),
 * each switched over through the `switchover` Update while pgbench writes at a fixed rate:
 * the reported writeDowntimeMs, and the downtime an application of ours sees (its last
 * write on the source before the fence to its first write on the target after the Update
 * returned). A native subscription has no switchover to compare with.
 *
 * Part 3, downtime: the same switchover at pgbench scales DOWNTIME_SCALES (10,100), with
 * verify: checksum, DOWNTIME_RUNS each (interleaved), each switchover.verifyBeforeFence mode of
 * DOWNTIME_MODES (before: the full comparison at a point while streaming, only what changed
 * since inside the fence; inside: every table compared inside the fence): the median write
 * downtime per scale and mode, and the ratio largest scale / smallest (goal <= 1.2 for before).
 *
 *   npx tsx bench/cdc.ts    DURATION (60) RATE (500) CLIENTS (4) SCALE (10) CATCHUP_LIMIT (120)
 *                           RUNS (5) SWITCH_RATE (30) BACKLOG (20000) BACKLOG_RUNS (3)
 *                           LARGE_ROWS (5000000) LONG_SECONDS (300)
 *                           DOWNTIME_SCALES (10,100) DOWNTIME_RUNS (3) DOWNTIME_MODES (before)
 *                           PARTS (large,apply,backlog,long,switchover; also downtime);
 *                           WORKLOADS (full,half; also rate) picks part 1's runs
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startPostgres, type PgServer } from '../src/dev/embedded-postgres';
import { ensurePgClientTools } from '../src/dev/debian-tools';
import { ensureTemporalCli, type DevServer } from '../src/dev/temporal-cli';
import { replicationNames, workflowIds } from '../src/model/names';
import { parsePlan, type Plan, type PlanInput } from '../src/plan/plan';
import type { CdcStatus, DatabaseStatus, MigrationStatus, SwitchoverReport } from '../src/model/status';
import { abortMigration, switchover } from '../src/cli/migration';
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
  run,
  seconds,
  sleep,
  startTemporal,
  startWorker,
  subscriptionState,
  tableFacts as facts,
  procStatus,
  tool,
  treeSeconds,
  version,
  writeResults,
  type TableFacts,
  type Worker,
} from './common';
import { migrationWorkflow } from '../workflows';
import { databaseStatusQuery, pauseSignal, resumeSignal, statusQuery } from '../src/model/messages';

const PGBENCH_TABLES = ['pgbench_accounts', 'pgbench_branches', 'pgbench_history', 'pgbench_tellers'];
const withClient = clientRunner('bench');

const DURATION = envInt('DURATION', 60);
const RATE = envInt('RATE', 500);
const CLIENTS = envInt('CLIENTS', 4);
const SCALE = envInt('SCALE', 10);
const CATCHUP_LIMIT = envInt('CATCHUP_LIMIT', 120);
const RUNS = envInt('RUNS', 5);
// The switchover runs measure the downtime under a steady, moderate load (override to load more).
const SWITCH_RATE = envInt('SWITCH_RATE', 30);
const PARTS = (process.env.PARTS ?? 'large,apply,backlog,long,switchover').split(',').map((s) => s.trim());
const LARGE_ROWS = envInt('LARGE_ROWS', 5_000_000);
const DOWNTIME_SCALES = (process.env.DOWNTIME_SCALES ?? '10,100').split(',').map((x) => {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 1) throw new Error(`DOWNTIME_SCALES holds pgbench scales, not ${JSON.stringify(x)}`);
  return n;
});
const DOWNTIME_RUNS = envInt('DOWNTIME_RUNS', 3);
const DOWNTIME_MODES = (process.env.DOWNTIME_MODES ?? 'before').split(',').map((x) => {
  if (x !== 'before' && x !== 'inside')
    throw new Error(`DOWNTIME_MODES holds before and inside, not ${JSON.stringify(x)}`);
  return x;
});
const WORKLOADS = (process.env.WORKLOADS ?? 'full,half').split(',').map((s) => s.trim());
const BACKLOG = envInt('BACKLOG', 20000);
const BACKLOG_RUNS = envInt('BACKLOG_RUNS', 3);
/** The time-lag sampler's interval: the resolution of the lag-in-seconds figures. */
const TIME_LAG_MS = 100;
/** Part 1c: how long the source transaction stays open, idle, while pgbench runs (seconds). */
const LONG_SECONDS = envInt('LONG_SECONDS', 300);
/** Seconds in incremental under load before the switchover is asked for. */
const SETTLE_SECONDS = 3;
/** Pause of our application writer between its transactions: the resolution of its downtime figure. */
const WRITER_PAUSE_MS = 5;

/** The same settings on every server, so neither consumer gets a better-tuned target. */
const SETTINGS: Record<string, string> = {
  shared_buffers: '512MB',
  max_wal_size: '8GB',
  min_wal_size: '1GB',
  checkpoint_timeout: '30min',
  // Vacuum at random moments would land on one consumer's measurement and not the other's.
  autovacuum: 'off',
  max_wal_senders: '20',
  max_replication_slots: '20',
};

const fmt = (n: number | null | undefined, digits = 0) =>
  n === null || n === undefined || !Number.isFinite(n)
    ? '-'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const kb = (bytes: number | null | undefined) =>
  bytes === null || bytes === undefined ? null : Math.round(bytes / 102.4) / 10;

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** a / b, or null when it means nothing (b is 0 or missing). */
function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return Math.round((a / b) * 100) / 100;
}

// ---------------------------------------------------------------- pgbench

/** pgbench -i, then the key pgtransit's precheck asks for (tpcb-like inserts name their columns, so the default fills it). */
async function pgbenchInit(source: PgServer, database: string, scale: number): Promise<void> {
  await source.query(`CREATE DATABASE ${database}`);
  await exec(
    tool('pgbench', 15),
    ['-i', '-q', '-s', String(scale)],
    libpqEnv(source, database),
    `pgbench -i -s ${scale}`,
  );
  await withClient(
    source,
    async (c) => {
      await c.query('ALTER TABLE pgbench_history ADD COLUMN id bigserial PRIMARY KEY');
      await c.query('VACUUM ANALYZE');
    },
    database,
  );
}

interface PgbenchRun {
  transactions: number;
  tps: number;
  failed: boolean;
  detail: string;
}

function startPgbench(
  source: PgServer,
  database: string,
  args: string[],
): { child: ChildProcess; done: Promise<PgbenchRun> } {
  const { child, done } = run(tool('pgbench', 15), ['-n', ...args], libpqEnv(source, database));
  return {
    child,
    done: done.then((r) => {
      const text = `${r.out}\n${r.err}`;
      const transactions = Number(/number of transactions actually processed: (\d+)/.exec(text)?.[1] ?? NaN);
      const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(text)?.[1] ?? NaN);
      return { transactions, tps, failed: r.code !== 0, detail: r.err.trim().split('\n').slice(-3).join(' | ') };
    }),
  };
}

// ---------------------------------------------------------------- measures

/** Rows inserted, updated and deleted in the pgbench tables of `database`, as the server counts them. */
/**
 * Source row changes a consumer has applied: 4 per pgbench transaction (accounts, tellers,
 * branches, history), counted by the pgbench_history rows on its target. The target's own
 * row counters would not do: pgtransit folds a batch's updates of one row into one, so it
 * writes fewer rows than the source changed (the branches row takes hundreds per batch).
 */
async function appliedChanges(c: pg.Client): Promise<number> {
  const r = await c.query<{ n: string }>(`SELECT (count(*) * 4)::text AS n FROM pgbench_history`);
  return Number(r.rows[0]!.n);
}

async function tupleCount(c: pg.Client): Promise<number> {
  const r = await c.query<{ n: string }>(
    `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text AS n FROM pg_stat_user_tables WHERE schemaname = 'public' AND relname = ANY($1)`,
    [PGBENCH_TABLES],
  );
  return Number(r.rows[0]!.n);
}

/** Source WAL not yet confirmed by each slot; the same measure for both consumers (floored at 0). */
async function slotLags(c: pg.Client, slots: string[]): Promise<Record<string, number | null>> {
  const r = await c.query<{ slot_name: string; lag: string | null }>(
    `SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint::text AS lag FROM pg_replication_slots WHERE slot_name = ANY($1)`,
    [slots],
  );
  const out: Record<string, number | null> = {};
  for (const slot of slots) {
    const lag = r.rows.find((x) => x.slot_name === slot)?.lag;
    out[slot] = lag === undefined || lag === null ? null : Math.max(0, Number(lag));
  }
  return out;
}

/**
 * Lag in time, sampled every TIME_LAG_MS on a session of its own: the source's WAL position
 * and each slot's confirmed position. A consumer's lag at a sample is how long ago the source
 * was last at or before the position it has confirmed (0 once it confirmed the source's
 * position then); the figure is at most one sampling interval too high.
 */
function timeLagSampler(url: string, slots: string[]): { stop(): Promise<Record<string, number[]>> } {
  const c = new pg.Client({ connectionString: url, application_name: 'bench monitor' });
  const history: { t: number; lsn: bigint }[] = [];
  const lags: Record<string, number[]> = Object.fromEntries(slots.map((x) => [x, []]));
  let running = true;
  const big = (l: string) => {
    const [hi, lo] = l.split('/');
    return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
  };
  const loop = (async () => {
    await c.connect();
    while (running) {
      const at = performance.now();
      const r = await c.query<{ cur: string; slot_name: string; confirmed: string | null }>(
        `SELECT pg_current_wal_lsn()::text AS cur, slot_name, confirmed_flush_lsn::text AS confirmed
           FROM pg_replication_slots WHERE slot_name = ANY($1)`,
        [slots],
      );
      const t = performance.now();
      const cur = big(r.rows[0]?.cur ?? '0/0');
      history.push({ t, lsn: cur });
      for (const row of r.rows) {
        if (!row.confirmed) continue;
        const confirmed = big(row.confirmed);
        let lag = 0;
        if (confirmed < cur) {
          // The last sample at which the source had not passed the confirmed position.
          let lo = 0;
          let hi = history.length - 1;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (history[mid]!.lsn <= confirmed) lo = mid;
            else hi = mid - 1;
          }
          lag = history[lo]!.lsn <= confirmed ? (t - history[lo]!.t) / 1000 : (t - history[0]!.t) / 1000;
        }
        lags[row.slot_name]!.push(lag);
      }
      await sleep(Math.max(0, TIME_LAG_MS - (performance.now() - at)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await c.end().catch(() => undefined);
      return lags;
    },
  };
}

const round2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);

function percentile(xs: number[], p: number): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function confirmedLsn(c: pg.Client, slot: string): Promise<string | null> {
  const r = await c.query<{ lsn: string | null }>(
    `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  return r.rows[0]?.lsn ?? null;
}

async function slotPassed(c: pg.Client, slot: string, lsn: string): Promise<boolean> {
  const r = await c.query<{ done: boolean }>(
    `SELECT pg_wal_lsn_diff(confirmed_flush_lsn, $2::pg_lsn) >= 0 AS done FROM pg_replication_slots WHERE slot_name = $1`,
    [slot, lsn],
  );
  return r.rows[0]?.done === true;
}

async function tableFacts(server: PgServer): Promise<TableFacts[]> {
  return withClient(server, (c) => facts(c, PGBENCH_TABLES, false));
}

/**
 * Transactions the target lacks although it applied later ones: pgbench_history ids the
 * source has, at least `margin` below the highest id on the target (ids are taken in
 * insert order, commits may come a few transactions apart), that the target has not.
 */
async function skippedTransactions(
  source: PgServer,
  target: PgServer,
  database: string,
  margin = 100,
): Promise<{ frontier: number; missing: number[] }> {
  const frontier = Number(
    (await target.query<{ m: string | null }>('SELECT max(id)::text AS m FROM pgbench_history', [], database)).rows[0]!
      .m ?? 0,
  );
  const ids = async (server: PgServer) =>
    (
      await server.query<{ id: string }>(
        'SELECT id::text FROM pgbench_history WHERE id <= $1',
        [frontier - margin],
        database,
      )
    ).rows.map((r) => Number(r.id));
  const [src, dst] = await Promise.all([ids(source), ids(target)]);
  const have = new Set(dst);
  return { frontier, missing: src.filter((id) => !have.has(id)) };
}

// ---------------------------------------------------------------- pgtransit worker

function benchPlan(name: string, sourceEnv: string, targetEnv: string, switchover?: PlanInput['switchover']): Plan {
  const parsed = parsePlan({
    name,
    source: { url: `env:${sourceEnv}` },
    target: { url: `env:${targetEnv}` },
    mode: 'full+cdc',
    fullLoad: { parallelism: 2, chunkSizeMB: 32 },
    ...(switchover ? { switchover } : {}),
  });
  if (!parsed.ok) throw new Error(`bench plan invalid: ${JSON.stringify(parsed.issues)}`);
  return parsed.plan;
}

/** Polls the migration until `ready` says so; fails fast when the workflow ends or stops applying. */
async function waitMigration(
  w: Worker,
  plan: Plan,
  what: string,
  ready: (m: MigrationStatus, d: DatabaseStatus | null) => boolean,
  limitMs: number,
): Promise<void> {
  const id = workflowIds(plan.name).migration;
  const handle = w.client.workflow.getHandle(id);
  const deadline = Date.now() + limitMs;
  let last = '';
  for (;;) {
    const desc = await handle.describe();
    const m = await handle.query(statusQuery).catch(() => null);
    const childId = m?.databases[0]?.workflowId;
    const d = childId
      ? await w.client.workflow
          .getHandle(childId)
          .query(databaseStatusQuery)
          .catch(() => null)
      : null;
    if (m && ready(m, d)) return;
    last = [
      `execution ${desc.status.name}, phase ${m?.phase}, database ${d?.phase}`,
      d?.cdc ? `, lag ${d.cdc.lagBytes}` : '',
      m?.error ? `, error ${m.error}` : '',
      d?.error ? `, database error ${d.error}` : '',
    ].join('');
    if (desc.status.name !== 'RUNNING')
      throw new Error(
        `${plan.name} ended before ${what}: ${last}\nworker log:\n${readFileSync(w.logFile, 'utf8').slice(-3000)}`,
      );
    if (d?.cdc?.stalled) throw new Error(`${plan.name} stopped applying before ${what}: ${d.cdc.stalled.reason}`);
    if (Date.now() > deadline) throw new Error(`${plan.name} not ${what} within ${limitMs / 1000} s: ${last}`);
    await sleep(250);
  }
}

// ---------------------------------------------------------------- part 1: apply

interface Sample {
  /** Seconds since pgbench started. */
  t: number;
  lagBytes: Record<string, number | null>;
  /** Cumulative rows applied on each target (pg_stat_user_tables), per consumer. */
  applied: Record<string, number>;
}

interface Consumer {
  key: 'pgtransit' | 'native';
  label: string;
  slot: string;
  target: pg.Client;
  /** Its target server: the CPU its backends spend. */
  server: PgServer;
}

interface ConsumerFigures {
  appliedRows: number;
  /** Rows applied per second while pgbench ran. */
  rowsPerSecond: number;
  /** Rows applied per second from pgbench's start until this consumer caught up. */
  rowsPerSecondToCaughtUp: number | null;
  /** Highest rows applied in one sampled second. */
  peakRowsPerSecond: number;
  lagMedianBytes: number | null;
  lagMaxBytes: number | null;
  /** Lag in seconds while pgbench ran (timeLagSampler): median, 99th percentile, highest. */
  lagSeconds: { p50: number | null; p99: number | null; max: number | null };
  catchUpSeconds: number | null;
  /** Lag left over from earlier runs when pgbench started. */
  lagAtStartBytes: number | null;
  lagAtPgbenchEndBytes: number | null;
  /** Not caught up within the limit: the lag then, and the catch-up extrapolated from how fast it fell. */
  lagAtLimitBytes: number | null;
  catchUpEstimateSeconds: number | null;
}

interface WorkloadFigures {
  name: string;
  pgbench: string;
  transactions: number;
  tps: number;
  sourceRows: number;
  sourceRowsPerSecond: number;
  seconds: number;
  endLsn: string;
  consumers: Record<string, ConsumerFigures>;
  ratios: { rowsPerSecond: number | null; lagMedian: number | null; lagMax: number | null; catchUp: number | null };
  samples: Sample[];
}

async function runWorkload(
  name: string,
  args: string[],
  source: PgServer,
  sourceMon: pg.Client,
  sourceStats: pg.Client,
  consumers: Consumer[],
  duration = DURATION,
): Promise<WorkloadFigures> {
  const slots = consumers.map((c) => c.slot);
  const read = async (): Promise<Record<string, number>> =>
    Object.fromEntries(await Promise.all(consumers.map(async (c) => [c.key, await appliedChanges(c.target)] as const)));
  const start = {
    applied: await read(),
    source: await tupleCount(sourceStats),
    lags: await slotLags(sourceMon, slots),
  };
  const samples: Sample[] = [];
  const timeLag = timeLagSampler(source.url({ database: DB }), slots);
  const t0 = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const at = performance.now();
      const [lagBytes, applied] = await Promise.all([slotLags(sourceMon, slots), read()]);
      samples.push({ t: seconds(at - t0), lagBytes, applied });
      await sleep(Math.max(0, 1000 - (performance.now() - at)));
    }
  })();
  const pgbenchArgs = [...args, '-c', String(CLIENTS), '-j', String(Math.min(CLIENTS, 2)), '-T', String(duration)];
  log(`workload ${name}: pgbench ${pgbenchArgs.join(' ')}`);
  const bench = await startPgbench(source, DB, pgbenchArgs).done;
  const runMs = performance.now() - t0;
  const timeLags = await timeLag.stop();
  const endLsn = (await sourceMon.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  const atEnd = {
    applied: await read(),
    source: await tupleCount(sourceStats),
    lags: await slotLags(sourceMon, slots),
  };
  if (bench.failed) log(`pgbench ended with an error: ${bench.detail}`);

  // Caught up: the slot confirmed everything the source had written when pgbench stopped.
  const caughtUp: Record<string, { ms: number; applied: number } | null> = {};
  const limit = performance.now() + CATCHUP_LIMIT * 1000;
  while (consumers.some((c) => caughtUp[c.key] === undefined) && performance.now() < limit) {
    for (const c of consumers) {
      if (caughtUp[c.key] === undefined && (await slotPassed(sourceMon, c.slot, endLsn)))
        caughtUp[c.key] = { ms: performance.now() - t0 - runMs, applied: await appliedChanges(c.target) };
    }
    await sleep(100);
  }
  for (const c of consumers) if (caughtUp[c.key] === undefined) caughtUp[c.key] = null;
  const atLimit = await slotLags(sourceMon, slots);
  const limitSeconds = (performance.now() - t0 - runMs) / 1000;
  sampling = false;
  await sampler;
  // Counters are flushed by the writing sessions about once a second: let the last ones land.
  await sleep(1500);
  const final = await read();

  const during = samples.filter((s) => s.t <= runMs / 1000 + 0.5);
  const figures: Record<string, ConsumerFigures> = {};
  for (const c of consumers) {
    const lags = during.map((s) => s.lagBytes[c.slot]).filter((x): x is number => x !== null);
    const perSecond = samples
      .slice(1)
      .map((s, i) => (s.applied[c.key]! - samples[i]!.applied[c.key]!) / Math.max(0.001, s.t - samples[i]!.t));
    const done = caughtUp[c.key];
    const endLag = atEnd.lags[c.slot] ?? null;
    const leftLag = done ? null : (atLimit[c.slot] ?? null);
    const fallRate = endLag !== null && leftLag !== null ? (endLag - leftLag) / limitSeconds : 0;
    figures[c.key] = {
      appliedRows: final[c.key]! - start.applied[c.key]!,
      rowsPerSecond: Math.round((atEnd.applied[c.key]! - start.applied[c.key]!) / (runMs / 1000)),
      rowsPerSecondToCaughtUp: done
        ? Math.round((done.applied - start.applied[c.key]!) / ((runMs + done.ms) / 1000))
        : null,
      peakRowsPerSecond: Math.round(Math.max(0, ...perSecond)),
      lagMedianBytes: median(lags),
      lagMaxBytes: lags.length ? Math.max(...lags) : null,
      lagSeconds: {
        p50: round2(percentile(timeLags[c.slot]!, 50)),
        p99: round2(percentile(timeLags[c.slot]!, 99)),
        max: round2(timeLags[c.slot]!.length ? Math.max(...timeLags[c.slot]!) : null),
      },
      catchUpSeconds: done ? seconds(done.ms) : null,
      lagAtStartBytes: start.lags[c.slot] ?? null,
      lagAtPgbenchEndBytes: endLag,
      lagAtLimitBytes: leftLag,
      catchUpEstimateSeconds: leftLag !== null && fallRate > 0 ? Math.round(limitSeconds + leftLag / fallRate) : null,
    };
  }
  const p = figures.pgtransit!;
  const n = figures.native!;
  const sourceRows = atEnd.source - start.source;
  return {
    name,
    pgbench: `pgbench ${pgbenchArgs.join(' ')}`,
    transactions: bench.transactions,
    tps: Math.round(bench.tps),
    sourceRows,
    sourceRowsPerSecond: Math.round(sourceRows / (runMs / 1000)),
    seconds: seconds(runMs),
    endLsn,
    consumers: figures,
    ratios: {
      rowsPerSecond: ratio(p.rowsPerSecond, n.rowsPerSecond),
      lagMedian: ratio(p.lagMedianBytes, n.lagMedianBytes),
      lagMax: ratio(p.lagMaxBytes, n.lagMaxBytes),
      catchUp: ratio(p.catchUpSeconds, n.catchUpSeconds),
    },
    samples,
  };
}

/** Waits until no walsender serves the slot (the consumer has stopped streaming). */
async function slotIdle(c: pg.Client, slot: string, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await c.query<{ active: boolean }>(`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [
      slot,
    ]);
    if (r.rows[0]?.active === false) return;
    if (Date.now() > deadline) throw new Error(`${what} still streaming after 120 s`);
    await sleep(100);
  }
}

async function runBacklog(
  run: number,
  source: PgServer,
  sourceMon: pg.Client,
  sourceStats: pg.Client,
  consumers: Consumer[],
  w: Worker,
  plan: Plan,
  nvSlot: string,
): Promise<BacklogRun> {
  const migration = w.client.workflow.getHandle(workflowIds(plan.name).migration);
  const pt = consumers.find((c) => c.key === 'pgtransit')!;
  await migration.signal(pauseSignal);
  const nv = consumers.find((c) => c.key === 'native')!;
  await nv.target.query(`ALTER SUBSCRIPTION ${nvSlot} DISABLE`);
  await Promise.all([
    slotIdle(sourceMon, pt.slot, 'pgtransit (paused)'),
    slotIdle(sourceMon, nvSlot, 'the subscription'),
  ]);

  const before = await tupleCount(sourceStats);
  const perClient = Math.ceil(BACKLOG / CLIENTS);
  const args = ['-c', String(CLIENTS), '-j', String(Math.min(CLIENTS, 2)), '-t', String(perClient)];
  log(`backlog ${run}: pgbench ${args.join(' ')} with both consumers stopped`);
  const bench = await startPgbench(source, DB, args).done;
  if (bench.failed) throw new Error(`pgbench failed: ${bench.detail}`);
  const endLsn = (await sourceMon.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
  const sourceRows = (await tupleCount(sourceStats)) - before;

  const starts: Record<'pgtransit' | 'native', () => Promise<unknown>> = {
    pgtransit: () => migration.signal(resumeSignal),
    native: () => nv.target.query(`ALTER SUBSCRIPTION ${nvSlot} ENABLE`),
  };
  const order: ('pgtransit' | 'native')[] = run % 2 ? ['native', 'pgtransit'] : ['pgtransit', 'native'];
  const secondsOf: Record<'pgtransit' | 'native', number | null> = { pgtransit: null, native: null };
  const startSeconds: Record<'pgtransit' | 'native', number | null> = { pgtransit: null, native: null };
  const cpu = { pgtransit: {}, native: {} } as BacklogRun['cpu'];
  const sourcePid = postmasterPid(source);
  for (const key of order) {
    const c = key === 'pgtransit' ? pt : nv;
    const trees: Record<string, number> = { source: sourcePid, target: postmasterPid(c.server) };
    if (key === 'pgtransit') trees.worker = w.pid;
    const cpuNow = () => ({
      machine: busySeconds(),
      ...Object.fromEntries(Object.entries(trees).map(([name, pid]) => [name, treeSeconds(pid)])),
    });
    const from = await confirmedLsn(sourceMon, c.slot);
    const c0 = cpuNow();
    const t0 = performance.now();
    await starts[key]();
    const deadline = t0 + CATCHUP_LIMIT * 1000;
    while (!(await slotPassed(sourceMon, c.slot, endLsn)) && performance.now() < deadline) {
      if (startSeconds[key] === null && (await confirmedLsn(sourceMon, c.slot)) !== from)
        startSeconds[key] = seconds(performance.now() - t0);
      await sleep(20);
    }
    if (await slotPassed(sourceMon, c.slot, endLsn)) secondsOf[key] = seconds(performance.now() - t0);
    const c1 = cpuNow();
    cpu[key] = Object.fromEntries(
      Object.entries(c1).map(([k, v]) => [k, seconds((v - c0[k as keyof typeof c0]!) * 1000)]),
    );
    log(
      `backlog ${run}: ${key} alone applied it in ${secondsOf[key] ?? `more than ${CATCHUP_LIMIT}`} s ` +
        `(started after ${startSeconds[key] ?? '-'} s; CPU s ${Object.entries(cpu[key])
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`,
    );
  }
  return {
    run,
    transactions: bench.transactions,
    sourceRows,
    seconds: secondsOf,
    speedup: ratio(secondsOf.native, secondsOf.pgtransit),
    startSeconds,
    cpu,
  };
}

interface Verification {
  consumer: string;
  caughtUp: boolean;
  /** Every table equal to the source (rows and checksums); null when not caught up. */
  equal: boolean | null;
  tables: { table: string; sourceRows: number; targetRows: number; checksumEqual: boolean }[];
  /** Highest pgbench_history id on the target, and the source's ids below it that the target lacks. */
  historyFrontier: number;
  skippedHistoryIds: number[];
}

interface LongTransactionResult {
  seconds: number;
  /** Rows applied per second during pgbench, without and with the open transaction. */
  rowsPerSecond: Record<'pgtransit' | 'native', { without: number; with: number }>;
  /** with / without: within 10% means at least 0.9. */
  withOverWithout: Record<'pgtransit' | 'native', number | null>;
  /** The source's own rows/s in each run (the open transaction slows pgbench itself). */
  sourceRowsPerSecond: { without: number; with: number };
  /** Each consumer's rows/s over the source's, in each run: 1 keeps pace. */
  keptPace: Record<'pgtransit' | 'native', { without: number | null; with: number | null }>;
  /** Lag in seconds, 99th percentile, in each run. */
  lagP99Seconds: Record<'pgtransit' | 'native', { without: number | null; with: number | null }>;
}

interface BacklogRun {
  run: number;
  transactions: number;
  sourceRows: number;
  /** Each consumer alone: from its start until its slot confirmed the position at pgbench's end. */
  seconds: Record<'pgtransit' | 'native', number | null>;
  /** native seconds / pgtransit seconds: above 1, pgtransit is faster. */
  speedup: number | null;
  /** Of those seconds, until the slot first moved (the consumer starting up: a round scheduled, the apply worker launched). */
  startSeconds: Record<'pgtransit' | 'native', number | null>;
  /**
   * CPU seconds while each consumer applied: the source server (its walsender decoding), the
   * consumer's target server (the apply worker, or pgtransit's applying session), pgtransit's
   * worker process, and the whole machine.
   */
  cpu: Record<'pgtransit' | 'native', Record<string, number>>;
}

interface ApplyResult {
  setup: { initSeconds: number; pgtransitToIncrementalSeconds: number; subscriptionReadySeconds: number };
  workloads: WorkloadFigures[];
  backlog: BacklogRun[];
  longTransaction: LongTransactionResult | null;
  verified: Verification[];
  pgtransitStatus: { transactions: number; rounds: number; rows: number; perTable: CdcStatus['tables'] } | null;
}

async function partApply(
  source: PgServer,
  ptTarget: PgServer,
  nvTarget: PgServer,
  w: Worker,
  scratch: string,
): Promise<ApplyResult> {
  log(`part 1: pgbench -i -s ${SCALE} on the source`);
  const t0 = performance.now();
  await pgbenchInit(source, DB, SCALE);
  const initSeconds = seconds(performance.now() - t0);

  // The native consumer's target gets the schema from pg_dump, as one would set it up.
  const archive = await dumpSchema(source, scratch);
  await nvTarget.query(`CREATE DATABASE ${DB}`);
  await exec(
    tool('pg_restore', 0),
    ['--exit-on-error', '--no-owner', '--no-acl', '--single-transaction', '-d', DB, archive],
    libpqEnv(nvTarget),
    'pg_restore --schema-only',
  );

  const plan = benchPlan(`bench-cdc-${randomBytes(3).toString('hex')}`, 'PGT_BENCH_SOURCE_URL', 'PGT_BENCH_TARGET_URL');
  const ptSlot = replicationNames(plan.name, DB).slot;
  const nvSlot = 'bench_sub';
  const tStart = performance.now();
  await w.client.workflow.start(migrationWorkflow, {
    args: [plan],
    taskQueue: w.taskQueue,
    workflowId: workflowIds(plan.name).migration,
  });
  await withClient(source, (c) => c.query(`CREATE PUBLICATION bench_pub FOR TABLE ${PGBENCH_TABLES.join(', ')}`));
  await withClient(nvTarget, (c) =>
    c.query(
      `CREATE SUBSCRIPTION ${nvSlot} CONNECTION ${c.escapeLiteral(conninfo(source))} PUBLICATION bench_pub WITH (copy_data = true)`,
    ),
  );

  const [pgtransitToIncrementalSeconds, subscriptionReadySeconds] = await Promise.all([
    waitMigration(w, plan, 'in incremental', (_m, d) => d?.phase === 'incremental', 600_000).then(() =>
      seconds(performance.now() - tStart),
    ),
    withClient(nvTarget, async (c) => {
      const deadline = Date.now() + 600_000;
      for (;;) {
        const state = await subscriptionState(c, nvSlot);
        if (state.n === PGBENCH_TABLES.length && state.ready === PGBENCH_TABLES.length)
          return seconds(performance.now() - tStart);
        if (Date.now() > deadline)
          throw new Error(`the subscription was not ready within 600 s: ${JSON.stringify(state)}`);
        await sleep(200);
      }
    }),
  ]);
  log(
    `pgtransit in incremental after ${pgtransitToIncrementalSeconds} s, the subscription ready after ${subscriptionReadySeconds} s`,
  );

  const sourceMon = new pg.Client({
    connectionString: source.url({ database: DB }),
    application_name: 'bench monitor',
  });
  const sourceStats = new pg.Client({
    connectionString: source.url({ database: DB }),
    application_name: 'bench monitor',
  });
  const ptClient = new pg.Client({
    connectionString: ptTarget.url({ database: DB }),
    application_name: 'bench monitor',
  });
  const nvClient = new pg.Client({
    connectionString: nvTarget.url({ database: DB }),
    application_name: 'bench monitor',
  });
  await Promise.all([sourceMon, sourceStats, ptClient, nvClient].map((c) => c.connect()));
  try {
    const consumers: Consumer[] = [
      { key: 'pgtransit', label: 'pgtransit (incremental)', slot: ptSlot, target: ptClient, server: ptTarget },
      { key: 'native', label: 'native subscription', slot: nvSlot, target: nvClient, server: nvTarget },
    ];
    // Both start the runs with nothing left over from the load or the initial copy.
    const quiet = (await sourceMon.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    for (const c of consumers) {
      const deadline = Date.now() + 120_000;
      while (!(await slotPassed(sourceMon, c.slot, quiet))) {
        if (Date.now() > deadline) throw new Error(`${c.label} did not confirm ${quiet} within 120 s`);
        await sleep(200);
      }
    }
    const workloads: WorkloadFigures[] = [];
    const workload = (name: string, args: string[], duration?: number) =>
      runWorkload(name, args, source, sourceMon, sourceStats, consumers, duration);
    if (WORKLOADS.includes('full')) workloads.push(await workload('full speed', []));
    if (WORKLOADS.includes('half')) {
      // Half the rate the native subscription applied at full speed (4 row changes a transaction).
      const full = workloads.find((x) => x.name === 'full speed');
      const tps = full ? Math.max(1, Math.round(full.consumers.native!.rowsPerSecond / 4 / 2)) : RATE;
      workloads.push(await workload(`half of native's full speed, ${tps} tps`, ['-R', String(tps)]));
    }
    if (WORKLOADS.includes('rate')) workloads.push(await workload(`rate ${RATE} tps`, ['-R', String(RATE)]));
    let longTransaction: LongTransactionResult | null = null;
    if (PARTS.includes('long')) {
      const without = await workload(`full speed for ${LONG_SECONDS} s`, [], LONG_SECONDS);
      // BEGIN; one write; idle while pgbench runs as long again, committed once both caught up.
      const open = new pg.Client({ connectionString: source.url({ database: DB }), application_name: 'bench long' });
      await open.connect();
      await open.query(`BEGIN; INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, 1, 0, now())`);
      let within: WorkloadFigures;
      try {
        within = await workload(`full speed for ${LONG_SECONDS} s, a transaction open and idle`, [], LONG_SECONDS);
      } finally {
        await open.query('COMMIT').catch(() => undefined);
        await open.end().catch(() => undefined);
      }
      workloads.push(without, within);
      const rel = (key: 'pgtransit' | 'native') =>
        ratio(within.consumers[key]!.rowsPerSecond, without.consumers[key]!.rowsPerSecond);
      longTransaction = {
        seconds: LONG_SECONDS,
        rowsPerSecond: {
          pgtransit: {
            without: without.consumers.pgtransit!.rowsPerSecond,
            with: within.consumers.pgtransit!.rowsPerSecond,
          },
          native: { without: without.consumers.native!.rowsPerSecond, with: within.consumers.native!.rowsPerSecond },
        },
        withOverWithout: { pgtransit: rel('pgtransit'), native: rel('native') },
        sourceRowsPerSecond: { without: without.sourceRowsPerSecond, with: within.sourceRowsPerSecond },
        keptPace: Object.fromEntries(
          (['pgtransit', 'native'] as const).map((key) => [
            key,
            {
              without: ratio(without.consumers[key]!.rowsPerSecond, without.sourceRowsPerSecond),
              with: ratio(within.consumers[key]!.rowsPerSecond, within.sourceRowsPerSecond),
            },
          ]),
        ) as LongTransactionResult['keptPace'],
        lagP99Seconds: Object.fromEntries(
          (['pgtransit', 'native'] as const).map((key) => [
            key,
            { without: without.consumers[key]!.lagSeconds.p99, with: within.consumers[key]!.lagSeconds.p99 },
          ]),
        ) as LongTransactionResult['lagP99Seconds'],
      };
    }
    const backlog: BacklogRun[] = [];
    if (PARTS.includes('backlog')) {
      for (let i = 1; i <= BACKLOG_RUNS; i++) {
        backlog.push(await runBacklog(i, source, sourceMon, sourceStats, consumers, w, plan, nvSlot));
      }
    }

    // Equal to the source: wait until each confirmed everything (pgtransit may not within the limit), then compare.
    const end = (await sourceMon.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    const caughtUp: Record<string, boolean> = {};
    for (const c of consumers) {
      const deadline =
        Date.now() +
        (workloads.every((wl) => wl.consumers[c.key]!.catchUpSeconds !== null) ? CATCHUP_LIMIT * 1000 : 5_000);
      while (!(caughtUp[c.key] = await slotPassed(sourceMon, c.slot, end)) && Date.now() < deadline) await sleep(200);
    }
    const targets = { pgtransit: ptTarget, native: nvTarget };
    const src = await tableFacts(source);
    const verified: Verification[] = [];
    for (const c of consumers) {
      const facts = await tableFacts(targets[c.key]);
      const tables = src.map((x, i) => ({
        table: x.table,
        sourceRows: x.rows,
        targetRows: facts[i]!.rows,
        checksumEqual: facts[i]!.checksum === x.checksum,
      }));
      const skipped = await skippedTransactions(source, targets[c.key], DB);
      verified.push({
        consumer: c.key,
        caughtUp: caughtUp[c.key]!,
        equal: caughtUp[c.key] ? tables.every((t) => t.sourceRows === t.targetRows && t.checksumEqual) : null,
        tables,
        historyFrontier: skipped.frontier,
        skippedHistoryIds: skipped.missing,
      });
    }

    const child = await w.client.workflow.getHandle(workflowIds(plan.name).database(DB)).query(databaseStatusQuery);
    const cdc = child.cdc;
    const pgtransitStatus = cdc
      ? {
          transactions: cdc.transactions,
          rounds: cdc.rounds,
          rows: Object.values(cdc.tables).reduce((n, t) => n + t.insert + t.update + t.delete, 0),
          perTable: cdc.tables,
        }
      : null;
    await Promise.all([sourceMon, sourceStats, ptClient, nvClient].map((c) => c.end().catch(() => undefined)));

    log('part 1 done: dropping the subscription, cancelling the migration, stopping both targets');
    await withClient(nvTarget, (c) => c.query(`DROP SUBSCRIPTION ${nvSlot}`));
    await withClient(source, (c) => c.query('DROP PUBLICATION bench_pub'));
    // A round applying a backlog finishes its batch before it sees the cancellation; with its
    // target gone it fails at once, and the cancelled workflow drops its slot and publication.
    const handle = w.client.workflow.getHandle(workflowIds(plan.name).migration);
    await handle.cancel();
    await Promise.all([ptTarget.stop(), nvTarget.stop()]);
    await Promise.race([handle.result().catch(() => undefined), sleep(60_000)]);
    await withClient(source, async (c) => {
      // Whatever the cleanup left behind would keep a walsender busy during part 2.
      await c.query(
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`,
        [ptSlot],
      );
      await sleep(500);
      await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [
        ptSlot,
      ]);
    });
    return {
      setup: { initSeconds, pgtransitToIncrementalSeconds, subscriptionReadySeconds },
      workloads,
      backlog,
      longTransaction,
      verified,
      pgtransitStatus,
    };
  } finally {
    await Promise.all([sourceMon, sourceStats, ptClient, nvClient].map((c) => c.end().catch(() => undefined)));
  }
}

// ---------------------------------------------------------------- part 0: one large transaction

interface LargeResult {
  rows: number;
  updateSeconds: number;
  /** From the UPDATE's commit until each consumer's slot confirmed it. */
  seconds: Record<'pgtransit' | 'native', number | null>;
  /** native seconds / pgtransit seconds. */
  speedup: number | null;
  workerPeakRssMB: number;
  /** The most changes of the open transaction that pgtransit's status showed applied before its commit. */
  statusShowedChanges: number;
  equal: Record<'pgtransit' | 'native', boolean>;
}

async function partLarge(source: PgServer, ptTarget: PgServer, nvTarget: PgServer, w: Worker): Promise<LargeResult> {
  const db = 'lg';
  const ddl = `CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL, pad text NOT NULL)`;
  log(`part 0: a table of ${LARGE_ROWS} rows (database ${db})`);
  await source.query(`CREATE DATABASE ${db}`);
  await source.query(ddl, [], db);
  await source.query(`INSERT INTO big SELECT g, 0, repeat('x', 40) FROM generate_series(1, $1) g`, [LARGE_ROWS], db);
  await source.query(`VACUUM ANALYZE big`, [], db);
  await nvTarget.query(`CREATE DATABASE ${db}`);
  await nvTarget.query(ddl, [], db);
  await source.query(`CREATE PUBLICATION lg_pub FOR TABLE big`, [], db);
  await nvTarget.query(
    `CREATE SUBSCRIPTION lg_sub CONNECTION '${conninfo(source, db).replace(/'/g, "''")}' PUBLICATION lg_pub WITH (copy_data = true)`,
    [],
    db,
  );
  const plan = benchPlan(
    `bench-lg-${randomBytes(3).toString('hex')}`,
    'PGT_BENCH_LG_SOURCE_URL',
    'PGT_BENCH_LG_TARGET_URL',
  );
  const migration = workflowIds(plan.name).migration;
  await w.client.workflow.start(migrationWorkflow, { args: [plan], taskQueue: w.taskQueue, workflowId: migration });
  const mon = new pg.Client({ connectionString: source.url({ database: db }), application_name: 'bench monitor' });
  await mon.connect();
  try {
    await waitMigration(w, plan, 'in incremental', (_m, d) => d?.phase === 'incremental', 900_000);
    await withClient(
      nvTarget,
      async (c) => {
        for (const deadline = Date.now() + 900_000; ;) {
          const st = await subscriptionState(c, 'lg_sub');
          if (st.n === 1 && st.ready === 1) return;
          if (Date.now() > deadline) throw new Error('the lg subscription was not ready within 900 s');
          await sleep(500);
        }
      },
      db,
    );
    const slots = { pgtransit: replicationNames(plan.name, db).slot, native: 'lg_sub' };
    const quiet = (await mon.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    for (const slot of Object.values(slots)) while (!(await slotPassed(mon, slot, quiet))) await sleep(200);

    // The worker's peak from here on (VmHWM reset where the kernel allows it, and sampled).
    try {
      writeFileSync(`/proc/${w.pid}/clear_refs`, '5');
    } catch {
      // Without it the sampled maximum is the figure.
    }
    let peakKB = procStatus(w.pid, 'VmRSS');
    let showed = 0;
    const child = w.client.workflow.getHandle(workflowIds(plan.name).database(db));
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakKB = Math.max(peakKB, procStatus(w.pid, 'VmRSS'));
        const d = await child.query(databaseStatusQuery).catch(() => null);
        showed = Math.max(showed, d?.cdc?.largeTransaction?.changesApplied ?? 0);
        await sleep(200);
      }
    })();
    log(`part 0: UPDATE big SET v = v + 1 (${LARGE_ROWS} rows, one transaction)`);
    const u0 = performance.now();
    await mon.query(`UPDATE big SET v = v + 1`);
    const committed = performance.now();
    const endLsn = (await mon.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    const secondsOf: Record<'pgtransit' | 'native', number | null> = { pgtransit: null, native: null };
    const deadline = committed + CATCHUP_LIMIT * 10 * 1000;
    // Applied: the slot confirmed the commit and the target holds every updated row (a slot seen
    // past the commit with the target short of it is waited out, and said).
    const targets = { pgtransit: ptTarget, native: nvTarget };
    const holds = async (key: 'pgtransit' | 'native') =>
      Number(
        (await targets[key].query<{ n: string }>(`SELECT count(*) AS n FROM big WHERE v = 1`, [], db)).rows[0]!.n,
      ) === LARGE_ROWS;
    while ((secondsOf.pgtransit === null || secondsOf.native === null) && performance.now() < deadline) {
      for (const key of ['pgtransit', 'native'] as const) {
        if (secondsOf[key] !== null || !(await slotPassed(mon, slots[key], endLsn))) continue;
        if (!(await holds(key))) {
          log(`part 0: ${key}'s slot confirmed the commit before its target held the update; waiting for the target`);
          await sleep(1000);
          continue;
        }
        secondsOf[key] = seconds(performance.now() - committed);
        log(`part 0: ${key} applied it ${secondsOf[key]} s after its commit`);
      }
      await sleep(200);
    }
    sampling = false;
    await sampler;
    peakKB = Math.max(peakKB, procStatus(w.pid, 'VmHWM'));
    const factsOf = async (server: PgServer) => withClient(server, (c) => facts(c, ['big'], false), db);
    const [src, pt, nv] = await Promise.all([factsOf(source), factsOf(ptTarget), factsOf(nvTarget)]);
    const same = (t: TableFacts[]) => t[0]!.rows === src[0]!.rows && t[0]!.checksum === src[0]!.checksum;

    await nvTarget.query(`DROP SUBSCRIPTION lg_sub`, [], db);
    await source.query(`DROP PUBLICATION lg_pub`, [], db);
    const handle = w.client.workflow.getHandle(migration);
    await handle.cancel();
    await Promise.race([handle.result().catch(() => undefined), sleep(60_000)]);
    return {
      rows: LARGE_ROWS,
      updateSeconds: seconds(committed - u0),
      seconds: secondsOf,
      speedup: ratio(secondsOf.native, secondsOf.pgtransit),
      workerPeakRssMB: Math.round(peakKB / 1024),
      statusShowedChanges: showed,
      equal: { pgtransit: same(pt), native: same(nv) },
    };
  } finally {
    await mon.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------- part 2: switchover

/**
 * Our application's write: the teller update and history insert of pgbench's tpcb-like
 * script, on a session we control, so that its last source and first target commits are known.
 */
async function appWrite(c: pg.Client): Promise<void> {
  const tid = 1 + Math.floor(Math.random() * 10);
  const aid = 1 + Math.floor(Math.random() * 100_000);
  const delta = Math.floor(Math.random() * 10_001) - 5000;
  await c.query('BEGIN');
  try {
    await c.query('UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2', [delta, tid]);
    await c.query(
      'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, 1, $2, $3, CURRENT_TIMESTAMP)',
      [tid, aid, delta],
    );
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

interface AppSide {
  sourceWrites: number;
  /** Date.now() after the last COMMIT the source acknowledged. */
  lastSourceWriteAt: number | null;
  sourceError: string | null;
  /** Date.now() after the first COMMIT the target acknowledged (attempts start when the Update returned). */
  firstTargetWriteAt: number | null;
  targetAttempts: number;
  targetErrors: string[];
}

/**
 * The application: writes to the source until the fence ends its session, then, once told
 * the switchover is done, writes to the target. Its target session is opened beforehand
 * (a warm pool), so the figure is the databases' downtime, not a connection's setup.
 */
function startApp(sourceUrl: string) {
  const side: AppSide = {
    sourceWrites: 0,
    lastSourceWriteAt: null,
    sourceError: null,
    firstTargetWriteAt: null,
    targetAttempts: 0,
    targetErrors: [],
  };
  let target: pg.Client | null = null;
  let switched!: (targetUrl: string) => void;
  const toTarget = new Promise<string>((r) => (switched = r));
  let stopping = false;
  const done = (async () => {
    const src = new pg.Client({ connectionString: sourceUrl, application_name: 'bench app' });
    src.on('error', () => undefined);
    await src.connect();
    try {
      while (!stopping) {
        await appWrite(src);
        side.sourceWrites++;
        side.lastSourceWriteAt = Date.now();
        await sleep(WRITER_PAUSE_MS);
      }
    } catch (e) {
      side.sourceError = (e as Error).message;
    } finally {
      await src.end().catch(() => undefined);
    }
    // Given up (the run failed): no target to write to.
    const targetUrl = await toTarget;
    if (!targetUrl) return;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      side.targetAttempts++;
      try {
        if (!target) {
          target = new pg.Client({ connectionString: targetUrl, application_name: 'bench app' });
          target.on('error', () => undefined);
          await target.connect();
        }
        await appWrite(target);
        side.firstTargetWriteAt = Date.now();
        return;
      } catch (e) {
        if (side.targetErrors.length < 5) side.targetErrors.push((e as Error).message);
        await target?.end().catch(() => undefined);
        target = null;
        await sleep(2);
      }
    }
  })();
  return {
    side,
    /** Opens the target session ahead of the switchover. */
    async warm(targetUrl: string) {
      target = new pg.Client({ connectionString: targetUrl, application_name: 'bench app' });
      target.on('error', () => undefined);
      await target.connect();
    },
    switchTo: (targetUrl: string) => switched(targetUrl),
    async finish(): Promise<AppSide> {
      stopping = true;
      switched('');
      await done.catch((e: Error) => void (side.sourceError ??= e.message));
      await (target as pg.Client | null)?.end().catch(() => undefined);
      return side;
    },
  };
}

interface SwitchoverRun {
  run: number;
  /** Why this run has no figures: the switchover (or reaching it) failed. */
  error: string | null;
  reported: SwitchoverReport | null;
  /** pgtransit's own figure: fence to done. */
  writeDowntimeMs: number | null;
  /** Our application: last write on the source to first write on the target. */
  appDowntimeMs: number | null;
  /** Last acknowledged write on the source, relative to the fence (negative: before it). */
  lastSourceWriteVsFenceMs: number | null;
  /** The Update's answer reached us this long after the workflow's doneAt. */
  updateReturnedAfterDoneMs: number | null;
  /** Update returned to first target write. */
  firstTargetWriteAfterUpdateMs: number | null;
  updateRoundTripMs: number | null;
  readySeconds: number | null;
  pgbenchTps: number | null;
  app: AppSide | null;
  /** The workflow's steps from fencing on, with their durations (seconds). */
  steps: { step: string; seconds: number | null; detail?: string }[];
}

async function switchoverSteps(w: Worker, plan: Plan): Promise<SwitchoverRun['steps']> {
  const st = await w.client.workflow
    .getHandle(workflowIds(plan.name).migration)
    .query(statusQuery)
    .then((m) => w.client.workflow.getHandle(m.databases[0]!.workflowId).query(databaseStatusQuery))
    .catch(() => null);
  if (!st) return [];
  const from = st.steps.findIndex((x) => x.step === 'fenceSource');
  return st.steps.slice(from < 0 ? st.steps.length : from).map((x) => ({
    step: x.step,
    seconds: x.endedAt ? seconds(Date.parse(x.endedAt) - Date.parse(x.startedAt)) : null,
    detail: x.detail,
  }));
}

/** One switchover run's database, scale and plan settings (part 2: sw<i>, scale 1, the defaults). */
interface SwitchoverSetup {
  database: string;
  scale: number;
  sourceEnv: string;
  targetEnv: string;
  switchover?: PlanInput['switchover'];
  label: string;
}

async function oneSwitchover(
  i: number,
  source: PgServer,
  target: PgServer,
  w: Worker,
  o: SwitchoverSetup = {
    database: `sw${i}`,
    scale: 1,
    sourceEnv: `PGT_BENCH_SW${i}_SOURCE_URL`,
    targetEnv: `PGT_BENCH_SW${i}_TARGET_URL`,
    label: `part 2, run ${i}/${RUNS}`,
  },
): Promise<SwitchoverRun> {
  const { database } = o;
  const item: SwitchoverRun = {
    run: i,
    error: null,
    reported: null,
    writeDowntimeMs: null,
    appDowntimeMs: null,
    lastSourceWriteVsFenceMs: null,
    updateReturnedAfterDoneMs: null,
    firstTargetWriteAfterUpdateMs: null,
    updateRoundTripMs: null,
    readySeconds: null,
    pgbenchTps: null,
    app: null,
    steps: [],
  };
  log(`${o.label}: pgbench -i -s ${o.scale} into ${database}, migrate under pgbench -R ${SWITCH_RATE}, switch over`);
  await pgbenchInit(source, database, o.scale);
  const plan = benchPlan(`bench-sw-${randomBytes(3).toString('hex')}`, o.sourceEnv, o.targetEnv, o.switchover);
  const handle = w.client.workflow.getHandle(workflowIds(plan.name).migration);
  // Long enough to outlast the run; the fence ends its sessions.
  const bench = startPgbench(source, database, ['-R', String(SWITCH_RATE), '-c', '2', '-j', '1', '-T', '900']);
  const app = startApp(source.url({ database }));
  try {
    const t0 = performance.now();
    await w.client.workflow.start(migrationWorkflow, {
      args: [plan],
      taskQueue: w.taskQueue,
      workflowId: handle.workflowId,
    });
    await waitMigration(
      w,
      plan,
      'ready for switchover',
      (m) => m.databases.length > 0 && m.databases.every((d) => d.ready === true),
      300_000 + o.scale * 30_000,
    );
    item.readySeconds = seconds(performance.now() - t0);
    await app.warm(target.url({ database }));
    await sleep(SETTLE_SECONDS * 1000);
    if (app.side.sourceError)
      throw new Error(`the application's writes failed before the switchover: ${app.side.sourceError}`);

    const requested = performance.now();
    let answer: { reports: SwitchoverReport[] } | null = null;
    for (let attempt = 0; !answer; attempt++) {
      try {
        answer = await switchover(w.client, plan.name);
      } catch (e) {
        // The validator answers "not possible now" when a round left the lag above the bound.
        const msg = `${(e as Error).message} ${(e as { cause?: Error }).cause?.message ?? ''}`;
        if (!/not possible now/.test(msg) || attempt > 50) throw new Error(msg.trim());
        await sleep(200);
      }
    }
    const returnedAt = Date.now();
    item.updateRoundTripMs = Math.round(performance.now() - requested);
    app.switchTo(target.url({ database }));
    const side = await app.finish();
    bench.child.kill('SIGTERM');
    const load = await bench.done;
    await handle.result();
    const r = answer.reports[0]!;
    const fencedAt = Date.parse(r.fencedAt);
    Object.assign(item, {
      reported: r,
      writeDowntimeMs: r.writeDowntimeMs,
      appDowntimeMs:
        side.lastSourceWriteAt !== null && side.firstTargetWriteAt !== null
          ? side.firstTargetWriteAt - side.lastSourceWriteAt
          : null,
      lastSourceWriteVsFenceMs: side.lastSourceWriteAt !== null ? side.lastSourceWriteAt - fencedAt : null,
      updateReturnedAfterDoneMs: returnedAt - Date.parse(r.doneAt),
      firstTargetWriteAfterUpdateMs: side.firstTargetWriteAt !== null ? side.firstTargetWriteAt - returnedAt : null,
      pgbenchTps: Math.round(load.tps) || 0,
      app: side,
    });
    log(`run ${i}: reported ${item.writeDowntimeMs} ms, application ${item.appDowntimeMs ?? '-'} ms`);
  } catch (e) {
    item.error = (e as Error).message.split('\n')[0]!;
    log(`run ${i} failed: ${item.error}`);
  } finally {
    bench.child.kill('SIGTERM');
    item.app ??= await app.finish().catch(() => null);
    item.steps = await switchoverSteps(w, plan);
    if (item.error) {
      // A failed switchover un-fenced the source and went back to incremental: end the migration.
      await Promise.race([abortMigration(w.client, plan.name).catch(() => undefined), sleep(60_000)]);
    }
  }
  return item;
}

/** Part 3's lines: per mode and scale the median write downtime and its spread, and the ratio largest / smallest scale. */
function summarizeDowntime(runs: (SwitchoverRun & { scale: number; mode: string })[]) {
  const lines: string[] = [];
  const figures: Record<string, { medians: Record<number, number | null>; ratio: number | null }> = {};
  const smallest = Math.min(...DOWNTIME_SCALES);
  const largest = Math.max(...DOWNTIME_SCALES);
  lines.push(
    `3. switchover write downtime against the size of the data: pgbench scales ${DOWNTIME_SCALES.join(', ')}, ` +
      `verify: checksum, ${DOWNTIME_RUNS} runs each, under pgbench -R ${SWITCH_RATE} -c 2 plus our application writer`,
  );
  for (const mode of DOWNTIME_MODES) {
    const medians: Record<number, number | null> = {};
    lines.push(
      mode === 'before'
        ? '   verifyBeforeFence: true (every table compared at a point while streaming; inside the fence the rows changed since)'
        : '   verifyBeforeFence: false (every table compared inside the fence)',
    );
    for (const scale of DOWNTIME_SCALES) {
      const mine = runs.filter((r) => r.mode === mode && r.scale === scale);
      const ok = mine.filter((r) => !r.error).map((r) => r.writeDowntimeMs!);
      medians[scale] = median(ok);
      const verifySteps = mine
        .filter((r) => !r.error)
        .map((r) => r.steps.find((x) => x.step === 'verify')?.seconds ?? null)
        .map((x) => (x === null ? '-' : `${Math.round(x * 1000)}`));
      lines.push(
        `     scale ${String(scale).padEnd(4)} write downtime median ${fmt(medians[scale])} ms ` +
          `(min ${fmt(ok.length ? Math.min(...ok) : null)}, max ${fmt(ok.length ? Math.max(...ok) : null)}); ` +
          `all ${mine.map((r) => (r.error ? 'failed' : r.writeDowntimeMs)).join(', ')}; fenced verify step ms ${verifySteps.join(', ')}`,
      );
      for (const r of mine.filter((x) => x.error)) lines.push(`       run ${r.run} FAILED: ${r.error}`);
    }
    const [a, b] = [medians[smallest], medians[largest]];
    const ratio = a && b ? Math.round((b / a) * 100) / 100 : null;
    figures[mode] = { medians, ratio };
    lines.push(
      `     ratio scale ${largest} / scale ${smallest}: ${ratio ?? '-'}${mode === 'before' ? ' (goal <= 1.2)' : ''}`,
    );
  }
  return { lines, figures };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = performance.now();
  ensurePgClientTools(log);
  ensureTemporalCli(log);
  const scratch = mkdtempSync(join(tmpdir(), 'pgtransit-bench-cdc-'));
  const servers: PgServer[] = [];
  let temporal: DevServer | undefined;
  let worker: Worker | undefined;
  const errors: string[] = [];
  const start = async (major: 15 | 17, name: string) => {
    const s = await startPostgres({ major, settings: SETTINGS, name });
    servers.push(s);
    return s;
  };
  try {
    log('starting PostgreSQL 15 (source), three PostgreSQL 17 (targets) and the Temporal dev server');
    // One target per consumer in part 1, and a fresh one for part 2.
    const [source, ptTarget, nvTarget, swTarget] = await Promise.all([
      start(15, 'source'),
      start(17, 'pgtransit-target'),
      start(17, 'native-target'),
      start(17, 'switchover-target'),
    ]);
    temporal = await startTemporal(scratch);
    const urls: Record<string, string> = {
      PGT_BENCH_SOURCE_URL: source.url({ database: DB }),
      PGT_BENCH_TARGET_URL: ptTarget.url({ database: DB }),
      PGT_BENCH_LG_SOURCE_URL: source.url({ database: 'lg' }),
      PGT_BENCH_LG_TARGET_URL: ptTarget.url({ database: 'lg' }),
    };
    for (let i = 1; i <= RUNS; i++) {
      urls[`PGT_BENCH_SW${i}_SOURCE_URL`] = source.url({ database: `sw${i}` });
      urls[`PGT_BENCH_SW${i}_TARGET_URL`] = swTarget.url({ database: `sw${i}` });
    }
    const downtimeSetups: (SwitchoverSetup & { mode: string; run: number })[] = [];
    if (PARTS.includes('downtime'))
      for (let i = 1; i <= DOWNTIME_RUNS; i++)
        for (const scale of DOWNTIME_SCALES)
          for (const mode of DOWNTIME_MODES) {
            const database = `dt${scale}_${mode}_${i}`;
            const env = `PGT_BENCH_${database.toUpperCase()}`;
            urls[`${env}_SOURCE_URL`] = source.url({ database });
            urls[`${env}_TARGET_URL`] = swTarget.url({ database });
            downtimeSetups.push({
              database,
              scale,
              mode,
              run: i,
              sourceEnv: `${env}_SOURCE_URL`,
              targetEnv: `${env}_TARGET_URL`,
              switchover: { verify: 'checksum', verifyBeforeFence: mode === 'before' },
              label: `part 3, run ${i}/${DOWNTIME_RUNS}, scale ${scale}, verification ${mode} the fence`,
            });
          }
    worker = await startWorker(temporal, urls, join(scratch, 'worker.log'));
    const [sourceVersion, targetVersion] = await Promise.all([version(source), version(ptTarget)]);

    let large: LargeResult | null = null;
    if (PARTS.includes('large')) {
      try {
        large = await partLarge(source, ptTarget, nvTarget, worker);
      } catch (e) {
        errors.push(`part 0: ${(e as Error).stack}`);
        log(`worker log (tail):\n${readFileSync(worker.logFile, 'utf8').slice(-4000)}`);
      }
    }
    let apply: ApplyResult | null = null;
    const switches: SwitchoverRun[] = [];
    if (PARTS.includes('apply') || PARTS.includes('long') || PARTS.includes('backlog')) {
      try {
        apply = await partApply(source, ptTarget, nvTarget, worker, scratch);
      } catch (e) {
        errors.push(`part 1: ${(e as Error).stack}`);
        log(`worker log (tail):\n${readFileSync(worker.logFile, 'utf8').slice(-4000)}`);
      }
    }
    await Promise.all([ptTarget.stop(), nvTarget.stop()]);
    if (PARTS.includes('switchover')) {
      for (let i = 1; i <= RUNS; i++) switches.push(await oneSwitchover(i, source, swTarget, worker));
    }
    const downtime: (SwitchoverRun & { scale: number; mode: string })[] = [];
    for (const setup of downtimeSetups) {
      const r = await oneSwitchover(setup.run, source, swTarget, worker, setup);
      downtime.push({ ...r, scale: setup.scale, mode: setup.mode });
      // Each run's databases go once measured: scale 100 is 1.5 GB a side.
      for (const server of [source, swTarget])
        await server.query(`DROP DATABASE IF EXISTS ${setup.database} WITH (FORCE)`).catch(() => undefined);
    }
    const totalSeconds = seconds(performance.now() - started);

    const lines: string[] = [];
    lines.push(`pgtransit change-capture benchmark, ${new Date().toISOString()}`);
    lines.push(
      `source PostgreSQL ${sourceVersion} -> targets PostgreSQL ${targetVersion} (one server per consumer), ` +
        `${cpus().length} CPUs shared by all servers, the Temporal dev server, the pgtransit worker and pgbench`,
    );
    if (large) {
      lines.push('');
      lines.push(
        `0. one large transaction: UPDATE of every row of a ${fmt(large.rows)}-row table (${large.updateSeconds} s on the source), ` +
          `followed by both consumers; from its commit until each slot confirmed it and its target held every updated row`,
      );
      lines.push(
        `   pgtransit            ${large.seconds.pgtransit ?? '-'} s, target ${large.equal.pgtransit ? 'equal' : 'DIFFERENT'}`,
      );
      lines.push(
        `   native subscription  ${large.seconds.native ?? '-'} s, target ${large.equal.native ? 'equal' : 'DIFFERENT'}`,
      );
      lines.push(
        `   speed-up (native s / pgtransit s) ${fmt(large.speedup, 2)}×; worker peak RSS ${large.workerPeakRssMB} MB; ` +
          `status showed ${fmt(large.statusShowedChanges)} changes of the open transaction applied before its commit`,
      );
    }
    if (apply) {
      lines.push('');
      lines.push(
        `1. CDC apply: pgbench tpcb-like, scale ${SCALE} (pgbench_history given a bigserial key), ${DURATION} s per workload, ${CLIENTS} clients`,
      );
      lines.push(`   both consumers attached to the same source during the same pgbench runs, measured the same way:`);
      lines.push(
        `   rows/s   = source row changes applied per second over the pgbench run: 4 per pgbench transaction, counted by pgbench_history rows on the target`,
      );
      lines.push(
        `   lag      = pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) of each one's slot, sampled every second of the run`,
      );
      lines.push(
        `   catch-up = pgbench's exit until the slot's confirmed_flush_lsn passes the source's WAL position at that exit (limit ${CATCHUP_LIMIT} s;`,
      );
      lines.push(`              past it, "~N" extrapolates from how fast the lag fell during the limit)`);
      lines.push(
        `   lag s    = how long ago the source was last at the slot's confirmed position, sampled every ${TIME_LAG_MS} ms while pgbench ran`,
      );
      lines.push(
        `   setup: pgbench -i ${apply.setup.initSeconds} s; pgtransit in incremental after ` +
          `${apply.setup.pgtransitToIncrementalSeconds} s, subscription initial copy ready after ${apply.setup.subscriptionReadySeconds} s`,
      );
      for (const wl of apply.workloads) {
        lines.push('');
        lines.push(`   workload "${wl.name}": ${wl.pgbench}`);
        lines.push(
          `   ${fmt(wl.transactions)} transactions, ${fmt(wl.tps)} tps; the source wrote ${fmt(wl.sourceRows)} rows, ${fmt(wl.sourceRowsPerSecond)} rows/s`,
        );
        lines.push(
          [
            '   ',
            ''.padEnd(22),
            'rows/s'.padStart(9),
            'peak 1 s'.padStart(10),
            'lag median kB'.padStart(15),
            'lag max kB'.padStart(12),
            'catch-up s'.padStart(12),
            'lag at start kB'.padStart(17),
            'lag s p50/p99/max'.padStart(20),
          ].join(''),
        );
        for (const key of ['pgtransit', 'native'] as const) {
          const f = wl.consumers[key]!;
          const catchUp =
            f.catchUpSeconds !== null
              ? f.catchUpSeconds.toFixed(2)
              : f.catchUpEstimateSeconds !== null
                ? `~${fmt(f.catchUpEstimateSeconds)}`
                : `>${CATCHUP_LIMIT}`;
          lines.push(
            [
              '   ',
              (key === 'pgtransit' ? 'pgtransit' : 'native subscription').padEnd(22),
              fmt(f.rowsPerSecond).padStart(9),
              fmt(f.peakRowsPerSecond).padStart(10),
              fmt(kb(f.lagMedianBytes), 1).padStart(15),
              fmt(kb(f.lagMaxBytes), 1).padStart(12),
              catchUp.padStart(12),
              fmt(kb(f.lagAtStartBytes), 1).padStart(17),
              `${fmt(f.lagSeconds.p50, 2)}/${fmt(f.lagSeconds.p99, 2)}/${fmt(f.lagSeconds.max, 2)}`.padStart(20),
            ].join(''),
          );
        }
        const r = wl.ratios;
        const p = wl.consumers.pgtransit!;
        const n = wl.consumers.native!;
        const catchUpRatio =
          r.catchUp ??
          (p.catchUpEstimateSeconds !== null && n.catchUpSeconds
            ? `~${fmt(p.catchUpEstimateSeconds / n.catchUpSeconds)}`
            : null);
        lines.push(
          [
            '   ',
            'pgtransit / native'.padEnd(22),
            fmt(r.rowsPerSecond, 2).padStart(9),
            ''.padStart(10),
            fmt(r.lagMedian, 2).padStart(15),
            fmt(r.lagMax, 2).padStart(12),
            (typeof catchUpRatio === 'string' ? catchUpRatio : fmt(catchUpRatio, 2)).padStart(12),
          ].join(''),
        );
        if (p.lagAtLimitBytes !== null)
          lines.push(
            `   pgtransit had not caught up ${CATCHUP_LIMIT} s after pgbench stopped: ${fmt(kb(p.lagAtLimitBytes))} kB of WAL still to apply`,
          );
      }
      if (apply.backlog.length) {
        const b = apply.backlog;
        const col = (key: 'pgtransit' | 'native') =>
          b.map((x) => x.seconds[key]).filter((x): x is number => x !== null);
        const spread = (xs: number[]) => (xs.length ? `${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)}` : '-');
        lines.push('');
        lines.push(
          `   backlog: both stopped, pgbench -t (${fmt(BACKLOG)} transactions, ${fmt(median(b.map((x) => x.sourceRows)))} row changes), ` +
            `then each consumer alone until its slot confirms pgbench's end; ${b.length} runs, order alternating`,
        );
        lines.push(`   ${''.padEnd(22)}${'median s'.padStart(10)}${'spread s'.padStart(14)}   runs`);
        for (const key of ['pgtransit', 'native'] as const) {
          lines.push(
            `   ${(key === 'pgtransit' ? 'pgtransit' : 'native subscription').padEnd(22)}${fmt(median(col(key)), 2).padStart(10)}` +
              `${spread(col(key)).padStart(14)}   ${b.map((x) => x.seconds[key] ?? '-').join(', ')}`,
          );
        }
        const speedups = b.map((x) => x.speedup).filter((x): x is number => x !== null);
        lines.push(
          `   ${'speed-up (native s / pgtransit s)'.padEnd(22)} median ${fmt(median(speedups), 2)}×, spread ${spread(speedups)}`,
        );
        for (const key of ['pgtransit', 'native'] as const) {
          const starts = b.map((x) => x.startSeconds[key]).filter((x): x is number => x !== null);
          const parts = Object.keys(b[0]!.cpu[key]).map(
            (k) => `${k} ${fmt(median(b.map((x) => x.cpu[key][k] ?? 0)), 2)}`,
          );
          lines.push(`   ${key}: started after median ${fmt(median(starts), 2)} s; CPU s (median) ${parts.join(', ')}`);
        }
      }
      const lt = apply.longTransaction;
      if (lt) {
        lines.push('');
        lines.push(
          `   long transaction: pgbench at full speed for ${lt.seconds} s, then again with a source transaction open and idle ` +
            `(BEGIN; one write) all the while`,
        );
        lines.push(
          `   the source itself wrote ${fmt(lt.sourceRowsPerSecond.without)} rows/s without it, ${fmt(lt.sourceRowsPerSecond.with)} with it`,
        );
        for (const key of ['pgtransit', 'native'] as const) {
          const r = lt.rowsPerSecond[key];
          const kept = lt.keptPace[key];
          const p99 = lt.lagP99Seconds[key];
          lines.push(
            `   ${(key === 'pgtransit' ? 'pgtransit' : 'native subscription').padEnd(22)}${fmt(r.without).padStart(9)} rows/s without, ` +
              `${fmt(r.with).padStart(9)} with: ${fmt(lt.withOverWithout[key], 2)}×; applied/written ${fmt(kept.without, 2)} and ` +
              `${fmt(kept.with, 2)}; lag p99 ${fmt(p99.without, 2)} s and ${fmt(p99.with, 2)} s`,
          );
        }
      }
      lines.push('');
      for (const v of apply.verified) {
        const name = v.consumer === 'pgtransit' ? 'pgtransit' : 'native';
        const counts = v.tables
          .map(
            (t) =>
              `${t.table} ${fmt(t.targetRows)}/${fmt(t.sourceRows)}${v.caughtUp && !t.checksumEqual ? ' (checksum differs)' : ''}`,
          )
          .join(', ');
        const state =
          v.equal === null
            ? 'NOT CAUGHT UP, so not comparable'
            : v.equal
              ? 'equals the source (rows and checksums)'
              : 'DIFFERS FROM the source';
        lines.push(`   ${name} target ${state}: ${counts}`);
        lines.push(
          `   ${''.padEnd(name.length)}        transactions skipped (source pgbench_history ids below the ` +
            `target's highest, ${fmt(v.historyFrontier)}, missing on the target): ` +
            `${v.skippedHistoryIds.length}` +
            (v.skippedHistoryIds.length
              ? ` (ids ${v.skippedHistoryIds.slice(0, 10).join(', ')}${v.skippedHistoryIds.length > 10 ? ', ...' : ''})`
              : ''),
        );
      }
      if (apply.pgtransitStatus)
        lines.push(
          `   pgtransit status at the end: ${fmt(apply.pgtransitStatus.transactions)} transactions applied in ${apply.pgtransitStatus.rounds} rounds`,
        );
    }
    if (PARTS.includes('switchover')) {
      const ok = switches.filter((s) => !s.error);
      const reported = ok.map((s) => s.writeDowntimeMs!);
      const appSide = ok.map((s) => s.appDowntimeMs).filter((x): x is number => x !== null);
      const list = (f: (s: SwitchoverRun) => number | null) =>
        switches.map((s) => (s.error ? 'failed' : (f(s) ?? '-'))).join(', ');
      lines.push('');
      lines.push(
        `2. switchover write downtime: ${switches.length} runs, each a fresh pgbench -i -s 1 database migrated full+cdc and switched over through the Update`,
      );
      lines.push(
        `   under pgbench -R ${SWITCH_RATE} -c 2 plus our application writer (a teller update + history insert every ${WRITER_PAUSE_MS} ms)`,
      );
      lines.push(
        `   no native baseline: a subscription has no switchover (fencing the source, draining, copying sequences are the operator's)`,
      );
      lines.push(
        `   reported writeDowntimeMs (fence to done):              median ${fmt(median(reported))} ms; all ${list((s) => s.writeDowntimeMs)}`,
      );
      lines.push(
        `   application: last source write -> first target write:  median ${fmt(median(appSide))} ms; all ${list((s) => s.appDowntimeMs)}`,
      );
      lines.push(
        `   last source write relative to fencedAt (ms):           ${list((s) => s.lastSourceWriteVsFenceMs)}`,
      );
      lines.push(
        `   the Update's answer after doneAt (ms):                 ${list((s) => s.updateReturnedAfterDoneMs)}`,
      );
      lines.push(
        `   first target write after the Update returned (ms):     ${list((s) => s.firstTargetWriteAfterUpdateMs)}`,
      );
      lines.push(
        `   start to ready for switchover (s):                     ${switches.map((s) => s.readySeconds ?? '-').join(', ')}`,
      );
      const stepNames = [...new Set(ok.flatMap((s) => s.steps.map((x) => x.step)))];
      for (const step of stepNames)
        lines.push(
          `   step ${step.padEnd(22)} median ` +
            `${fmt(median(ok.flatMap((s) => s.steps.filter((x) => x.step === step && x.seconds !== null).map((x) => x.seconds! * 1000))))} ms`,
        );
      for (const s of switches.filter((x) => x.error)) lines.push(`   run ${s.run} FAILED: ${s.error}`);
    }
    const downtimeSummary = summarizeDowntime(downtime);
    if (PARTS.includes('downtime')) lines.push('', ...downtimeSummary.lines);
    for (const e of errors) lines.push(`\nERROR ${e}`);
    lines.push('');
    lines.push(`whole benchmark ${totalSeconds.toFixed(0)} s`);
    console.log(lines.join('\n'));

    writeResults('cdc', {
      source: sourceVersion,
      target: targetVersion,
      settings: SETTINGS,
      config: {
        duration: DURATION,
        rate: RATE,
        clients: CLIENTS,
        scale: SCALE,
        catchUpLimit: CATCHUP_LIMIT,
        runs: RUNS,
        switchRate: SWITCH_RATE,
        backlog: BACKLOG,
        backlogRuns: BACKLOG_RUNS,
        workloads: WORKLOADS,
        settleSeconds: SETTLE_SECONDS,
        writerPauseMs: WRITER_PAUSE_MS,
      },
      measures: {
        rowsPerSecond:
          'source row changes applied (4 per pgbench transaction, counted by pgbench_history rows on the target), delta over the pgbench run / its duration',
        lag: "pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn) of the consumer's slot on the source, sampled every second of the run, floored at 0",
        catchUp: "pgbench's exit until the slot's confirmed_flush_lsn passes pg_current_wal_lsn() taken at that exit",
        skippedTransactions:
          "source pgbench_history ids at least 100 below the target's highest id that the target lacks",
        appDowntime:
          'last COMMIT acknowledged by the source to first COMMIT acknowledged by the target, target attempts ' +
          'starting when the switchover Update returned, target session opened beforehand',
      },
      large,
      apply,
      switchover: PARTS.includes('switchover')
        ? {
            nativeBaseline: null,
            medianWriteDowntimeMs: median(switches.filter((s) => !s.error).map((s) => s.writeDowntimeMs!)),
            medianAppDowntimeMs: median(switches.map((s) => s.appDowntimeMs).filter((x): x is number => x !== null)),
            failedRuns: switches.filter((s) => s.error).length,
            runs: switches,
          }
        : null,
      downtime: PARTS.includes('downtime')
        ? { scales: DOWNTIME_SCALES, modes: DOWNTIME_MODES, ...downtimeSummary.figures, runs: downtime }
        : null,
      errors,
      totalSeconds,
    });
    if (errors.length || switches.some((x) => x.error) || downtime.some((x) => x.error)) process.exitCode = 1;
  } finally {
    await worker?.stop().catch(() => undefined);
    await Promise.all(servers.map((s) => s.stop()));
    await temporal?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
