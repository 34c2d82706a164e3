/**
 * Snapshot hand-off, steps 1 and 2: the snapshot every copy imports, exported and held
 * open while the full load runs.
 *
 * full+cdc: CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT on a replication connection;
 *   the slot's consistent point is where the change stream starts.
 * full: pg_export_snapshot() in an open REPEATABLE READ transaction (no slot needed).
 * The snapshot stays importable only while this connection stays open and idle:
 * any query on it would end the export.
 */
import { PgTransitError, ErrorType } from '../../errors';
import type { SnapshotInfo } from '../../model/activities';
import { APPLICATION_NAME } from '../../model/names';
import { classify } from '../classify';
import { connect, type Endpoint } from '../connect';
import { supportsReplicationOptionList } from '../versions';

export interface HoldOptions {
  database: string;
  /** Create this logical slot and export its snapshot; null exports a plain snapshot. */
  slot: string | null;
  serverMajor: number;
  onReady(info: SnapshotInfo): Promise<void> | void;
  signal: AbortSignal;
}

/**
 * Exports a snapshot and holds it until `signal` aborts (resolves) or the
 * connection dies (rejects with SnapshotLost).
 */
export async function holdSnapshot(source: Endpoint, o: HoldOptions): Promise<void> {
  const { client } = await connect(source, {
    database: o.database,
    replication: o.slot !== null,
    applicationName: APPLICATION_NAME.snapshot(process.pid),
  });
  const died = new Promise<never>((_, reject) => {
    const lost = (why: string) =>
      reject(new PgTransitError(ErrorType.SnapshotLost, `the snapshot's connection to the source ended (${why})`));
    client.on('error', (e) => lost(e.message));
    client.on('end', () => lost('closed'));
  });
  died.catch(() => undefined);
  try {
    let info: SnapshotInfo;
    if (o.slot) {
      const ident = client.escapeIdentifier(o.slot);
      const sql = supportsReplicationOptionList(o.serverMajor)
        ? `CREATE_REPLICATION_SLOT ${ident} LOGICAL pgoutput (SNAPSHOT 'export')`
        : `CREATE_REPLICATION_SLOT ${ident} LOGICAL pgoutput EXPORT_SNAPSHOT`;
      const { rows } = await client.query<{ consistent_point: string; snapshot_name: string }>(sql);
      info = { snapshot: rows[0]!.snapshot_name, lsn: rows[0]!.consistent_point, slot: o.slot };
    } else {
      await client.query('SET idle_in_transaction_session_timeout = 0');
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await client.query<{ snapshot: string; lsn: string }>(
        'SELECT pg_export_snapshot() AS snapshot, pg_current_wal_lsn()::text AS lsn',
      );
      info = { snapshot: rows[0]!.snapshot, lsn: rows[0]!.lsn, slot: null };
    }
    await o.onReady(info);
    const aborted = new Promise<void>((resolve) => {
      if (o.signal.aborted) resolve();
      o.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([aborted, died]);
  } catch (e) {
    throw classify('query', `holding the snapshot of ${o.database}`, e);
  } finally {
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    await client.end().catch(() => undefined);
  }
}
