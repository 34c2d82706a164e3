/**
 * switchover.reverse: the way back without loss (the reverse stream and its fence run in the activities applyReverseChanges, prepareReverse, fenceTarget).
 *
 * At the switchover, once the source is fenced and drained, a slot and a publication on the
 * target capture every later write. After the switchover completes the database goes on in
 * `reverse`: rounds of the reverse stream apply the target's changes to the source, which
 * stays fenced for the application. Then either
 * - rollback (two-phase across databases, as the switchover): fence the target, drain the
 *   reverse stream to the fence, copy sequences and large objects back, refresh the source's
 *   materialized views, verify; once every database is there, un-fence the source and drop the
 *   reverse slot, publication and the source's state schema; any failure before that un-fences
 *   the target and goes back to `reverse`;
 * - or finish: drop the same objects and complete; the source stays fenced (the application
 *   lives on the target).
 */
import {
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ErrorType } from '../../src/errors';
import type { FenceResult, SequenceCopy, TableComparison } from '../../src/model/activities';
import {
  finishDatabaseSignal,
  pauseSignal,
  resumeSignal,
  rollbackDatabaseSignal,
  rollbackDoneSignal,
  rollbackPreparedSignal,
  rollbackVerdictSignal,
  type RollbackOutcome,
} from '../../src/model/messages';
import type { RollbackReport } from '../../src/model/status';
import type { DatabaseResult } from '../../src/model/workflows';
import { preparation, switching, unfencing, verifying } from '../activity-options';
import { messageOf } from '../failures';
import { ChangeStream } from './change-capture';
import { pausePooler, repointPooler, resumePooler } from './pooler';
import { now, type DatabaseRun } from './run';
import type { migrateDatabaseWorkflow } from './index';

const sw = proxyActivities<Activities>(switching);
const preparing = proxyActivities<Activities>(preparation);
const unfence = proxyActivities<Activities>(unfencing);

/** The patch that brought switchover.reverse (patched() marker in history, only in plans that ask for it). */
export const REVERSE_REPLICATION = 'reverse-replication';

/** Switchovers whose reverse objects may exist on the target (this run prepared them, or tried to). */
const touched = new WeakSet<DatabaseRun>();

/**
 * In the fenced, drained switchover, before the application is let onto the target: the slot and
 * publication on the target, and the source's state schema. Nothing for a plan without reverse.
 */
export async function prepareReverse(run: DatabaseRun): Promise<void> {
  if (!run.plan.switchover.reverse || !patched(REVERSE_REPLICATION)) return;
  touched.add(run);
  const r = await run.step(
    'prepareReverse',
    () => sw.prepareReverse(run.scope),
    (x) => `slot ${x.slot} and publication over ${x.tables} tables on the target, from ${x.startLsn}`,
  );
  run.status.reverse = {
    ...r,
    paused: false,
    appliedLsn: null,
    transactions: 0,
    rounds: 0,
    tables: {},
  };
}

/** A switchover that did not complete: its slot on the target would capture the forward apply, so it goes. */
export async function abandonReverse(run: DatabaseRun): Promise<void> {
  if (!touched.has(run)) return;
  touched.delete(run);
  await run.step(
    'dropReverse',
    () => preparing.dropReverse(run.scope),
    (x) => x.join(', ') || 'nothing to drop',
  );
  run.status.reverse = undefined;
}

interface PreparedRollback {
  fence: FenceResult;
  sequences: SequenceCopy[];
  compared: TableComparison[];
}

/** The target's changes to the source until a rollback or finish; continues as new like change capture. */
export async function reverseCapture(run: DatabaseRun): Promise<DatabaseResult> {
  const st = run.status;
  const rev = st.reverse!;
  rev.since ??= now();
  const changes = new ChangeStream(run, 'reverse');
  let rollbackRequested = false;
  let finishRequested = false;
  let verdict: { commit: boolean; reason?: string } | null = null;
  setHandler(pauseSignal, () => {
    rev.paused = true;
    changes.stop();
  });
  setHandler(resumeSignal, () => {
    rev.paused = false;
    rev.stalled = undefined;
    st.error = undefined;
  });
  setHandler(rollbackDatabaseSignal, () => {
    rollbackRequested = true;
    verdict = null;
    changes.stop();
  });
  setHandler(rollbackVerdictSignal, (v) => void (verdict = v));
  setHandler(finishDatabaseSignal, () => {
    finishRequested = true;
    changes.stop();
  });
  if (st.phase !== 'reverse') run.phase('reverse');
  await run.notifyParent();

  let roundsThisRun = 0;
  for (;;) {
    if (finishRequested) return finishReverse(run);
    if (rollbackRequested) {
      rollbackRequested = false;
      const outcome = await rollback(run, changes, () => verdict);
      await reportRollback(run, outcome);
      if ('report' in outcome) {
        st.error = undefined;
        await condition(allHandlersFinished);
        return run.result();
      }
      await run.notifyParent();
      continue;
    }
    if (rev.paused || rev.stalled) {
      await condition(() => (!rev.paused && !rev.stalled) || rollbackRequested || finishRequested);
      continue;
    }
    const r = await changes.round(null);
    roundsThisRun++;
    if (r) {
      changes.record(r);
      await run.notifyParent();
    }
    if (
      (workflowInfo().continueAsNewSuggested || roundsThisRun >= run.plan.cdc.roundsPerRun) &&
      !rollbackRequested &&
      !finishRequested
    ) {
      await condition(allHandlersFinished);
      await run.notifier.flush();
      await continueAsNew<typeof migrateDatabaseWorkflow>({ ...run.input, carried: st });
    }
  }
}

