/**
 * migrationWorkflow: precheck, then one child workflow per database that runs
 * prepare -> schema -> full_load -> post_data (and, for mode full, completes).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ChildWorkflowCancellationType,
  ContinueAsNew,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  getExternalWorkflowHandle,
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
import type { CdcStatus, DatabaseStatus, MigrationPhase, MigrationStatus, StepRecord, SwitchoverReport, TableProgress } from '../src/plan/status';
import type { RoundResult } from '../src/postgres/stream';
import { compareLsn } from '../src/plan/lsn';
import { inspection, copying, holding, schemaChange, streaming, switching } from './activity-options';
import { precheckWorkflow, surface, validatePlan } from './precheck';

export const statusQuery = defineQuery<MigrationStatus>('status');
export const databaseStatusQuery = defineQuery<DatabaseStatus>('databaseStatus');
export const snapshotSignal = defineSignal<[SnapshotSignal]>('snapshot');
/** Operator/service: switch over now; answers with the report, or a rejection saying why not now. */
export const switchoverUpdate = defineUpdate<{ reports: SwitchoverReport[] }, []>('switchover');
/** The same for fire-and-forget callers; the outcome is in status. */
export const switchoverRequestSignal = defineSignal('switchoverRequest');
export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
/** Parent -> database child: run the switchover. */
export const switchoverDatabaseSignal = defineSignal('switchoverDatabase');
/** Database child -> parent: phase and readiness changed. */
export const databaseStateSignal = defineSignal<[DatabaseState]>('databaseState');
/** Database child -> parent: the switchover of one database ended. */
export const switchoverDoneSignal = defineSignal<[{ database: string; report?: SwitchoverReport; error?: string }]>('switchoverDone');

export interface DatabaseState {
  database: string;
  phase: MigrationPhase;
  lagBytes?: number;
  /** Ready for switchover: in incremental, lag under the bound, not paused or stalled. */
  ready: boolean;
  reason?: string;
}

const act = proxyActivities<Activities>(inspection);
const copy = proxyActivities<Activities>(copying);
const hold = proxyActivities<Activities>(holding);
const ddl = proxyActivities<Activities>(schemaChange);
const stream = proxyActivities<Activities>(streaming);
const sw = proxyActivities<Activities>(switching);


const now = () => new Date().toISOString();

export interface MigrationResult {
  phase: MigrationPhase;
  databases: { database: string; phase: MigrationPhase; rows: number; bytes: number; lateChunks: number; slot: string | null; lsn?: string }[];
}

