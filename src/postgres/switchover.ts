/**
 * Switchover on the source: fence writes, mark the fence in the WAL, and copy the
 * sequences. Fencing covers every role: the database defaults to read-only for new
 * transactions and every application session is ended, not only one role's.
 */
import type pg from 'pg';
import type { Plan } from '../plan/schema';
import { targetName } from '../plan/selection';
import { withConnection, type Endpoint } from './connect';
import { dumpScope } from './schema';
import { FENCE_PREFIX } from './stream';

export interface FenceResult {
  /** Content of the WAL marker (sources 14+), empty when fenced by LSN only. */
  id: string;
  lsn: string;
  fencedAt: string;
  terminatedSessions: number;
}

const OURS = `application_name LIKE 'pgtransit%'`;

/** Makes `database` read-only, ends the application's sessions, waits for writers, writes the fence marker. */
export async function fenceSource(source: Endpoint, database: string, id: string, serverMajor: number): Promise<FenceResult> {
  return withConnection(source, { database, applicationName: 'pgtransit fence', writable: true }, async ({ client }) => {
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
    for (let i = 0; i < 300; i++) {
      const { rowCount } = await client.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL AND NOT (${OURS})`,
        [database],
      );
      if (!rowCount) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.query('BEGIN READ WRITE');
    let lsn: string;
    let marker = '';
    if (serverMajor >= 14) {
      marker = `fence ${id}`;
      lsn = (await client.query<{ lsn: string }>(`SELECT pg_logical_emit_message(true, $1, $2)::text AS lsn`, [FENCE_PREFIX, marker])).rows[0]!.lsn;
    } else {
      // pgoutput carries logical messages from 14 on; older sources drain up to this position.
      lsn = (await client.query<{ lsn: string }>(`SELECT pg_current_wal_insert_lsn()::text AS lsn`)).rows[0]!.lsn;
    }
    await client.query('COMMIT');
    return { id: marker, lsn, fencedAt, terminatedSessions: terminated.rowCount ?? 0 };
  });
}

/** Lets the application write again (switchover failed, or the operator asks). */
export async function unfenceSource(source: Endpoint, database: string): Promise<void> {
  await withConnection(source, { database, applicationName: 'pgtransit fence', writable: true }, ({ client }) =>
    client.query(`ALTER DATABASE ${client.escapeIdentifier(database)} RESET default_transaction_read_only`),
  );
}

export interface SequenceCopy {
  sequence: string;
  targetSequence: string;
  value: string;
  isCalled: boolean;
}

/** Every sequence of the migrated schemas (owned by a column or not), set on the target to the source's value. */
export async function copySequences(plan: Plan, source: Endpoint, target: Endpoint, database: string, targetDatabase: string): Promise<SequenceCopy[]> {
  const seqs = await withConnection(source, { database }, async ({ client }) => {
    const { schemas, excluded } = await dumpScope(client, plan);
    // Left out of the migration (themselves, or with the table that owns them): not on the target.
    const out = new Set(excluded.map((t) => `${t.schema}.${t.name}`));
    return (await readSequences(client, schemas)).filter((s) => !out.has(`${s.schema}.${s.name}`) && !(s.ownerTable && out.has(`${s.schema}.${s.ownerTable}`)));
  });
  return withConnection(target, { database: targetDatabase }, async ({ client }) => {
    const out: SequenceCopy[] = [];
    for (const s of seqs) {
      // An owned sequence moved with its table when the table was mapped to another schema.
      const schema = s.ownerTable ? targetName(plan, { schema: s.schema, name: s.ownerTable }).schema : targetName(plan, { schema: s.schema, name: s.name }).schema;
      const ident = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(s.name)}`;
      await client.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [ident, s.value, s.isCalled]);
      out.push({ sequence: `${s.schema}.${s.name}`, targetSequence: `${schema}.${s.name}`, value: s.value, isCalled: s.isCalled });
    }
    return out;
  });
}

async function readSequences(client: pg.Client, schemas: string[]) {
  const { rows } = await client.query<{ schema: string; name: string; owner_table: string | null }>(
    `SELECT n.nspname AS schema, c.relname AS name,
            (SELECT t.relname FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1) AS owner_table
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = ANY($1) ORDER BY 1, 2`,
    [schemas],
  );
  const out: { schema: string; name: string; ownerTable: string | null; value: string; isCalled: boolean }[] = [];
  for (const r of rows) {
    const v = await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${client.escapeIdentifier(r.schema)}.${client.escapeIdentifier(r.name)}`);
    out.push({ schema: r.schema, name: r.name, ownerTable: r.owner_table, value: v.rows[0]!.last_value, isCalled: v.rows[0]!.is_called });
  }
  return out;
}
