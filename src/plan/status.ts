/** What the `status` queries return. Pure data: bundled into workflows, read by the CLI. */

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
  | 'completed'
  | 'failed'
  | 'cancelled';

export interface TableProgress {
  /** Source name, schema.table. */
  table: string;
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
  totals: { chunksDone: number; chunksTotal: number; lateChunks: number; rows: number; bytes: number; estBytes: number };
  /** Bytes per second over the full load so far. */
  throughput?: number;
  etaSeconds?: number;
  steps: StepRecord[];
  warnings: string[];
  error?: string;
}

export interface MigrationStatus {
  workflowId: string;
  name: string;
  mode: 'full' | 'full+cdc';
  phase: MigrationPhase;
  startedAt: string;
  precheck?: { pass: number; warn: number; fail: number; failing: string[] };
  /** Child workflow per database: query each for its own status. */
  databases: { database: string; workflowId: string; phase: MigrationPhase }[];
  error?: string;
}
