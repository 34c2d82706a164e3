/** `pgtransit start | status | abort`: the migration from the operator's side. */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { formatBytes as fmtBytes, formatSeconds as fmtSeconds } from '../model/format';
import { databaseStatusQuery, finishUpdate, rollbackUpdate, statusQuery, switchoverUpdate } from '../model/messages';
import { workflowIds } from '../model/names';
import type {
  DatabaseStatus,
  MigrationStatus,
  RollbackReport,
  ScheduledVerification,
  SwitchoverReport,
} from '../model/status';
import type { VerifyReport } from '../model/workflows';
import type { RowDiff, RowsOption } from '../model/activities';
import type { Plan } from '../plan/plan';
import { migrationWorkflow, verifyWorkflow } from '../../workflows';

/**
 * An operator's command refused before it did anything: an unknown migration, one already
 * running (start) or already finished (abort, switchover, pause). The message says so and
 * what to do; the CLI prints it and exits 2.
 */
export class CommandRefused extends Error {
  override name = 'CommandRefused';
}

/**
 * Starts the migration, or finds the one of that name already running (`existing`, with the
 * run's start time): it is never attached to silently, and the plan given is then not applied.
 */
export async function startMigration(
  client: Client,
  plan: Plan,
  taskQueue: string,
  options: { startAt?: Date } = {},
): Promise<{ workflowId: string; runId: string; existing: boolean; startedAt?: string }> {
  const workflowId = workflowIds(plan.name).migration;
  try {
    const handle = await client.workflow.start(migrationWorkflow, {
      args: [plan],
      taskQueue,
      workflowId,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      // Temporal holds the first workflow task until then: no worker runs anything before.
      ...(options.startAt
        ? {
            startDelay: Math.max(1, options.startAt.getTime() - Date.now()),
            memo: { [START_AT_MEMO]: options.startAt.toISOString() },
          }
        : {}),
    });
    return { workflowId, runId: handle.firstExecutionRunId, existing: false };
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const running = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId: running.runId, existing: true, startedAt: running.startTime.toISOString() };
  }
}

const EXAMPLE_AT = '2026-12-24T02:00:00Z';

/**
 * The time of `start --at`: ISO 8601 with a time zone (Z or an offset), ahead of `now`. A
 * time without a zone would be read in the CLI's own, which may not be the operator's.
 */
export function parseStartTime(value: string, now: Date): Date {
  const howTo = `write the time as ISO 8601 with its zone, e.g. --at ${EXAMPLE_AT} (UTC) or --at 2026-12-24T03:00:00+01:00`;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/i.test(value) || Number.isNaN(Date.parse(value)))
    throw new CommandRefused(`--at ${value}: not a time pgtransit can read; ${howTo}. Nothing was started`);
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(value))
    throw new CommandRefused(`--at ${value}: no time zone; ${howTo}. Nothing was started`);
  const at = new Date(value);
  if (at.getTime() <= now.getTime())
    throw new CommandRefused(
      `--at ${value} is in the past (now is ${now.toISOString()}): give a time ahead, e.g. --at ${EXAMPLE_AT}, ` +
        'or leave --at out to start now. Nothing was started',
    );
  return at;
}

/** A migration started with --at whose time has not come: when it starts. */
export interface ScheduledStart {
  workflowId: string;
  runId: string;
  /** When Temporal runs its first workflow task (ISO 8601). */
  at: string;
}

/** Memo key of the time `start --at` asked for (the delay Temporal keeps counts from the server's receipt). */
const START_AT_MEMO = 'startAt';

function scheduledOf(d: WorkflowExecutionDescription): ScheduledStart | null {
  // executionTime: the start time plus the start delay, when the first workflow task is due.
  if (d.status.name !== RUNNING || !d.executionTime || d.executionTime.getTime() <= Date.now()) return null;
  const asked = d.memo?.[START_AT_MEMO];
  return {
    workflowId: d.workflowId,
    runId: d.runId,
    at: typeof asked === 'string' ? asked : d.executionTime.toISOString(),
  };
}

/** Refuses a command that needs the migration under way while it waits for its start time. */
function notStarted(name: string, s: ScheduledStart, what: string): CommandRefused {
  return new CommandRefused(
    `migration ${name} is scheduled to start at ${s.at} and has not started: there is nothing to ${what} yet, and ` +
      `nothing was done. pgtransit status ${name} shows when it starts; pgtransit abort ${name} cancels it`,
  );
}

