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
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { ErrorType } from '../src/errors';
import {
  databaseStateSignal,
  pauseSignal,
  resumeSignal,
  statusQuery,
  switchoverDatabaseSignal,
  switchoverDoneSignal,
  switchoverRequestSignal,
  switchoverUpdate,
  type SwitchoverOutcome,
} from '../src/model/messages';
import { childIds } from '../src/model/names';
import type { MigrationStatus, SwitchoverReport } from '../src/model/status';
import type { DatabaseResult, MigrationResult } from '../src/model/workflows';
import type { PlanInput } from '../src/plan/plan';
import { migrateDatabaseWorkflow } from './database';
import { messageOf, validatePlan } from './failures';
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
  const outcomes = new Map<string, SwitchoverOutcome>();
  setHandler(databaseStateSignal, (s) => {
    const d = status.databases.find((x) => x.database === s.database);
    if (d) Object.assign(d, { phase: s.phase, lagBytes: s.lagBytes, ready: s.ready, reason: s.reason });
    if (status.databases.length && status.databases.every((x) => x.phase === status.databases[0]!.phase))
      status.phase = status.databases[0]!.phase;
  });
  setHandler(switchoverDoneSignal, (r) => void outcomes.set(r.database, r));

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
  const runSwitchover = async (): Promise<{ reports: SwitchoverReport[] }> => {
    status.switchover = { state: 'running', reports: [], requestedAt: now() };
    outcomes.clear();
    await Promise.all(
      status.databases.map((d) => getExternalWorkflowHandle(d.workflowId).signal(switchoverDatabaseSignal)),
    );
    await condition(() => outcomes.size === status.databases.length);
    const failed = [...outcomes.values()].filter((r) => r.error);
    status.switchover.reports = [...outcomes.values()].flatMap((r) => (r.report ? [r.report] : []));
    if (failed.length) {
      status.switchover.state = 'failed';
      status.switchover.error = failed.map((f) => f.error).join('; ');
      throw ApplicationFailure.create({
        type: ErrorType.SwitchoverFailed,
        nonRetryable: true,
        message: `switchover failed, the source was un-fenced and the migration is back in incremental: ${status.switchover.error}`,
      });
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
    if (!report.ok) {
      throw ApplicationFailure.create({
        type: ErrorType.PrecheckFailed,
        nonRetryable: true,
        message: `the precheck failed; nothing was created. Fix these items and start again:\n${status.precheck.failing.join('\n')}`,
      });
    }
    status.phase = 'prepare';
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
    return { phase: status.phase, databases: results };
  } catch (e) {
    status.phase = isCancellation(e) ? 'cancelled' : 'failed';
    status.error = messageOf(e);
    throw e;
  }
}
