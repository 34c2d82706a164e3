/**
 * The migration's state on the target, in the `pgtransit` schema. A chunk's rows and
 * its done-marker commit in one transaction: that is what makes a retried chunk
 * safe (it finds its marker and skips, or finds nothing and redoes everything).
 */
import type pg from 'pg';

export const STATE_SCHEMA = 'pgtransit';

const DDL = `
CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA};
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.chunks (
  migration text NOT NULL,
  database text NOT NULL,
  chunk_id text NOT NULL,
  rows bigint NOT NULL,
  bytes bigint NOT NULL,
  late boolean NOT NULL DEFAULT false,
  done_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (migration, database, chunk_id)
);
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.applied (
  migration text NOT NULL,
  database text NOT NULL,
  lsn pg_lsn NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (migration, database)
);
`;

export async function ensureStateSchema(client: pg.Client): Promise<void> {
  // Two workers may prepare at once after a retry; the lock makes IF NOT EXISTS race-free.
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('pgtransit.state'))`);
    await client.query(DDL);
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

export interface ChunkMarker {
  rows: number;
  bytes: number;
  late: boolean;
}

/** Inside the chunk's transaction: takes the chunk's lock and returns its marker when already done. */
export async function lockChunk(client: pg.Client, migration: string, database: string, chunkId: string): Promise<ChunkMarker | null> {
  // Two attempts of one chunk (a retry while the old attempt still runs) serialize here.
  await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${migration}/${database}/${chunkId}`]);
  const { rows } = await client.query<{ rows: string; bytes: string; late: boolean }>(
    `SELECT rows, bytes, late FROM ${STATE_SCHEMA}.chunks WHERE migration = $1 AND database = $2 AND chunk_id = $3`,
    [migration, database, chunkId],
  );
  const r = rows[0];
  return r ? { rows: Number(r.rows), bytes: Number(r.bytes), late: r.late } : null;
}

export async function markChunkDone(client: pg.Client, migration: string, database: string, chunkId: string, m: ChunkMarker): Promise<void> {
  await client.query(`INSERT INTO ${STATE_SCHEMA}.chunks (migration, database, chunk_id, rows, bytes, late) VALUES ($1, $2, $3, $4, $5, $6)`, [
    migration,
    database,
    chunkId,
    m.rows,
    m.bytes,
    m.late,
  ]);
}

/** Every chunk already done for this migration and database (the workflow's view after a restart). */
export async function doneChunks(client: pg.Client, migration: string, database: string): Promise<Map<string, ChunkMarker>> {
  const exists = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [STATE_SCHEMA]);
  if (!exists.rowCount) return new Map();
  const { rows } = await client.query<{ chunk_id: string; rows: string; bytes: string; late: boolean }>(
    `SELECT chunk_id, rows, bytes, late FROM ${STATE_SCHEMA}.chunks WHERE migration = $1 AND database = $2`,
    [migration, database],
  );
  return new Map(rows.map((r) => [r.chunk_id, { rows: Number(r.rows), bytes: Number(r.bytes), late: r.late }]));
}

/** Removes the state schema once a migration no longer needs it. */
export async function dropStateSchema(client: pg.Client): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${STATE_SCHEMA} CASCADE`);
}