/** The migration when it is scheduled and has not started; null when it has (or never was scheduled). */
export async function scheduledStart(client: Client, name: string): Promise<ScheduledStart | null> {
  return scheduledOf((await describeMigration(client, name)).description);
}

export function renderScheduled(name: string, s: ScheduledStart): string {
  const seconds = Math.max(0, Math.round((Date.parse(s.at) - Date.now()) / 1000));
  return [
    `migration ${name} (${s.workflowId}, run ${s.runId}): scheduled to start at ${s.at} (in ${fmtSeconds(seconds)})`,
    '  nothing has run yet: no precheck, nothing created on the source or the target',
    `  pgtransit abort ${name} cancels it; pgtransit status ${name} --watch follows it once it runs`,
  ].join('\n');
}

export function renderAbortedBeforeStart(name: string, s: ScheduledStart, ended: string): string {
  return (
    `migration ${name} was scheduled for ${s.at} and had not started: aborted (${s.workflowId}, run ${s.runId}, ` +
    `${ended}); nothing was created on the source or the target`
  );
}

/** The migration's handle and description; an unknown name is refused. */
async function describeMigration(
  client: Client,
  name: string,
): Promise<{ handle: WorkflowHandle<typeof migrationWorkflow>; description: WorkflowExecutionDescription }> {
  const handle = client.workflow.getHandle<typeof migrationWorkflow>(workflowIds(name).migration);
  try {
    return { handle, description: await handle.describe() };
  } catch (e) {
    if (e instanceof WorkflowNotFoundError)
      throw new CommandRefused(
        `no migration named ${name} (workflow ${workflowIds(name).migration}): check the name, or start one with pgtransit start -f PLAN`,
      );
    throw e;
  }
}

const RUNNING = 'RUNNING';

function ended(d: WorkflowExecutionDescription): string {
  return `${d.status.name}${d.closeTime ? ` at ${d.closeTime.toISOString()}` : ''}`;
}

/** Refuses a command that needs the migration running once it has finished. */
function finished(name: string, d: WorkflowExecutionDescription, what: string): CommandRefused {
  return new CommandRefused(
    `migration ${name} has already finished (${ended(d)}): there is nothing to ${what}, and nothing was done; ` +
      `pgtransit status ${name} shows how it ended`,
  );
}

