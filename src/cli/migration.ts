/** `pgtransit start | status | abort`: the migration from the operator's side. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { formatBytes as fmtBytes, formatSeconds as fmtSeconds } from '../model/format';
import { databaseStatusQuery, statusQuery, switchoverUpdate } from '../model/messages';
import { workflowIds } from '../model/names';
import type { DatabaseStatus, MigrationStatus, SwitchoverReport } from '../model/status';
import type { VerifyReport } from '../model/workflows';
import type { Plan } from '../plan/plan';
import { migrationWorkflow, verifyWorkflow } from '../../workflows';

export async function startMigration(
  client: Client,
  plan: Plan,
  taskQueue: string,
): Promise<{ workflowId: string; runId: string; existing: boolean }> {
  const workflowId = workflowIds(plan.name).migration;
  const handle = await client.workflow.start(migrationWorkflow, {
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
  /** Activities the server is trying again, as it sees them (a dead worker's too), by database. */
  pending: { database: string; activity: string; attempt: number; lastFailure?: string }[];
}

export async function migrationStatus(client: Client, name: string): Promise<FullStatus> {
  const handle = client.workflow.getHandle(workflowIds(name).migration);
  let execution: string;
  try {
    execution = (await handle.describe()).status.name;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError)
      throw new Error(
        `no migration named ${name} (workflow ${workflowIds(name).migration}); start one with pgtransit start -f PLAN`,
      );
    throw e;
  }
  const migration = await handle.query(statusQuery);
  const databases = await Promise.all(
    migration.databases.map((d) => client.workflow.getHandle(d.workflowId).query(databaseStatusQuery)),
  );
  const pending = (
    await Promise.all(
      migration.databases.map(async (d) => {
        const desc = await client.workflow
          .getHandle(d.workflowId)
          .describe()
          .catch(() => null);
        return (desc?.raw.pendingActivities ?? [])
          .filter((a) => (a.attempt ?? 1) > 1)
          .map((a) => ({
            database: d.database,
            activity: a.activityType?.name ?? '?',
            attempt: a.attempt ?? 1,
            lastFailure: a.lastFailure?.message ?? undefined,
          }));
      }),
    )
  ).flat();
  return { migration, databases, execution, pending };
}

export async function abortMigration(client: Client, name: string): Promise<FullStatus> {
  const handle = client.workflow.getHandle(workflowIds(name).migration);
  await handle.cancel();
  await handle.result().catch(() => undefined);
  return migrationStatus(client, name);
}

