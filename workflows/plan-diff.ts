/**
 * planDiffWorkflow: the dry run of a plan (`pgtransit plan diff`). The assessment as a child,
 * then per database what the migration would create, copy, leave out, rename and install.
 * Changes nothing on either server: no slot, publication, role, table or setting.
 */
import { executeChild, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { childIds } from '../src/model/names';
import type { PlanDiff } from '../src/model/plan-diff';
import type { PlanInput } from '../src/plan/plan';
import { inspection } from './activity-options';
import { surface, validatePlan } from './failures';
import { precheckWorkflow } from './precheck';

const inspecting = proxyActivities<Activities>(inspection);

export async function planDiffWorkflow(input: PlanInput): Promise<PlanDiff> {
  const plan = validatePlan(input);
  const report = await executeChild(precheckWorkflow, {
    args: [plan],
    workflowId: childIds(workflowInfo().workflowId).migrationPrecheck,
  });
  const databases = await Promise.all(
    report.databases.map((database) =>
      inspecting.previewDatabase({
        plan,
        database,
        // As the migration does: one database goes to the target URL's, several each to its namesake.
        targetDatabase: plan.databases ? database : report.target.database,
        sourceMajor: report.source.major,
      }),
    ),
  ).catch(surface);
  return {
    plan: plan.name,
    mode: plan.mode,
    checkedAt: report.checkedAt,
    ok: report.ok,
    assessment: {
      summary: report.summary,
      failing: report.items.filter((i) => i.status === 'fail'),
      warnings: report.items.filter((i) => i.status === 'warn'),
    },
    databases,
  };
}
