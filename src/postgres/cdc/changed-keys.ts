/**
 * Change tracking after a verification point (../verify-point.ts): from the point on, every
 * apply transaction notes the keys it changed, in the same target transaction as the rows and
 * the applied position (a crash keeps both or neither). The switchover's fenced verification
 * then compares only those rows.
 *
 * Keys are the replica identity's values as pgoutput sent them (text), one JSON array per row.
 * What cannot be named by a key is noted for the whole table (REPLICA IDENTITY FULL or
 * NOTHING, a TRUNCATE, a key value not sent) or for everything (a DDL statement replayed).
 */
import type pg from 'pg';
import { STATE_SCHEMA } from '../../model/names';
import type { Relation, Tuple } from './pgoutput';

/** The key noted for a change only a comparison of the whole table can check. */
export const WHOLE_TABLE = '';
/** The table noted when every table must be compared whole again (a DDL statement was replayed). */
export const EVERY_TABLE = '*';

/** How a source table is named in the changed keys: schema and name, unambiguous whatever they hold. */
export const changedTable = (t: { schema: string; name: string }) => JSON.stringify([t.schema, t.name]);

/** Where tracking starts (the point's LSN), or null when no verification point is set; read without a transaction. */
export async function readTracking(client: pg.Client, migration: string, database: string): Promise<string | null> {
  try {
    const { rows } = await client.query<{ lsn: string }>(
      `SELECT lsn::text AS lsn FROM ${STATE_SCHEMA}.tracking WHERE migration = $1 AND database = $2`,
      [migration, database],
    );
    return rows[0]?.lsn ?? null;
  } catch (e) {
    // A state schema made before tracking existed: nothing tracks.
    if ((e as { code?: string }).code === '42P01') return null;
    throw e;
  }
}

/** Starts tracking at `lsn` with no key noted (a later point replaces an earlier one). */
export async function startTracking(client: pg.Client, migration: string, database: string, lsn: string) {
  await client.query(`DELETE FROM ${STATE_SCHEMA}.changed WHERE migration = $1 AND database = $2`, [
    migration,
    database,
  ]);
  await client.query(
    `INSERT INTO ${STATE_SCHEMA}.tracking (migration, database, lsn) VALUES ($1, $2, $3)
     ON CONFLICT (migration, database) DO UPDATE SET lsn = excluded.lsn`,
    [migration, database, lsn],
  );
}

/** Ends tracking (a switchover that did not complete): the apply notes no more keys from its next round on. */
export async function stopTracking(client: pg.Client, migration: string, database: string): Promise<void> {
  for (const table of ['tracking', 'changed'])
    await client
      .query(`DELETE FROM ${STATE_SCHEMA}.${table} WHERE migration = $1 AND database = $2`, [migration, database])
      .catch((e: { code?: string }) => {
        if (e.code !== '42P01') throw e;
      });
}

/** Keys noted in one target transaction, by table; written before its commit. */
export class ChangedKeys {
  private readonly keys = new Map<string, Set<string>>();
  size = 0;

  /** `bytes`: a SQL_ASCII source, whose 8-bit values are bytes the key text would not carry: such rows go whole. */
  constructor(private readonly bytes = false) {}

  add(table: string, key: string): void {
    let set = this.keys.get(table);
    if (!set) this.keys.set(table, (set = new Set()));
    if (set.has(WHOLE_TABLE)) return;
    if (key === WHOLE_TABLE) {
      this.size -= set.size;
      set.clear();
    }
    if (!set.has(key)) {
      set.add(key);
      this.size++;
    }
  }

  /** The keys of one row change: its old key (when sent) and its new one. */
  note(relation: Relation, ...tuples: (Tuple | null | undefined)[]): void {
    const table = changedTable(relation);
    const idx = relation.columns.flatMap((c, i) => (c.key ? [i] : []));
    if (relation.replicaIdentity === 'f' || relation.replicaIdentity === 'n' || idx.length === 0)
      return this.add(table, WHOLE_TABLE);
    for (const t of tuples) {
      if (!t) continue;
      const values = idx.map((i) => t[i]);
      if (values.some((v) => v === undefined || v === null || (this.bytes && /[^\x00-\x7f]/.test(v))))
        return this.add(table, WHOLE_TABLE);
      this.add(table, JSON.stringify(values));
    }
  }

  clear(): void {
    this.keys.clear();
    this.size = 0;
  }

  /** Inside the apply transaction: the keys go to the state schema, and are forgotten here. */
  async write(client: pg.Client, migration: string, database: string): Promise<void> {
    if (this.size === 0 && this.keys.size === 0) return;
    const tables: string[] = [];
    const keys: string[] = [];
    for (const [t, set] of this.keys)
      for (const k of set) {
        tables.push(t);
        keys.push(k);
      }
    this.clear();
    await client.query(
      `INSERT INTO ${STATE_SCHEMA}.changed (migration, database, tbl, key)
       SELECT $1, $2, t, k FROM unnest($3::text[], $4::text[]) AS x(t, k) ON CONFLICT DO NOTHING`,
      [migration, database, tables, keys],
    );
  }
}

/** The keys noted since the point, by table (WHOLE_TABLE among them: compare it whole). */
export async function readChanged(
  client: pg.Client,
  migration: string,
  database: string,
): Promise<{ lsn: string | null; tables: Map<string, { whole: boolean; keys: number }> }> {
  const lsn = await readTracking(client, migration, database);
  const tables = new Map<string, { whole: boolean; keys: number }>();
  if (!lsn) return { lsn, tables };
  const { rows } = await client.query<{ tbl: string; whole: boolean; n: string }>(
    `SELECT tbl, bool_or(key = '') AS whole, count(*) AS n FROM ${STATE_SCHEMA}.changed
      WHERE migration = $1 AND database = $2 GROUP BY tbl`,
    [migration, database],
  );
  for (const r of rows) tables.set(r.tbl, { whole: r.whole, keys: Number(r.n) });
  return { lsn, tables };
}
