/** What the `status` queries return. Pure data: bundled into workflows, read by the CLI. */
import type { Plan } from '../plan/plan';

export type MigrationPhase =
  | 'precheck'
  | 'prepare'
  | 'schema'
  | 'full_load'
  | 'post_data'
  | 'catch_up'
  | 'incremental'
  | 'fencing'
  | 'draining'
  | 'finalizing'
  /** switchover.reverse: the switchover completed, the target's changes stream back to the fenced source. */
  | 'reverse'
  /** The rollback runs: the target fenced, the reverse stream drained, the sequences copied back. */
  | 'rolling_back'
  /** The rollback completed: the source takes writes again, the target is fenced. */
  | 'rolled_back'
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface TableProgress {
  /** Source name, schema.table. */
  table: string;
  /** Its partition root (itself when not a partition). */
  root?: string;
  /** Name on the target after mapping. */
  targetTable: string;
  estRows: number;
  estBytes: number;
  rows: number;
  bytes: number;
  chunksDone: number;
  chunksTotal: number;
  /** Chunks copied outside the snapshot (it was lost). */
  lateChunks: number;
  startedAt?: string;
  endedAt?: string;
}

export interface StepRecord {
  step: string;
  startedAt: string;
  endedAt?: string;
  detail?: string;
}

export interface DatabaseStatus {
  workflowId: string;
  database: string;
  targetDatabase: string;
  phase: MigrationPhase;
  startedAt: string;
  updatedAt: string;
  /** The snapshot the load reads from, and the slot the change stream will start from. */
  snapshot?: { lsn: string; slot: string | null; lost: boolean };
  /** When the snapshot was lost: the WAL position after the last late copy (the stream is idempotent up to it). */
  lateHorizonLsn?: string;
  tables: TableProgress[];
  totals: {
    chunksDone: number;
    chunksTotal: number;
    lateChunks: number;
    rows: number;
    bytes: number;
    estBytes: number;
  };
  /** Bytes per second over the full load so far. */
  throughput?: number;
  etaSeconds?: number;
  steps: StepRecord[];
  warnings: string[];
  error?: string;
  /** Activities failing and being tried again, by activity id: what failed, how often, since when. */
  retrying?: Record<
    string,
    { activity: string; type: string; error: string; attempt: number; since: string; lastAt: string }
  >;
  /** Change capture (full+cdc), from the last round that ended. */
  cdc?: CdcStatus;
  switchover?: SwitchoverReport;
  /** verify.every: the latest scheduled comparison, and when the next one is due. */
  verification?: ScheduledVerification;
  /** switchover.reverse: the target -> source stream after the switchover (its slot on the target). */
  reverse?: ReverseStatus;
  rollback?: RollbackReport;
  /** What notifications already told (carried across continue-as-new, so a crossing is told once). */
  notified?: { lagAbove?: boolean; stalled?: boolean };
}

export interface CdcStatus {
  paused: boolean;
  /** A round is reading the stream right now (false once a pause or stop has taken effect). */
  streaming?: boolean;
  /** Why applying stopped (conflict, schema drift); a resume signal retries after the fix. */
  stalled?: { reason: string; type: string; details?: unknown };
  appliedLsn: string | null;
  sourceLsn?: string;
  /** Source WAL position minus what the target has applied and committed. */
  lagBytes?: number;
  lagSeconds?: number;
  /** WAL the slot keeps on the source. */
  retainedWalBytes?: number;
  transactions: number;
  rounds: number;
  /** Applied rows per table and kind, and conflicts skipped or overwritten. */
  tables: Record<string, { insert: number; update: number; delete: number; truncate: number; conflicts: number }>;
  lastRoundAt?: string;
  /** When the open stream last reported (cdcProgressSignal). */
  reportedAt?: string;
  /** A source transaction larger than a batch, being applied in parts inside one target transaction. */
  largeTransaction?: { commitLsn: string; changesApplied: number } | null;
}

