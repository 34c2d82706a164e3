/**
 * The exactly-once position of the change stream: every source transaction is applied
 * to the target once, whatever dies when. The rules, and what breaks without each:
 *
 * 1. Written with the data: a target transaction that applies source transactions
 *    writes the commit LSN of the last of them into pgtransit.applied in the same
 *    transaction (writeApplied). A crash keeps both or neither.
 * 2. Skip what is applied: a source transaction whose commit LSN is not above the
 *    applied position was applied already (alreadyApplied). Commit LSNs are unique and
 *    increase in stream order, so a restart that re-sends transactions applies none twice.
 * 3. Acknowledge after the commit: the source learns a position only once the target has
 *    committed it; an earlier acknowledgement would let the slot free WAL the target
 *    never applied.
 * 4. Acknowledge exactly the commit's end (ackPosition), never more: a position one byte
 *    past the end would let the server skip a transaction committed right there. The
 *    stream writes the standby status itself (the replication library adds one to what it
 *    is given), and never a position before the slot's own: the slot would move back and
 *    send again what the snapshot already holds.
 * 5. No automatic acknowledgement: the library would otherwise acknowledge keepalive
 *    positions on a timer, ahead of what was applied (cdc/stream.ts turns it off).
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

/** Rule 1: inside the target transaction that applied the changes up to `commitLsn`. */
export async function writeApplied(
  client: pg.Client,
  migration: string,
  database: string,
  commitLsn: string,
): Promise<void> {
  await client.query(
    `INSERT INTO ${STATE_SCHEMA}.applied (migration, database, lsn, updated_at) VALUES ($1, $2, $3, now())
     ON CONFLICT (migration, database) DO UPDATE SET lsn = excluded.lsn, updated_at = excluded.updated_at`,
    [migration, database, commitLsn],
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
