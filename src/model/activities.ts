/**
 * What activities take and return: the contract between workflows and activities.
 * Pure types, bundled into workflows; activities/ and src/postgres/ implement them.
 * Never rows: names, ranges, counts and WAL positions only.
 */
import type { Plan } from '../plan/plan';
import type { CheckItem } from './report';

/** Where one database goes: the activities' common input. */
export interface DatabaseScope {
  plan: Plan;
  database: string;
  targetDatabase: string;
}

export type Side = 'source' | 'target';
export type Section = 'pre-data' | 'post-data';
export type ConflictPolicy = Plan['cdc']['conflictPolicy'];

export interface DatabaseAssessment {
  items: CheckItem[];
  selectedTables: number;
  selectedBytes: number;
}

export interface PrepareTargetResult {
  createdDatabase: boolean;
  extensions: string[];
}

export interface RolesResult {
  created: string[];
  existing: string[];
  /** copied: hashes read from pg_authid; unreadable: roles created without a password. */
  passwords: 'copied' | 'unreadable' | 'none';
  skippedSuperuser: string[];
}

export interface PublicationResult {
  publication: string;
  created: boolean;
  tables: number;
}

/** What DDL capture installed on the source (nothing when an earlier attempt did). */
export interface DdlCaptureResult {
  installed: boolean;
  schema: string;
  triggers: string[];
  /** cdc.ddl unset and the source cannot capture DDL: why nothing was installed (DDL then stops as drift). */
  skipped?: string;
}

export interface SnapshotInfo {
  /** Name for SET TRANSACTION SNAPSHOT. */
  snapshot: string;
  /** WAL position of the snapshot: the slot's consistent point, or pg_current_wal_lsn(). */
  lsn: string;
  /** The slot created with it (full+cdc only). */
  slot: string | null;
}

/** The signal holdSnapshot sends to its workflow: ready (with the snapshot) or lost. */
export type SnapshotSignal = { ready: SnapshotInfo } | { lost: string };

export type HoldSnapshotInput = DatabaseScope & { sourceMajor: number };

export type RestoreSchemaInput = DatabaseScope & {
  section: Section;
  snapshot: string | null;
  sourceMajor: number;
  targetMajor: number;
  /**
   * post-data of this table only, and of it only its indexes and its key, unique and exclusion
   * constraints: built as soon as the table is copied, while the load copies the others (the
   * section restored afterwards finds them present and leaves them out).
   */
  table?: { schema: string; name: string };
};

export interface RestoreResult {
  restored: number;
  skipped: number;
}

export interface TablePlan {
  table: string;
  /** The partition root (the name the change stream uses for a partition's rows). */
  root: string;
  targetTable: string;
  estRows: number;
  estBytes: number;
}

export interface Chunk {
  /** Stable id: `schema.table/part`. */
  id: string;
  schema: string;
  name: string;
  part: number;
  parts: number;
  /** The whole table, a key range, a block range, or a range of large objects (by OID). */
  kind: 'all' | 'key' | 'ctid' | 'lo';
  column?: string;
  /** Inclusive lower bound; null: open. */
  lo: string | null;
  /** Exclusive upper bound; null: open. */
  hi: string | null;
  estBytes: number;
  estRows: number;
}

export interface LoadPlan {
  tables: TablePlan[];
  chunks: Chunk[];
  /** The snapshot could not be imported to plan the load: it is lost (why). */
  snapshotLost?: string;
}

export type CopyChunkInput = DatabaseScope & { chunk: Chunk; snapshot: string | null };

/** The load is planned inside the snapshot it copies (a table created after it is not in pre-data either). */
export type PlanChunksInput = DatabaseScope & { snapshot?: string | null };

export interface CopyResult {
  chunkId: string;
  rows: number;
  bytes: number;
  /** Already done by an earlier attempt: nothing was copied now. */
  skipped: boolean;
  late: boolean;
  /** For a late copy: the source's WAL position after it; the change stream is idempotent up to here. */
  horizonLsn: string | null;
  /** A late copy of a table in chunks copies it whole: these rows replace what its chunks copied before. */
  wholeTable?: boolean;
}

/** The switchover's fence as the change stream looks for it: the marker's content (14+) or its LSN. */
export interface Fence {
  id: string;
  lsn: string;
}

export type ApplyChangesInput = DatabaseScope & {
  sourceMajor: number;
  lateTables: string[];
  lateHorizonLsn: string | null;
  maxSeconds: number;
  fence: Fence | null;
  /**
   * A stream that stays open for `maxSeconds` tells the workflow how far it got every
   * `everySeconds` (cdcProgressSignal), as stream number `stream` of this run.
   */
  progress?: { stream: number; everySeconds: number };
};