/** The running migration, for a command that needs it running (pause, resume). */
export async function runningMigration(
  client: Client,
  name: string,
  what: string,
): Promise<WorkflowHandle<typeof migrationWorkflow>> {
  const { handle, description } = await describeMigration(client, name);
  if (description.status.name !== RUNNING) throw finished(name, description, what);
  const scheduled = scheduledOf(description);
  if (scheduled && what !== 'abort') throw notStarted(name, scheduled, what);
  return handle;
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
  const { handle, description } = await describeMigration(client, name);
  const scheduled = scheduledOf(description);
  // No worker has run it yet: a query would wait for the start time.
  if (scheduled) throw notStarted(name, scheduled, 'show or compare');
  const execution = description.status.name;
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

export async function abortMigration(
  client: Client,
  name: string,
): Promise<FullStatus | { scheduled: ScheduledStart; ended: string }> {
  const handle = await runningMigration(client, name, 'abort');
  const scheduled = scheduledOf(await handle.describe());
  await handle.cancel();
  if (scheduled) {
    // A cancellation request waits for the start delay like the first workflow task; before
    // its time the migration has run nothing, so ending it here leaves nothing behind.
    const d = await handle.describe();
    if (d.status.name !== RUNNING) return { scheduled, ended: d.status.name };
    if (scheduledOf(d)) {
      await handle.terminate(`aborted before its scheduled start at ${scheduled.at}: nothing had run`);
      return { scheduled, ended: 'TERMINATED' };
    }
    // Its time came meanwhile: the cancellation request ends it as it ends any running migration.
  }
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
  if (m.rollback) lines.push(`  rollback: ${m.rollback.state}${m.rollback.error ? ` (${m.rollback.error})` : ''}`);
  for (const w of m.warnings ?? []) lines.push(`  warning: ${w}`);
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
    if (d.reverse) {
      const c = d.reverse;
      lines.push(
        `  reverse stream (target -> source, slot ${c.slot} on the target): ` +
          (c.ended
            ? c.ended === 'finished'
              ? 'finished'
              : 'rolled back'
            : `${c.paused ? 'PAUSED, ' : ''}${c.stalled ? 'STOPPED, ' : ''}lag ${c.lagBytes ?? '?'} bytes / ` +
              `${c.lagSeconds ?? '?'} s, applied ${c.appliedLsn ?? '-'}, ${c.transactions} transactions in ${c.rounds} streams`),
      );
      for (const [table, n] of Object.entries(c.tables))
        lines.push(
          `    ${table}: +${n.insert} ~${n.update} -${n.delete}${n.conflicts ? ` conflicts ${n.conflicts}` : ''}`,
        );
      if (c.stalled) lines.push(`  stopped: ${c.stalled.reason}`);
    }
    if (d.verification) lines.push(...renderVerification(d.verification));
    if (d.rollback)
      lines.push(
        `  rollback: write downtime ${d.rollback.writeDowntimeMs} ms, ${d.rollback.tablesVerified} tables verified, ` +
          `${d.rollback.sequencesCopied} sequences copied back`,
      );
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

/** The Update's validator refused: nothing was done, and a later request may succeed. */
const NOT_POSSIBLE_NOW = 'switchover not possible now';

export async function switchover(client: Client, name: string): Promise<{ reports: SwitchoverReport[] }> {
  const scheduled = await scheduledStart(client, name).catch(() => null);
  if (scheduled) throw notStarted(name, scheduled, 'switch over');
  const handle = client.workflow.getHandle(workflowIds(name).migration);
  try {
    return await handle.executeUpdate(switchoverUpdate);
  } catch (e) {
    const refusal = e instanceof WorkflowUpdateFailedError && e.cause instanceof Error ? e.cause.message : '';
    if (refusal.startsWith(NOT_POSSIBLE_NOW)) {
      const later = /mode \S+ has no switchover/.test(refusal)
        ? ''
        : `; once pgtransit status ${name} shows every database incremental, not paused, with its lag under ` +
          `switchover.maxLagBytes (pgtransit resume ${name} restarts a paused one), run pgtransit switchover ${name} again`;
      throw new CommandRefused(`${refusal}${later}. Nothing was done`);
    }
    if (e instanceof WorkflowUpdateFailedError) throw e;
    // An Update to a migration that is unknown or has finished: say which, not the server's words.
    const { description } = await describeMigration(client, name);
    if (description.status.name === RUNNING) throw e;
    throw await switchoverOfFinished(client, name, description);
  }
}

async function switchoverOfFinished(
  client: Client,
  name: string,
  d: WorkflowExecutionDescription,
): Promise<CommandRefused> {
  // A finished migration still answers its status query (the worker replays it).
  const s = await client.workflow
    .getHandle(workflowIds(name).migration)
    .query(statusQuery)
    .catch(() => null);
  if (s?.switchover?.state === 'completed') {
    const at = s.switchover.reports.map((r) => r.doneAt).sort()[0] ?? s.switchover.requestedAt;
    return new CommandRefused(
      `the switchover of migration ${name} already completed at ${at}, and the migration has finished ` +
        `(${ended(d)}): the target is the database to use now. Nothing was done; pgtransit status ${name} shows ` +
        "the switchover's report",
    );
  }
  const why =
    s?.mode === 'full' ? 'mode full completes after the full load, with no switchover' : 'it cannot switch over';
  return new CommandRefused(
    `migration ${name} has finished (${ended(d)}): ${why}. Nothing was done; to migrate again, start a new ` +
      'migration with pgtransit start -f PLAN',
  );
}

/**
 * pgtransit rollback and pgtransit finish (switchover.reverse): the Update, or a refusal saying why
 * nothing was done (no reverse stream, the switchover not completed, a finished migration).
 */
export async function reverseCommand(
  client: Client,
  name: string,
  which: 'rollback',
): Promise<{ reports: RollbackReport[] }>;
export async function reverseCommand(client: Client, name: string, which: 'finish'): Promise<{ databases: string[] }>;
export async function reverseCommand(
  client: Client,
  name: string,
  which: 'rollback' | 'finish',
): Promise<{ reports: RollbackReport[] } | { databases: string[] }> {
  const handle = client.workflow.getHandle(workflowIds(name).migration);
  try {
    return which === 'rollback' ? await handle.executeUpdate(rollbackUpdate) : await handle.executeUpdate(finishUpdate);
  } catch (e) {
    const refusal = e instanceof WorkflowUpdateFailedError && e.cause instanceof Error ? e.cause.message : '';
    if (refusal.startsWith(`${which} not possible now`)) throw new CommandRefused(`${refusal}. Nothing was done`);
    if (e instanceof WorkflowUpdateFailedError) throw e;
    const { description } = await describeMigration(client, name);
    if (description.status.name === RUNNING) throw e;
    const what = which === 'rollback' ? 'roll back' : 'finish';
    throw new CommandRefused(
      `migration ${name} has finished (${ended(description)}): there is no reverse stream to ${what}. Nothing was done`,
    );
  }
}

/** Through PgBouncer: the wait the application's transactions saw (PAUSE to RESUME). */
const poolerPause = (x: { poolerPauseMs?: number }) =>
  x.poolerPauseMs === undefined
    ? []
    : [`  pooler pause     ${x.poolerPauseMs} ms (new transactions waited in PgBouncer)`];

export function renderRollback(r: { reports: RollbackReport[] }): string {
  return r.reports
    .map((x) =>
      [
        `rollback of ${x.database} completed: the source takes writes again`,
        `  target fenced at ${x.fencedAt} (${x.terminatedSessions} application sessions ended, fence LSN ${x.fenceLsn})`,
        `  done at          ${x.doneAt}`,
        `  write downtime   ${x.writeDowntimeMs} ms`,
        ...poolerPause(x),
        `  applied to       ${x.appliedLsn ?? '-'} (the target's last transaction on the source)`,
        `  tables verified  ${x.tablesVerified} (${x.verify})`,
        `  sequences copied ${x.sequencesCopied}`,
        `  note             ${x.targetNote}`,
      ].join('\n'),
    )
    .join('\n\n');
}

export function renderSwitchover(r: { reports: SwitchoverReport[] }): string {
  return r.reports
    .map((x) =>
      [
        `switchover of ${x.database} completed`,
        `  fenced at        ${x.fencedAt} (${x.terminatedSessions} application sessions ended, fence LSN ${x.fenceLsn})`,
        `  done at          ${x.doneAt}`,
        `  write downtime   ${x.writeDowntimeMs} ms`,
        ...poolerPause(x),
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
  rows?: RowsOption,
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
        ...(rows ? { rows } : {}),
      },
    ],
  });
  return { report, lag: s.databases.map((d) => ({ database: d.database, lagBytes: d.cdc?.lagBytes, phase: d.phase })) };
}

