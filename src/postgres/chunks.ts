/**
 * What the full load copies, in which pieces. Leaf tables are copied (a partitioned
 * table's rows live in its partitions, which follow their root's selection); a large
 * table is split by ranges of its integer key, or by ctid block ranges when it has
 * none (before PostgreSQL 14, which cannot scan a ctid range, by the leading integer
 * column of its primary key when it has one, else not at all). The first and last
 * ranges are open-ended, so rows beyond the estimated bounds are never missed.
 */
import type pg from 'pg';
import type { Chunk, LoadPlan } from '../model/activities';
import type { Plan } from '../plan/plan';
import { displayName, selectTables, targetName, type QualifiedName } from '../plan/selection';
import { LARGE_OBJECTS_PER_CHUNK, MAX_CHUNKS_PER_TABLE } from './limits';
import { notSystemSchema } from './sql';
import { supportsTidRangeScan } from './versions';

export interface LoadTable extends QualifiedName {
  /** The partition root the table belongs to (itself when not a partition). */
  root: QualifiedName;
  bytes: number;
  rows: number;
  /** Blocks of the heap (main fork) now, without TOAST. */
  pages: number;
  /** A single-column integer primary key, when there is one. */
  intKey: string | null;
  /** The leading column of a several-column primary key, when it is an integer. */
  leadKey: string | null;
}

/** Leaf tables selected by the plan (partitions by their root), largest first. */
export async function listLoadTables(client: pg.Client, plan: Pick<Plan, 'include' | 'exclude'>): Promise<LoadTable[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    root_schema: string;
    root_name: string;
    bytes: string;
    reltuples: number;
    relpages: number;
    int_key: string | null;
    lead_key: string | null;
  }>(`
    WITH RECURSIVE up AS (
      SELECT c.oid AS leaf, c.oid AS anc FROM pg_class c WHERE c.relkind = 'r'
      UNION ALL
      SELECT up.leaf, i.inhparent FROM up JOIN pg_inherits i ON i.inhrelid = up.anc
        JOIN pg_class p ON p.oid = i.inhparent AND p.relkind = 'p'
    ), roots AS (
      SELECT DISTINCT ON (leaf) leaf, anc FROM up
       WHERE NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent AND p.relkind = 'p' WHERE i.inhrelid = up.anc)
    )
    SELECT n.nspname AS schema, c.relname AS name, rn.nspname AS root_schema, rc.relname AS root_name,
           pg_table_size(c.oid) AS bytes, c.reltuples::float8 AS reltuples, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int AS relpages,
           (SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1 AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)) AS int_key,
           (SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts > 1 AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)) AS lead_key
      FROM roots r JOIN pg_class c ON c.oid = r.leaf JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_class rc ON rc.oid = r.anc JOIN pg_namespace rn ON rn.oid = rc.relnamespace
     WHERE c.relpersistence <> 't' AND ${notSystemSchema('n.nspname')}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')`);
  const all = rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    root: { schema: r.root_schema, name: r.root_name },
    bytes: Number(r.bytes),
    rows: Math.max(0, Math.round(r.reltuples)),
    pages: r.relpages,
    intKey: r.int_key,
    leadKey: r.lead_key,
  }));
  const selectedRoots = new Set(
    selectTables(
      plan,
      all.map((t) => ({ ...t.root })),
    ).selected.map((t) => `${t.schema}.${t.name}`),
  );
  return all
    .filter((t) => selectedRoots.has(`${t.root.schema}.${t.root.name}`))
    .sort((a, b) => b.bytes - a.bytes || a.schema.localeCompare(b.schema) || a.name.localeCompare(b.name));
}

/**
 * `n` key ranges over [min, max], as the n - 1 inner bounds: range i is
 * [bound i-1, bound i), the first and last open-ended. Never more ranges than keys.
 */
export function keyBounds(min: bigint, max: bigint, parts: number): string[] {
  const span = max - min + 1n;
  const n = BigInt(parts) > span ? Number(span) : parts;
  return Array.from({ length: n - 1 }, (_, i) => (min + (span * BigInt(i + 1)) / BigInt(n)).toString());
}

/** `parts` block ranges over a heap of `pages` blocks: [lo, hi) each, the first and last open-ended (null). */
export function blockRanges(pages: number, parts: number): { lo: string | null; hi: string | null }[] {
  const blocks = Math.max(1, pages);
  return Array.from({ length: parts }, (_, i) => ({
    lo: i === 0 ? null : String(Math.floor((blocks * i) / parts)),
    hi: i === parts - 1 ? null : String(Math.floor((blocks * (i + 1)) / parts)),
  }));
}

/** How many chunks a table of `bytes` gets with chunks of about `chunkBytes`. */
export function chunkCount(bytes: number, chunkBytes: number): number {
  return Math.max(1, Math.min(MAX_CHUNKS_PER_TABLE, Math.ceil(bytes / chunkBytes)));
}

/** The name under which large objects are copied and shown, as if they were a table. */
export const LARGE_OBJECTS = { schema: 'pg_catalog', name: 'pg_largeobject' } as const;

/**
 * Splits each table into pieces of about `chunkBytes`, largest tables first; large objects
 * come last, in ranges of OIDs. Before 14 a block range is read by a scan of the whole
 * table (no TID range scan): tables without an integer key are not split there.
 */
