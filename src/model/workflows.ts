/** Inputs and results of the workflows. Pure types, bundled into workflows. */
import type { Plan, PlanInput } from '../plan/plan';
import type { RowsOption, TableComparison } from './activities';
import type { DatabaseStatus, MigrationPhase } from './status';

export interface DatabaseResult {
  database: string;
  phase: MigrationPhase;
  rows: number;
  bytes: number;
  lateChunks: number;
  slot: string | null;
  lsn?: string;
}

export interface MigrationResult {
  phase: MigrationPhase;
  databases: DatabaseResult[];
}

/** migrateDatabaseWorkflow: one database of the plan. */
export interface DatabaseInput {
  plan: Plan;
  database: string;
  targetDatabase: string;
  sourceMajor: number;
  targetMajor: number;
  /** The servers' host names, from the precheck (shown as search attributes; no credentials). */
  hosts?: { source: string; target: string };
  /** Set by continueAsNew during change capture: the status so far. */
  carried?: DatabaseStatus;
}

export interface VerifyInput {
  plan: PlanInput;
  databases: { database: string; targetDatabase: string }[];
  checksum: boolean;
  /** Also name the rows that differ (`pgtransit verify --rows`). */
  rows?: RowsOption;
}

export interface VerifyReport {
  equal: boolean;
  checksum: boolean;
  databases: { database: string; targetDatabase: string; tables: TableComparison[] }[];
}
