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
 * Whether an earlier holder was interrupted after exporting (its snapshot is gone):
 * - full+cdc: exactly when the migration's slot exists. A holder whose slot creation failed
 *   (a lock wait cut short, a network blip) left nothing behind, and the retry creates it.
 * - full (no slot): when this is a retry: the first attempt may have exported and died.
 */
export async function holderInterrupted(
  source: Endpoint,
  database: string,
  slot: string | null,
  attempt: number,
): Promise<boolean> {
  if (slot === null) return attempt > 1;
  return withConnection(source, { database }, ({ client }) => slotExists(client, slot));
}
