/**
 * Comparing source and target table by table: row counts, and optionally a checksum
 * of every row's text form (order-independent), read under the same session settings
 * on both sides. Mapped names are compared under their target names; generated
 * columns are compared too (the target recomputes them).
 */
import type pg from 'pg';
import type { RowsOption, TableComparison } from '../model/activities';
import type { Plan } from '../plan/plan';
import { displayName, targetName, type QualifiedName } from '../plan/selection';
import { serverMajor } from './inspect';
import { hasShortestFloatText } from './versions';
import { LARGE_OBJECTS, listLoadTables } from './chunks';
import { dumpScope } from './ddl';
import { withConnection, type Endpoint } from './connect';
import { diffRows } from './compare-rows';
import { PORTABLE_TEXT_SETTINGS } from './session';

async function measure(
  client: pg.Client,
  schema: string,
  name: string,
  checksum: boolean,
): Promise<{ rows: number; checksum?: string }> {
  const rel = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`;
  // Unpopulated materialized views cannot be read: say so, on both sides alike.
  const populated = await client.query<{ p: boolean }>(
    `SELECT relispopulated AS p FROM pg_class WHERE oid = $1::regclass`,
    [rel],
  );
  if (populated.rows[0] && !populated.rows[0].p) return { rows: 0, checksum: 'not populated' };
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
  rows?: RowsOption,
): Promise<TableComparison[]> {
  return withConnection(source, { database }, ({ client: s }) =>
    withConnection(target, { database: targetDatabase }, async ({ client: t }) => {
      await comparableSessions(s, t);
      return compareOn(plan, s, t, checksum, { rows });
    }),
  );
}

/** The same text form of a row on both sides, whatever each database sets for its sessions. */
export async function comparableSessions(s: pg.Client, t: pg.Client): Promise<void> {
  await Promise.all([s.query(PORTABLE_TEXT_SETTINGS), t.query(PORTABLE_TEXT_SETTINGS)]);
  // Before 12 extra_float_digits > 0 prints 17 digits where 12+ prints the shortest exact text: compare rounded.
  const [sm, tm] = await Promise.all([serverMajor(s), serverMajor(t)]);
  if (!hasShortestFloatText(sm) || !hasShortestFloatText(tm))
    await Promise.all([s.query('SET extra_float_digits = 0'), t.query('SET extra_float_digits = 0')]);
}

/**
 * Every table (and materialized view, large objects) compared on two open sessions (comparableSessions).
 * `atPoint`: at a verification point, tables only, each read in a transaction of its own on the
 * point's snapshot; one that differs but was rewritten since on either side is not compared but
 * named in `atPoint.deferred` (see rewrittenSince).
 */
export async function compareOn(
  plan: Plan,
  s: pg.Client,
  t: pg.Client,
  checksum: boolean,
  { rows, since, atPoint }: { rows?: RowsOption; since?: SincePoint; atPoint?: AtPoint } = {},
): Promise<TableComparison[]> {
  // Rows are found by their checksums: asking for them asks for the checksums.
  checksum ||= rows !== undefined;
  const wanted = (x: QualifiedName) =>
    !rows?.tables || rows.tables.some((n) => n === displayName(x) || n === `${x.schema}.${x.name}` || n === x.name);
  const on = <T>(c: pg.Client, fn: (c: pg.Client) => Promise<T>) => (atPoint ? atPoint.read(c, fn) : fn(c));
  const deferred = atPoint?.deferred;
  const tables = await on(s, (c) => listLoadTables(c, plan));
  const out: TableComparison[] = [];
  // A partitioned table differs because of a rewritten partition: deferred with it.
  const rootDeferred = (root: QualifiedName) =>
    tables.some(
      (x) =>
        x.root.schema === root.schema &&
        x.root.name === root.name &&
        deferred!.some((d) => d.schema === x.schema && d.name === x.name),
    );
  const measured = (c: pg.Client, x: QualifiedName) => measure(c, x.schema, x.name, checksum);
  const compare = async (
    src: QualifiedName,
    dest: QualifiedName,
    how: (c: pg.Client, x: QualifiedName) => Promise<Measured>,
    label = displayName(src),
  ) => {
    if (!wanted(src)) return;
    // Rows are searched in what has rows of its own: tables, partitions, materialized views.
    const byRow = how === measured;
    const [a, b] = await Promise.all([on(s, (c) => how(c, src)), on(t, (c) => how(c, dest)).catch(missing)]);
    const equal = a.rows === b.rows && a.checksum === b.checksum;
    // Asked after the read, on the same snapshot: a rewrite until then is seen.
    const rewritten = async () =>
      byRow
        ? (await on(s, (c) => rewrittenSince(c, src))) || (await on(t, (c) => rewrittenSince(c, dest)))
        : rootDeferred(src);
    if (!equal && deferred && b.rows >= 0 && (await rewritten())) {
      deferred.push(src);
      return;
    }
    out.push({
      table: label,
      targetTable: displayName(dest),
      sourceRows: a.rows,
      targetRows: b.rows,
      sourceChecksum: a.checksum,
      targetChecksum: b.checksum,
      equal,
      ...(rows && byRow && !equal && b.rows >= 0
        ? { rows: await diffRows({ client: s, table: src }, { client: t, table: dest }, rows.limit) }
        : {}),
    });
  };
  for (const table of tables.sort((a, b) => `${a.schema}.${a.name}`.localeCompare(`${b.schema}.${b.name}`))) {
    const how = since ? since.changed(table) : 'whole';
    if (how === 'unchanged') continue;
    await compare(table, targetName(plan, table), how === 'whole' ? measured : (c, x) => since!.keys(c, x, table));
  }
  // Each partitioned table as a whole too: a partition detached or dropped on the source keeps its rows on the target
  // (since a point, the partitions' changes are checked instead: a DETACH is DDL, which compares everything).
  const roots = new Map(
    tables
      .filter((x) => !since && (x.root.schema !== x.schema || x.root.name !== x.name))
      .map((x) => [`${x.root.schema}.${x.root.name}`, x.root]),
  );
  for (const root of [...roots.values()].sort((a, b) => displayName(a).localeCompare(displayName(b)))) {
    await compare(root, targetName(plan, root), (c, x) => countAll(c, x));
  }
  // At a verification point: materialized views and large objects catch up inside the fence only (refresh, sync).
  if (deferred) return out;
  // Materialized views (refreshed at the switchover).
  const { schemas, excluded } = await dumpScope(s, plan);
  const left = new Set(excluded.map((x) => `${x.schema}.${x.name}`));
  const views = (
    await s.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'm' AND n.nspname = ANY($1) ORDER BY 1, 2`,
      [schemas],
    )
  ).rows.filter((v) => !left.has(`${v.schema}.${v.name}`));
  for (const v of views) await compare(v, targetName(plan, v), measured);
  const [los, tlos] = await Promise.all([largeObjects(s, false), largeObjects(t, false)]);
  if ((los.rows > 0 || tlos.rows > 0) && !rows?.tables)
    await compare(LARGE_OBJECTS, LARGE_OBJECTS, (c) => largeObjects(c, checksum), 'large objects');
  return out;
}

