/** `pgtransit plan diff`: start planDiffWorkflow, wait for the dry run, print it. */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdConflictPolicy } from '@temporalio/common';
import { formatBytes } from '../model/format';
import { workflowIds } from '../model/names';
import type { DatabasePreview, PlanDiff, TargetObject } from '../model/plan-diff';
import type { Plan } from '../plan/plan';
import { planDiffWorkflow } from '../../workflows';
import { renderItems, type PrecheckFailure } from './precheck';

export type PlanDiffOutcome = { diff: PlanDiff; failure?: undefined } | { diff?: undefined; failure: PrecheckFailure };

export async function runPlanDiff(client: Client, plan: Plan, taskQueue: string): Promise<PlanDiffOutcome> {
  try {
    const diff = await client.workflow.execute(planDiffWorkflow, {
      args: [plan],
      taskQueue,
      workflowId: workflowIds(plan.name).planDiff,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowExecutionTimeout: '30 minutes',
    });
    return { diff };
  } catch (e) {
    if (e instanceof WorkflowFailedError) {
      let cause: unknown = e.cause;
      while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
      const f = cause instanceof ApplicationFailure ? cause : undefined;
      return { failure: { type: f?.type ?? 'WorkflowFailed', message: f?.message ?? e.message } };
    }
    throw e;
  }
}

/** 0: the plan would run; 2: it would not (a failing item, or a server that refused). */
export function planDiffExitCode(outcome: PlanDiffOutcome): number {
  return outcome.diff?.ok ? 0 : 2;
}

const SECTION_HEADING: Record<TargetObject['section'], string> = {
  'pre-data': 'before the load (pre-data)',
  'post-data': 'after the load (post-data)',
  mapping: 'by the mapping (after post-data)',
};

function objectLines(objects: TargetObject[]): string[] {
  const width = Math.max(0, ...objects.map((o) => o.type.length));
  return objects.map(
    (o) =>
      `      ${o.type.padEnd(width)}  ${o.name}${o.table ? ` on ${o.table}` : ''}` +
      (o.source ? `  (from ${o.source})` : ''),
  );
}

function databaseLines(d: DatabasePreview): string[] {
  const lines = ['', `database ${d.database} -> ${d.targetDatabase}`];
  const t = d.target;
  lines.push(
    t.createDatabase
      ? `  create database ${d.targetDatabase} on the target (the source's encoding and collation), then in it:`
      : `  create on the target (database ${d.targetDatabase}):`,
  );
  lines.push(
    `    pgtransit's state schema ${t.stateSchema} (chunk markers, applied position; removed when the migration completes)`,
  );
  if (t.extensions.length) lines.push(`    extensions (when missing): ${t.extensions.join(', ')}`);
  if (t.objectsError) lines.push(`    schema objects: cannot be listed: ${t.objectsError}`);
  for (const section of ['pre-data', 'post-data', 'mapping'] as const) {
    const of = t.objects.filter((o) => o.section === section);
    if (!of.length) continue;
    lines.push(`    ${SECTION_HEADING[section]}:`);
    lines.push(...objectLines(of));
  }
  if (t.existing.length)
    lines.push(
      `  already on the target, left as they are: ${t.existing.map((o) => `${o.type} ${o.name}${o.table ? ` on ${o.table}` : ''}`).join(', ')}`,
    );

  const c = d.copy;
  lines.push(
    `  copy ${c.totals.tables} tables, ~${c.totals.estRows} rows, ~${formatBytes(c.totals.estBytes)}, in ${c.totals.chunks} chunks:`,
  );
  const width = Math.max(0, ...c.tables.map((x) => `${x.table} -> ${x.targetTable}`.length));
  for (const x of c.tables)
    lines.push(
      `    ${`${x.table} -> ${x.targetTable}`.padEnd(width)}  ~${x.estRows} rows, ${formatBytes(x.estBytes)}, ` +
        `${x.chunks} chunk${x.chunks === 1 ? '' : 's'} (${x.split})`,
    );

  if (d.excluded.length) {
    lines.push('  left out:');
    const w = Math.max(...d.excluded.map((e) => e.relation.length));
    for (const e of d.excluded)
      lines.push(
        `    ${e.relation.padEnd(w)}  ${e.kind}, ` +
          (e.pattern === null ? 'no include pattern matches it' : `by ${e.by} = "${e.pattern}"`),
      );
  } else lines.push('  left out: nothing');
  if (d.renamed.length) {
    lines.push('  renamed on the target (after post-data):');
    for (const r of d.renamed) lines.push(`    ${r.kind} ${r.from} -> ${r.to}`);
  }
  if (d.roles.copy)
    lines.push(
      `  roles to create on the target: ${d.roles.create.join(', ') || 'none'}` +
        (d.roles.existing.length ? ` (there already: ${d.roles.existing.join(', ')})` : ''),
    );
  else lines.push('  roles: none created (roles: false; the target role owns what is restored)');

  const s = d.source;
  lines.push('  install on the source:');
  if (s.publication)
    lines.push(
      `    publication ${s.publication} FOR TABLE ${s.publishedTables.length} tables (${s.publishedTables.join(', ')})`,
    );
  if (s.slot)
    lines.push(
      `    logical replication slot ${s.slot} (pgoutput), with the exported snapshot the load reads; it keeps WAL until the switchover`,
    );
  for (const n of s.notes) lines.push(`    ${n}`);
  return lines;
}

export function renderPlanDiff(diff: PlanDiff): string {
  const items = [...diff.assessment.failing, ...diff.assessment.warnings];
  const lines = [`Plan diff of ${diff.plan} (mode ${diff.mode}), checked ${diff.checkedAt}: nothing was changed`];
  if (items.length) {
    lines.push('', ...renderItems(items));
  }
  for (const d of diff.databases) lines.push(...databaseLines(d));
  const { pass, warn, fail } = diff.assessment.summary;
  lines.push(
    '',
    `${pass} pass, ${warn} warn, ${fail} fail: ` +
      (diff.ok
        ? 'the plan would run: no assessment item fails'
        : `the plan would not run: ${fail} assessment item${fail === 1 ? '' : 's'} fail${fail === 1 ? 's' : ''}; fix them and run pgtransit plan diff again`),
  );
  return lines.join('\n');
}
