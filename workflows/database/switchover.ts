/**
 * fencing -> draining -> finalizing, then completed (commit) or back to incremental (abort).
 *
 * prepare: fence (inside the block that un-fences: a fence that fails half-way un-fences
 * too), drain to the fence within switchover.drainTimeoutSeconds, copy the sequences and
 * the large objects created or unlinked since the full load, refresh materialized views,
 * verify (with a time limit that grows with the data), and check that nothing committed
 * on the source after the fence. The migration workflow collects every database's
 * outcome, then tells each to commit (drop slot and state, report) or to abort (un-fence):
 * several databases switch over together or not at all.
 */
import {
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  patched,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ErrorType } from '../../src/errors';
import type {
  FenceResult,
  PointVerification,
  SequenceCopy,
  TableComparison,
  VerifyAtPointInput,
} from '../../src/model/activities';
import type { SwitchoverReport } from '../../src/model/status';
import { preparation, switching, unfencing, verifying } from '../activity-options';
import { failureOf, messageOf } from '../failures';
import type { ChangeStream } from './change-capture';
import { pausePooler, repointPooler, resumePooler } from './pooler';
import { abandonReverse, prepareReverse } from './reverse';
import { now, type DatabaseRun } from './run';
import { DDL_CAPTURE } from './prepare';
import { lateTables } from './snapshot';

const sw = proxyActivities<Activities>(switching);
const preparing = proxyActivities<Activities>(preparation);
const unfence = proxyActivities<Activities>(unfencing);

export interface PreparedSwitchover {
  fence: FenceResult;
  sequences: SequenceCopy[];
  compared: TableComparison[];
  /** Every table compared: at the point (the fenced verification then checks what changed since), or inside the fence. */
  tablesVerified: number;
}

/** Fence, drain, sequences, verify, fence check; any failure un-fences the source and throws. */
export async function prepareSwitchover(run: DatabaseRun, changes: ChangeStream): Promise<PreparedSwitchover> {
  const { plan, scope } = run;
  const why = run.notReady();
  if (why) throw ApplicationFailure.create({ type: ErrorType.SwitchoverRejected, nonRetryable: true, message: why });
  // Since the verification before the fence: every table compared while streaming, the fence checks what changed since.
  const point =
    plan.switchover.verifyBeforeFence && patched(VERIFY_BEFORE_FENCE) ? await verifyAtPoint(run, changes) : null;
  run.phase('fencing');
  await run.notifyParent();
  run.pooler = undefined;
  try {
    // Through PgBouncer: the application's transactions wait in the pooler from here to RESUME.
    if (plan.switchover.pooler && patched(POOLER_SWITCHOVER)) await pausePooler(run);
    const fence = await run.step(
      'fenceSource',
      () =>
        sw.fenceSource({ ...scope, id: `${workflowInfo().workflowId}@${now()}`, sourceMajor: run.input.sourceMajor }),
      (f) => `fenced at ${f.lsn}, ${f.terminatedSessions} sessions ended`,
    );
    // Since the time budget: everything after the fence runs within switchover.timeoutSeconds.
    const budget = patched(SWITCHOVER_BUDGET) ? plan.switchover.timeoutSeconds : null;
    return await withinBudget(run, budget, () => afterFence(run, changes, fence, point));
  } catch (e) {
    await CancellationScope.nonCancellable(() => unfenceSource(run));
    throw e;
  }
}

/** The patch that brought the switchover through PgBouncer (plan switchover.pooler). */
export const POOLER_SWITCHOVER = 'pooler-switchover';

/** The patch that brought switchover.verifyBeforeFence (patched() marker in history). */
export const VERIFY_BEFORE_FENCE = 'verify-before-fence';

/**
 * Before the fence: every table compared at a verification point while the application writes
 * (verify-point.ts), then the stream catches up again. A difference fails the switchover here,
 * before anything was fenced. Returns the point and how many tables it compared (null when none could be taken).
 */
