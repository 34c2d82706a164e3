/**
 * The first switchover (one database at a time, fence outside the un-fencing block). Kept
 * unchanged for migrations whose history began with it (patched() in change-capture.ts);
 * new switchovers run switchover.ts.
 */
import { ApplicationFailure, CancellationScope, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ErrorType } from '../../src/errors';
import type { SwitchoverReport } from '../../src/model/status';
import { preparation, switching } from '../activity-options';
import type { ChangeStream } from './change-capture';
import { now, type DatabaseRun } from './run';

const sw = proxyActivities<Activities>(switching);
const preparing = proxyActivities<Activities>(preparation);

/** Fence, drain, sequences, verify, finish. */
export async function switchoverV1(run: DatabaseRun, changes: ChangeStream): Promise<{ report: SwitchoverReport }> {
  const { plan, scope } = run;
  const why = run.notReady();
  if (why) throw ApplicationFailure.create({ type: ErrorType.SwitchoverRejected, nonRetryable: true, message: why });
  run.phase('fencing');
  const fence = await run.step(
    'fenceSource',
    () => sw.fenceSource({ ...scope, id: `${workflowInfo().workflowId}@${now()}`, sourceMajor: run.input.sourceMajor }),
    (f) => `fenced at ${f.lsn}, ${f.terminatedSessions} sessions ended`,
  );
  try {
    run.phase('draining');
    await run.step('drain', async () => {
      for (;;) {
        const r = await changes.round({ id: fence.id, lsn: fence.lsn });
        const stalled = changes.cdc.stalled;
        if (stalled)
          throw ApplicationFailure.create({ type: stalled.type, nonRetryable: true, message: stalled.reason });
        if (r) {
          changes.record(r);
          if (r.fenceApplied) return;
        }
      }
    });
    run.phase('finalizing');
    const seqs = await run.step(
      'copySequences',
      () => sw.copySequences(scope),
      (x) => `${x.length} sequences`,
    );
    const checksum = plan.switchover.verify === 'checksum';
    const cmp = await run.step(
      'verify',
      () => sw.compareTables({ ...scope, checksum }),
      (x) => `${x.length} tables, ${x.filter((c) => !c.equal).length} differ`,
    );
    const differ = cmp.filter((c) => !c.equal);
    if (differ.length) {
      throw ApplicationFailure.create({
        type: ErrorType.SwitchoverFailed,
        nonRetryable: true,
        message:
          `verification found differences: ` +
          `${differ.map((d) => `${d.table} source ${d.sourceRows} rows, target ${d.targetRows}${checksum ? ' (or checksum)' : ''}`).join('; ')}`,
      });
    }
    if (!plan.switchover.keepSlot)
      await run.step(
        'dropReplication',
        () => preparing.dropReplication(scope),
        (x) => x.join(', '),
      );
    await run.step('dropState', () => preparing.dropState(scope));
    const doneAt = now();
    const report: SwitchoverReport = {
      database: scope.database,
      fencedAt: fence.fencedAt,
      doneAt,
      writeDowntimeMs: Math.max(0, Date.parse(doneAt) - Date.parse(fence.fencedAt)),
      terminatedSessions: fence.terminatedSessions,
      fenceLsn: fence.lsn,
      tablesVerified: cmp.length,
      verify: plan.switchover.verify,
      sequencesCopied: seqs.length,
      slotKept: plan.switchover.keepSlot,
      sourceNote: `the source database ${scope.database} stays read-only; ALTER DATABASE ${scope.database} RESET default_transaction_read_only undoes it`,
    };
    run.status.switchover = report;
    run.phase('completed');
    return { report };
  } catch (e) {
    await CancellationScope.nonCancellable(() => run.step('unfenceSource', () => sw.unfenceSource(scope)));
    throw e;
  }
}