export async function migrationWorkflow(input: PlanInput): Promise<MigrationResult> {
  const plan = validatePlan(input);
  const id = workflowInfo().workflowId;
  const status: MigrationStatus = { workflowId: id, name: plan.name, mode: plan.mode, phase: 'precheck', startedAt: now(), databases: [], plan };
  setHandler(statusQuery, () => status);
  const reports = new Map<string, { report?: SwitchoverReport; error?: string }>();
  setHandler(databaseStateSignal, (s) => {
    const d = status.databases.find((x) => x.database === s.database);
    if (d) Object.assign(d, { phase: s.phase, lagBytes: s.lagBytes, ready: s.ready, reason: s.reason });
    if (status.databases.length && status.databases.every((x) => x.phase === status.databases[0]!.phase)) status.phase = status.databases[0]!.phase;
  });
  setHandler(switchoverDoneSignal, (r) => void reports.set(r.database, r));
  const blockers = (): string[] => {
    if (plan.mode !== 'full+cdc') return [`mode ${plan.mode} has no switchover: the migration completes after the full load`];
    if (status.switchover?.state === 'running') return ['a switchover is already running'];
    if (status.databases.length === 0) return [`the migration is in ${status.phase}, not incremental`];
    return status.databases.filter((d) => !d.ready).map((d) => `${d.database}: ${d.reason ?? `in ${d.phase}, not incremental`}`);
  };
  const runSwitchover = async (): Promise<{ reports: SwitchoverReport[] }> => {
    status.switchover = { state: 'running', reports: [], requestedAt: now() };
    reports.clear();
    await Promise.all(status.databases.map((d) => getExternalWorkflowHandle(d.workflowId).signal(switchoverDatabaseSignal)));
    await condition(() => reports.size === status.databases.length);
    const failed = [...reports.values()].filter((r) => r.error);
    status.switchover.reports = [...reports.values()].flatMap((r) => (r.report ? [r.report] : []));
    if (failed.length) {
      status.switchover.state = 'failed';
      status.switchover.error = failed.map((f) => f.error).join('; ');
      throw ApplicationFailure.create({ type: ErrorType.SwitchoverFailed, nonRetryable: true, message: `switchover failed, the source was un-fenced and the migration is back in incremental: ${status.switchover.error}` });
    }
    status.switchover.state = 'completed';
    return { reports: status.switchover.reports };
  };
  setHandler(switchoverUpdate, runSwitchover, {
    validator: () => {
      const why = blockers();
      if (why.length) throw new Error(`switchover not possible now: ${why.join('; ')}`);
    },
  });
  setHandler(switchoverRequestSignal, () => {
    const why = blockers();
    if (why.length) {
      status.switchover = { state: 'failed', reports: [], requestedAt: now(), error: `rejected: ${why.join('; ')}` };
      return;
    }
    runSwitchover().catch(() => undefined);
  });
  const forward = (signal: typeof pauseSignal | typeof resumeSignal) => () => void Promise.all(status.databases.map((d) => getExternalWorkflowHandle(d.workflowId).signal(signal)));
  setHandler(pauseSignal, forward(pauseSignal));
  setHandler(resumeSignal, forward(resumeSignal));

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
    // The switchover Update returns its report before the workflow closes.
    await condition(allHandlersFinished);
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
  /** Set by continueAsNew during change capture: the status so far. */
  carried?: DatabaseStatus;
}

export type DatabaseResult = MigrationResult['databases'][number];

