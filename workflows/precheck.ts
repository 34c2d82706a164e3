/**
 * precheckWorkflow: the migration assessment. Reads both servers and the worker's
 * tools, changes nothing, and returns an itemised report.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { sortItems, summarize, type PrecheckReport } from '../src/model/report';
import type { PlanInput } from '../src/plan/plan';
import { inspection, probe } from './activity-options';
import { surface, validatePlan } from './failures';

const probing = proxyActivities<Activities>(probe);
const inspecting = proxyActivities<Activities>(inspection);

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
    databases.map((database) =>
      inspecting.assessDatabase({ plan, database, targetDatabase: targetDatabase(database) }),
    ),
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