/** pgtransit finish: the reverse stream ends; the source stays fenced, the application lives on the target. */
async function finishReverse(run: DatabaseRun): Promise<DatabaseResult> {
  await run.step(
    'dropReverse',
    () => preparing.dropReverse(run.scope),
    (x) => x.join(', ') || 'nothing to drop',
  );
  run.status.reverse!.ended = 'finished';
  run.phase('completed');
  await run.notifyParent();
  await condition(allHandlersFinished);
  return run.result();
}

/** Prepare, tell the migration, wait for its verdict, then let the application back onto the source or un-fence the target. */
async function rollback(
  run: DatabaseRun,
  changes: ChangeStream,
  verdict: () => { commit: boolean; reason?: string } | null,
): Promise<{ report: RollbackReport } | { error: string }> {
  let prepared: PreparedRollback;
  try {
    prepared = await prepareRollback(run, changes);
  } catch (e) {
    backToReverse(run, messageOf(e));
    await run.notifyParent();
    await reportPrepared(run, messageOf(e));
    return { error: messageOf(e) };
  }
  await reportPrepared(run);
  await condition(() => verdict() !== null);
  const v = verdict()!;
  if (!v.commit) {
    await CancellationScope.nonCancellable(() => unfenceTarget(run));
    const error = v.reason ?? 'another database of the migration could not roll back';
    backToReverse(run, error);
    await run.notifyParent();
    return { error };
  }
  return commitRollback(run, prepared);
}

/** Fence the target, drain the reverse stream to it, sequences, large objects, views, verify; a failure un-fences the target. */
async function prepareRollback(run: DatabaseRun, changes: ChangeStream): Promise<PreparedRollback> {
  const { plan, scope } = run;
  const rev = run.status.reverse!;
  if (rev.stalled)
    throw ApplicationFailure.create({
      type: ErrorType.SwitchoverRejected,
      nonRetryable: true,
      message: `the reverse stream is stopped (${rev.stalled.reason}); fix the source, pgtransit resume, then roll back`,
    });
  run.phase('rolling_back');
  await run.notifyParent();
  try {
    // Through PgBouncer: the application's transactions wait in the pooler from here to RESUME on the source.
    if (plan.switchover.pooler) await pausePooler(run);
    const fence = await run.step(
      'fenceTarget',
      () =>
        sw.fenceTarget({ ...scope, id: `${workflowInfo().workflowId}@${now()}`, targetMajor: run.input.targetMajor }),
      (f) => `fenced at ${f.lsn}, ${f.terminatedSessions} sessions ended`,
    );
    const deadline = Date.now() + plan.switchover.drainTimeoutSeconds * 1000;
    await run.step('drainReverse', async () => {
      for (;;) {
        const left = Math.ceil((deadline - Date.now()) / 1000);
        if (left <= 0)
          throw ApplicationFailure.create({
            type: ErrorType.SwitchoverFailed,
            nonRetryable: true,
            message:
              `the reverse stream did not reach the target's fence within switchover.drainTimeoutSeconds ` +
              `(${plan.switchover.drainTimeoutSeconds} s)`,
          });
        const r = await changes.round({ id: fence.id, lsn: fence.lsn }, left);
        const stalled = rev.stalled;
        if (stalled)
          throw ApplicationFailure.create({ type: stalled.type, nonRetryable: true, message: stalled.reason });
        if (r) {
          changes.record(r);
          if (r.fenceApplied) return;
        }
      }
    });
    const sequences = await run.step(
      'copySequencesBack',
      () => sw.copySequencesBack(scope),
      (x) => `${x.length} sequences`,
    );
    await run.step(
      'syncLargeObjectsBack',
      () => sw.syncLargeObjectsBack(scope),
      (x) => `${x.created} created, ${x.unlinked} unlinked`,
    );
    if (plan.switchover.refreshMaterializedViews)
      await run.step(
        'refreshMaterializedViewsBack',
        () => sw.refreshMaterializedViewsBack(scope),
        (x) => (x.length ? x.join(', ') : 'none'),
      );
    const checksum = plan.switchover.verify === 'checksum';
    const verify = proxyActivities<Activities>(verifying(run.status.totals.estBytes));
    const compared = await run.step(
      'verifyRollback',
      () => verify.compareTables({ ...scope, checksum }),
      (x) => `${x.length} tables, ${x.filter((c) => !c.equal).length} differ`,
    );
    const differ = compared.filter((c) => !c.equal);
    if (differ.length)
      throw ApplicationFailure.create({
        type: ErrorType.SwitchoverFailed,
        nonRetryable: true,
        message: `verification found differences: ${differ
          .map(
            (d) => `${d.table} source ${d.sourceRows} rows, target ${d.targetRows}${checksum ? ' (or checksum)' : ''}`,
          )
          .join('; ')}`,
      });
    if (run.pooler) {
      // Marked first: a repoint that dies half-way is undone by the un-fence all the same.
      run.pooler.repointed = true;
      await repointPooler(run, 'source');
    }
    return { fence, sequences, compared };
  } catch (e) {
    await CancellationScope.nonCancellable(() => unfenceTarget(run));
    throw e;
  }
}

