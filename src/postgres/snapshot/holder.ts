/**
 * Snapshot hand-off, step 2: a holder that runs again cannot hold the same snapshot.
 * The snapshot died with the first holder's connection, and a slot left by it must not
 * be created again (its consistent point is the one the load started from).
 */
import type pg from 'pg';
import { withConnection, type Endpoint } from '../connect';

export async function slotExists(client: pg.Client, slot: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return (rowCount ?? 0) > 0;
}

/**
 * The previous holder was interrupted when this is a retry, or when the migration's slot
 * already exists (an earlier attempt created it, and its worker died before the retry
 * counter could tell).
 */
export async function holderInterrupted(
  source: Endpoint,
  database: string,
  slot: string | null,
  attempt: number,
): Promise<boolean> {
  if (attempt > 1) return true;
  return slot !== null && (await withConnection(source, { database }, ({ client }) => slotExists(client, slot)));
}
