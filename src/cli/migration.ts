/** `pgtransit start | status | abort`: the migration from the operator's side. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Plan } from '../plan/schema';
import { workflowIds } from '../plan/schema';
import type { DatabaseStatus, MigrationStatus } from '../plan/status';

export async function startMigration(client: Client, plan: Plan, taskQueue: string): Promise<{ workflowId: string; runId: string; existing: boolean }> {
  const workflowId = workflowIds(plan.name).migration;
  const handle = await client.workflow.start('migrationWorkflow', {
    args: [plan],
    taskQueue,
    workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  const desc = await handle.describe();
  return { workflowId, runId: handle.firstExecutionRunId, existing: desc.runId !== handle.firstExecutionRunId };
}

export interface FullStatus {
  migration: MigrationStatus;
  databases: DatabaseStatus[];
  /** RUNNING, COMPLETED, FAILED, CANCELLED, ... as Temporal says. */
  execution: string;
}

export async function migrationStatus(client: Client, name: string): Promise<FullStatus> {
  const handle = client.workflow.getHandle(workflowIds(name).migration);
  let execution: string;
  try {
    execution = (await handle.describe()).status.name;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) throw new Error(`no migration named ${name} (workflow ${workflowIds(name).migration}); start one with pgtransit start -f PLAN`);
    throw e;
  }
  const migration = await handle.query<MigrationStatus>('status');
  const databases = await Promise.all(
    migration.databases.map((d) => client.workflow.getHandle(d.workflowId).query<DatabaseStatus>('databaseStatus')),
  );
  return { migration, databases, execution };
}

export async function abortMigration(client: Client, name: string): Promise<FullStatus> {
  const handle = client.workflow.getHandle(workflowIds(name).migration);
  await handle.cancel();
  await handle.result().catch(() => undefined);
  return migrationStatus(client, name);
}

const fmtBytes = (n: number) => {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
};
const fmtSeconds = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`);

export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

export function renderStatus(s: FullStatus): string {
  const m = s.migration;
  const lines = [`migration ${m.name} (${m.workflowId}, mode ${m.mode}): ${m.phase} [${s.execution}] since ${m.startedAt}`];
  if (m.precheck) lines.push(`  precheck: ${m.precheck.pass} pass, ${m.precheck.warn} warn, ${m.precheck.fail} fail`);
  for (const f of m.precheck?.failing ?? []) lines.push(`    FAIL ${f}`);
  if (m.error) lines.push(`  error: ${m.error}`);
  for (const d of s.databases) {
    const t = d.totals;
    lines.push('');
    lines.push(`database ${d.database} -> ${d.targetDatabase}: ${d.phase}`);
    if (d.snapshot) lines.push(`  snapshot at ${d.snapshot.lsn}${d.snapshot.slot ? `, slot ${d.snapshot.slot}` : ''}${d.snapshot.lost ? ' (LOST: remaining chunks copied late)' : ''}`);
    if (t.chunksTotal > 0) {
      const frac = t.estBytes > 0 ? t.bytes / t.estBytes : t.chunksDone / t.chunksTotal;
      lines.push(`  ${bar(t.chunksDone === t.chunksTotal ? 1 : frac)} ${t.chunksDone}/${t.chunksTotal} chunks, ${t.rows} rows, ${fmtBytes(t.bytes)} of ~${fmtBytes(t.estBytes)}` +
        (d.throughput ? `, ${fmtBytes(d.throughput)}/s` : '') + (d.etaSeconds !== undefined && t.chunksDone < t.chunksTotal ? `, ETA ${fmtSeconds(d.etaSeconds)}` : ''));
      const width = Math.min(40, Math.max(...d.tables.map((x) => x.table.length)));
      for (const x of d.tables) {
        const f = x.chunksTotal ? x.chunksDone / x.chunksTotal : 0;
        lines.push(`    ${x.table.padEnd(width)} ${bar(f, 16)} ${x.chunksDone}/${x.chunksTotal} ${x.rows} rows ${fmtBytes(x.bytes)}${x.lateChunks ? ` (${x.lateChunks} late)` : ''}${x.targetTable !== x.table ? ` -> ${x.targetTable}` : ''}`);
      }
    }
    for (const step of d.steps) lines.push(`  ${step.endedAt ? 'done' : '....'} ${step.step}${step.detail ? `: ${step.detail}` : ''}`);
    for (const w of d.warnings) lines.push(`  warning: ${w}`);
    if (d.error) lines.push(`  error: ${d.error}`);
  }
  return lines.join('\n');
}