export function bar(fraction: number, width = 24): string {
  const f = Math.max(0, Math.min(1, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(f * 100).toFixed(0).padStart(3)}%`;
}

export function renderStatus(s: FullStatus): string {
  const m = s.migration;
  const lines = [
    `migration ${m.name} (${m.workflowId}, mode ${m.mode}): ${m.phase} [${s.execution}] since ${m.startedAt}`,
  ];
  if (m.precheck) lines.push(`  precheck: ${m.precheck.pass} pass, ${m.precheck.warn} warn, ${m.precheck.fail} fail`);
  for (const f of m.precheck?.failing ?? []) lines.push(`    FAIL ${f}`);
  if (m.error) lines.push(`  error: ${m.error}`);
  if (m.switchover)
    lines.push(`  switchover: ${m.switchover.state}${m.switchover.error ? ` (${m.switchover.error})` : ''}`);
  for (const d of s.databases) {
    const t = d.totals;
    lines.push('');
    lines.push(`database ${d.database} -> ${d.targetDatabase}: ${d.phase}`);
    if (d.snapshot)
      lines.push(
        `  snapshot at ${d.snapshot.lsn}${d.snapshot.slot ? `, slot ${d.snapshot.slot}` : ''}${d.snapshot.lost ? ' (LOST: remaining chunks copied late)' : ''}`,
      );
    if (t.chunksTotal > 0) {
      const frac = t.estBytes > 0 ? t.bytes / t.estBytes : t.chunksDone / t.chunksTotal;
      lines.push(
        `  ${bar(t.chunksDone === t.chunksTotal ? 1 : frac)} ${t.chunksDone}/${t.chunksTotal} chunks, ` +
          `${t.rows} rows, ${fmtBytes(t.bytes)} of ~${fmtBytes(t.estBytes)}` +
          (d.throughput ? `, ${fmtBytes(d.throughput)}/s` : '') +
          (d.etaSeconds !== undefined && t.chunksDone < t.chunksTotal ? `, ETA ${fmtSeconds(d.etaSeconds)}` : ''),
      );
      const width = Math.min(40, Math.max(...d.tables.map((x) => x.table.length)));
      for (const x of d.tables) {
        const f = x.chunksTotal ? x.chunksDone / x.chunksTotal : 0;
        lines.push(
          `    ${x.table.padEnd(width)} ${bar(f, 16)} ${x.chunksDone}/${x.chunksTotal} ${x.rows} rows ` +
            `${fmtBytes(x.bytes)}${x.lateChunks ? ` (${x.lateChunks} late)` : ''}${x.targetTable !== x.table ? ` -> ${x.targetTable}` : ''}`,
        );
      }
    }
    if (d.cdc) {
      const c = d.cdc;
      lines.push(
        `  change capture: ${c.paused ? 'PAUSED, ' : ''}${c.stalled ? 'STOPPED, ' : ''}lag ` +
          `${c.lagBytes ?? '?'} bytes / ${c.lagSeconds ?? '?'} s, applied ${c.appliedLsn ?? '-'}, source ` +
          `${c.sourceLsn ?? '-'}, slot retains ${fmtBytes(c.retainedWalBytes ?? 0)}, ` +
          `${c.transactions} transactions in ${c.rounds} streams${c.streaming ? ' (one open)' : ''}`,
      );
      for (const [table, n] of Object.entries(c.tables))
        lines.push(
          `    ${table}: +${n.insert} ~${n.update} -${n.delete}${n.truncate ? ` truncate ${n.truncate}` : ''}${n.conflicts ? ` conflicts ${n.conflicts}` : ''}`,
        );
      if (c.largeTransaction)
        lines.push(
          `  applying a large source transaction (commit ${c.largeTransaction.commitLsn}): ` +
            `${c.largeTransaction.changesApplied} changes so far, committed with its last part`,
        );
      if (c.stalled) lines.push(`  stopped: ${c.stalled.reason}`);
    }
    if (d.switchover)
      lines.push(
        `  switchover: write downtime ${d.switchover.writeDowntimeMs} ms, ${d.switchover.tablesVerified} ` +
          `tables verified, ${d.switchover.sequencesCopied} sequences copied`,
      );
    for (const step of d.steps)
      lines.push(`  ${step.endedAt ? 'done' : '....'} ${step.step}${step.detail ? `: ${step.detail}` : ''}`);
    for (const w of d.warnings) lines.push(`  warning: ${w}`);
    for (const r of Object.values(d.retrying ?? {}))
      lines.push(`  retrying: ${r.activity}: ${r.error}, attempt ${r.attempt} since ${r.since}`);
    for (const p of s.pending.filter(
      (x) => x.database === d.database && !Object.values(d.retrying ?? {}).some((r) => r.activity === x.activity),
    )) {
      lines.push(`  retrying: ${p.activity}: ${p.lastFailure ?? 'no answer from its worker'}, attempt ${p.attempt}`);
    }
    if (d.error) lines.push(`  error: ${d.error}`);
  }
  return lines.join('\n');
}

export async function switchover(client: Client, name: string): Promise<{ reports: SwitchoverReport[] }> {
  const handle = client.workflow.getHandle(workflowIds(name).migration);
  return handle.executeUpdate(switchoverUpdate);
}

export function renderSwitchover(r: { reports: SwitchoverReport[] }): string {
  return r.reports
    .map((x) =>
      [
        `switchover of ${x.database} completed`,
        `  fenced at        ${x.fencedAt} (${x.terminatedSessions} application sessions ended, fence LSN ${x.fenceLsn})`,
        `  done at          ${x.doneAt}`,
        `  write downtime   ${x.writeDowntimeMs} ms`,
        `  tables verified  ${x.tablesVerified} (${x.verify})`,
        `  sequences copied ${x.sequencesCopied}`,
        `  slot             ${x.slotKept ? 'kept' : 'dropped'}`,
        `  note             ${x.sourceNote}`,
      ].join('\n'),
    )
    .join('\n\n');
}

export interface VerifyOutcome {
  report: VerifyReport;
  /** Replication lag per database when the comparison ran (a difference may be lag, not loss). */
  lag: { database: string; lagBytes?: number; phase: string }[];
}

export async function verifyMigration(
  client: Client,
  name: string,
  taskQueue: string,
  checksum: boolean,
): Promise<VerifyOutcome> {
  const s = await migrationStatus(client, name);
  if (!s.migration.plan) throw new Error(`migration ${name} carries no plan in its status`);
  const report = await client.workflow.execute(verifyWorkflow, {
    taskQueue,
    workflowId: workflowIds(name).verify(Date.now()),
    args: [
      {
        plan: s.migration.plan,
        databases: s.databases.map((d) => ({ database: d.database, targetDatabase: d.targetDatabase })),
        checksum,
      },
    ],
  });
  return { report, lag: s.databases.map((d) => ({ database: d.database, lagBytes: d.cdc?.lagBytes, phase: d.phase })) };
}

export function renderVerify(v: VerifyOutcome): string {
  const lines: string[] = [];
  for (const d of v.report.databases) {
    lines.push(
      `database ${d.database} -> ${d.targetDatabase} (${v.report.checksum ? 'counts and checksums' : 'counts'})`,
    );
    for (const t of d.tables) {
      lines.push(
        `  ${t.equal ? 'same' : 'DIFF'}  ` +
          `${t.table}${t.targetTable !== t.table ? ` -> ${t.targetTable}` : ''}: ${t.sourceRows} / ` +
          `${t.targetRows} rows${t.sourceChecksum && !t.equal ? ` checksum ${t.sourceChecksum} / ${t.targetChecksum}` : ''}`,
      );
    }
  }
  const lagging = v.lag.filter(
    (l) => (l.lagBytes ?? 0) > 0 && !['completed', 'fencing', 'draining', 'finalizing'].includes(l.phase),
  );
  if (lagging.length)
    lines.push(
      `note: compared while replication lag was ` +
        `${lagging.map((l) => `${l.lagBytes} bytes on ${l.database}`).join(', ')}; differences may be changes not yet applied`,
    );
  const differ = v.report.databases.flatMap((d) => d.tables.filter((t) => !t.equal).map((t) => t.table));
  lines.push(differ.length ? `${differ.length} tables differ: ${differ.join(', ')}` : 'all tables equal');
  return lines.join('\n');
}
