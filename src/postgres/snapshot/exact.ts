/**
 * Snapshot hand-off, step 5 for a table without a key: a late copy with an exact horizon.
 * Replaying changes idempotently over a late copy needs a key (an INSERT already copied is
 * recognised by it); a keyless table would get such rows twice. So its late copy reads the
 * snapshot of a temporary logical slot created for it (CREATE_REPLICATION_SLOT ... USE_SNAPSHOT
 * in a REPEATABLE READ transaction of a replication session): the slot's consistent point is
 * exactly where that snapshot ends. Every transaction committed before it is in the copy and
 * is skipped by the stream for this table; every one committed from it on is not, and is
 * applied strictly (../cdc/apply.ts). The slot is temporary: it goes with the session.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { PgTransitError, ErrorType } from '../../errors';
import { APPLICATION_NAME } from '../../model/names';
import { connect, type Endpoint } from '../connect';

export interface ExactSnapshot {
  /** A replication session in a REPEATABLE READ transaction, in the slot's snapshot. */
  client: pg.Client;
  consistentPoint: string;
}

/** True when the table has neither a primary key nor a replica identity index, or replicates FULL. */
export async function keyless(client: pg.Client, schema: string, name: string): Promise<boolean> {
  const { rows } = await client.query<{ keyless: boolean }>(
    `SELECT c.relreplident = 'f' OR c.relreplident = 'n'
            OR NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid
                             AND (i.indisreplident OR (c.relreplident = 'd' AND i.indisprimary))) AS keyless
       FROM pg_class c WHERE c.oid = (quote_ident($1) || '.' || quote_ident($2))::regclass`,
    [schema, name],
  );
  return rows[0]?.keyless === true;
}

export async function exactSnapshot(source: Endpoint, database: string, signal?: AbortSignal): Promise<ExactSnapshot> {
  const { client } = await connect(source, {
    database,
    replication: true,
    applicationName: APPLICATION_NAME.copy,
  });
  try {
    if (signal?.aborted) throw new PgTransitError(ErrorType.Transient, 'cancelled');
    // Only the simple query protocol works on a replication session: no parameters here.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const slot = `pgtransit_late_${randomBytes(6).toString('hex')}`;
    const { rows } = await client.query<{ consistent_point: string }>(
      `CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput USE_SNAPSHOT`,
    );
    const consistentPoint = rows[0]?.consistent_point;
    if (!consistentPoint)
      throw new PgTransitError(ErrorType.Transient, `the temporary slot ${slot} gave no consistent point`);
    return { client, consistentPoint };
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
}
