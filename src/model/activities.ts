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
  kind: 'all' | 'key' | 'ctid';
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
}

export type CopyChunkInput = DatabaseScope & { chunk: Chunk; snapshot: string | null };

export interface CopyResult {
  chunkId: string;
  rows: number;
  bytes: number;
  /** Already done by an earlier attempt: nothing was copied now. */
  skipped: boolean;
  late: boolean;
  /** For a late copy: the source's WAL position after it; the change stream is idempotent up to here. */
  horizonLsn: string | null;
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
};

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
}

export type FenceInput = DatabaseScope & { id: string; sourceMajor: number };

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

export type CompareInput = DatabaseScope & { checksum: boolean };

export interface TableComparison {
  table: string;
  targetTable: string;
  sourceRows: number;
  targetRows: number;
  sourceChecksum?: string;
  targetChecksum?: string;
  equal: boolean;
}