/** The sessions of a verification point (verify-point.ts). */
export interface AtPoint {
  /** Runs `fn` in a short transaction of the session's, on the point's snapshot: its locks go when it ends. */
  read<T>(client: pg.Client, fn: (c: pg.Client) => Promise<T>): Promise<T>;
  /** Filled with the tables that differed but were rewritten since the snapshot. */
  deferred: QualifiedName[];
}

/**
 * A comparison since a verification point (compare-changed.ts): tables unchanged since are
 * skipped, changed ones compared by their changed keys, the rest whole.
 */
export interface SincePoint {
  changed(source: QualifiedName): 'unchanged' | 'keys' | 'whole';
  /** The rows of the changed keys, on one side: how many exist, and a digest of them. */
  keys(client: pg.Client, table: QualifiedName, source: QualifiedName): Promise<Measured>;
}

export interface Measured {
  rows: number;
  checksum?: string;
}

/**
 * Whether the table's file changed since the session's snapshot: TRUNCATE and the rewriting forms
 * of ALTER TABLE are not MVCC-safe (an older snapshot reads the new file, empty or rewritten), so
 * what the snapshot read of it proves nothing. Also true after VACUUM FULL or CLUSTER (safe):
 * the answer errs on the side of comparing again.
 */
async function rewrittenSince(client: pg.Client, x: QualifiedName): Promise<boolean> {
  const { rows } = await client.query<{ rewritten: boolean }>(
    // pg_class as the snapshot saw it, against the relation cache (what the read used).
    `SELECT relfilenode <> pg_relation_filenode(oid) AS rewritten FROM pg_class WHERE oid = $1::regclass`,
    [`${client.escapeIdentifier(x.schema)}.${client.escapeIdentifier(x.name)}`],
  );
  return rows[0]?.rewritten ?? true;
}

/** A table missing on the target: -1 rows, never equal. */
const missing = (e: { code?: string }): Measured => {
  if (e.code === '42P01') return { rows: -1, checksum: 'missing on the target' };
  throw e;
};

async function countAll(client: pg.Client, t: QualifiedName): Promise<Measured> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`,
  );
  return { rows: Number(rows[0]!.n) };
}

/** Large objects: how many, and (checksum) a digest of their contents. */
async function largeObjects(client: pg.Client, checksum: boolean): Promise<Measured> {
  const { rows } = await client.query<{ n: string; h: string | null }>(
    checksum
      ? `SELECT count(*) AS n, md5(string_agg(oid::text || ':' || md5(lo_get(oid)), ',' ORDER BY oid)) AS h FROM pg_largeobject_metadata`
      : `SELECT count(*) AS n, NULL AS h FROM pg_largeobject_metadata`,
  );
  return { rows: Number(rows[0]!.n), checksum: checksum ? (rows[0]!.h ?? 'empty') : undefined };
}
