/**
 * Fake activities for workflow tests (samples-typescript `workflows-mocks`): every
 * activity of `Activities`, no database anywhere. Each call is recorded in order, and
 * a test swaps one activity's behaviour at any moment through `on`.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { createActivities, type Activities } from '../../activities';
import { ErrorType, isRetryable } from '../../src/errors';
import type { Chunk, CopyResult, RoundResult, TablePlan } from '../../src/model/activities';
import { formatLsn } from '../../src/model/lsn';
import { snapshotSignal } from '../../src/model/messages';
import { ddlCaptureNames, replicationNames, reverseReplicationNames } from '../../src/model/names';
import type { CheckItem, ServerSummary } from '../../src/model/report';

export type ActivityName = keyof Activities;
type Input<K extends ActivityName> = Parameters<Activities[K]>[0];

export interface Call<K extends ActivityName = ActivityName> {
  activity: K;
  input: Input<K>;
  /** Order among all calls of this set of fakes. */
  seq: number;
  workflowId: string;
  runId: string;
  attempt: number;
  /** Unset while the call runs. */
  outcome?: 'completed' | 'failed' | 'cancelled';
  result?: Awaited<ReturnType<Activities[K]>>;
  /** Sequence number of the moment the call ended (compare with another call's seq). */
  endSeq?: number;
  /** The CancelledFailure's message (CANCELLED, WORKER_SHUTDOWN...) when cancelled. */
  cancelReason?: string;
}

const MiB = 1024 * 1024;

/** Three source tables: a plain one, a partition of `public.events`, and a small one. */
export const FAKE_TABLES: TablePlan[] = [
  {
    table: 'public.events_2024',
    root: 'public.events',
    targetTable: 'public.events_2024',
    estRows: 400_000,
    estBytes: 160 * MiB,
  },
  {
    table: 'public.customers',
    root: 'public.customers',
    targetTable: 'public.customers',
    estRows: 150_000,
    estBytes: 120 * MiB,
  },
  { table: 'public.items', root: 'public.items', targetTable: 'public.items', estRows: 2_000, estBytes: 2 * MiB },
];

const chunk = (table: string, part: number, parts: number, rest: Partial<Chunk>): Chunk => {
  const [schema, name] = table.split('.') as [string, string];
  return {
    id: `${table}/${part}`,
    schema,
    name,
    part,
    parts,
    kind: 'all',
    lo: null,
    hi: null,
    estBytes: 0,
    estRows: 0,
    ...rest,
  };
};

/** Largest chunks first, as planChunks orders them. */
export const FAKE_CHUNKS: Chunk[] = [
  chunk('public.customers', 1, 1, { estBytes: 120 * MiB, estRows: 150_000 }),
  chunk('public.events_2024', 1, 2, {
    kind: 'key',
    column: 'id',
    lo: null,
    hi: '200001',
    estBytes: 80 * MiB,
    estRows: 200_000,
  }),
  chunk('public.events_2024', 2, 2, {
    kind: 'key',
    column: 'id',
    lo: '200001',
    hi: null,
    estBytes: 80 * MiB,
    estRows: 200_000,
  }),
  chunk('public.items', 1, 1, { estBytes: 2 * MiB, estRows: 2_000 }),
];

/** A round that applied up to `at` and left no lag. */
const caughtUpRound = (at: string, o: Partial<RoundResult> = {}): RoundResult => ({
  appliedLsn: at,
  processedLsn: at,
  sourceLsn: at,
  lagBytes: 0,
  lagSeconds: 0,
  retainedWalBytes: 64 * 1024,
  transactions: 0,
  counts: {},
  lastCommitTime: null,
  fenceApplied: false,
  ...o,
});

/** Every fake table equal on both sides. */
const equalTables = () =>
  FAKE_TABLES.map((t) => ({
    table: t.table,
    targetTable: t.targetTable,
    sourceRows: t.estRows,
    targetRows: t.estRows,
    equal: true,
  }));

/** What a copy of `c` reports: its estimate, copied late when there was no snapshot. */
export function copied(
  c: Chunk,
  snapshot: string | null,
  horizonLsn: string | null = snapshot === null ? '0/3000000' : null,
): CopyResult {
  return { chunkId: c.id, rows: c.estRows, bytes: c.estBytes, skipped: false, late: snapshot === null, horizonLsn };
}

export const FAKE_SNAPSHOT = { snapshot: '00000003-0000001B-1', lsn: '0/1A2B3C8' };

/**
 * Resolves after `ms` (Infinity: never) or once `until` settles, heartbeating meanwhile;
 * rejects with the activity's CancelledFailure as soon as its cancellation reaches the
 * worker (through a heartbeat response, or the worker shutting down).
 */
export function heartbeatFor(ms: number, until?: Promise<unknown>): Promise<void> {
  const ctx = Context.current();
  const signal = ctx.cancellationSignal;
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    ctx.heartbeat();
    const beat = setInterval(() => ctx.heartbeat(), 200);
    const timer = Number.isFinite(ms) ? setTimeout(() => end(), ms) : undefined;
    const end = (cancelled?: unknown) => {
      clearInterval(beat);
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
      if (cancelled) reject(cancelled);
      else resolve();
    };
    const abort = () => end(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    until?.then(
      () => end(),
      () => end(),
    );
  });
}

