/**
 * The exactly-once position of the change stream: every source transaction is applied
 * to the target once, whatever dies when. The rules, and what breaks without each:
 *
 * 1. Written with the data: a target transaction that applies source transactions
 *    writes the commit LSN of the last of them into pgtransit.applied in the same
 *    transaction, with its COMMIT (commitApplied). A crash keeps both or neither.
 * 2. Skip what is applied: a source transaction whose commit LSN is not above the
 *    applied position was applied already (alreadyApplied). Commit LSNs are unique and
 *    increase in stream order, so a restart that re-sends transactions applies none twice.
 * 3. Acknowledge after the commit: the source learns a position only once the target has
 *    committed it; an earlier acknowledgement would let the slot free WAL the target
 *    never applied.
 * 4. Acknowledge exactly the commit's end (ackPosition), never more: a position one byte
 *    past the end would let the server skip a transaction committed right there. The
 *    stream never sends a position before the slot's own: the slot would move back and
 *    send again what the snapshot already holds.
 * 5. No acknowledgement on a timer: a keepalive's position is acknowledged only once
 *    everything received before it is applied (cdc/stream.ts).
 */
import type pg from 'pg';
import { compareLsn } from '../../model/lsn';
import { STATE_SCHEMA } from '../../model/names';

/** Rule 2: the applied position of this migration's database, null before anything was applied. */
export async function readApplied(client: pg.Client, migration: string, database: string): Promise<string | null> {
  const { rows } = await client.query<{ lsn: string }>(
    `SELECT lsn::text AS lsn FROM ${STATE_SCHEMA}.applied WHERE migration = $1 AND database = $2`,
    [migration, database],
  );
  return rows[0]?.lsn ?? null;
}

/**
 * BEGIN, the statements that open it (`prelude`: constant text), the transaction-scoped
 * advisory lock on `lockKey`, and rule 2's applied position as it is under that lock: one
 * round trip. Names and the key go as literals; no row data is in this text.
 */
export async function beginLocked(
  client: pg.Client,
  prelude: string,
  lockKey: string,
  migration: string,
  database: string,
): Promise<string | null> {
  const lit = (s: string) => client.escapeLiteral(s);
  const results = (await client.query(
    `BEGIN; ${prelude}; SELECT pg_advisory_xact_lock(hashtext(${lit(lockKey)})); ` +
      `SELECT lsn::text AS lsn FROM ${STATE_SCHEMA}.applied WHERE migration = ${lit(migration)} AND database = ${lit(database)}`,
  )) as unknown as pg.QueryResult<{ lsn: string }>[];
  return results[results.length - 1]!.rows[0]?.lsn ?? null;
}

/** Rule 1 and the COMMIT of the target transaction that applied the changes up to `commitLsn`: one round trip. */
export async function commitApplied(
  client: pg.Client,
  migration: string,
  database: string,
  commitLsn: string,
): Promise<void> {
  const lit = (s: string) => client.escapeLiteral(s);
  await client.query(
    `INSERT INTO ${STATE_SCHEMA}.applied (migration, database, lsn, updated_at) VALUES (${lit(migration)}, ${lit(database)}, ${lit(commitLsn)}, now())
     ON CONFLICT (migration, database) DO UPDATE SET lsn = excluded.lsn, updated_at = excluded.updated_at; COMMIT`,
  );
}

/** Rule 2. */
export function alreadyApplied(commitLsn: string, applied: string | null): boolean {
  return applied !== null && compareLsn(commitLsn, applied) <= 0;
}

/** Rule 4: the position to send for `lsn`, or null when nothing is known (0/0 is never sent). */
export function ackPosition(lsn: string | null): string | null {
  return lsn && lsn !== '0/0' ? lsn : null;
}