async function verifyAtPoint(run: DatabaseRun, changes: ChangeStream): Promise<VerifiedPoint | null> {
  const { plan } = run;
  const checksum = plan.switchover.verify === 'checksum';
  const verify = proxyActivities<Activities>(verifying(run.status.totals.estBytes));
  let p: PointVerification;
  // Marked first: an attempt that dies after starting the tracking is stopped all the same.
  run.tracking = true;
  try {
    p = await run.step(
      'verifyAtPoint',
      () => verify.verifyAtPoint(pointInput(run, checksum)),
      (x) =>
        `${x.compared.length} tables at ${x.lsn}, ${x.compared.filter((c) => !c.equal).length} differ` +
        (x.deferred?.length ? `, ${x.deferred.join(', ')} rewritten meanwhile (compared whole inside the fence)` : ''),
    );
  } catch (e) {
    // A transaction held up the point's slot (the fence ends it): every table is compared inside the fence.
    if (failureOf(e)?.type !== ErrorType.PointUnavailable) throw e;
    run.warn(`${messageOf(e)}; every table is compared inside the fence instead`);
    return null;
  }
  recordPoint(changes, p);
  const differ = p.compared.filter((c) => !c.equal);
  if (differ.length)
    throw ApplicationFailure.create({
      type: ErrorType.SwitchoverFailed,
      nonRetryable: true,
      message:
        `verification at ${p.lsn} (before the fence, nothing was fenced) found differences: ` +
        differ.map((d) => describeDifference(d, checksum)).join('; '),
    });
  // The writes made during the comparison, applied before the fence: the drain stays short.
  await run.step('catchUp', async () => {
    const deadline = Date.now() + plan.switchover.drainTimeoutSeconds * 1000;
    for (;;) {
      const r = await changes.round(null, undefined, true);
      const stalled = changes.cdc.stalled;
      if (stalled) throw ApplicationFailure.create({ type: stalled.type, nonRetryable: true, message: stalled.reason });
      if (r) changes.record(r);
      const why = run.notReady();
      if (!why) return;
      // Paused, stalled, or still behind at the deadline: nothing is fenced yet, the switchover is refused.
      if (changes.cdc.paused || Date.now() >= deadline)
        throw ApplicationFailure.create({
          type: ErrorType.SwitchoverRejected,
          nonRetryable: true,
          message: `after the verification at ${p.lsn} the change stream did not catch up within switchover.drainTimeoutSeconds: ${why}`,
        });
    }
  });
  return { lsn: p.lsn, tables: p.compared.length + (p.deferred?.length ?? 0) };
}

/** What the verifyAtPoint activity is asked: the stream as the database's rounds run it. */
export function pointInput(run: DatabaseRun, checksum: boolean): VerifyAtPointInput {
  return {
    ...run.scope,
    sourceMajor: run.input.sourceMajor,
    lateTables: lateTables(run.status),
    lateHorizonLsn: run.status.lateHorizonLsn ?? null,
    maxSeconds: run.plan.switchover.drainTimeoutSeconds,
    checksum,
  };
}

/** What the stream applied to reach the point and while it was compared, in status. */
export function recordPoint(changes: ChangeStream, p: PointVerification): void {
  changes.record(p.round);
  if (p.followed) changes.record(p.followed);
}

interface VerifiedPoint {
  lsn: string;
  tables: number;
}

/** The patch that brought switchover.timeoutSeconds (patched() marker in history). */
export const SWITCHOVER_BUDGET = 'switchover-budget';

/** Runs `fn`, abandoning it after `seconds` (null: no budget) with a failure naming the step it was in. */
async function withinBudget<T>(run: DatabaseRun, seconds: number | null, fn: () => Promise<T>): Promise<T> {
  if (seconds === null) return fn();
  const scope = new CancellationScope({ cancellable: true, timeout: seconds * 1000 });
  try {
    return await scope.run(fn);
  } catch (e) {
    if (isCancellation(e) && scope.consideredCancelled && !CancellationScope.current().consideredCancelled) {
      const open = run.status.steps.filter((s) => !s.endedAt).pop();
      throw ApplicationFailure.create({
        type: ErrorType.SwitchoverFailed,
        nonRetryable: true,
        message:
          `the switchover took longer than switchover.timeoutSeconds (${seconds} s) after the fence` +
          `${open ? `, in ${open.step}` : ''}; it was abandoned`,
      });
    }
    throw e;
  }
}

