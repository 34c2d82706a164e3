/**
 * Which rows differ between a source table and its target table, found without reading
 * either side whole into memory: every row falls in one of BUCKETS buckets by a hash of
 * its key (the primary key, or the replica identity's index; the whole row for a table
 * with neither); each side sums its rows' hashes per bucket in one scan; only the
 * buckets whose sums differ are read row by row (their keys and row hashes) and matched.
 * The hash is md5 of the text forms, the same on every server version.
 */
import type pg from 'pg';
import type { RowDifference, RowDiff } from '../model/activities';
import type { QualifiedName } from '../plan/selection';

const BUCKETS = 4096;
/** At most this many rows (both sides together) are read to match keys; the rest of the differing buckets are counted, not searched. */
const MAX_MATCHED_ROWS = 200_000;
/** A key's text as reported is cut to this length. */
const KEY_TEXT = 200;

/** The columns that identify a row: the primary key's, else the replica identity index's; null for neither. */
export async function keyColumns(client: pg.Client, t: QualifiedName): Promise<string[] | null> {
  const { rows } = await client.query<{ cols: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.n) AS cols
       FROM (SELECT i.indexrelid, i.indrelid, i.indkey
               FROM pg_index i
              WHERE i.indrelid = $1::regclass AND (i.indisprimary OR i.indisreplident)
              ORDER BY i.indisprimary DESC LIMIT 1) i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      GROUP BY i.indexrelid`,
    [`${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`],
  );
  return rows[0]?.cols ?? null;
}

interface Side {
  client: pg.Client;
  table: QualifiedName;
}

/** The SQL of a row's key text, and of its bucket. */
function expressions(client: pg.Client, key: string[] | null): { key: string; bucket: string } {
  const keyText = key
    ? key.length === 1
      ? `(t.${client.escapeIdentifier(key[0]!)})::text`
      : `ROW(${key.map((c) => `t.${client.escapeIdentifier(c)}`).join(', ')})::text`
    : 't::text';
  return {
    key: keyText,
    bucket: `((('x' || substr(md5(${keyText}), 1, 8))::bit(32)::int) & ${BUCKETS - 1})`,
  };
}

const relation = (client: pg.Client, t: QualifiedName) =>
  `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`;

async function bucketSums(side: Side, key: string[] | null): Promise<Map<number, { n: number; sum: string }>> {
  const { client, table } = side;
  const e = expressions(client, key);
  const { rows } = await client.query<{ b: number; n: string; sum: string }>(
    `SELECT b, count(*) AS n, sum(('x' || substr(h, 1, 16))::bit(64)::bigint)::text AS sum
       FROM (SELECT ${e.bucket} AS b, md5(t::text) AS h FROM ONLY ${relation(client, table)} t) x
      GROUP BY b`,
  );
  return new Map(rows.map((r) => [Number(r.b), { n: Number(r.n), sum: r.sum }]));
}

async function rowsOf(side: Side, key: string[] | null, buckets: number[]): Promise<{ k: string; h: string }[]> {
  const { client, table } = side;
  const e = expressions(client, key);
  const { rows } = await client.query<{ k: string; h: string }>(
    `SELECT ${e.key} AS k, md5(t::text) AS h FROM ONLY ${relation(client, table)} t WHERE ${e.bucket} = ANY($1::int[])`,
    [buckets],
  );
  return rows;
}

/**
 * The rows of `source.table` and `target.table` that differ: missing on the target, extra on
 * it, or (same key) different; `limit` samples of them. Both sessions must read under the
 * same text settings (compare.ts sets them).
 */
export async function diffRows(source: Side, target: Side, limit: number): Promise<RowDiff> {
  const key = await keyColumns(source.client, source.table);
  const [a, b] = await Promise.all([bucketSums(source, key), bucketSums(target, key)]);
  const differing = [...new Set([...a.keys(), ...b.keys()])]
    .filter((k) => a.get(k)?.sum !== b.get(k)?.sum || a.get(k)?.n !== b.get(k)?.n)
    .sort((x, y) => x - y);
  // Buckets are matched while the rows to read stay bounded; the rest only counted.
  const matched: number[] = [];
  let reading = 0;
  for (const k of differing) {
    const n = (a.get(k)?.n ?? 0) + (b.get(k)?.n ?? 0);
    if (matched.length > 0 && reading + n > MAX_MATCHED_ROWS) break;
    matched.push(k);
    reading += n;
  }
  const diff: RowDiff = {
    key: key ?? 'the whole row',
    missing: 0,
    extra: 0,
    different: 0,
    samples: [],
    exact: matched.length === differing.length,
    bucketsDiffering: differing.length,
  };
  if (!matched.length) return diff;
  const [sr, tr] = await Promise.all([rowsOf(source, key, matched), rowsOf(target, key, matched)]);
  const note = (kind: RowDifference['kind'], k: string, n = 1) => {
    diff[kind] += n;
    if (diff.samples.length < limit)
      diff.samples.push({ kind, key: k.length > KEY_TEXT ? `${k.slice(0, KEY_TEXT)}…` : k });
  };
  if (key) {
    const there = new Map(tr.map((r) => [r.k, r.h]));
    for (const r of sr) {
      const h = there.get(r.k);
      if (h === undefined) note('missing', r.k);
      else if (h !== r.h) note('different', r.k);
      there.delete(r.k);
    }
    for (const k of there.keys()) note('extra', k);
  } else {
    // Without a key a row is its own identity: the rows are multisets, matched by their count.
    const count = new Map<string, number>();
    for (const r of sr) count.set(r.k, (count.get(r.k) ?? 0) + 1);
    for (const r of tr) count.set(r.k, (count.get(r.k) ?? 0) - 1);
    for (const [k, n] of count) {
      if (n > 0) note('missing', k, n);
      else if (n < 0) note('extra', k, -n);
    }
  }
  return diff;
}