/** Every database is ready: the source writable again, the reverse objects gone, the report. */
async function commitRollback(run: DatabaseRun, p: PreparedRollback): Promise<{ report: RollbackReport }> {
  const { plan, scope } = run;
  const rev = run.status.reverse!;
  await run.step('reopenSource', () => unfence.reopenSource(scope));
  const poolerPauseMs = await resumePooler(run, 'source');
  const doneAt = now();
  // The application writes to the source again: a cleanup that fails is told, not undone.
  await run
    .step(
      'dropReverse',
      () => preparing.dropReverse(scope),
      (x) => x.join(', ') || 'nothing to drop',
    )
    .catch((e: unknown) =>
      run.warn(
        `the reverse slot ${rev.slot} and publication on the target, or the source's state schema pgtransit, ` +
          `could not be dropped (${messageOf(e)}); drop them by hand`,
      ),
    );
  rev.ended = 'rolled_back';
  const report: RollbackReport = {
    database: scope.database,
    fencedAt: p.fence.fencedAt,
    doneAt,
    writeDowntimeMs: Math.max(0, Date.parse(doneAt) - Date.parse(p.fence.fencedAt)),
    terminatedSessions: p.fence.terminatedSessions,
    fenceLsn: p.fence.lsn,
    appliedLsn: rev.appliedLsn,
    tablesVerified: p.compared.length,
    verify: plan.switchover.verify,
    sequencesCopied: p.sequences.length,
    ...(poolerPauseMs !== undefined ? { poolerPauseMs } : {}),
    targetNote:
      `the target database ${scope.targetDatabase} stays read-only; ` +
      `ALTER DATABASE ${scope.targetDatabase} RESET default_transaction_read_only undoes it`,
  };
  run.status.rollback = report;
  run.phase('rolled_back');
  await run.notifyParent();
  return { report };
}

/** Lets the application write to the target again (through the pooler, when it was paused); it retries until it succeeds. */
async function unfenceTarget(run: DatabaseRun): Promise<void> {
  await run.step('unfenceTarget', () => unfence.unfenceTarget(run.scope));
  if (run.pooler?.repointed) await repointPooler(run, 'target', true);
  await resumePooler(run, 'target');
}

/** A failed rollback: the target is writable again and the reverse stream goes on. */
function backToReverse(run: DatabaseRun, error: string): void {
  run.status.error = `rollback failed: ${error}`;
  run.warn(run.status.error);
  run.phase('reverse');
}

async function reportPrepared(run: DatabaseRun, error?: string): Promise<void> {
  const parent = workflowInfo().parent;
  if (parent)
    await getExternalWorkflowHandle(parent.workflowId).signal(rollbackPreparedSignal, {
      database: run.scope.database,
      ...(error ? { error } : {}),
    });
}

async function reportRollback(run: DatabaseRun, outcome: Omit<RollbackOutcome, 'database'>): Promise<void> {
  const parent = workflowInfo().parent;
  if (parent)
    await getExternalWorkflowHandle(parent.workflowId).signal(rollbackDoneSignal, {
      database: run.scope.database,
      ...outcome,
    });
}
