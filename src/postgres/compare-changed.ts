/**
 * The switchover's fenced verification after a verification point (verify-point.ts): only
 * what the change stream applied since the point is compared. The keys it noted
 * (cdc/changed-keys.ts) are read from the target in pages; each side reads the rows of a page
 * through its replica identity index and digests them (key and row text, in key order), so a
 * row changed, missing or extra on either side changes that side's digest. Tables changed
 * without a key are compared whole; tables unchanged since the point are not read at all; a
 * DDL statement replayed since the point compares everything again.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ChangedComparison } from '../model/activities';
import { STATE_SCHEMA } from '../model/names';
import type { Plan } from '../plan/plan';
import type { QualifiedName } from '../plan/selection';
import { EVERY_TABLE, changedTable, readChanged } from './cdc/changed-keys';
import { compareOn, type Measured } from './compare';

/** Keys compared per query. */
const PAGE_KEYS = 5000;

/** Compares what changed since the point; `since: null` when there is no point or everything must be compared. */
export async function compareChanged(
  plan: Plan,
  database: string,
  s: pg.Client,
  t: pg.Client,
  checksum: boolean,
): Promise<ChangedComparison> {
  const { lsn, tables } = await readChanged(t, plan.name, database);
  if (!lsn || tables.has(EVERY_TABLE)) return { since: null, compared: [], keys: 0, keyedTables: 0, wholeTables: 0 };
  const pages = new Map<string, Promise<string[][]>>();
  let keys = 0;
  let keyedTables = 0;
  let wholeTables = 0;
  /** The table's changed keys in pages, read once for both sides. */
  const keyPages = (source: QualifiedName): Promise<string[][]> => {
    const tbl = changedTable(source);
    let got = pages.get(tbl);
    if (!got) pages.set(tbl, (got = readPages(t, plan.name, database, tbl)));
    return got;
  };
  const compared = await compareOn(plan, s, t, checksum, {
    since: {
      changed(source) {
        const c = tables.get(changedTable(source));
        if (!c) return 'unchanged';
        if (c.whole) {
          wholeTables++;
          return 'whole';
        }
        keys += c.keys;
        keyedTables++;
        return 'keys';
      },
      async keys(client, table, source) {
        return measureKeys(client, table, await keyPages(source));
      },
    },
  });
  return { since: lsn, compared, keys, keyedTables, wholeTables };
}

/** Keys in pages of PAGE_KEYS, in the order of their hashes (the state's unique index). */
async function readPages(t: pg.Client, migration: string, database: string, tbl: string): Promise<string[][]> {
  const out: string[][] = [];
  let after = '';
  for (;;) {
    const { rows } = await t.query<{ key: string; h: string }>(
      `SELECT key, md5(key) AS h FROM ${STATE_SCHEMA}.changed
        WHERE migration = $1 AND database = $2 AND tbl = $3 AND md5(key) > $4 ORDER BY md5(key) LIMIT ${PAGE_KEYS}`,
      [migration, database, tbl, after],
    );
    if (rows.length === 0) return out;
    out.push(rows.map((r) => r.key));
    after = rows[rows.length - 1]!.h;
  }
}

/** The rows of `pages` of keys in one side's table: how many exist, and a digest of keys and rows. */
async function measureKeys(client: pg.Client, table: QualifiedName, pages: string[][]): Promise<Measured> {
  const rel = `${client.escapeIdentifier(table.schema)}.${client.escapeIdentifier(table.name)}`;
  const { rows: cols } = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_class c JOIN pg_index i ON i.indrelid = c.oid
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey)
      WHERE c.oid = $1::regclass AND (i.indisreplident OR (c.relreplident = 'd' AND i.indisprimary))
      ORDER BY a.attnum`,
    [rel],
  );
  if (cols.length === 0) return { rows: -1, checksum: `no replica identity key on ${table.schema}.${table.name}` };
  // A key of another shape would match no row on either side, and look like a row deleted on both.
  if (pages.some((page) => page.some((k) => (JSON.parse(k) as unknown[]).length !== cols.length)))
    return { rows: -1, checksum: `the changed keys do not match the key (${cols.map((c) => c.name).join(', ')})` };
  // The key as pgoutput sent it: its columns' text in column order (changed-keys.ts).
  const on = cols
    .map((c, i) => `r.${client.escapeIdentifier(c.name)} = (x.key::json ->> ${i})::${c.type}`)
    .join(' AND ');
  const digest = createHash('md5');
  let found = 0;
  for (const page of pages) {
    const { rows } = await client.query<{ n: string; h: string | null }>(
      `SELECT count(r.*) AS n, md5(string_agg(x.key || ':' || md5(r::text), ',' ORDER BY x.key COLLATE "C")) AS h
         FROM unnest($1::text[]) AS x(key) JOIN ONLY ${rel} r ON ${on}`,
      [page],
    );
    found += Number(rows[0]!.n);
    digest.update(`${rows[0]!.h ?? ''};`);
  }
  return { rows: found, checksum: `${found} of the changed keys ${digest.digest('hex')}` };
}