/** verify.every: the latest scheduled comparison, and the next. */
function renderVerification(v: ScheduledVerification): string[] {
  const l = v.latest;
  const head = `  scheduled verification: ${v.runs} run, ${v.runningSince ? `one running since ${v.runningSince}` : `next at ${v.nextAt}`}`;
  if (!l) return [head];
  const what = l.error
    ? `not made: ${l.error}`
    : l.equal
      ? `${l.tables} tables equal (${l.checksum ? 'counts and checksums' : 'counts'})`
      : `DIFFERENCES: ${l.differences.join('; ')}`;
  return [
    head,
    `    latest ${l.startedAt}${l.lsn ? ` at ${l.lsn}` : ''}: ${what}` +
      (l.deferred.length ? `; rewritten meanwhile, not compared: ${l.deferred.join(', ')}` : ''),
  ];
}

/** The rows of a table that differ: counts, then the first ones by key. */
function renderRows(r: RowDiff): string[] {
  const key = Array.isArray(r.key) ? `key (${r.key.join(', ')})` : `no key: ${r.key}`;
  const atLeast = r.exact ? '' : 'at least ';
  const lines = [
    `        ${atLeast}${r.missing} missing on the target, ${atLeast}${r.extra} extra on the target, ` +
      `${atLeast}${r.different} different (${key})` +
      (r.exact ? '' : `; ${r.bucketsDiffering} hash buckets differ, some too large to search row by row`),
  ];
  for (const d of r.samples) lines.push(`        ${d.kind.padEnd(9)} ${d.key}`);
  const shown = r.missing + r.extra + r.different;
  if (shown > r.samples.length) lines.push(`        ... ${shown - r.samples.length} more (--limit)`);
  return lines;
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
      if (t.rows) lines.push(...renderRows(t.rows));
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
