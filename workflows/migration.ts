/**
 * migrationWorkflow: precheck, then one child workflow per database that runs
 * prepare -> schema -> full_load -> post_data (and, for mode full, completes).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  condition,
  defineQuery,
  defineSignal,
  executeChild,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, SnapshotSignal, TablePlan } from '../activities';
import type { Chunk } from '../src/postgres/chunks';
import type { CopyResult } from '../src/postgres/copy';
import { ErrorType } from '../src/errors';
import type { Plan, PlanInput } from '../src/plan/schema';
import type { SnapshotInfo } from '../src/postgres/snapshot';
import type { DatabaseStatus, MigrationPhase, MigrationStatus, StepRecord, TableProgress } from '../src/plan/status';
import { inspection, copying, holding, schemaChange } from './activity-options';
import { precheckWorkflow, surface, validatePlan } from './precheck';

export const statusQuery = defineQuery<MigrationStatus>('status');
export const databaseStatusQuery = defineQuery<DatabaseStatus>('databaseStatus');
export const snapshotSignal = defineSignal<[SnapshotSignal]>('snapshot');

const act = proxyActivities<Activities>(inspection);
const copy = proxyActivities<Activities>(copying);
const hold = proxyActivities<Activities>(holding);
const ddl = proxyActivities<Activities>(schemaChange);

const now = () => new Date().toISOString();

export interface MigrationResult {
  phase: MigrationPhase;
  databases: { database: string; phase: MigrationPhase; rows: number; bytes: number; lateChunks: number; slot: string | null; lsn?: string }[];
}

export async function migrationWorkflow(input: PlanInput): Promise<MigrationResult> {
  const plan = validatePlan(input);
  const id = workflowInfo().workflowId;
  const status: MigrationStatus = { workflowId: id, name: plan.name, mode: plan.mode, phase: 'precheck', startedAt: now(), databases: [] };
  setHandler(statusQuery, () => status);

  try {
    const report = await executeChild(precheckWorkflow, { args: [plan], workflowId: `${id}/precheck` });
    const failing = report.items.filter((i) => i.status === 'fail');
    status.precheck = { ...report.summary, failing: failing.map((i) => `${i.id}${i.database ? ` [${i.database}]` : ''}: ${i.observed}`) };
    if (!report.ok) {
      throw ApplicationFailure.create({
        type: ErrorType.PrecheckFailed,
        nonRetryable: true,
        message: `the precheck failed; nothing was created. Fix these items and start again:\n${status.precheck.failing.join('\n')}`,
      });
    }
    status.phase = 'prepare';
    const children: Promise<DatabaseResult>[] = report.databases.map((database) => {
      const workflowId = `${id}/${database}`;
      status.databases.push({ database, workflowId, phase: 'prepare' });
      return executeChild(migrateDatabaseWorkflow, {
        workflowId,
        args: [{ plan, database, targetDatabase: plan.databases ? database : report.target.database, sourceMajor: report.source.major, targetMajor: report.target.major }],
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      }).then((r) => {
        const entry = status.databases.find((d) => d.database === database)!;
        entry.phase = r.phase;
        return r;
      });
    });
    const results = await Promise.all(children);
    status.phase = results.every((r) => r.phase === 'completed') ? 'completed' : results[0]!.phase;
    return { phase: status.phase, databases: results };
  } catch (e) {
    status.phase = isCancellation(e) ? 'cancelled' : 'failed';
    status.error = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
    throw e;
  }
}

export interface DatabaseInput {
  plan: Plan;
  database: string;
  targetDatabase: string;
  sourceMajor: number;
  targetMajor: number;
}

export type DatabaseResult = MigrationResult['databases'][number];

/** One database: its own phases and status. Id `<migration id>/<database>`. */
export async function migrateDatabaseWorkflow(input: DatabaseInput): Promise<DatabaseResult> {
  const { plan, database, targetDatabase } = input;
  const scope = { plan, database, targetDatabase };
  const st: DatabaseStatus = {
    workflowId: workflowInfo().workflowId,
    database,
    targetDatabase,
    phase: 'prepare',
    startedAt: now(),
    updatedAt: now(),
    tables: [],
    totals: { chunksDone: 0, chunksTotal: 0, lateChunks: 0, rows: 0, bytes: 0, estBytes: 0 },
    steps: [],
    warnings: [],
  };
  setHandler(databaseStatusQuery, () => st);

  let snapshot: SnapshotInfo | null = null;
  let snapshotLost: string | null = null;
  setHandler(snapshotSignal, (s) => {
    if ('ready' in s) snapshot = s.ready;
    else snapshotLost = s.lost;
  });

  const step = async <T>(name: string, fn: () => Promise<T>, detail?: (r: T) => string): Promise<T> => {
    const rec: StepRecord = { step: name, startedAt: now() };
    st.steps.push(rec);
    const r = await fn();
    rec.endedAt = st.updatedAt = now();
    if (detail) rec.detail = detail(r);
    return r;
  };
  const phase = (p: MigrationPhase) => {
    st.phase = p;
    st.updatedAt = now();
  };
  const loseSnapshot = (why: string) => {
    if (st.snapshot && !st.snapshot.lost) {
      st.snapshot.lost = true;
      st.warnings.push(`snapshot lost (${why}); the chunks not yet copied are copied late, outside it`);
    }
  };

  const holderScope = new CancellationScope();
  let holder: Promise<void> | undefined;
  try {
    // prepare
    await step('prepareTarget', () => act.prepareTarget(scope), (r) => `${r.createdDatabase ? `created database ${targetDatabase}; ` : ''}extensions: ${r.extensions.join(', ') || 'none'}`);
    if (plan.roles) {
      await step('copyRoles', () => act.copyRoles(scope), (r) => {
        if (r.passwords === 'unreadable') st.warnings.push(`roles created without passwords (the source role cannot read pg_authid): ${r.created.join(', ')}`);
        return `created ${r.created.join(', ') || 'none'}; existing ${r.existing.join(', ') || 'none'}; passwords ${r.passwords}`;
      });
    }
    if (plan.mode === 'full+cdc') await step('createPublication', () => act.createPublication(scope), (r) => `${r.publication} (${r.created ? `${r.tables} tables` : 'existed'})`);

    holder = holderScope.run(() => hold.holdSnapshot({ ...scope, sourceMajor: input.sourceMajor }));
    holder.catch(() => undefined);
    let holderFailed: unknown = null;
    holder.then(
      () => undefined,
      (e) => (holderFailed = e),
    );
    await step('exportSnapshot', () => condition(() => snapshot !== null || snapshotLost !== null || holderFailed !== null));
    if (holderFailed !== null) surface(holderFailed);
    if (!snapshot) {
      // The slot exists from an attempt whose worker died before the snapshot was seen.
      st.snapshot = { lsn: 'unknown', slot: plan.mode === 'full+cdc' ? 'kept' : null, lost: true };
      st.warnings.push(`snapshot lost before the load started (${snapshotLost}); every table is copied late`);
    } else {
      const s: SnapshotInfo = snapshot;
      st.snapshot = { lsn: s.lsn, slot: s.slot, lost: false };
    }
    const liveSnapshot = (): string | null => {
      if (snapshotLost !== null) loseSnapshot(snapshotLost);
      return st.snapshot?.lost || !snapshot ? null : (snapshot as SnapshotInfo).snapshot;
    };

    // schema
    phase('schema');
    await step('restoreSchema pre-data', () => ddl.restoreSchema({ ...scope, section: 'pre-data', snapshot: liveSnapshot(), sourceMajor: input.sourceMajor, targetMajor: input.targetMajor }), (r) => `${r.restored} objects restored, ${r.skipped} already present`);

    // full load
    phase('full_load');
    const planned = await step('planChunks', () => act.planChunks(scope), (r) => `${r.tables.length} tables, ${r.chunks.length} chunks`);
    st.tables = planned.tables.map((t: TablePlan): TableProgress => ({ ...t, rows: 0, bytes: 0, chunksDone: 0, chunksTotal: 0, lateChunks: 0 }));
    const byTable = new Map(st.tables.map((t) => [t.table, t]));
    for (const c of planned.chunks) byTable.get(`${c.schema}.${c.name}`)!.chunksTotal++;
    st.totals.chunksTotal = planned.chunks.length;
    st.totals.estBytes = st.tables.reduce((n, t) => n + t.estBytes, 0);
    const loadStarted = Date.now();
    const queue = [...planned.chunks];
    const record = (c: Chunk, r: CopyResult) => {
      const t = byTable.get(`${c.schema}.${c.name}`)!;
      t.rows += r.rows;
      t.bytes += r.bytes;
      t.chunksDone++;
      if (r.late) {
        t.lateChunks++;
        st.totals.lateChunks++;
        if (r.horizonLsn && (!st.lateHorizonLsn || lsnGreater(r.horizonLsn, st.lateHorizonLsn))) st.lateHorizonLsn = r.horizonLsn;
      }
      if (t.chunksDone === t.chunksTotal) t.endedAt = now();
      st.totals.chunksDone++;
      st.totals.rows += r.rows;
      st.totals.bytes += r.bytes;
      const seconds = (Date.now() - loadStarted) / 1000;
      st.throughput = seconds > 0 ? Math.round(st.totals.bytes / seconds) : undefined;
      st.etaSeconds = st.throughput ? Math.round(Math.max(0, st.totals.estBytes - st.totals.bytes) / st.throughput) : undefined;
      st.updatedAt = now();
    };
    const copyOne = async (c: Chunk): Promise<void> => {
      const t = byTable.get(`${c.schema}.${c.name}`)!;
      t.startedAt ??= now();
      const snap = liveSnapshot();
      try {
        record(c, await copy.copyChunk({ ...scope, chunk: c, snapshot: snap }));
      } catch (e) {
        if (snap !== null && e instanceof ActivityFailure && e.cause instanceof ApplicationFailure && e.cause.type === ErrorType.SnapshotLost) {
          loseSnapshot(e.cause.message);
          record(c, await copy.copyChunk({ ...scope, chunk: c, snapshot: null }));
        } else {
          throw e;
        }
      }
    };
    const lanes = Array.from({ length: Math.min(plan.fullLoad.parallelism, queue.length) }, async () => {
      for (let c = queue.shift(); c; c = queue.shift()) await copyOne(c);
    });
    await step('copy', () => Promise.all(lanes).catch(surface), () => `${st.totals.rows} rows, ${st.totals.bytes} bytes, ${st.totals.lateChunks} late chunks`);
    // The load is over: let go of the snapshot (the slot stays for the change stream).
    holderScope.cancel();
    await holder.catch(() => undefined);

    // post-data
    phase('post_data');
    await step('restoreSchema post-data', () => ddl.restoreSchema({ ...scope, section: 'post-data', snapshot: null, sourceMajor: input.sourceMajor, targetMajor: input.targetMajor }), (r) => `${r.restored} objects restored, ${r.skipped} already present`);
    await step('applyMapping', () => ddl.applyMapping(scope), (r) => r.join('; ') || 'no renames');

    if (plan.mode === 'full') {
      await step('dropState', () => act.dropState(scope));
      phase('completed');
    } else {
      // The slot and publication stay: the change stream starts at the snapshot's LSN.
      phase('catch_up');
    }
    return { database, phase: st.phase, rows: st.totals.rows, bytes: st.totals.bytes, lateChunks: st.totals.lateChunks, slot: st.snapshot?.slot ?? null, lsn: st.snapshot?.lsn };
  } catch (e) {
    const cancelled = isCancellation(e);
    phase(cancelled ? 'cancelled' : 'failed');
    st.error = cancelled ? 'cancelled by the operator' : e instanceof ActivityFailure && e.cause ? e.cause.message : e instanceof Error ? e.message : String(e);
    // Whatever ended the migration, the source must not keep a slot retaining WAL.
    await CancellationScope.nonCancellable(async () => {
      holderScope.cancel();
      await holder?.catch(() => undefined);
      const dropped = await act.dropReplication(scope).catch((err: Error) => [`cleanup failed: ${err.message}`]);
      st.steps.push({ step: 'cleanup', startedAt: now(), endedAt: now(), detail: `${dropped.join(', ') || 'nothing to drop'}; the target was left as it is` });
      st.warnings.push(`target database ${targetDatabase} left as it is (partially migrated)`);
    });
    throw e;
  }
}

/** Compares two LSNs written as X/Y. */
export function lsnGreater(a: string, b: string): boolean {
  const v = (s: string) => {
    const [hi, lo] = s.split('/');
    return BigInt(`0x${hi}`) * 2n ** 32n + BigInt(`0x${lo}`);
  };
  return v(a) > v(b);
}
