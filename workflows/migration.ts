/**
 * migrationWorkflow: the precheck, then one child workflow per database (database/),
 * and the switchover across all of them: the Update (or the signal) is validated here
 * against every database's readiness, then each database switches over on its own.
 */
import {
  ApplicationFailure,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../src/errors';
import {
  databaseStateSignal,
  finishDatabaseSignal,
  finishUpdate,
  pauseSignal,
  resumeSignal,
  rollbackDatabaseSignal,
  rollbackDoneSignal,
  rollbackPreparedSignal,
  rollbackUpdate,
  rollbackVerdictSignal,
  statusQuery,
  switchoverDatabaseSignal,
  switchoverDoneSignal,
  switchoverPreparedSignal,
  switchoverRequestSignal,
  switchoverUpdate,
  switchoverVerdictSignal,
  type RollbackOutcome,
  type SwitchoverOutcome,
} from '../src/model/messages';
import { childIds } from '../src/model/names';
import { lagBucket, type SearchAttributeValues } from '../src/model/search-attributes';
import type { MigrationStatus, RollbackReport, SwitchoverReport } from '../src/model/status';
import type { DatabaseResult, MigrationResult } from '../src/model/workflows';
import type { PlanInput } from '../src/plan/plan';
import { migrateDatabaseWorkflow } from './database';
import { TWO_PHASE_SWITCHOVER } from './database/change-capture';
import { messageOf, validatePlan } from './failures';
import { Notifier, SearchAttributes, switchoverEnded } from './observe';
import { precheckWorkflow } from './precheck';

const now = () => new Date().toISOString();

export async function migrationWorkflow(input: PlanInput): Promise<MigrationResult> {
  const plan = validatePlan(input);
  const id = workflowInfo().workflowId;
  const ids = childIds(id);
  const status: MigrationStatus = {
    workflowId: id,
    name: plan.name,
    mode: plan.mode,
    phase: 'precheck',
    startedAt: now(),
    databases: [],
    plan,
  };
  setHandler(statusQuery, () => status);
  const attributes = new SearchAttributes();
  const notifier = new Notifier(plan, () => (status.warnings ??= []));
  let servers: SearchAttributeValues = {};
  let shownPhase = status.phase;
  /** Search attributes and the phase's notification, whenever the phase or a database's lag may have changed. */
  const observe = () => {
    const lags = status.databases.flatMap((d) => (d.lagBytes === undefined ? [] : [d.lagBytes]));
    attributes.show({
      phase: status.phase,
      ...servers,
      lagBucket: lags.length ? lagBucket(Math.max(...lags)) : undefined,
    });
    if (status.phase === shownPhase) return;
    const from = shownPhase;
    shownPhase = status.phase;
    notifier.send({
      kind: 'phase',
      phase: status.phase,
      previousPhase: from,
      message: `${from} -> ${status.phase}${status.error ? `: ${status.error}` : ''}`,
    });
  };
  observe();
  const outcomes = new Map<string, SwitchoverOutcome>();
  setHandler(databaseStateSignal, (s) => {
    const d = status.databases.find((x) => x.database === s.database);
    if (d) Object.assign(d, { phase: s.phase, lagBytes: s.lagBytes, ready: s.ready, reason: s.reason });
    if (status.databases.length && status.databases.every((x) => x.phase === status.databases[0]!.phase))
      status.phase = status.databases[0]!.phase;
    observe();
  });
  setHandler(switchoverDoneSignal, (r) => void outcomes.set(r.database, r));
  const prepared = new Map<string, { error?: string }>();
  let twoPhase = false;
  setHandler(switchoverPreparedSignal, async (p) => {
    prepared.set(p.database, p);
    // A database that runs the two-phase switchover while this history still runs the first one: let it finish.
    const d = status.databases.find((x) => x.database === p.database);
    if (!twoPhase && !p.error && d)
      await getExternalWorkflowHandle(d.workflowId).signal(switchoverVerdictSignal, { commit: true });
  });

  /** Why the switchover cannot start now: every database must be ready. */
  const blockers = (): string[] => {
    if (plan.mode !== 'full+cdc')
      return [`mode ${plan.mode} has no switchover: the migration completes after the full load`];
    if (status.switchover?.state === 'running') return ['a switchover is already running'];
    if (status.databases.length === 0) return [`the migration is in ${status.phase}, not incremental`];
    return status.databases
      .filter((d) => !d.ready)
      .map((d) => `${d.database}: ${d.reason ?? `in ${d.phase}, not incremental`}`);
  };
  const fail = (message: string): never => {
    status.switchover!.state = 'failed';
    status.switchover!.error = message;
    throw ApplicationFailure.create({
      type: ErrorType.SwitchoverFailed,
      nonRetryable: true,
      message: `switchover failed, the source was un-fenced and the migration is back in incremental: ${message}`,
    });
  };
  /** The first switchover: each database switched over on its own (histories begun before the two-phase one). */
  const runSwitchoverV1 = async (): Promise<{ reports: SwitchoverReport[] }> => {
    await Promise.all(
      status.databases.map((d) => getExternalWorkflowHandle(d.workflowId).signal(switchoverDatabaseSignal)),
    );
    await condition(() => outcomes.size === status.databases.length);
    const failed = [...outcomes.values()].filter((r) => r.error);
    status.switchover!.reports = [...outcomes.values()].flatMap((r) => (r.report ? [r.report] : []));
    if (failed.length) fail(failed.map((f) => f.error).join('; '));
    status.switchover!.state = 'completed';
    return { reports: status.switchover!.reports };
  };
  /**
   * Every database prepares (fence, drain, sequences, verify); then all commit, or all un-fence:
   * the application never ends up split between the source and the target.
   */
  const runSwitchoverV2 = async (): Promise<{ reports: SwitchoverReport[] }> => {
    await Promise.all(
      status.databases.map((d) => getExternalWorkflowHandle(d.workflowId).signal(switchoverDatabaseSignal)),
    );
    const answered = (d: string) => prepared.has(d) || outcomes.has(d);
    await condition(() => status.databases.every((d) => answered(d.database)));
    // What each database answered: its preparation, or (a database still on the first switchover) its outcome.
    const problems = status.databases.flatMap((d) => {
      const error = prepared.has(d.database) ? prepared.get(d.database)!.error : outcomes.get(d.database)?.error;
      return error ? [`${d.database}: ${error}`] : [];
    });
    const verdict = problems.length
      ? { commit: false, reason: `the switchover of the migration failed: ${problems.join('; ')}` }
      : { commit: true };
    const waiting = status.databases.filter(
      (d) => prepared.has(d.database) && !prepared.get(d.database)!.error && !outcomes.has(d.database),
    );
    await Promise.all(
      waiting.map((d) => getExternalWorkflowHandle(d.workflowId).signal(switchoverVerdictSignal, verdict)),
    );
    // Every database's outcome, failed ones too: none arrives late into the next attempt, and the
    // answer comes once every source is un-fenced (or switched over) and its readiness is known.
    await condition(() => status.databases.every((d) => outcomes.has(d.database)));
    status.switchover!.reports = [...outcomes.values()].flatMap((r) => (r.report ? [r.report] : []));
    if (problems.length) fail(problems.join('; '));
    const failed = [...outcomes.values()].filter((r) => r.error);
    if (failed.length) fail(failed.map((f) => `${f.database}: ${f.error}`).join('; '));
    status.switchover!.state = 'completed';
    return { reports: status.switchover!.reports };
  };
  const runSwitchover = async (): Promise<{ reports: SwitchoverReport[] }> => {
    status.switchover = { state: 'running', reports: [], requestedAt: now() };
    outcomes.clear();
    prepared.clear();
    try {
      twoPhase = patched(TWO_PHASE_SWITCHOVER);
      const r = await (twoPhase ? runSwitchoverV2() : runSwitchoverV1());
      switchoverEnded(plan.name, 'completed', r.reports);
      const worst = Math.max(0, ...r.reports.map((x) => x.writeDowntimeMs));
      notifier.send({
        kind: 'switchover',
        phase: status.phase,
        outcome: 'completed',
        reports: r.reports,
        message: `switchover completed: the target has everything, write downtime ${worst} ms`,
      });
      return r;
    } catch (e) {
      switchoverEnded(plan.name, 'failed', []);
      const error = status.switchover.error ?? messageOf(e);
      notifier.send({
        kind: 'switchover',
        phase: status.phase,
        outcome: 'failed',
        error,
        message: `switchover failed, the source was un-fenced and the migration is back in incremental: ${error}`,
      });
      throw e;
    } finally {
      // Whatever happened, the next request must not find a switchover "already running".
      if (status.switchover.state === 'running') status.switchover.state = 'failed';
    }
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
  // switchover.reverse: after the switchover, back to the source (rollback) or the end of the reverse stream (finish).
  const rollbacks = new Map<string, RollbackOutcome>();
  const rollbackPrepared = new Map<string, { error?: string }>();
  let finishing = false;
  setHandler(rollbackDoneSignal, (r) => void rollbacks.set(r.database, r));
  setHandler(rollbackPreparedSignal, (p) => void rollbackPrepared.set(p.database, p));
  /** Why there is no reverse stream to end or roll back now (`what`: rollback or finish). */
  const reverseBlockers = (what: string): string[] => {
    if (!plan.switchover.reverse)
      return [
        'the plan has no switchover.reverse: nothing captured the writes on the target, so there is no way back ' +
          'without losing them',
      ];
    if (status.rollback?.state === 'running') return ['a rollback is already running'];
    if (status.rollback?.state === 'completed') return ['the rollback already completed'];
    if (finishing) return ['the reverse stream is being finished'];
    if (status.switchover?.state !== 'completed')
      return [
        `the switchover has not completed (the migration is in ${status.phase}): the application still writes to ` +
          `the source, there is nothing to ${what}`,
      ];
    return status.databases
      .filter((d) => d.phase !== 'reverse')
      .map((d) => `${d.database}: in ${d.phase}, not reverse`);
  };
  const runRollback = async (): Promise<{ reports: RollbackReport[] }> => {
    status.rollback = { state: 'running', reports: [], requestedAt: now() };
    rollbacks.clear();
    rollbackPrepared.clear();
    try {
      await Promise.all(
        status.databases.map((d) => getExternalWorkflowHandle(d.workflowId).signal(rollbackDatabaseSignal)),
      );
      await condition(() => status.databases.every((d) => rollbackPrepared.has(d.database)));
      const problems = status.databases.flatMap((d) => {
        const error = rollbackPrepared.get(d.database)!.error;
        return error ? [`${d.database}: ${error}`] : [];
      });
      const verdict = problems.length
        ? { commit: false, reason: `the rollback of the migration failed: ${problems.join('; ')}` }
        : { commit: true };
      await Promise.all(
        status.databases
          .filter((d) => !rollbackPrepared.get(d.database)!.error)
          .map((d) => getExternalWorkflowHandle(d.workflowId).signal(rollbackVerdictSignal, verdict)),
      );
      await condition(() => status.databases.every((d) => rollbacks.has(d.database)));
      status.rollback.reports = [...rollbacks.values()].flatMap((r) => (r.report ? [r.report] : []));
      const failed = problems.length
        ? problems
        : [...rollbacks.values()].filter((r) => r.error).map((r) => `${r.database}: ${r.error}`);
      if (failed.length) {
        status.rollback.state = 'failed';
        status.rollback.error = failed.join('; ');
        throw ApplicationFailure.create({
          type: ErrorType.SwitchoverFailed,
          nonRetryable: true,
          message: `rollback failed, the target was un-fenced and the reverse stream goes on: ${status.rollback.error}`,
        });
      }
      status.rollback.state = 'completed';
      return { reports: status.rollback.reports };
    } finally {
      if (status.rollback.state === 'running') status.rollback.state = 'failed';
    }
  };
  setHandler(rollbackUpdate, runRollback, {
    validator: () => {
      const why = reverseBlockers('roll back');
      if (why.length) throw new Error(`rollback not possible now: ${why.join('; ')}`);
    },
  });
  setHandler(
    finishUpdate,
    async () => {
      finishing = true;
      await Promise.all(
        status.databases.map((d) => getExternalWorkflowHandle(d.workflowId).signal(finishDatabaseSignal)),
      );
      await condition(() => status.databases.every((d) => d.phase !== 'reverse'));
      return { databases: status.databases.map((d) => d.database) };
    },
    {
      validator: () => {
        const why = reverseBlockers('finish');
        if (why.length) throw new Error(`finish not possible now: ${why.join('; ')}`);
      },
    },
  );
  const forward = (signal: typeof pauseSignal | typeof resumeSignal) => () =>
    void Promise.all(status.databases.map((d) => getExternalWorkflowHandle(d.workflowId).signal(signal)));
  setHandler(pauseSignal, forward(pauseSignal));
  setHandler(resumeSignal, forward(resumeSignal));

  try {
    const report = await executeChild(precheckWorkflow, { args: [plan], workflowId: ids.migrationPrecheck });
    const failing = report.items.filter((i) => i.status === 'fail');
    status.precheck = {
      ...report.summary,
      failing: failing.map((i) => `${i.id}${i.database ? ` [${i.database}]` : ''}: ${i.observed}`),
    };
    servers = {
      sourceHost: report.source.host,
      targetHost: report.target.host,
      sourceDatabase: report.databases.join(','),
      targetDatabase: plan.databases ? report.databases.join(',') : report.target.database,
    };
    observe();
    if (!report.ok) {
      throw ApplicationFailure.create({
        type: ErrorType.PrecheckFailed,
        nonRetryable: true,
        message: `the precheck failed; nothing was created. Fix these items and start again:\n${status.precheck.failing.join('\n')}`,
      });
    }
    status.phase = 'prepare';
    observe();
    const children: Promise<DatabaseResult>[] = report.databases.map((database) => {
      const workflowId = ids.database(database);
      status.databases.push({ database, workflowId, phase: 'prepare' });
      return executeChild(migrateDatabaseWorkflow, {
        workflowId,
        args: [
          {
            plan,
            database,
            targetDatabase: plan.databases ? database : report.target.database,
            sourceMajor: report.source.major,
            targetMajor: report.target.major,
            hosts: { source: report.source.host, target: report.target.host },
          },
        ],
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      }).then((r) => {
        status.databases.find((d) => d.database === database)!.phase = r.phase;
        return r;
      });
    });
    const results = await Promise.all(children);
    status.phase = results.every((r) => r.phase === 'completed') ? 'completed' : results[0]!.phase;
    // The switchover Update returns its report before the workflow closes.
    await condition(allHandlersFinished);
    observe();
    await notifier.flush();
    return { phase: status.phase, databases: results };
  } catch (e) {
    status.phase = isCancellation(e) ? 'cancelled' : 'failed';
    status.error = messageOf(e);
    observe();
    await notifier.flush();
    throw e;
  }
}
