/**
 * verify.every: while the migration streams in incremental, every table is compared on a
 * schedule at a verification point (verify-point.ts, as the switchover does before its fence),
 * with the application writing. The latest result is in status.verification; a difference is
 * warned of and notified, and the stream goes on (the switchover's own verification decides).
 */
import { CancellationScope, isCancellation, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { durationSeconds } from '../../src/model/format';
import type { Plan } from '../../src/plan/plan';
import type { PointVerification } from '../../src/model/activities';
import { verifying } from '../activity-options';
import { messageOf } from '../failures';
import type { ChangeStream } from './change-capture';
import { now, type DatabaseRun } from './run';
import { describeDifference, pointInput, recordPoint, stopTracking } from './switchover';

/** The patch that brought verify.every (patched() marker in history). */
export const SCHEDULED_VERIFY = 'scheduled-verify';

export class ScheduledVerify {
  private readonly everyMs: number | null;
  /** Whether the plan schedules comparisons (rounds then go through next()). */
  readonly on: boolean;

  constructor(
    private readonly run: DatabaseRun,
    private readonly changes: ChangeStream,
  ) {
    // A plan from before verify.every has no `verify` at all.
    const every = (run.plan.verify as Plan['verify'] | undefined)?.every;
    this.everyMs = every && patched(SCHEDULED_VERIFY) ? durationSeconds(every) * 1000 : null;
    this.on = this.everyMs !== null;
  }

  /** Milliseconds until the next comparison is due (0: now), or null when none applies now. */
  private dueIn(): number | null {
    const { run, everyMs } = this;
    const st = run.status;
    if (everyMs === null || !st.cdc || st.cdc.paused || st.cdc.stalled) return null;
    if (st.phase !== 'incremental' && st.phase !== 'catch_up') return null;
    // The first one a period after change capture starts (it runs once in incremental).
    st.verification ??= { nextAt: new Date(Date.now() + everyMs).toISOString(), runs: 0 };
    return Math.max(0, Date.parse(st.verification.nextAt) - Date.now());
  }

  /**
   * One round of the stream, or the comparison when it is due in incremental: a round is stopped
   * when the comparison falls due while it runs (in catch_up, once the stream reaches incremental).
   */
  async next(round: () => Promise<void>): Promise<void> {
    const { run } = this;
    const due = this.dueIn();
    if (due === 0 && run.status.phase === 'incremental') return this.compare();
    if (due === null) return round();
    const timer = new CancellationScope();
    void timer
      .run(async () => {
        for (let ms = due; ; ms = run.plan.cdc.roundSeconds * 1000) {
          await sleep(ms);
          if (run.status.phase === 'incremental') return this.changes.stop();
        }
      })
      .catch(() => undefined);
    try {
      await round();
    } finally {
      timer.cancel();
    }
  }

  /** The comparison at a point; pause and switchover stop it (it runs again once due). */
  private async compare(): Promise<void> {
    const { run, changes } = this;
    const v = run.status.verification!;
    const checksum = run.plan.verify.checksum;
    const verify = proxyActivities<Activities>({
      ...verifying(run.status.totals.estBytes),
      retry: { maximumAttempts: 2 },
    });
    const startedAt = now();
    v.runningSince = startedAt;
    run.tracking = true;
    let p: PointVerification | null;
    let error: string | undefined;
    try {
      p = await changes.stoppable(() => verify.verifyAtPoint(pointInput(run, checksum)));
    } catch (e) {
      if (isCancellation(e)) throw e;
      p = null;
      error = messageOf(e);
    } finally {
      v.runningSince = undefined;
      // The apply notes no changed keys for a comparison that is over.
      await CancellationScope.nonCancellable(() => stopTracking(run));
    }
    // Stopped by a pause or a switchover, or stalled: due again as soon as it can run.
    if (!p && !error) return;
    v.runs++;
    v.nextAt = new Date(Date.now() + this.everyMs!).toISOString();
    if (p) recordPoint(changes, p);
    const differences = p ? p.compared.filter((c) => !c.equal).map((c) => describeDifference(c, checksum)) : [];
    const was = v.latest;
    v.latest = {
      startedAt,
      endedAt: now(),
      ...(p ? { lsn: p.lsn } : {}),
      checksum,
      tables: p ? p.compared.length : 0,
      equal: p !== null && differences.length === 0,
      differences,
      deferred: p?.deferred ?? [],
      ...(error ? { error } : {}),
    };
    run.status.updatedAt = now();
    const db = run.scope.database;
    if (differences.length) {
      const message = `${db}: the scheduled verification at ${p!.lsn} found differences: ${differences.join('; ')}`;
      run.warn(message);
      // Told when differences appear, not again while they last.
      if (!was || was.equal || was.error)
        run.notifier.send({ kind: 'verification', database: db, phase: run.status.phase, message });
    } else if (error) run.warn(`${db}: the scheduled verification could not be made: ${error}`);
    await run.notifyParent();
  }
}