/** How far an open change stream got: what it applied since it began, and the lag now. */
export interface StreamProgress {
  /** The stream (ApplyChangesInput.progress.stream) and the activity attempt reporting. */
  stream: number;
  attempt: number;
  appliedLsn: string | null;
  processedLsn: string;
  sourceLsn: string | null;
  lagBytes: number;
  lagSeconds: number;
  /** Since this attempt began. */
  transactions: number;
  counts: Record<string, TableCounts>;
  /** A source transaction too large for one batch, being applied in parts. */
  largeTransaction: LargeTransactionProgress | null;
}

export interface LargeTransactionProgress {
  commitLsn: string;
  changesApplied: number;
}

export interface TableCounts {
  insert: number;
  update: number;
  delete: number;
  truncate: number;
  conflicts: number;
}

export interface RoundResult {
  /** Commit LSN of the last transaction applied and committed on the target. */
  appliedLsn: string | null;
  /** Everything before this position is applied (or had nothing for us). */
  processedLsn: string | null;
  sourceLsn: string;
  lagBytes: number;
  lagSeconds: number;
  retainedWalBytes: number;
  transactions: number;
  counts: Record<string, TableCounts>;
  lastCommitTime: string | null;
  fenceApplied: boolean;
  /** A round stopping at a verification point got there (everything before it applied, nothing after). */
  pointReached?: boolean;
  /** The activity attempt that returned this (its progress reports carry the same). */
  attempt?: number;
}

export type FenceInput = DatabaseScope & { id: string; sourceMajor: number };

/** The fence's check: nothing committed on the source after it. */
export type VerifyFenceInput = DatabaseScope & { sourceMajor: number; fence: Fence };

export interface FenceResult {
  /** Content of the WAL marker (sources 14+), empty when fenced by LSN only. */
  id: string;
  lsn: string;
  fencedAt: string;
  terminatedSessions: number;
}

export interface SequenceCopy {
  sequence: string;
  targetSequence: string;
  value: string;
  isCalled: boolean;
}

/** Large objects brought level at the switchover (logical decoding does not carry them). */
export interface LargeObjectSync {
  created: number;
  unlinked: number;
  bytes: number;
}

export type CompareInput = DatabaseScope & {
  checksum: boolean;
  /** Also find the rows that differ in each table that differs (`pgtransit verify --rows`). */
  rows?: RowsOption;
};

/** The comparison at a verification point, while streaming: the stream is brought to the point first. */
export type VerifyAtPointInput = DatabaseScope & {
  sourceMajor: number;
  lateTables: string[];
  lateHorizonLsn: string | null;
  /** How long the stream may take to reach the point. */
  maxSeconds: number;
  checksum: boolean;
};

export interface PointVerification {
  /** The point: both sides compared with exactly the source transactions committed before it. */
  lsn: string;
  /** The target's applied position in its snapshot (the last source transaction before the point). */
  appliedLsn: string | null;
  compared: TableComparison[];
  /** Tables that differed but were rewritten since the snapshots (TRUNCATE, ALTER TABLE, VACUUM FULL): compared whole inside the fence. */
  deferred?: string[];
  /** What the stream applied to reach the point, and while the snapshots were compared. */
  round: RoundResult;
  followed: RoundResult | null;
}

/** The fenced comparison of what changed since the verification point (compare-changed.ts). */
export interface ChangedComparison {
  /** The point changes were tracked from; null: no point (or DDL since), nothing compared. */
  since: string | null;
  compared: TableComparison[];
  /** Keys compared (rows changed since the point), the tables they are in, and tables compared whole. */
  keys: number;
  keyedTables: number;
  wholeTables: number;
}

export interface RowsOption {
  /** How many differing rows to name per table. */
  limit: number;
  /** Only these tables (schema.name or name); all when absent. */
  tables?: string[];
}

export interface RowDifference {
  kind: 'missing' | 'extra' | 'different';
  /** The row's key as text (the whole row for a table without a key). */
  key: string;
}

export interface RowDiff {
  /** The key columns, or 'the whole row'. */
  key: string | string[];
  missing: number;
  extra: number;
  different: number;
  /** The first differing rows, at most RowsOption.limit. */
  samples: RowDifference[];
  /** False when some differing buckets were too large to match row by row: the counts are then lower bounds. */
  exact: boolean;
  bucketsDiffering: number;
}

export interface TableComparison {
  table: string;
  targetTable: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum?: string;
  targetChecksum?: string;
  equal: boolean;
  /** With CompareInput.rows, for a table that differs: which rows. */
  rows?: RowDiff;
}

/** switchover.reverse: the target's changes, streamed back to the fenced source. */
export type ApplyReverseInput = DatabaseScope & {
  targetMajor: number;
  maxSeconds: number;
  /** The rollback's fence on the target: the stream stops once it is applied to the source. */
  fence: Fence | null;
  progress?: { stream: number; everySeconds: number };
};

/** The target's side of the reverse stream, made at the switchover. */
export interface ReversePrepared {
  slot: string;
  publication: string;
  /** The slot's consistent point on the target. */
  startLsn: string;
  tables: number;
}

/** The rollback's fence: the target database read-only for the application. */
export type FenceTargetInput = DatabaseScope & { id: string; targetMajor: number };
