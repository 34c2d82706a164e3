/**
 * precheckWorkflow: the migration assessment. Reads both servers and the worker's
 * tools, changes nothing, and returns an itemised report.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorType } from '../src/errors';
import { formatPlanIssues, parsePlan, type Plan, type PlanInput } from '../src/plan/schema';
import { sortItems, summarize, type PrecheckReport } from '../src/plan/report';
import { inspection, probe } from './activity-options';

const probing = proxyActivities<Activities>(probe);
const inspecting = proxyActivities<Activities>(inspection);

/** Validates the plan inside the workflow: a plan started from the UI never met the CLI. */
export function validatePlan(input: unknown): Plan {
  const result = parsePlan(input);
  if (!result.ok) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidPlan,
      message: `the plan is invalid:\n${formatPlanIssues(result.issues)}`,
      nonRetryable: true,
      details: [result.issues],
    });
  }
  return result.plan;
}

/** Re-raises an activity's failure as the workflow's own, so its message names the cause. */
export function surface(e: unknown): never {
  if (e instanceof ActivityFailure && e.cause instanceof ApplicationFailure) {
    throw ApplicationFailure.create({
      type: e.cause.type ?? ErrorType.Transient,
      message: e.cause.message,
      nonRetryable: true,
      details: e.cause.details as unknown[] | undefined,
    });
  }
  throw e;
}

export async function precheckWorkflow(input: PlanInput): Promise<PrecheckReport> {
  const plan = validatePlan(input);
  const [source, target] = await Promise.all([
    probing.probeServer({ plan, side: 'source' }),
    probing.probeServer({ plan, side: 'target' }),
  ]).catch(surface);

  const databases = plan.databases ?? [source.database];
  // One database: it goes to the database named in the target URL. Several: each to its namesake.
  const targetDatabase = (db: string) => (plan.databases ? db : target.database);
  const perDatabase = await Promise.all(
    databases.map((database) => inspecting.assessDatabase({ plan, database, targetDatabase: targetDatabase(database) })),
  ).catch(surface);
  const selectedBytes = perDatabase.reduce((n, d) => n + d.selectedBytes, 0);
  const serverItems = await inspecting.assessServers({ plan, databases, selectedBytes }).catch(surface);

  const items = sortItems([...serverItems, ...perDatabase.flatMap((d) => d.items)]);
  const summary = summarize(items);
  return {
    plan: plan.name,
    mode: plan.mode,
    checkedAt: new Date().toISOString(),
    source,
    target,
    databases,
    items,
    summary,
    ok: summary.fail === 0,
  };
}
