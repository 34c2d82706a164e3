/** Snapshot hand-off, steps 5 and 6: copies made after the snapshot was lost, and their horizon. */
import type pg from 'pg';
import { compareLsn } from '../../model/lsn';

/**
 * After a late copy, still inside its source transaction: the WAL position the change
 * stream must pass before that table is applied strictly again. The insert position, not
 * the write one: with asynchronous commit a visible transaction's commit record may not be
 * written yet, and the horizon must not fall short of it.
 */
export async function lateHorizon(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
}

/** A transaction committed at or before the horizon may repeat what a late copy already holds. */
export function replayedIdempotently(commitLsn: string, horizon: string | null): boolean {
  return horizon !== null && compareLsn(commitLsn, horizon) <= 0;
}
