/**
 * The migration's state on the target, in the `pgtransit` schema: chunk markers (a
 * chunk's rows and its done-marker commit in one transaction, so a retried chunk finds
 * its marker and skips, or finds nothing and redoes everything) and the applied
 * position of the change stream (read and written by cdc/position.ts).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { LOCK_KEYS, STATE_SCHEMA } from '../model/names';
import { withTransaction } from './connect';
import { SqlState } from './sqlstate';

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
-- A late chunk's horizon, kept with its marker: a retry that finds the chunk done still knows it.
ALTER TABLE ${STATE_SCHEMA}.chunks ADD COLUMN IF NOT EXISTS horizon_lsn pg_lsn;
-- The horizon is exact (a slot's consistent point, the copy read in its snapshot): the stream
-- skips the table's changes committed before it and applies the rest strictly.
ALTER TABLE ${STATE_SCHEMA}.chunks ADD COLUMN IF NOT EXISTS exact boolean NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.applied (
  migration text NOT NULL,
  database text NOT NULL,
  lsn pg_lsn NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (migration, database)
);
-- DDL the change stream stopped at (not replayed automatically) that the operator handled by hand:
-- the apply skips the statement written at this position.
-- Change tracking after a verification point (cdc/changed-keys.ts): where it starts, and the
-- keys every apply transaction since changed, committed with them.
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.tracking (
  migration text NOT NULL,
  database text NOT NULL,
  lsn pg_lsn NOT NULL,
  PRIMARY KEY (migration, database)
);
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.changed (
  migration text NOT NULL,
  database text NOT NULL,
  tbl text NOT NULL,
  key text NOT NULL
);
-- Unique by the key's hash: a long key would not fit an index entry.
CREATE UNIQUE INDEX IF NOT EXISTS changed_key ON ${STATE_SCHEMA}.changed (migration, database, tbl, md5(key));
CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.ddl_skipped (
  migration text NOT NULL,
  database text NOT NULL,
  lsn pg_lsn NOT NULL,
  PRIMARY KEY (migration, database, lsn)
);
`;

/**
 * The schema's comment names the DDL it was made with: a schema already current is not
 * altered again. ALTER TABLE locks its table even when it changes nothing, and each chunk's
 * copy asks for the schema while other chunks' transactions hold the markers table: every
 * chunk would wait for all those running to commit.
 */
const DDL_MARK = `pgtransit state ${createHash('sha256').update(DDL).digest('hex').slice(0, 16)}`;

export async function ensureStateSchema(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ d: string | null }>(
    `SELECT obj_description(to_regnamespace($1), 'pg_namespace') AS d`,
    [STATE_SCHEMA],
  );
  if (rows[0]?.d === DDL_MARK) return;
  // Two workers may prepare at once after a retry; the lock makes IF NOT EXISTS race-free.
  await withTransaction(client, async () => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [LOCK_KEYS.stateSchema]);
    await client.query(DDL);
    // Only the schema's owner may comment on it: another role's schema is made again each time, as before.
    await client.query('SAVEPOINT pgtransit_mark');
    await client
      .query(`COMMENT ON SCHEMA ${STATE_SCHEMA} IS '${DDL_MARK}'`)
      .then(() => client.query('RELEASE SAVEPOINT pgtransit_mark'))
      .catch(async (e: { code?: string }) => {
        if (e.code !== SqlState.InsufficientPrivilege) throw e;
        await client.query('ROLLBACK TO SAVEPOINT pgtransit_mark');
      });
  });
}

export interface ChunkMarker {
  rows: number;
  bytes: number;
  late: boolean;
  horizonLsn: string | null;
  /** The horizon is the consistent point of the copy's own snapshot. */
  exact?: boolean;
}

/** Inside the chunk's transaction: takes the chunk's lock and returns its marker when already done. */
export async function lockChunk(
  client: pg.Client,
  migration: string,
  database: string,
  chunkId: string,
): Promise<ChunkMarker | null> {
  // Two attempts of one chunk (a retry while the old attempt still runs) serialize here.
  await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [LOCK_KEYS.chunk(migration, database, chunkId)]);
  const { rows } = await client.query<{
    rows: string;
    bytes: string;
    late: boolean;
    horizon: string | null;
    exact: boolean;
  }>(
    `SELECT rows, bytes, late, horizon_lsn::text AS horizon, exact FROM ${STATE_SCHEMA}.chunks
      WHERE migration = $1 AND database = $2 AND chunk_id = $3`,
    [migration, database, chunkId],
  );
  const r = rows[0];
  return r
    ? { rows: Number(r.rows), bytes: Number(r.bytes), late: r.late, horizonLsn: r.horizon, exact: r.exact }
    : null;
}

export async function markChunkDone(
  client: pg.Client,
  migration: string,
  database: string,
  chunkId: string,
  m: ChunkMarker,
): Promise<void> {
  await client.query(
    `INSERT INTO ${STATE_SCHEMA}.chunks (migration, database, chunk_id, rows, bytes, late, horizon_lsn, exact)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [migration, database, chunkId, m.rows, m.bytes, m.late, m.horizonLsn, m.exact ?? false],
  );
}

/**
 * Tables copied late with an exact horizon, by source table (schema.name): the stream skips
 * their changes committed before it (the copy holds them) and applies the rest strictly.
 */
export async function exactHorizons(
  client: pg.Client,
  migration: string,
  database: string,
): Promise<Map<string, string>> {
  // A migration whose load ran before the column existed copied nothing with an exact horizon.
  const { rows: has } = await client.query(
    `SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'exact' AND NOT attisdropped`,
    [`${STATE_SCHEMA}.chunks`],
  );
  if (has.length === 0) return new Map();
  const { rows } = await client.query<{ t: string; lsn: string }>(
    `SELECT regexp_replace(chunk_id, '/[0-9]+$', '') AS t, max(horizon_lsn)::text AS lsn FROM ${STATE_SCHEMA}.chunks
      WHERE migration = $1 AND database = $2 AND late AND exact AND horizon_lsn IS NOT NULL GROUP BY 1`,
    [migration, database],
  );
  return new Map(rows.map((r) => [r.t, r.lsn]));
}

/** Removes the state schema once a migration no longer needs it. */
export async function dropStateSchema(client: pg.Client): Promise<void> {
  await client.query(`DROP SCHEMA IF EXISTS ${STATE_SCHEMA} CASCADE`);
}