/** A fake blocked on `wait()` goes on when the test calls `open()`. */
export function gate(): { wait: () => Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { wait: () => heartbeatFor(Infinity, opened), open };
}

const pass = (id: string, scope: CheckItem['scope'], observed: string, database?: string): CheckItem => ({
  id,
  scope,
  status: 'pass',
  observed,
  ...(database ? { database } : {}),
});

function server(side: 'source' | 'target'): ServerSummary {
  const source = side === 'source';
  return {
    side,
    host: '127.0.0.1',
    port: source ? 5432 : 5433,
    database: 'app',
    user: 'postgres',
    version: source ? '15.8' : '17.2',
    major: source ? 15 : 17,
    inRecovery: false,
    tls: false,
  };
}

export interface Fakes {
  /** Pass to Worker.create. */
  activities: Activities;
  calls: Call[];
  /** Replaces an activity's behaviour (undefined: back to the default). */
  on: Partial<Activities>;
  /** The default behaviours, for an override that only changes some calls. */
  defaults: Activities;
  /** How long a default applyChanges round lasts at most (it never exceeds input.maxSeconds). */
  roundMs: number;
  callsOf<K extends ActivityName>(activity: K): Call<K>[];
}

export function createFakes(): Fakes {
  const calls: Call[] = [];
  let seq = 0;
  let lsn = 0x3000000;
  const nextLsn = () => formatLsn(0, (lsn += 0x2000));

  const defaults: Activities = {
    async probeServer({ side }) {
      return server(side);
    },
    async assessDatabase({ database }) {
      return {
        items: [
          pass('source.select_privilege', 'source', 'SELECT on 3 tables', database),
          pass('source.primary_keys', 'source', 'every table has a primary key', database),
          pass('target.empty', 'target', 'no selected table exists on the target', database),
        ],
        selectedTables: FAKE_TABLES.length,
        selectedBytes: FAKE_TABLES.reduce((n, t) => n + t.estBytes, 0),
      };
    },
    async assessServers() {
      return [
        pass('source.connection', 'source', 'postgres@127.0.0.1:5432, PostgreSQL 15.8'),
        pass('target.connection', 'target', 'postgres@127.0.0.1:5433, PostgreSQL 17.2'),
        pass('pair.versions', 'pair', '15 -> 17'),
        pass('source.wal_level', 'source', 'logical'),
      ];
    },
    async previewDatabase({ plan, database, targetDatabase }) {
      return {
        database,
        targetDatabase,
        target: { createDatabase: false, stateSchema: 'pgtransit', extensions: [], objects: [], existing: [] },
        copy: {
          tables: FAKE_TABLES.map((t) => ({ ...t, chunks: 1, split: 'whole' })),
          totals: { tables: FAKE_TABLES.length, estRows: 0, estBytes: 0, chunks: FAKE_TABLES.length },
        },
        excluded: [],
        renamed: [],
        roles: { copy: plan.roles, create: [], existing: [] },
        source: { publication: null, publishedTables: [], slot: null, notes: [] },
      };
    },
    async prepareTarget() {
      return { createdDatabase: false, extensions: [] };
    },
    async copyRoles() {
      return { created: ['app_owner'], existing: [], passwords: 'copied', skippedSuperuser: [] };
    },
    async createPublication({ plan, database }) {
      return {
        publication: replicationNames(plan.name, database).publication,
        created: true,
        tables: FAKE_TABLES.length,
      };
    },
    async installDdlCapture({ plan, database }) {
      const n = ddlCaptureNames(plan.name, database);
      return { installed: true, schema: n.schema, triggers: [n.dropTrigger, n.endTrigger] };
    },
    async dropDdlCapture({ plan, database }) {
      return [`schema ${ddlCaptureNames(plan.name, database).schema}`];
    },
    async holdSnapshot({ plan, database }) {
      const ctx = Context.current();
      const { workflowId, runId } = ctx.info.workflowExecution;
      const slot = plan.mode === 'full+cdc' ? replicationNames(plan.name, database).slot : null;
      await ctx.client.workflow
        .getHandle(workflowId, runId)
        .signal(snapshotSignal, { ready: { ...FAKE_SNAPSHOT, slot } });
      // Held until the load is over and the workflow cancels the holder.
      await heartbeatFor(Infinity);
    },
    async restoreSchema({ section }) {
      return section === 'pre-data' ? { restored: 14, skipped: 0 } : { restored: 9, skipped: 0 };
    },
    async planChunks() {
      return { tables: FAKE_TABLES, chunks: FAKE_CHUNKS };
    },
    async copyChunk({ chunk: c, snapshot }) {
      await heartbeatFor(20);
      return copied(c, snapshot);
    },
    async applyMapping() {
      return [];
    },
    async dropReplication({ plan, database }) {
      const { slot, publication } = replicationNames(plan.name, database);
      return [`slot ${slot}`, `publication ${publication}`];
    },
    async applyChanges(input) {
      await heartbeatFor(Math.min(input.maxSeconds * 1000, fakes.roundMs));
      return caughtUpRound(nextLsn(), {
        transactions: 2,
        counts: { 'public.customers': { insert: 1, update: 1, delete: 0, truncate: 0, conflicts: 0 } },
        lastCommitTime: new Date().toISOString(),
        fenceApplied: input.fence !== null,
      });
    },
    async fenceSource({ id }) {
      return { id, lsn: nextLsn(), fencedAt: new Date().toISOString(), terminatedSessions: 2 };
    },
    async unfenceSource() {},
    async pausePooler() {
      return { pausedAt: new Date().toISOString() };
    },
    async repointPooler() {
      return { changed: true, now: 'app = host=target' };
    },
    async resumePooler() {
      return { resumedAt: new Date().toISOString() };
    },
    async refreshMaterializedViews() {
      return [];
    },
    async syncLargeObjects() {
      return { created: 0, unlinked: 0, bytes: 0 };
    },
    async verifyFence() {
      return { checkedTo: nextLsn() };
    },
    async copySequences() {
      return [
        {
          sequence: 'public.customers_id_seq',
          targetSequence: 'public.customers_id_seq',
          value: '150042',
          isCalled: true,
        },
      ];
    },
    async compareTables() {
      return equalTables();
    },
    async verifyAtPoint() {
      const at = nextLsn();
      return {
        lsn: at,
        appliedLsn: at,
        compared: equalTables(),
        round: caughtUpRound(at, { pointReached: true }),
        followed: null,
      };
    },
    async compareChanged() {
      const compared = equalTables();
      return { since: nextLsn(), compared, keys: 2, keyedTables: 1, wholeTables: 0 };
    },
    async stopTracking() {},
    async dropState() {},
    async prepareReverse({ plan, targetDatabase }) {
      const { slot, publication } = reverseReplicationNames(plan.name, targetDatabase);
      return { slot, publication, startLsn: nextLsn(), tables: FAKE_TABLES.length };
    },
    async applyReverseChanges(input) {
      await heartbeatFor(Math.min(input.maxSeconds * 1000, fakes.roundMs));
      return caughtUpRound(nextLsn(), {
        transactions: 1,
        counts: { 'public.customers': { insert: 1, update: 0, delete: 0, truncate: 0, conflicts: 0 } },
        lastCommitTime: new Date().toISOString(),
        fenceApplied: input.fence !== null,
      });
    },
    async fenceTarget({ id }) {
      return { id, lsn: nextLsn(), fencedAt: new Date().toISOString(), terminatedSessions: 1 };
    },
    async unfenceTarget() {},
    async copySequencesBack() {
      return [];
    },
    async syncLargeObjectsBack() {
      return { created: 0, unlinked: 0, bytes: 0 };
    },
    async refreshMaterializedViewsBack() {
      return [];
    },
    async reopenSource() {},
    async dropReverse({ plan, targetDatabase }) {
      const { slot, publication } = reverseReplicationNames(plan.name, targetDatabase);
      return [`slot ${slot} on the target`, `publication ${publication} on the target`];
    },
    // The real one: the workflow tests receive its calls on an HTTP server of their own.
    notify: createActivities().notify,
  };

  const on: Partial<Activities> = {};
  const wrap =
    <K extends ActivityName>(activity: K) =>
    async (input: Input<K>) => {
      const { info } = Context.current();
      const call: Call<K> = {
        activity,
        input,
        seq: ++seq,
        workflowId: info.workflowExecution.workflowId,
        runId: info.workflowExecution.runId,
        attempt: info.attempt,
      };
      calls.push(call as Call);
      const impl = (on[activity] ?? defaults[activity]) as (i: Input<K>) => Promise<Awaited<ReturnType<Activities[K]>>>;
      try {
        const result = await impl(input);
        call.outcome = 'completed';
        call.result = result;
        return result;
      } catch (e) {
        call.outcome = e instanceof CancelledFailure ? 'cancelled' : 'failed';
        if (e instanceof CancelledFailure) call.cancelReason = e.message;
        throw e;
      } finally {
        call.endSeq = ++seq;
      }
    };
  const activities = Object.fromEntries(
    (Object.keys(defaults) as ActivityName[]).map((name) => [name, wrap(name)]),
  ) as unknown as Activities;

  const fakes: Fakes = {
    activities,
    calls,
    on,
    defaults,
    roundMs: 300,
    callsOf: <K extends ActivityName>(activity: K) => calls.filter((c): c is Call<K> => c.activity === activity),
  };
  return fakes;
}

/** A failure as the real activities raise it: an explicit registered type. */
export function failure(type: ErrorType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    type,
    message,
    nonRetryable: !isRetryable(type),
    details: details === undefined ? undefined : [details],
  });
}
