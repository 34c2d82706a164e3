/**
 * Switchover on the source: fence writes, mark the fence in the WAL, and copy the
 * sequences. Fencing covers every role: the database defaults to read-only for new
 * transactions and every application session is ended, not only one role's.
 */
import type { FenceResult, SequenceCopy } from '../model/activities';
import { APPLICATION_NAME, APPLICATION_NAME_PATTERN, FENCE_PREFIX } from '../model/names';
import type { Plan } from '../plan/plan';
import { targetName } from '../plan/selection';
import { withConnection, withTransaction, type Endpoint } from './connect';
import { dumpScope } from './ddl';
import { FENCE_WRITER_WAIT, pollUntil } from './limits';
import { readSequences } from './sequences';
import { supportsLogicalMessages } from './versions';

const OURS = `application_name LIKE '${APPLICATION_NAME_PATTERN}'`;

/** Makes `database` read-only, ends the application's sessions, waits for writers, writes the fence marker. */
export async function fenceSource(
  source: Endpoint,
  database: string,
  id: string,
  serverMajor: number,
): Promise<FenceResult> {
  return withConnection(
    source,
    { database, applicationName: APPLICATION_NAME.fence, writable: true },
    async ({ client }) => {
      const fencedAt = new Date().toISOString();
      await client.query(`ALTER DATABASE ${client.escapeIdentifier(database)} SET default_transaction_read_only = on`);
      // Sessions opened before the ALTER keep their settings: end them (all roles, not one).
      const terminated = await client.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND NOT (${OURS})
          AND pg_terminate_backend(pid)`,
        [database],
      );
      // A terminated backend rolls its transaction back as it exits; wait until no writer is left.
      await pollUntil(async () => {
        const { rowCount } = await client.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND NOT (${OURS})`,
          [database],
        );
        return rowCount ? undefined : true;
      }, FENCE_WRITER_WAIT);
      const marker = supportsLogicalMessages(serverMajor) ? `fence ${id}` : '';
      const lsn = await withTransaction(
        client,
        async () =>
          marker
            ? (
                await client.query<{ lsn: string }>(`SELECT pg_logical_emit_message(true, $1, $2)::text AS lsn`, [
                  FENCE_PREFIX,
                  marker,
                ])
              ).rows[0]!.lsn
            : // pgoutput carries logical messages from 14 on; older sources drain up to this position.
              (await client.query<{ lsn: string }>(`SELECT pg_current_wal_insert_lsn()::text AS lsn`)).rows[0]!.lsn,
        'BEGIN READ WRITE',
      );
      return { id: marker, lsn, fencedAt, terminatedSessions: terminated.rowCount ?? 0 };
    },
  );
}

/** Lets the application write again (switchover failed, or the operator asks). */
export async function unfenceSource(source: Endpoint, database: string): Promise<void> {
  await withConnection(source, { database, applicationName: APPLICATION_NAME.fence, writable: true }, ({ client }) =>
    client.query(`ALTER DATABASE ${client.escapeIdentifier(database)} RESET default_transaction_read_only`),
  );
}

/** Every sequence of the migrated schemas (owned by a column or not), set on the target to the source's value. */
export async function copySequences(
  plan: Plan,
  source: Endpoint,
  target: Endpoint,
  database: string,
  targetDatabase: string,
): Promise<SequenceCopy[]> {
  const seqs = await withConnection(source, { database }, async ({ client }) => {
    const { schemas, excluded } = await dumpScope(client, plan);
    // Left out of the migration (themselves, or with the table that owns them): not on the target.
    const out = new Set(excluded.map((t) => `${t.schema}.${t.name}`));
    return (await readSequences(client, schemas)).filter(
      (s) => !out.has(`${s.schema}.${s.name}`) && !(s.ownerTable && out.has(`${s.schema}.${s.ownerTable}`)),
    );
  });
  return withConnection(target, { database: targetDatabase }, async ({ client }) => {
    const out: SequenceCopy[] = [];
    for (const s of seqs) {
      // An owned sequence moved with its table when the table was mapped to another schema.
      const schema = s.ownerTable
        ? targetName(plan, { schema: s.schema, name: s.ownerTable }).schema
        : targetName(plan, { schema: s.schema, name: s.name }).schema;
      const ident = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(s.name)}`;
      await client.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [ident, s.value, s.isCalled]);
      out.push({
        sequence: `${s.schema}.${s.name}`,
        targetSequence: `${schema}.${s.name}`,
        value: s.value,
        isCalled: s.isCalled,
      });
    }
    return out;
  });
}
