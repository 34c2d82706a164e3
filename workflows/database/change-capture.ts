/**
 * catch_up -> incremental: rounds of change capture until the switchover, with pause,
 * resume and stalls; continues as new so the history stays bounded however long it waits.
 */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ErrorType } from '../../src/errors';
import type { Fence, RoundResult, StreamProgress, TableCounts } from '../../src/model/activities';
import {
  cdcProgressSignal,
  pauseSignal,
  resumeSignal,
  switchoverDatabaseSignal,
  switchoverVerdictSignal,
} from '../../src/model/messages';
import type { CdcStatus, SwitchoverReport } from '../../src/model/status';
import type { DatabaseResult } from '../../src/model/workflows';
import { DRAIN_ROUND_SECONDS, streaming } from '../activity-options';
import { failureOf, messageOf, retryable } from '../failures';
import { reverseCapture } from './reverse';
import { ScheduledVerify } from './scheduled-verify';
import { now, type DatabaseRun } from './run';
import { lateTables } from './snapshot';
import {
  commitSwitchover,
  prepareSwitchover,
  stopTracking,
  unfenceSource,
  type PreparedSwitchover,
} from './switchover';
import { switchoverV1 } from './switchover-v1';
import type { migrateDatabaseWorkflow } from './index';

const stream = proxyActivities<Activities>(streaming);

/** Failures that stop applying until the operator fixes the target and resumes. */
const STALLS: string[] = [ErrorType.ApplyConflict, ErrorType.SchemaDrift, ErrorType.ApplyFailed];

/** The patch that tells the migration of readiness changes seen in a long stream's reports. */
export const READINESS_REPORTS = 'readiness-reports';

/** The patch that keeps one stream open for plan.cdc.streamSeconds, reporting every roundSeconds. */
export const LONG_STREAM = 'long-stream';

type Counted = { stream: number; attempt: number; transactions: number; counts: Record<string, TableCounts> };

/** The rounds of one database's change stream, and what they add up to in status. */
export class ChangeStream {
  readonly cdc: CdcStatus;
  private readonly lateTables: string[];
  private scope: CancellationScope | null = null;
  /** The open stream's number in this run, and what its reports have added to status. */
  private stream = 0;
  private counted: Counted | null = null;

  /** `reverse`: the target's changes to the fenced source (switchover.reverse), counted in status.reverse. */
  constructor(
    private readonly run: DatabaseRun,
    readonly direction: 'forward' | 'reverse' = 'forward',
  ) {
    this.cdc =
      direction === 'reverse'
        ? run.status.reverse!
        : (run.status.cdc ??= { paused: false, appliedLsn: null, transactions: 0, rounds: 0, tables: {} });
    this.lateTables = direction === 'reverse' ? [] : lateTables(run.status);
    setHandler(cdcProgressSignal, (p) => this.progress(p));
  }

  /** A report of the open stream: counts and lag in status now, not when the stream ends. */
  private progress(p: StreamProgress): void {
    if (p.stream !== this.stream || !this.scope) return;
    const { cdc, run } = this;
    // A retried attempt counts from zero; what the earlier one applied stays counted (it committed).
    if (!this.counted || this.counted.attempt !== p.attempt) {
      this.counted = { stream: p.stream, attempt: p.attempt, transactions: 0, counts: {} };
    }
    this.add(p.transactions, p.counts, this.counted);
    cdc.appliedLsn = p.appliedLsn ?? cdc.appliedLsn;
    if (p.sourceLsn) cdc.sourceLsn = p.sourceLsn;
    cdc.lagBytes = p.lagBytes;
    cdc.lagSeconds = Math.round(p.lagSeconds);
    cdc.largeTransaction = p.largeTransaction;
    cdc.reportedAt = now();
    run.status.updatedAt = now();
    run.observe();
    if (run.status.phase === 'catch_up' && p.lagBytes <= run.plan.switchover.maxLagBytes) {
      run.phase('incremental');
      void run.notifyParent();
    } else if (patched(READINESS_REPORTS)) {
      // The lag crossed the bound either way: the migration's readiness (its Update validator) follows.
      void run.notifyParent();
    }
  }

  /** Adds what is new in a stream's cumulative counts over what was counted of it already. */
  private add(transactions: number, counts: Record<string, TableCounts>, seen: Counted | null): void {
    const { cdc } = this;
    cdc.transactions += transactions - (seen?.transactions ?? 0);
    for (const [table, c] of Object.entries(counts)) {
      const t = (cdc.tables[table] ??= { insert: 0, update: 0, delete: 0, truncate: 0, conflicts: 0 });
      const before = seen?.counts[table];
      for (const k of ['insert', 'update', 'delete', 'truncate', 'conflicts'] as const)
        t[k] += c[k] - (before?.[k] ?? 0);
    }
    if (seen) {
      seen.transactions = transactions;
      seen.counts = JSON.parse(JSON.stringify(counts)) as Record<string, TableCounts>;
    }
  }

