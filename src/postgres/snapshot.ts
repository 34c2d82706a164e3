/**
 * Snapshot hand-off, step 1: the snapshot every copy imports, held open while the
 * full load runs.
 *
 * full+cdc: CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT on a replication connection;
 *   the slot's consistent point is where the change stream starts, so nothing is
 *   missed and nothing is applied twice.
 * full: pg_export_snapshot() in an open REPEATABLE READ transaction (no slot needed).
 * The snapshot stays importable only while this connection stays open and idle:
 * any query on it would end the export.
 */
import type pg from 'pg';
import { PgTransitError, ErrorType } from '../errors';
import { connect, queryError, type Endpoint } from './connect';

export interface SnapshotInfo {
  /** Name for SET TRANSACTION SNAPSHOT. */
  snapshot: string;
  /** WAL position of the snapshot: the slot's consistent point, or pg_current_wal_lsn(). */
  lsn: string;
  /** The slot created with it (full+cdc only). */
  slot: string | null;
}

export interface HoldOptions {
  database: string;
  /** Create this logical slot and export its snapshot; null exports a plain snapshot. */
  slot: string | null;
  serverMajor: number;
  onReady(info: SnapshotInfo): Promise<void> | void;
  signal: AbortSignal;
}

export async function slotExists(client: pg.Client, slot: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return (rowCount ?? 0) > 0;
}

/**
 * Exports a snapshot and holds it until `signal` aborts (resolves) or the
 * connection dies (rejects with SnapshotLost).
 */
export async function holdSnapshot(source: Endpoint, o: HoldOptions): Promise<void> {
  const { client } = await connect(source, { database: o.database, replication: o.slot !== null, applicationName: `pgtransit snapshot pid=${process.pid}` });
  const died = new Promise<never>((_, reject) => {
    const lost = (why: string) => reject(new PgTransitError(ErrorType.SnapshotLost, `the snapshot's connection to the source ended (${why})`));
    client.on('error', (e) => lost(e.message));
    client.on('end', () => lost('closed'));
  });
  died.catch(() => undefined);
  try {
    let info: SnapshotInfo;
    if (o.slot) {
      const ident = client.escapeIdentifier(o.slot);
      const sql = o.serverMajor >= 15 ? `CREATE_REPLICATION_SLOT ${ident} LOGICAL pgoutput (SNAPSHOT 'export')` : `CREATE_REPLICATION_SLOT ${ident} LOGICAL pgoutput EXPORT_SNAPSHOT`;
      const { rows } = await client.query<{ consistent_point: string; snapshot_name: string }>(sql);
      info = { snapshot: rows[0]!.snapshot_name, lsn: rows[0]!.consistent_point, slot: o.slot };
    } else {
      await client.query('SET idle_in_transaction_session_timeout = 0');
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query<{ snapshot: string; lsn: string }>('SELECT pg_export_snapshot() AS snapshot, pg_current_wal_lsn()::text AS lsn');
      info = { snapshot: rows[0]!.snapshot, lsn: rows[0]!.lsn, slot: null };
    }
    await o.onReady(info);
    const aborted = new Promise<void>((resolve) => {
      if (o.signal.aborted) resolve();
      o.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([aborted, died]);
  } catch (e) {
    throw queryError(`holding the snapshot of ${o.database}`, e);
  } finally {
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    await client.end().catch(() => undefined);
  }
}