/** One database: its own phases and status. Id `<migration id>/<database>`. */
export async function migrateDatabaseWorkflow(input: DatabaseInput): Promise<DatabaseResult> {
  const { plan, database, targetDatabase } = input;
  const scope = { plan, database, targetDatabase };
  const st: DatabaseStatus = input.carried ?? {
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
  const parent = workflowInfo().parent;
  let lastState = '';
  const notifyParent = async () => {
    const cdc = st.cdc;
    const maxLag = plan.switchover.maxLagBytes;
    const reason =
      st.phase !== 'incremental' ? `in ${st.phase}, not incremental` : cdc?.stalled ? `applying stopped: ${cdc.stalled.reason}` : cdc?.paused ? 'paused' : (cdc?.lagBytes ?? Infinity) > maxLag ? `lag ${cdc?.lagBytes} bytes is above switchover.maxLagBytes ${maxLag}` : undefined;
    const state: DatabaseState = { database, phase: st.phase, lagBytes: cdc?.lagBytes, ready: reason === undefined, reason };
    const key = `${state.phase}|${state.ready}|${state.reason ?? ''}`.replace(/lag \d+ bytes/, 'lag');
    if (!parent || key === lastState) return;
    lastState = key;
    await getExternalWorkflowHandle(parent.workflowId).signal(databaseStateSignal, state);
  };
  try {
    if (input.carried) return await changeCapture();
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
        if (r.horizonLsn && (!st.lateHorizonLsn || compareLsn(r.horizonLsn, st.lateHorizonLsn) > 0)) st.lateHorizonLsn = r.horizonLsn;
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
      return result();
    }
    // The slot and publication stay: the change stream starts at the snapshot's consistent point.
    return await changeCapture();
  } catch (e) {
    // Continuing as new is not an ending: the next run carries on with the same slot.
    if (e instanceof ContinueAsNew) throw e;
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

  function result(): DatabaseResult {
    return { database, phase: st.phase, rows: st.totals.rows, bytes: st.totals.bytes, lateChunks: st.totals.lateChunks, slot: st.snapshot?.slot ?? null, lsn: st.snapshot?.lsn };
  }

  /** catch_up -> incremental -> (switchover) -> completed; continues as new while it waits. */
  async function changeCapture(): Promise<DatabaseResult> {
    const cdc: CdcStatus = (st.cdc ??= { paused: false, appliedLsn: null, transactions: 0, rounds: 0, tables: {} });
    // Late tables by every name the stream may use: the partition itself, or its root (publish_via_partition_root).
    const lateTables = [...new Set(st.tables.filter((t) => t.lateChunks > 0).flatMap((t) => [t.table, t.root ?? t.table]))];
    let switchoverRequested = false;
    let roundScope: CancellationScope | null = null;
    setHandler(pauseSignal, () => {
      cdc.paused = true;
      // Stop at once: the running round ends after its current batch commits.
      roundScope?.cancel();
      void notifyParent();
    });
    setHandler(resumeSignal, () => {
      cdc.paused = false;
      cdc.stalled = undefined;
      st.error = undefined;
      void notifyParent();
    });
    setHandler(switchoverDatabaseSignal, () => {
      switchoverRequested = true;
      // End the running round now: its applied work is committed and acknowledged.
      roundScope?.cancel();
    });
    if (st.phase !== 'incremental') phase('catch_up');
    await notifyParent();

    const record = (r: RoundResult) => {
      cdc.rounds++;
      cdc.transactions += r.transactions;
      cdc.appliedLsn = r.appliedLsn ?? cdc.appliedLsn;
      cdc.sourceLsn = r.sourceLsn;
      cdc.lagBytes = r.lagBytes;
      cdc.lagSeconds = Math.round(r.lagSeconds);
      cdc.retainedWalBytes = r.retainedWalBytes;
      cdc.lastRoundAt = now();
      for (const [table, c] of Object.entries(r.counts)) {
        const t = (cdc.tables[table] ??= { insert: 0, update: 0, delete: 0, truncate: 0, conflicts: 0 });
        t.insert += c.insert;
        t.update += c.update;
        t.delete += c.delete;
        t.truncate += c.truncate;
        t.conflicts += c.conflicts;
      }
      st.updatedAt = now();
    };
    const round = async (fence: { id: string; lsn: string } | null): Promise<RoundResult | null> => {
      roundScope = new CancellationScope();
      cdc.streaming = true;
      try {
        return await roundScope.run(() =>
          stream.applyChanges({ ...scope, sourceMajor: input.sourceMajor, lateTables, lateHorizonLsn: st.lateHorizonLsn ?? null, maxSeconds: fence ? 600 : plan.cdc.roundSeconds, fence }),
        );
      } catch (e) {
        if (isCancellation(e) && !CancellationScope.current().consideredCancelled) return null;
        const failure = e instanceof ActivityFailure && e.cause instanceof ApplicationFailure ? e.cause : null;
        if (failure && (failure.type === ErrorType.ApplyConflict || failure.type === ErrorType.SchemaDrift || failure.type === ErrorType.ApplyFailed)) {
          cdc.stalled = { reason: failure.message, type: failure.type, details: failure.details?.[0] };
          st.error = failure.message;
          await notifyParent();
          return null;
        }
        throw e;
      } finally {
        roundScope = null;
        cdc.streaming = false;
      }
    };

    let roundsThisRun = 0;
    for (;;) {
      if (switchoverRequested) {
        switchoverRequested = false;
        const outcome = await switchover(round, record).catch((e: unknown) => ({ error: e instanceof ActivityFailure && e.cause ? e.cause.message : e instanceof Error ? e.message : String(e) }));
        if (parent) await getExternalWorkflowHandle(parent.workflowId).signal(switchoverDoneSignal, { database, ...outcome });
        if ('report' in outcome) {
          await condition(allHandlersFinished);
          return result();
        }
        st.error = `switchover failed: ${outcome.error}`;
        st.warnings.push(st.error);
        phase('incremental');
        await notifyParent();
        continue;
      }
      if (cdc.paused || cdc.stalled) {
        await condition(() => (!cdc.paused && !cdc.stalled) || switchoverRequested);
        continue;
      }
      const r = await round(null);
      roundsThisRun++;
      if (r) {
        record(r);
        if (st.phase === 'catch_up' && r.lagBytes <= plan.switchover.maxLagBytes) phase('incremental');
        await notifyParent();
      }
      // History stays bounded however long the migration waits for its switchover.
      if ((workflowInfo().continueAsNewSuggested || roundsThisRun >= plan.cdc.roundsPerRun) && !switchoverRequested) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof migrateDatabaseWorkflow>({ ...input, carried: st });
      }
    }
  }

  /** Fence, drain, sequences, verify, finish. Any failure before finishing un-fences the source. */
  async function switchover(
    round: (fence: { id: string; lsn: string } | null) => Promise<RoundResult | null>,
    record: (r: RoundResult) => void,
  ): Promise<{ report: SwitchoverReport }> {
    const cdc = st.cdc!;
    const why =
      st.phase !== 'incremental' ? `in ${st.phase}, not incremental` : cdc.stalled ? `applying stopped: ${cdc.stalled.reason}` : (cdc.lagBytes ?? Infinity) > plan.switchover.maxLagBytes ? `lag ${cdc.lagBytes} bytes above ${plan.switchover.maxLagBytes}` : null;
    if (why) throw ApplicationFailure.create({ type: ErrorType.SwitchoverRejected, nonRetryable: true, message: why });
    phase('fencing');
    const fence = await step('fenceSource', () => sw.fenceSource({ ...scope, id: `${workflowInfo().workflowId}@${now()}`, sourceMajor: input.sourceMajor }), (f) => `fenced at ${f.lsn}, ${f.terminatedSessions} sessions ended`);
    try {
      phase('draining');
      await step('drain', async () => {
        for (;;) {
          const r = await round({ id: fence.id, lsn: fence.lsn });
          if (cdc.stalled) throw ApplicationFailure.create({ type: cdc.stalled.type, nonRetryable: true, message: cdc.stalled.reason });
          if (r) {
            record(r);
            if (r.fenceApplied) return;
          }
        }
      });
      phase('finalizing');
      const seqs = await step('copySequences', () => sw.copySequences(scope), (x) => `${x.length} sequences`);
      const checksum = plan.switchover.verify === 'checksum';
      const cmp = await step('verify', () => sw.compareTables({ ...scope, checksum }), (x) => `${x.length} tables, ${x.filter((c) => !c.equal).length} differ`);
      const differ = cmp.filter((c) => !c.equal);
      if (differ.length) {
        throw ApplicationFailure.create({
          type: ErrorType.SwitchoverFailed,
          nonRetryable: true,
          message: `verification found differences: ${differ.map((d) => `${d.table} source ${d.sourceRows} rows, target ${d.targetRows}${checksum ? ' (or checksum)' : ''}`).join('; ')}`,
        });
      }
      if (!plan.switchover.keepSlot) await step('dropReplication', () => act.dropReplication(scope), (x) => x.join(', '));
      await step('dropState', () => act.dropState(scope));
      const doneAt = now();
      const report: SwitchoverReport = {
        database,
        fencedAt: fence.fencedAt,
        doneAt,
        writeDowntimeMs: Math.max(0, Date.parse(doneAt) - Date.parse(fence.fencedAt)),
        terminatedSessions: fence.terminatedSessions,
        fenceLsn: fence.lsn,
        tablesVerified: cmp.length,
        verify: plan.switchover.verify,
        sequencesCopied: seqs.length,
        slotKept: plan.switchover.keepSlot,
        sourceNote: `the source database ${database} stays read-only; ALTER DATABASE ${database} RESET default_transaction_read_only undoes it`,
      };
      st.switchover = report;
      phase('completed');
      return { report };
    } catch (e) {
      await CancellationScope.nonCancellable(() => step('unfenceSource', () => sw.unfenceSource(scope)));
      throw e;
    }
  }
}

