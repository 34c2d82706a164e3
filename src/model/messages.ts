/**
 * Every signal, query and update, defined once. Workflows set handlers with these,
 * and the CLI, the tests and the benchmarks send with them: a message is never named
 * by a string anywhere else. The names are recorded in history: never rename one.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SnapshotSignal, StreamProgress } from './activities';
import type { DatabaseState, DatabaseStatus, MigrationStatus, RollbackReport, SwitchoverReport } from './status';

/** migrationWorkflow: the migration's status (phase, databases, switchover). */
export const statusQuery = defineQuery<MigrationStatus>('status');
/** migrateDatabaseWorkflow: one database's status (tables, chunks, change capture, steps). */
export const databaseStatusQuery = defineQuery<DatabaseStatus>('databaseStatus');

/** Operator or service: switch over now; answers with the reports, or a rejection saying why not now. */
export const switchoverUpdate = defineUpdate<{ reports: SwitchoverReport[] }, []>('switchover');
/** The same for fire-and-forget callers; the outcome is in status. */
export const switchoverRequestSignal = defineSignal('switchoverRequest');
/** Stop applying changes (the migration forwards it to every database). */
export const pauseSignal = defineSignal('pause');
/** Apply again; also retries after a conflict or schema drift was fixed. */
export const resumeSignal = defineSignal('resume');

/** holdSnapshot -> its database workflow: the snapshot is ready, or lost. */
export const snapshotSignal = defineSignal<[SnapshotSignal]>('snapshot');
/** Migration -> database: run the switchover. */
export const switchoverDatabaseSignal = defineSignal('switchoverDatabase');
/** Database -> migration: phase and readiness changed. */
export const databaseStateSignal = defineSignal<[DatabaseState]>('databaseState');

/** An activity of a database workflow failed and will be tried again (or recovered after retries). */
export interface ActivityRetry {
  activityId: string;
  activity: string;
  attempt: number;
  type?: string;
  error?: string;
  recovered?: boolean;
  at: string;
}
/** Activity -> its database workflow: shown in status while the activity retries. */
export const activityRetrySignal = defineSignal<[ActivityRetry]>('activityRetry');

/** How one database's switchover ended. */
export interface SwitchoverOutcome {
  database: string;
  report?: SwitchoverReport;
  error?: string;
}
/** Database -> migration: the switchover of one database ended. */
export const switchoverDoneSignal = defineSignal<[SwitchoverOutcome]>('switchoverDone');

/**
 * The switchover of several databases is atomic: each fences, drains, copies its sequences
 * and verifies (prepared, or an error), then the migration tells every one to finish or to
 * un-fence. Database -> migration: prepared (or why not).
 */
export const switchoverPreparedSignal = defineSignal<[{ database: string; error?: string }]>('switchoverPrepared');
/** Migration -> database: finish the prepared switchover (commit), or un-fence and go back to incremental. */
/** From the change stream's activity to its workflow, every few seconds: status and lag while the stream stays open. */
export const cdcProgressSignal = defineSignal<[StreamProgress]>('cdcProgress');

export const switchoverVerdictSignal = defineSignal<[{ commit: boolean; reason?: string }]>('switchoverVerdict');

/**
 * switchover.reverse, after the switchover: back to the source with every write the target took
 * (fence the target, drain the reverse stream, sequences back, the source writable again).
 */
export const rollbackUpdate = defineUpdate<{ reports: RollbackReport[] }, []>('rollback');
/** switchover.reverse: end the reverse stream without rolling back (the source stays fenced); answers the databases. */
export const finishUpdate = defineUpdate<{ databases: string[] }, []>('finish');
/** Migration -> database: roll back, or finish the reverse stream. */
export const rollbackDatabaseSignal = defineSignal('rollbackDatabase');
export const finishDatabaseSignal = defineSignal('finishDatabase');
/** Database -> migration: ready to let the application back onto the source (or why not). */
export const rollbackPreparedSignal = defineSignal<[{ database: string; error?: string }]>('rollbackPrepared');
/** Migration -> database: un-fence the source (commit), or un-fence the target and go back to reverse. */
export const rollbackVerdictSignal = defineSignal<[{ commit: boolean; reason?: string }]>('rollbackVerdict');
/** How one database's rollback ended. */
export interface RollbackOutcome {
  database: string;
  report?: RollbackReport;
  error?: string;
}
/** Database -> migration: the rollback of one database ended. */
export const rollbackDoneSignal = defineSignal<[RollbackOutcome]>('rollbackDone');