export async function planChunks(
  client: pg.Client,
  tables: LoadTable[],
  chunkBytes: number,
  major = 99,
): Promise<Chunk[]> {
  const chunks: Chunk[] = [];
  for (const t of tables) {
    // Key ranges are index range scans; ctid ranges need a TID range scan (14+), else each would read the whole table.
    const key = t.intKey ?? (supportsTidRangeScan(major) ? null : t.leadKey);
    const parts = key || supportsTidRangeScan(major) ? chunkCount(t.bytes, chunkBytes) : 1;
    const base = {
      schema: t.schema,
      name: t.name,
      estBytes: Math.round(t.bytes / parts),
      estRows: Math.round(t.rows / parts),
    };
    const id = (part: number) => `${t.schema}.${t.name}/${part}`;
    if (parts === 1) {
      chunks.push({ ...base, id: id(0), part: 0, parts: 1, kind: 'all', lo: null, hi: null });
      continue;
    }
    if (key) {
      const ident = `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`;
      const col = client.escapeIdentifier(key);
      const { rows } = await client.query<{ lo: string | null; hi: string | null }>(
        `SELECT min(${col})::text AS lo, max(${col})::text AS hi FROM ${ident}`,
      );
      const lo = rows[0]?.lo;
      const hi = rows[0]?.hi;
      if (lo != null && hi != null) {
        const bounds = keyBounds(BigInt(lo), BigInt(hi), parts);
        const n = bounds.length + 1;
        for (let i = 0; i < n; i++) {
          chunks.push({
            ...base,
            estBytes: Math.round(t.bytes / n),
            estRows: Math.round(t.rows / n),
            id: id(i),
            part: i,
            parts: n,
            kind: 'key',
            column: key,
            lo: i === 0 ? null : bounds[i - 1]!,
            hi: i === n - 1 ? null : bounds[i]!,
          });
        }
        continue;
      }
    }
    // Block ranges of the heap only: pg_table_size counts TOAST too, and ranges spread over
    // blocks that do not exist would leave the whole table to the first chunk.
    blockRanges(t.pages, parts).forEach((r, i) =>
      chunks.push({ ...base, id: id(i), part: i, parts, kind: 'ctid', ...r }),
    );
  }
  return chunks;
}

/** Large objects of the database, in chunks of LARGE_OBJECTS_PER_CHUNK by OID: none when there are none. */
export async function largeObjectChunks(client: pg.Client): Promise<{ count: number; bytes: number; chunks: Chunk[] }> {
  const { rows } = await client.query<{ oid: string }>(
    `SELECT oid::text AS oid FROM pg_largeobject_metadata ORDER BY oid`,
  );
  if (rows.length === 0) return { count: 0, bytes: 0, chunks: [] };
  const starts = rows.filter((_, i) => i % LARGE_OBJECTS_PER_CHUNK === 0).map((r) => r.oid);
  const id = (part: number) => `${LARGE_OBJECTS.schema}.${LARGE_OBJECTS.name}/${part}`;
  const chunks: Chunk[] = starts.map((lo, i) => ({
    id: id(i),
    schema: LARGE_OBJECTS.schema,
    name: LARGE_OBJECTS.name,
    part: i,
    parts: starts.length,
    kind: 'lo',
    lo: i === 0 ? null : lo,
    hi: i === starts.length - 1 ? null : starts[i + 1]!,
    estBytes: 0,
    estRows: Math.min(LARGE_OBJECTS_PER_CHUNK, rows.length - i * LARGE_OBJECTS_PER_CHUNK),
  }));
  return { count: rows.length, bytes: 0, chunks };
}

/** The WHERE clause of a chunk (bounds are numbers we produced, never user text). */
export function chunkPredicate(chunk: Chunk, escapeIdentifier: (s: string) => string): string {
  const parts: string[] = [];
  if (chunk.kind === 'key') {
    const col = escapeIdentifier(chunk.column!);
    if (chunk.lo !== null) parts.push(`${col} >= ${BigInt(chunk.lo)}`);
    if (chunk.hi !== null) parts.push(`${col} < ${BigInt(chunk.hi)}`);
  } else if (chunk.kind === 'ctid') {
    if (chunk.lo !== null) parts.push(`ctid >= '(${Number(chunk.lo)},0)'::tid`);
    if (chunk.hi !== null) parts.push(`ctid < '(${Number(chunk.hi)},0)'::tid`);
  }
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

/**
 * The full load's plan: the selected tables (largest first) with their names on the target,
 * and their chunks, large objects last. Reads only; the caller chooses the transaction (the
 * load plans inside the snapshot it copies).
 */
export async function planLoad(
  client: pg.Client,
  plan: Pick<Plan, 'include' | 'exclude' | 'mapping' | 'fullLoad'>,
): Promise<LoadPlan> {
  const tables = await listLoadTables(client, plan);
  const major =
    Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v) / 10000;
  const large = await largeObjectChunks(client);
  const planned: LoadPlan = {
    tables: tables.map((t) => ({
      table: `${t.schema}.${t.name}`,
      root: `${t.root.schema}.${t.root.name}`,
      targetTable: displayName(targetName(plan, t)),
      estRows: t.rows,
      estBytes: t.bytes,
    })),
    chunks: [
      ...(await planChunks(client, tables, plan.fullLoad.chunkSizeMB * 1024 * 1024, Math.floor(major))),
      ...large.chunks,
    ],
  };
  if (large.count > 0) {
    const name = `${LARGE_OBJECTS.schema}.${LARGE_OBJECTS.name}`;
    planned.tables.push({ table: name, root: name, targetTable: name, estRows: large.count, estBytes: large.bytes });
  }
  return planned;
}
