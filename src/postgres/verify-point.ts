/**
 * The comparison at a known LSN, while the application keeps writing (the switchover's
 * verification before the fence, switchover.verifyBeforeFence):
 *
 * 1. A temporary logical slot made with an exported snapshot gives the point P and a snapshot
 *    of the source holding exactly the transactions committed before P; a REPEATABLE READ
 *    session imports it before the replication session ends (which drops the slot).
 * 2. Change tracking starts at P on the target (cdc/changed-keys.ts): every transaction the
 *    stream applies from P on notes the keys it changed. The migration's slot is held by one
 *    stream at a time, so no round that began before tracking can apply after it.
 * 3. The stream is brought to the point (cdc/stream.ts, stopBefore): everything committed
 *    before P is applied, nothing after. A REPEATABLE READ snapshot of the target then holds
 *    exactly the same source transactions as the source's snapshot.
 * 4. Both snapshots are compared table by table (compare.ts), each table in a short transaction
 *    of its own on the exported snapshot (its lock is held while it is read, not for the whole
 *    comparison: the application's TRUNCATE or ALTER does not wait hours), while the stream goes on applying
 *    (`follow`, a round of its own until the comparison ends): the snapshots do not move, and
 *    the lag does not grow with the time the comparison takes. A table rewritten meanwhile
 *    (TRUNCATE is not MVCC-safe: the old snapshot reads it empty) proves nothing at the point:
 *    it is deferred, noted whole in the changed keys.
 *
 * The fenced verification afterwards compares only what was applied since P
 * (compare-changed.ts): its time follows the writes since the point, not the data.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ErrorType, PgTransitError } from '../errors';
import type { PointVerification, RoundResult } from '../model/activities';
import { compareLsn } from '../model/lsn';
import { APPLICATION_NAME } from '../model/names';
import type { Plan } from '../plan/plan';
import { displayName } from '../plan/selection';
import { ChangedKeys, changedTable, startTracking, WHOLE_TABLE } from './cdc/changed-keys';
import { readApplied } from './cdc/position';
import { comparableSessions, compareOn, type AtPoint } from './compare';
import { connect, withConnection, withTransaction, type Endpoint } from './connect';
import { importSnapshot } from './snapshot/import';
import { ensureStateSchema } from './state';
import { supportsReplicationOptionList } from './versions';

export interface PointOptions {
  plan: Plan;
  source: Endpoint;
  target: Endpoint;
  database: string;
  targetDatabase: string;
  sourceMajor: number;
  checksum: boolean;
  /** Runs the change stream until just before `lsn` (a round with stopBefore). */
  reach: (lsn: string) => Promise<RoundResult>;
  /** Streams on while the snapshots are compared, until `signal` aborts (a round without a stop). */
  follow?: (signal: AbortSignal) => Promise<RoundResult>;
  /** Ends every session (a slot's creation waits for the source's open transactions: cancelled, it stops waiting). */
  signal?: AbortSignal;
}

export async function verifyAtPoint(o: PointOptions): Promise<PointVerification> {
  const sessions: pg.Client[] = [];
  const onAbort = () => sessions.forEach((c) => void c.end().catch(() => undefined));
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { lsn, client: s } = await sourceAtPoint(o, sessions);
    const { client: t } = await connect(o.target, {
      database: o.targetDatabase,
      applicationName: APPLICATION_NAME.verify,
    });
    sessions.push(t);
    await ensureStateSchema(t);
    await withTransaction(t, () => startTracking(t, o.plan.name, o.database, lsn));
    const round = await o.reach(lsn);
    if (!round.pointReached)
      throw new PgTransitError(
        ErrorType.Transient,
        `the change stream did not reach the verification point ${lsn} in its time (applied to ${round.appliedLsn ?? 'nothing'})`,
      );
    // Idle in its transaction while the tables are read on its snapshot.
    await t.query('SET idle_in_transaction_session_timeout = 0');
    await t.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const appliedLsn = await readApplied(t, o.plan.name, o.database);
    if (appliedLsn && compareLsn(appliedLsn, lsn) >= 0)
      throw new PgTransitError(
        ErrorType.Transient,
        `the target applied ${appliedLsn}, past the verification point ${lsn}: another stream ran meanwhile`,
      );
    // The holders keep the snapshots and read no table; each table is read by a reader in a
    // transaction of its own on them, so its lock goes once it is read (a TRUNCATE or ALTER of the
    // application, or of the stream on the target, waits for one table's read, not the whole comparison).
    const [rs, rt] = await Promise.all([
      readerOf(o.source, o.database, s, sessions),
      readerOf(o.target, o.targetDatabase, t, sessions),
    ]);
    await comparableSessions(rs.client, rt.client);
    const readers = new Map([rs, rt].map((r) => [r.client, r.snapshot]));
    const atPoint: AtPoint = {
      deferred: [],
      read: (c, fn) =>
        withTransaction(
          c,
          async () => {
            await importSnapshot(c, readers.get(c)!, 'the verification point');
            return fn(c);
          },
          'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
        ),
    };
    const stop = new AbortController();
    const following = o.follow?.(stop.signal);
    // A round that fails is told after the comparison (it stops on its own).
    following?.catch(() => undefined);
    let compared;
    const { deferred } = atPoint;
    try {
      compared = await compareOn(o.plan, rs.client, rt.client, o.checksum, { atPoint });
    } finally {
      stop.abort();
    }
    const followed = following ? await following : null;
    // A table rewritten since the snapshots is compared whole inside the fence.
    await t.query('ROLLBACK');
    const whole = new ChangedKeys();
    for (const d of deferred) whole.add(changedTable(d), WHOLE_TABLE);
    await whole.write(t, o.plan.name, o.database);
    return {
      lsn,
      appliedLsn,
      compared,
      deferred: deferred.map(displayName).sort(),
      round,
      followed,
    };
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await Promise.all(sessions.map((c) => c.end().catch(() => undefined)));
  }
}