  /**
   * One round, null when it was stopped (pause, switchover) or stalled; a drain round stops at the fence, or after `maxSeconds` (the drain's time left);
   * a `short` one (catching up before the fence) after cdc.roundSeconds.
   */
  async round(fence: Fence | null, maxSeconds = DRAIN_ROUND_SECONDS, short = false): Promise<RoundResult | null> {
    const { run, cdc } = this;
    this.scope = new CancellationScope();
    cdc.streaming = true;
    // Since the long stream: one stream stays open for streamSeconds and reports as it goes.
    const long = !fence && !short && patched(LONG_STREAM);
    this.stream++;
    this.counted = null;
    try {
      return await this.scope.run(() => this.apply(fence, maxSeconds, long));
    } catch (e) {
      const how = this.ended(e);
      if (!how) throw e;
      if (how === 'stalled') await run.notifyParent();
      return null;
    } finally {
      this.scope = null;
      cdc.streaming = false;
    }
  }

  private apply(fence: Fence | null, maxSeconds: number, long: boolean): Promise<RoundResult> {
    const { run } = this;
    const round = {
      maxSeconds: fence
        ? Math.min(DRAIN_ROUND_SECONDS, maxSeconds)
        : long
          ? run.plan.cdc.streamSeconds
          : run.plan.cdc.roundSeconds,
      fence,
      ...(long ? { progress: { stream: this.stream, everySeconds: run.plan.cdc.roundSeconds } } : {}),
    };
    if (this.direction === 'reverse')
      return stream.applyReverseChanges({ ...run.scope, targetMajor: run.input.targetMajor, ...round });
    return stream.applyChanges({
      ...run.scope,
      sourceMajor: run.input.sourceMajor,
      lateTables: this.lateTables,
      lateHorizonLsn: run.status.lateHorizonLsn ?? null,
      ...round,
    });
  }

  /**
   * Runs `fn` (an activity that holds the migration's slot, as a round does) so that stop() ends
   * it: null when it was stopped (pause, switchover) or stalled (the reason in status).
   */
  async stoppable<T>(fn: () => Promise<T>): Promise<T | null> {
    this.scope = new CancellationScope();
    try {
      return await this.scope.run(fn);
    } catch (e) {
      const how = this.ended(e);
      if (!how) throw e;
      if (how === 'stalled') await this.run.notifyParent();
      return null;
    } finally {
      this.scope = null;
    }
  }

  /** How an activity of the stream failed: stopped, stalled (now in status), or neither (thrown on). */
  private ended(e: unknown): 'stopped' | 'stalled' | null {
    const { run, cdc } = this;
    if (isCancellation(e) && !CancellationScope.current().consideredCancelled) return 'stopped';
    const failure = failureOf(e);
    if (failure && STALLS.includes(failure.type ?? '')) {
      cdc.stalled = { reason: failure.message, type: failure.type!, details: failure.details?.[0] };
      run.status.error = failure.message;
      return 'stalled';
    }
    // Stopped (pause, switchover), then its worker died before it answered: the server does not
    // retry an activity whose cancellation was requested, so its heartbeat timeout arrives here.
    // What it applied is committed; the next round starts from there.
    if (this.scope?.consideredCancelled && !CancellationScope.current().consideredCancelled && retryable(e))
      return 'stopped';
    return null;
  }

  /** Ends the running round now: what it applied is committed and acknowledged. */
  stop(): void {
    this.scope?.cancel();
  }

  record(r: RoundResult): void {
    const { cdc } = this;
    cdc.rounds++;
    // What the reports of the attempt that returned this already added is not added twice.
    const seen = this.counted && this.counted.attempt === r.attempt ? this.counted : null;
    this.add(r.transactions, r.counts, seen);
    this.counted = null;
    cdc.largeTransaction = null;
    cdc.appliedLsn = r.appliedLsn ?? cdc.appliedLsn;
    cdc.sourceLsn = r.sourceLsn;
    cdc.lagBytes = r.lagBytes;
    cdc.lagSeconds = Math.round(r.lagSeconds);
    cdc.retainedWalBytes = r.retainedWalBytes;
    cdc.lastRoundAt = now();
    this.run.status.updatedAt = now();
  }
}

