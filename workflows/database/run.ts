/**
 * One database's run: its status (what the databaseStatus query returns), its steps and
 * phases, the one readiness rule for switchover, and what it tells the migration
 * workflow. Each phase (the files beside this one) works through it.
 */
import {
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { DatabaseScope } from '../../src/model/activities';
import {
  activityRetrySignal,
  databaseStateSignal,
  databaseStatusQuery,
  switchoverDoneSignal,
  switchoverPreparedSignal,
  type SwitchoverOutcome,
} from '../../src/model/messages';
import { repeatingRetry } from '../../src/model/notify';
import { lagBucket } from '../../src/model/search-attributes';
import type { DatabaseState, DatabaseStatus, MigrationPhase, StepRecord } from '../../src/model/status';
import type { DatabaseInput, DatabaseResult } from '../../src/model/workflows';
import type { Plan } from '../../src/plan/plan';
import { preparation } from '../activity-options';
import { messageOf } from '../failures';
import { DatabaseGauges, Notifier, SearchAttributes } from '../observe';
import type { SnapshotHandoff } from './snapshot';

const preparing = proxyActivities<Activities>(preparation);

/** The workflow's clock (deterministic in the sandbox), as ISO text. */
export const now = () => new Date().toISOString();

export class DatabaseRun {
  readonly plan: Plan;
  readonly scope: DatabaseScope;
  readonly status: DatabaseStatus;
  /** The full load's snapshot, once prepare has started holding it. */
  handoff?: SnapshotHandoff;
  /** A switchover through PgBouncer: when its entry was paused, and whether it was repointed at the target. */
  pooler?: { pausedAt: string; repointed: boolean };
  /** A verification point was (or may have been) set: the apply notes changed keys until the switchover ends. */
  tracking = false;
  private readonly parent = workflowInfo().parent;
  private lastNotified = '';
  private readonly attributes = new SearchAttributes();
  private readonly gauges: DatabaseGauges;
  readonly notifier: Notifier;

  constructor(readonly input: DatabaseInput) {
    const { plan, database, targetDatabase } = input;
    this.plan = plan;
    this.scope = { plan, database, targetDatabase };
    this.status = input.carried ?? {
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
    this.gauges = new DatabaseGauges({ migration: plan.name, database });
    this.notifier = new Notifier(plan, () => this.status.warnings);
    setHandler(databaseStatusQuery, () => this.status);
    setHandler(activityRetrySignal, (r) => {
      const retrying = (this.status.retrying ??= {});
      if (r.recovered) delete retrying[r.activityId];
      else {
        const since = retrying[r.activityId]?.since ?? r.at;
        retrying[r.activityId] = {
          activity: r.activity,
          type: r.type ?? 'Transient',
          error: r.error ?? '',
          attempt: r.attempt,
          since,
          lastAt: r.at,
        };
        if (repeatingRetry(r.attempt))
          this.notifier.send({
            kind: 'retrying',
            database,
            phase: this.status.phase,
            activity: r.activity,
            attempt: r.attempt,
            error: r.error,
            message: `${database}: ${r.activity} keeps failing (attempt ${r.attempt}): ${r.error ?? ''}`,
          });
      }
    });
    this.observe();
  }

  /**
   * Search attributes, gauges and notifications from the status as it is now: called whenever the
   * phase, the lag or a stall may have changed. A lag crossing notify.lagBytes and a stall are told
   * once each time they begin.
   */
  observe(): void {
    const { status, plan, scope, input } = this;
    const cdc = status.cdc;
    const lag = cdc?.lagBytes;
    this.attributes.show({
      phase: status.phase,
      sourceHost: input.hosts?.source,
      targetHost: input.hosts?.target,
      sourceDatabase: scope.database,
      targetDatabase: scope.targetDatabase,
      lagBucket: lag === undefined ? undefined : lagBucket(lag),
    });
    this.gauges.set(status.phase, !!cdc?.stalled);
    const told = (status.notified ??= {});
    if (cdc?.stalled && !told.stalled) {
      told.stalled = true;
      this.notifier.send({
        kind: 'stalled',
        database: scope.database,
        phase: status.phase,
        error: cdc.stalled.reason,
        message: `${scope.database}: applying changes stopped until the target is fixed and \`pgtransit resume\` runs: ${cdc.stalled.reason}`,
      });
    } else if (!cdc?.stalled) told.stalled = false;
    const bound = plan.notify?.lagBytes;
    if (bound !== undefined && lag !== undefined) {
      if (lag > bound && !told.lagAbove) {
        told.lagAbove = true;
        this.notifier.send({
          kind: 'lag',
          database: scope.database,
          phase: status.phase,
          lagBytes: lag,
          thresholdBytes: bound,
          message: `${scope.database}: change capture lags ${lag} bytes, above notify.lagBytes ${bound}`,
        });
      } else if (lag <= bound) told.lagAbove = false;
    }
  }

  /** Runs one step of the timeline in status; `detail` says what it did. */
  async step<T>(name: string, fn: () => Promise<T>, detail?: (r: T) => string): Promise<T> {
    const rec: StepRecord = { step: name, startedAt: now() };
    this.status.steps.push(rec);
    const r = await fn();
    rec.endedAt = this.status.updatedAt = now();
    if (detail) rec.detail = detail(r);
    return r;
  }

  phase(p: MigrationPhase): void {
    this.status.phase = p;
    this.status.updatedAt = now();
    this.observe();
  }

  warn(message: string): void {
    this.status.warnings.push(message);
  }

  /** The one readiness rule: why a switchover cannot start now, or undefined when it can. */
  notReady(): string | undefined {
    const { phase, cdc } = this.status;
    const maxLag = this.plan.switchover.maxLagBytes;
    if (phase !== 'incremental') return `in ${phase}, not incremental`;
    if (cdc?.stalled) return `applying stopped: ${cdc.stalled.reason}`;
    if (cdc?.paused) return 'paused';
    if ((cdc?.lagBytes ?? Infinity) > maxLag)
      return `lag ${cdc?.lagBytes} bytes is above switchover.maxLagBytes ${maxLag}`;
    return undefined;
  }

  /** Tells the migration workflow the phase and readiness, when either changed. */
  async notifyParent(): Promise<void> {
    this.observe();
    const reason = this.notReady();
    const state: DatabaseState = {
      database: this.scope.database,
      phase: this.status.phase,
      lagBytes: (this.status.reverse && !this.status.reverse.ended ? this.status.reverse : this.status.cdc)?.lagBytes,
      ready: reason === undefined,
      reason,
    };
    // The lag itself changes every round; only crossing the bound is news.
    const key = `${state.phase}|${state.ready}|${state.reason ?? ''}`.replace(/lag \d+ bytes/, 'lag');
    if (!this.parent || key === this.lastNotified) return;
    this.lastNotified = key;
    await getExternalWorkflowHandle(this.parent.workflowId).signal(databaseStateSignal, state);
  }

  /** Tells the migration workflow this database is ready to finish its switchover (or why it is not). */
  async reportPrepared(error?: string): Promise<void> {
    if (this.parent)
      await getExternalWorkflowHandle(this.parent.workflowId).signal(switchoverPreparedSignal, {
        database: this.scope.database,
        ...(error ? { error } : {}),
      });
  }

  /** Tells the migration workflow how this database's switchover ended. */
  async reportSwitchover(outcome: Omit<SwitchoverOutcome, 'database'>): Promise<void> {
    if (this.parent)
      await getExternalWorkflowHandle(this.parent.workflowId).signal(switchoverDoneSignal, {
        database: this.scope.database,
        ...outcome,
      });
  }

  result(): DatabaseResult {
    const st = this.status;
    return {
      database: st.database,
      phase: st.phase,
      rows: st.totals.rows,
      bytes: st.totals.bytes,
      lateChunks: st.totals.lateChunks,
      slot: st.snapshot?.slot ?? null,
      lsn: st.snapshot?.lsn,
    };
  }

  /** Whatever ended the migration, the source must not keep a slot retaining WAL; the target stays as it is. */
  async abandon(e: unknown): Promise<void> {
    const cancelled = isCancellation(e);
    this.phase(cancelled ? 'cancelled' : 'failed');
    this.status.error = cancelled ? 'cancelled by the operator' : messageOf(e);
    await CancellationScope.nonCancellable(async () => {
      await this.handoff?.release();
      const dropped = await preparing
        .dropReplication(this.scope)
        .catch((err: Error) => [`cleanup failed: ${err.message}`]);
      // In reverse: the target's slot would retain WAL for a stream nobody reads any more.
      if (this.status.reverse && !this.status.reverse.ended)
        dropped.push(
          ...(await preparing
            .dropReverse(this.scope)
            .catch((err: Error) => [`cleanup of the reverse stream failed: ${err.message}`])),
        );
      this.status.steps.push({
        step: 'cleanup',
        startedAt: now(),
        endedAt: now(),
        detail: `${dropped.join(', ') || 'nothing to drop'}; the target was left as it is`,
      });
      this.warn(`target database ${this.scope.targetDatabase} left as it is (partially migrated)`);
    });
  }
}