/** A session that reads in the snapshot `holder` exports (the holder stays open in its transaction). */
async function readerOf(
  endpoint: Endpoint,
  database: string,
  holder: pg.Client,
  sessions: pg.Client[],
): Promise<{ client: pg.Client; snapshot: string }> {
  const { rows } = await holder.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
  const { client } = await connect(endpoint, { database, applicationName: APPLICATION_NAME.verify });
  sessions.push(client);
  return { client, snapshot: rows[0]!.s };
}

/** Step 1: the point, and a source session reading exactly what was committed before it. */
async function sourceAtPoint(o: PointOptions, sessions: pg.Client[]): Promise<{ lsn: string; client: pg.Client }> {
  const { client: repl } = await connect(o.source, {
    database: o.database,
    replication: true,
    applicationName: APPLICATION_NAME.verify,
  });
  sessions.push(repl);
  try {
    if (o.signal?.aborted) throw new PgTransitError(ErrorType.Transient, 'cancelled');
    await refuseHoldUps(o);
    const slot = `pgtransit_point_${randomBytes(6).toString('hex')}`;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<never>((_, reject) => {
      timer = setTimeout(() => void openTransactions(o).then(reject, reject), POINT_WAIT_SECONDS * 1000);
    });
    const creating = repl.query<{ consistent_point: string; snapshot_name: string }>(
      supportsReplicationOptionList(o.sourceMajor)
        ? `CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput (SNAPSHOT 'export')`
        : `CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput EXPORT_SNAPSHOT`,
    );
    // Given up on, it fails once its session ends.
    creating.catch(() => undefined);
    const { rows } = await Promise.race([creating, waited]).finally(() => clearTimeout(timer));
    const { consistent_point: lsn, snapshot_name: snapshot } = rows[0]!;
    const { client } = await connect(o.source, { database: o.database, applicationName: APPLICATION_NAME.verify });
    sessions.push(client);
    // Idle in its transaction while the stream reaches the point.
    await client.query('SET idle_in_transaction_session_timeout = 0');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await importSnapshot(client, snapshot, 'the verification point');
    return { lsn, client };
  } finally {
    // The temporary slot goes with its session; the imported snapshot stays.
    sessions.splice(sessions.indexOf(repl), 1);
    await repl.end().catch(() => undefined);
  }
}

/** How long the point's slot may wait for the transactions open on the source (a slot starts after them). */
const POINT_WAIT_SECONDS = 10;

const refused = (why: string) =>
  new PgTransitError(ErrorType.SwitchoverFailed, `the verification point could not be taken: ${why}`);

/** A prepared transaction, in any database, holds a new slot's creation until it is committed or rolled back. */
async function refuseHoldUps(o: PointOptions): Promise<void> {
  const { rows } = await withConnection(o.source, { database: o.database }, ({ client }) =>
    client.query<{ gid: string; database: string }>(`SELECT gid, database FROM pg_prepared_xacts ORDER BY prepared`),
  );
  if (rows.length)
    throw refused(
      `prepared transactions ${rows.map((r) => `'${r.gid}' (database ${r.database})`).join(', ')} hold up a new slot, ` +
        'and could still be committed after the fence; COMMIT PREPARED or ROLLBACK PREPARED them, then switch over',
    );
}

/** After POINT_WAIT_SECONDS: the transactions the slot is waiting for (the fence will end them; the verification moves inside it). */
async function openTransactions(o: PointOptions): Promise<PgTransitError> {
  const { rows } = await withConnection(o.source, { database: o.database }, ({ client }) =>
    client.query<{ pid: number; datname: string | null; age: string }>(
      `SELECT pid, datname, round(extract(epoch FROM clock_timestamp() - xact_start))::text AS age
         FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
        ORDER BY xact_start LIMIT 5`,
    ),
  ).catch(() => ({ rows: [] as { pid: number; datname: string | null; age: string }[] }));
  return new PgTransitError(
    ErrorType.PointUnavailable,
    `no verification point before the fence: a new slot waited ${POINT_WAIT_SECONDS} s for transactions open on the source` +
      (rows.length ? ` (${rows.map((r) => `pid ${r.pid} in ${r.datname ?? '?'}, open ${r.age} s`).join('; ')})` : ''),
  );
}
