/** `pgtransit precheck`: start precheckWorkflow, wait for the report, print it. */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdConflictPolicy } from '@temporalio/common';
import { workflowIds } from '../model/names';
import type { CheckItem, PrecheckReport } from '../model/report';
import type { Plan } from '../plan/plan';
import { precheckWorkflow } from '../../workflows';

/** The assessment could not produce a report: which kind of failure, and its message. */
export interface PrecheckFailure {
  type: string;
  message: string;
}

export type PrecheckOutcome =
  { report: PrecheckReport; failure?: undefined } | { report?: undefined; failure: PrecheckFailure };

export async function runPrecheck(client: Client, plan: Plan, taskQueue: string): Promise<PrecheckOutcome> {
  const workflowId = workflowIds(plan.name).precheck;
  try {
    const report = await client.workflow.execute(precheckWorkflow, {
      args: [plan],
      taskQueue,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      workflowExecutionTimeout: '30 minutes',
    });
    return { report };
  } catch (e) {
    if (e instanceof WorkflowFailedError) {
      const cause = e.cause instanceof ApplicationFailure ? e.cause : undefined;
      return { failure: { type: cause?.type ?? 'WorkflowFailed', message: cause?.message ?? e.message } };
    }
    throw e;
  }
}

/** 0 no failed item, 2 some failed item (or a server that refused us). */
export function exitCode(outcome: PrecheckOutcome): number {
  if (outcome.failure) return 2;
  return outcome.report.ok ? 0 : 2;
}

const color = (code: number, s: string) =>
  process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[${code}m${s}\x1b[0m` : s;
const LABEL: Record<CheckItem['status'], string> = {
  fail: color(31, 'FAIL'),
  warn: color(33, 'WARN'),
  pass: color(32, 'PASS'),
};

/** One line per item (FAIL, WARN, PASS, the id, what was found), and its fix below. */
export function renderItems(items: CheckItem[]): string[] {
  const lines: string[] = [];
  const width = Math.max(...items.map((i) => i.id.length + (i.database ? i.database.length + 3 : 0)));
  for (const i of items) {
    const id = i.database ? `${i.id} [${i.database}]` : i.id;
    lines.push(`${LABEL[i.status]}  ${id.padEnd(width)}  ${i.observed}`);
    if (i.fix) lines.push(`      ${' '.repeat(width)}  fix: ${i.fix}`);
  }
  return lines;
}

export function renderReport(r: PrecheckReport): string {
  const lines: string[] = [];
  lines.push(`Assessment of ${r.plan} (mode ${r.mode}), databases ${r.databases.join(', ')}`);
  lines.push(
    `  source: PostgreSQL ${r.source.version} at ${r.source.host}:${r.source.port} as ${r.source.user}${r.source.tls ? ', TLS' : ''}`,
  );
  lines.push(
    `  target: PostgreSQL ${r.target.version} at ${r.target.host}:${r.target.port} as ${r.target.user}${r.target.tls ? ', TLS' : ''}`,
  );
  lines.push('', ...renderItems(r.items), '');
  const verdict = r.ok
    ? color(32, 'ready to migrate')
    : color(31, 'not ready: fix the FAIL items and run the precheck again');
  lines.push(`${r.summary.pass} pass, ${r.summary.warn} warn, ${r.summary.fail} fail: ${verdict}`);
  return lines.join('\n');
}

export function renderFailure(f: PrecheckFailure): string {
  return `${LABEL.fail}  ${f.type}: ${f.message}`;
}