/** Drain, sequences, large objects, views, verification, fence check. */
async function afterFence(
  run: DatabaseRun,
  changes: ChangeStream,
  fence: FenceResult,
  point: VerifiedPoint | null,
): Promise<PreparedSwitchover> {
  const { plan, scope } = run;
  run.phase('draining');
  await run.notifyParent();
  const deadline = Date.now() + plan.switchover.drainTimeoutSeconds * 1000;
  await run.step('drain', async () => {
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      if (left <= 0) {
        throw ApplicationFailure.create({
          type: ErrorType.SwitchoverFailed,
          nonRetryable: true,
          message:
            `the change stream did not reach the fence within switchover.drainTimeoutSeconds ` +
            `(${plan.switchover.drainTimeoutSeconds} s); the lag was too large to drain`,
        });
      }
      const r = await changes.round({ id: fence.id, lsn: fence.lsn }, left);
      const stalled = changes.cdc.stalled;
      if (stalled) throw ApplicationFailure.create({ type: stalled.type, nonRetryable: true, message: stalled.reason });
      if (r) {
        changes.record(r);
        if (r.fenceApplied) return;
      }
    }
  });
  run.phase('finalizing');
  await run.notifyParent();
  const sequences = await run.step(
    'copySequences',
    () => sw.copySequences(scope),
    (x) => `${x.length} sequences`,
  );
  await run.step(
    'syncLargeObjects',
    () => sw.syncLargeObjects(scope),
    (x) => `${x.created} created, ${x.unlinked} unlinked`,
  );
  if (plan.switchover.refreshMaterializedViews) {
    await run.step(
      'refreshMaterializedViews',
      () => sw.refreshMaterializedViews(scope),
      (x) => (x.length ? x.join(', ') : 'none'),
    );
  }
  const checksum = plan.switchover.verify === 'checksum';
  const verify = proxyActivities<Activities>(verifying(run.status.totals.estBytes));
  const compared = point
    ? await run
        .step(
          'verify',
          async () => {
            const since = await verify.compareChanged({ ...scope, checksum });
            // No point (or DDL replayed since): everything again.
            return since.since ? since : { ...since, compared: await verify.compareTables({ ...scope, checksum }) };
          },
          (x) =>
            x.since
              ? `changes since ${x.since}: ${x.keys} rows in ${x.keyedTables} tables, ` +
                `${x.wholeTables} compared whole, ${x.compared.filter((c) => !c.equal).length} differ`
              : `${x.compared.length} tables (DDL since the point), ${x.compared.filter((c) => !c.equal).length} differ`,
        )
        .then((x) => x.compared)
    : await run.step(
        'verify',
        () => verify.compareTables({ ...scope, checksum }),
        (x) => `${x.length} tables, ${x.filter((c) => !c.equal).length} differ`,
      );
  const differ = compared.filter((c) => !c.equal);
  if (differ.length) {
    throw ApplicationFailure.create({
      type: ErrorType.SwitchoverFailed,
      nonRetryable: true,
      message: `verification found differences: ${differ.map((d) => describeDifference(d, checksum)).join('; ')}`,
    });
  }
  await run.step(
    'verifyFence',
    () => sw.verifyFence({ ...scope, sourceMajor: run.input.sourceMajor, fence: { id: fence.id, lsn: fence.lsn } }),
    (x) => `nothing committed after the fence (checked to ${x.checkedTo})`,
  );
  await prepareReverse(run);
  if (run.pooler) {
    // Marked first: a repoint that dies half-way is undone by the un-fence all the same.
    run.pooler.repointed = true;
    await repointPooler(run, 'target');
  }
  return { fence, sequences, compared, tablesVerified: Math.max(compared.length, point?.tables ?? 0) };
}

/** Every database is prepared: finish this one. */
export async function commitSwitchover(run: DatabaseRun, p: PreparedSwitchover): Promise<{ report: SwitchoverReport }> {
  const { plan, scope } = run;
  const poolerPauseMs = await resumePooler(run, 'target');
  if (!plan.switchover.keepSlot)
    await run.step(
      'dropReplication',
      () => preparing.dropReplication(scope),
      (x) => x.join(', '),
    );
  // A kept slot keeps the stream, not the event triggers: nothing of pgtransit's stays in the source's DDL path.
  else if (plan.cdc.ddl !== 'stop' && patched(DDL_CAPTURE))
    await run.step(
      'dropDdlCapture',
      () => preparing.dropDdlCapture(scope),
      (x) => x.join(', ') || 'nothing to drop',
    );
  await run.step('dropState', () => preparing.dropState(scope));
  const doneAt = now();
  const report: SwitchoverReport = {
    database: scope.database,
    fencedAt: p.fence.fencedAt,
    doneAt,
    writeDowntimeMs: Math.max(0, Date.parse(doneAt) - Date.parse(p.fence.fencedAt)),
    terminatedSessions: p.fence.terminatedSessions,
    fenceLsn: p.fence.lsn,
    tablesVerified: p.tablesVerified,
    verify: plan.switchover.verify,
    sequencesCopied: p.sequences.length,
    slotKept: plan.switchover.keepSlot,
    ...(poolerPauseMs !== undefined ? { poolerPauseMs } : {}),
    sourceNote: run.status.reverse
      ? `the source database ${scope.database} stays read-only, taking the target's writes from the reverse stream ` +
        `(slot ${run.status.reverse.slot} on the target) until pgtransit rollback or pgtransit finish`
      : `the source database ${scope.database} stays read-only; ALTER DATABASE ${scope.database} RESET default_transaction_read_only undoes it`,
  };
  run.status.switchover = report;
  run.phase('completed');
  return { report };
}

/** A switchover that did not complete after a verification point: the apply stops noting changed keys. */
export async function stopTracking(run: DatabaseRun): Promise<void> {
  if (!run.tracking) return;
  run.tracking = false;
  await run
    .step('stopTracking', () => preparing.stopTracking(run.scope))
    .catch((e: unknown) =>
      run.warn(`the target's change tracking could not be stopped (${messageOf(e)}); the next switchover resets it`),
    );
}

/** Lets the application write to the source again; it retries until it succeeds. */
export async function unfenceSource(run: DatabaseRun): Promise<void> {
  await run.step('unfenceSource', () => unfence.unfenceSource(run.scope));
  await abandonReverse(run);
  // Through PgBouncer: back on the source (when it was repointed), then the waiting clients go on there.
  if (run.pooler?.repointed) await repointPooler(run, 'source', true);
  await resumePooler(run, 'source');
}

/** One table that differs, in a line. */
export function describeDifference(d: TableComparison, checksum: boolean): string {
  if (d.targetRows < 0) return `${d.table} is missing on the target`;
  return `${d.table} source ${d.sourceRows} rows, target ${d.targetRows}${checksum ? ' (or checksum)' : ''}`;
}