/** The patch that brought the two-phase switchover (patched() marker in history). */
export const TWO_PHASE_SWITCHOVER = 'two-phase-switchover';

/** Prepare, tell the migration, wait for its verdict, then finish or un-fence. */
async function twoPhase(
  run: DatabaseRun,
  changes: ChangeStream,
  verdict: () => { commit: boolean; reason?: string } | null,
): Promise<{ report: SwitchoverReport } | { error: string }> {
  let prepared: PreparedSwitchover;
  try {
    prepared = await prepareSwitchover(run, changes);
  } catch (e) {
    await CancellationScope.nonCancellable(() => stopTracking(run));
    // Back to incremental (un-fenced) before the migration hears of it and answers the operator.
    backToIncremental(run, messageOf(e));
    await run.notifyParent();
    await run.reportPrepared(messageOf(e));
    return { error: messageOf(e) };
  }
  await run.reportPrepared();
  await condition(() => verdict() !== null);
  const v = verdict()!;
  if (!v.commit) {
    await CancellationScope.nonCancellable(async () => {
      await unfenceSource(run);
      await stopTracking(run);
    });
    const error = v.reason ?? 'another database of the migration could not switch over';
    backToIncremental(run, error);
    await run.notifyParent();
    return { error };
  }
  return commitSwitchover(run, prepared);
}

/** A failed switchover: the source is writable again and change capture goes on. */
function backToIncremental(run: DatabaseRun, error: string): void {
  run.status.error = `switchover failed: ${error}`;
  run.warn(run.status.error);
  run.phase('incremental');
}

export async function changeCapture(run: DatabaseRun): Promise<DatabaseResult> {
  const st = run.status;
  const changes = new ChangeStream(run);
  const { cdc } = changes;
  const scheduled = new ScheduledVerify(run, changes);
  /** A round's result in status; catch_up ends once the lag is within the bound. */
  const recorded = (r: RoundResult | null) => {
    if (!r) return null;
    changes.record(r);
    if (st.phase === 'catch_up' && r.lagBytes <= run.plan.switchover.maxLagBytes) run.phase('incremental');
    return run.notifyParent();
  };
  let switchoverRequested = false;
  setHandler(pauseSignal, () => {
    cdc.paused = true;
    // Stop at once: the running round ends after its current batch commits.
    changes.stop();
    void run.notifyParent();
  });
  setHandler(resumeSignal, () => {
    cdc.paused = false;
    cdc.stalled = undefined;
    st.error = undefined;
    void run.notifyParent();
  });
  let verdict: { commit: boolean; reason?: string } | null = null;
  setHandler(switchoverDatabaseSignal, () => {
    switchoverRequested = true;
    verdict = null;
    changes.stop();
  });
  setHandler(switchoverVerdictSignal, (v) => void (verdict = v));
  if (st.phase !== 'incremental') run.phase('catch_up');
  await run.notifyParent();

  let roundsThisRun = 0;
  for (;;) {
    if (switchoverRequested) {
      switchoverRequested = false;
      // Two-phase since the atomic switchover of several databases; histories begun before keep the first one.
      const outcome = patched(TWO_PHASE_SWITCHOVER)
        ? await twoPhase(run, changes, () => verdict)
        : await switchoverV1(run, changes).catch((e: unknown) => ({ error: messageOf(e) }));
      if ('error' in outcome && st.phase !== 'incremental') backToIncremental(run, outcome.error);
      await run.reportSwitchover(outcome);
      if ('report' in outcome) {
        // An earlier failed attempt stays in the warnings; the database is not in error now.
        st.error = undefined;
        // switchover.reverse: the migration goes on, streaming the target's writes back to the source.
        if (st.reverse) return reverseCapture(run);
        await condition(allHandlersFinished);
        return run.result();
      }
      await run.notifyParent();
      continue;
    }
    if (cdc.paused || cdc.stalled) {
      await condition(() => (!cdc.paused && !cdc.stalled) || switchoverRequested);
      continue;
    }
    // verify.every: the comparison when it is due, a round of the stream otherwise.
    if (scheduled.on) await scheduled.next(async () => void (await recorded(await changes.round(null))));
    else {
      const r = await changes.round(null);
      if (r) await recorded(r);
    }
    roundsThisRun++;
    // History stays bounded however long the migration waits for its switchover.
    if ((workflowInfo().continueAsNewSuggested || roundsThisRun >= run.plan.cdc.roundsPerRun) && !switchoverRequested) {
      await condition(allHandlersFinished);
      await run.notifier.flush();
      await continueAsNew<typeof migrateDatabaseWorkflow>({ ...run.input, carried: st });
    }
  }
}
