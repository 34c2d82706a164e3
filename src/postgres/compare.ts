/**
 * Comparing source and target table by table: row counts, and optionally a checksum
 * of every row's text form (order-independent), read under the same session settings
 * on both sides. Mapped names are compared under their target names; generated
 * columns are compared too (the target recomputes them).
 */
import type pg from 'pg';
import type { TableComparison } from '../model/activities';
import type { Plan } from '../plan/plan';
import { displayName, targetName } from '../plan/selection';
import { listLoadTables } from './chunks';
import { withConnection, type Endpoint } from './connect';
import { PORTABLE_TEXT_SETTINGS } from './session';

async function measure(
  client: pg.Client,
  schema: string,
  name: string,
  checksum: boolean,
): Promise<{ rows: number; checksum?: string }> {
  const rel = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`;
  if (!checksum) {
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${rel}`);
    return { rows: Number(rows[0]!.n) };
  }
  // Sums of the rows' hashes: independent of row order, and constant memory (an aggregated
  // string of every hash stops at 1 GB, about 30 million rows).
  const { rows } = await client.query<{ n: string; sum: string | null }>(
    `SELECT count(*) AS n, sum(('x' || substr(h, 1, 16))::bit(64)::bigint)::text || '/' || sum(('x' || substr(h, 17, 16))::bit(64)::bigint)::text AS sum
       FROM (SELECT md5(t::text) AS h FROM ONLY ${rel} t) x`,
  );
  return { rows: Number(rows[0]!.n), checksum: rows[0]!.sum ?? 'empty' };
}

export async function compareTables(
  plan: Plan,
  source: Endpoint,
  target: Endpoint,
  database: string,
  targetDatabase: string,
  checksum: boolean,
): Promise<TableComparison[]> {
  return withConnection(source, { database }, ({ client: s }) =>
    withConnection(target, { database: targetDatabase }, async ({ client: t }) => {
      // A row's text form depends on session settings, which each database may set its own way.
      await Promise.all([s.query(PORTABLE_TEXT_SETTINGS), t.query(PORTABLE_TEXT_SETTINGS)]);
      const tables = await listLoadTables(s, plan);
      const out: TableComparison[] = [];
      for (const table of tables.sort((a, b) => `${a.schema}.${a.name}`.localeCompare(`${b.schema}.${b.name}`))) {
        const dest = targetName(plan, table);
        const [a, b] = await Promise.all([
          measure(s, table.schema, table.name, checksum),
          measure(t, dest.schema, dest.name, checksum),
        ]);
        out.push({
          table: displayName(table),
          targetTable: displayName(dest),
          sourceRows: a.rows,
          targetRows: b.rows,
          sourceChecksum: a.checksum,
          targetChecksum: b.checksum,
          equal: a.rows === b.rows && a.checksum === b.checksum,
        });
      }
      return out;
    }),
  );
}