export interface SwitchoverReport {
  database: string;
  fencedAt: string;
  doneAt: string;
  /** Fence to done: the time the application could not write. */
  writeDowntimeMs: number;
  terminatedSessions: number;
  fenceLsn: string;
  tablesVerified: number;
  verify: 'count' | 'checksum';
  sequencesCopied: number;
  slotKept: boolean;
  /** Through PgBouncer: PAUSE to RESUME, the time the application's transactions waited in the pooler. */
  poolerPauseMs?: number;
  /** The source stays read-only; this undoes it. */
  sourceNote: string;
}

/** The reverse stream: the same counts as change capture, from the target's slot to the source. */
export interface ReverseStatus extends CdcStatus {
  slot: string;
  publication: string;
  /** The target's WAL position when the slot was created: every later write on the target is captured. */
  startLsn: string;
  /** The switchover ended and the reverse stream began. */
  since?: string;
  /** Set once the slot and publication are dropped (finish or rollback): nothing streams any more. */
  ended?: 'finished' | 'rolled_back';
}

export interface RollbackReport {
  database: string;
  /** When the target was fenced, and when the source took writes again. */
  fencedAt: string;
  doneAt: string;
  /** Target fenced to source writable: the time the application could not write. */
  writeDowntimeMs: number;
  terminatedSessions: number;
  /** The target's fence marker, and the last target transaction applied to the source. */
  fenceLsn: string;
  appliedLsn: string | null;
  tablesVerified: number;
  verify: 'count' | 'checksum';
  sequencesCopied: number;
  /** Through PgBouncer: PAUSE to RESUME on the source, the wait the application saw. */
  poolerPauseMs?: number;
  /** The target stays read-only; this undoes it. */
  targetNote: string;
}

export interface MigrationStatus {
  workflowId: string;
  name: string;
  mode: 'full' | 'full+cdc';
  phase: MigrationPhase;
  startedAt: string;
  precheck?: { pass: number; warn: number; fail: number; failing: string[] };
  /** Child workflow per database: query each for its own status. */
  databases: {
    database: string;
    workflowId: string;
    phase: MigrationPhase;
    lagBytes?: number;
    ready?: boolean;
    reason?: string;
  }[];
  error?: string;
  /** What did not stop the migration but should be looked at (a notification not delivered). */
  warnings?: string[];
  /** The plan as started (references only, no secrets): `pgtransit verify` reuses it. */
  plan?: Plan;
  switchover?: {
    state: 'running' | 'completed' | 'failed';
    reports: SwitchoverReport[];
    error?: string;
    requestedAt: string;
  };
  /** pgtransit rollback (switchover.reverse), as the switchover above. */
  rollback?: {
    state: 'running' | 'completed' | 'failed';
    reports: RollbackReport[];
    error?: string;
    requestedAt: string;
  };
}

/** What a database workflow tells its migration workflow whenever its phase or readiness changes. */
export interface DatabaseState {
  database: string;
  phase: MigrationPhase;
  lagBytes?: number;
  /** Ready for switchover: in incremental, lag under the bound, not paused or stalled. */
  ready: boolean;
  reason?: string;
}

/** One scheduled comparison (plan verify.every) at a verification point while streaming. */
export interface ScheduledVerification {
  /** When the next one is due. */
  nextAt: string;
  /** How many have run (an error counts). */
  runs: number;
  /** While one runs: since when. */
  runningSince?: string;
  /** The latest one, once one has run. */
  latest?: {
    startedAt: string;
    endedAt: string;
    /** The point: both sides compared with exactly the source transactions committed before it. */
    lsn?: string;
    checksum: boolean;
    tables: number;
    equal: boolean;
    /** The tables that differ, as the switchover's verification describes them. */
    differences: string[];
    /** Rewritten meanwhile (TRUNCATE and the like): not compared this time. */
    deferred: string[];
    /** The comparison could not be made this time (no point could be taken, a server was away). */
    error?: string;
  };
}
