/**
 * The corpus's own comparison of a source and a target database, written apart from
 * pgtransit's (src/postgres/compare.ts) so that a bug shared by the migration and its
 * verification cannot hide: every table, partitioned table and materialized view of the
 * selected schemas row by row (a digest of every row's text form, and the row count),
 * every sequence's position, and the large objects.
 */
import pg from 'pg';
import type { PlanInput } from '../../src/plan/plan';
import type { PgServer } from '../helpers/postgres';

/** Both sides print values under these settings: a row's text form must not depend on a database's defaults. */
const SESSION = [
  `SET DateStyle = 'ISO, YMD'`,
  `SET IntervalStyle = 'postgres'`,
  `SET TimeZone = 'UTC'`,
  `SET extra_float_digits = 3`,
  `SET bytea_output = 'hex'`,
  // regclass/regtype values print schema-qualified or not depending on search_path; money on lc_monetary.
  `SET search_path = public`,
  `SET lc_monetary = 'C'`,
];

export interface Relation {
  schema: string;
  name: string;
  /** r table (compared with ONLY), p partitioned table (as a whole), m materialized view, S sequence. */
  kind: 'r' | 'p' | 'm' | 'S';
  populated: boolean;
  /** A sequence's owning table (OWNED BY, serial, identity), to follow the plan's exclusions. */
  owner?: { schema: string; name: string };
}

export interface RelationResult {
  relation: string;
  kind: 'table' | 'partitioned table' | 'materialized view';
  equal: boolean;
  sourceRows: number;
  /** null: missing on the target. */
  targetRows: number | null;
  /** What differs, for the failure message. */
  note?: string;
}

export interface SequenceResult {
  sequence: string;
  ok: boolean;
  /** The value nextval() would return on each side. */
  sourceNext: string;
  targetNext: string | null;
}

export interface DatabaseComparison {
  tables: RelationResult[];
  matviews: RelationResult[];
  sequences: SequenceResult[];
  largeObjects: { ok: boolean; source: { n: number; md5: string | null }; target: { n: number; md5: string | null } };
  /** Selected relations that exist on the target only. */
  extraOnTarget: string[];
}

/** Quoted like psql and pg_dump do: only when needed. */
export function displayName(r: { schema: string; name: string }): string {
  const part = (n: string) => (/^[a-z_][a-z0-9_]*$/.test(n) ? n : `"${n.replace(/"/g, '""')}"`);
  return `${part(r.schema)}.${part(r.name)}`;
}

const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

/** The plan's include/exclude (schema globs, schema.table globs), as the README states them. */
export function selects(
  plan: Pick<PlanInput, 'include' | 'exclude'>,
): (r: { schema: string; name: string }) => boolean {
  const tableHit = (p: string) => {
    const dot = p.indexOf('.');
    const s = glob(p.slice(0, dot));
    const n = glob(p.slice(dot + 1));
    return (r: { schema: string; name: string }) => s.test(r.schema) && n.test(r.name);
  };
  const schemaHit = (p: string) => {
    const s = glob(p);
    return (r: { schema: string }) => s.test(r.schema);
  };
  const inc = [...(plan.include?.schemas ?? []).map(schemaHit), ...(plan.include?.tables ?? []).map(tableHit)];
  const exc = [...(plan.exclude?.schemas ?? []).map(schemaHit), ...(plan.exclude?.tables ?? []).map(tableHit)];
  return (r) => (inc.length === 0 || inc.some((f) => f(r))) && !exc.some((f) => f(r));
}

/** Tables, partitioned tables, materialized views and sequences outside system schemas and extensions. */
export async function listRelations(c: pg.Client): Promise<Relation[]> {
  const { rows } = await c.query<{
    schema: string;
    name: string;
    kind: Relation['kind'];
    populated: boolean;
    owner_schema: string | null;
    owner_name: string | null;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, c.relispopulated AS populated,
            own.nspname AS owner_schema, own.relname AS owner_name
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN LATERAL (
         SELECT tn.nspname, t.relname FROM pg_depend d
           JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
          WHERE c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid
            AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
          LIMIT 1) own ON true
      WHERE c.relkind IN ('r', 'p', 'm', 'S') AND c.relpersistence <> 't'
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtransit')
        AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
      ORDER BY 1, 2`,
  );
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    kind: r.kind,
    populated: r.populated,
    owner: r.owner_schema && r.owner_name ? { schema: r.owner_schema, name: r.owner_name } : undefined,
  }));
}

async function connect(server: PgServer, database: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.url({ database }), application_name: 'pgtransit corpus' });
  c.on('error', () => undefined);
  await c.connect();
  for (const s of SESSION) await c.query(s);
  return c;
}

const rel = (c: pg.Client, r: { schema: string; name: string }) =>
  `${c.escapeIdentifier(r.schema)}.${c.escapeIdentifier(r.name)}`;

/** Row count and an order-independent digest of every row's text form. */
async function digest(c: pg.Client, r: Relation): Promise<{ n: number; md5: string | null }> {
  const only = r.kind === 'r' ? 'ONLY ' : '';
  const { rows } = await c.query<{ n: string; h: string | null }>(
    `SELECT count(*) AS n, md5(string_agg(md5(corpus_row::text), '' ORDER BY md5(corpus_row::text))) AS h
       FROM ${only}${rel(c, r)} corpus_row`,
  );
  return { n: Number(rows[0]!.n), md5: rows[0]!.h };
}

/** What nextval() returns next, and the increment's sign. */
async function nextValue(c: pg.Client, r: Relation): Promise<{ next: bigint; ascending: boolean }> {
  const { rows } = await c.query<{ last_value: string; is_called: boolean; inc: string }>(
    `SELECT s.last_value::text, s.is_called, q.seqincrement::text AS inc
       FROM ${rel(c, r)} s, pg_sequence q WHERE q.seqrelid = $1::regclass`,
    [rel(c, r)],
  );
  const row = rows[0]!;
  const inc = BigInt(row.inc);
  const last = BigInt(row.last_value);
  return { next: row.is_called ? last + inc : last, ascending: inc > 0n };
}

async function largeObjects(c: pg.Client): Promise<{ n: number; md5: string | null }> {
  const { rows } = await c.query<{ n: string; h: string | null }>(
    `SELECT count(*) AS n, md5(string_agg(md5(lo_get(oid)), '' ORDER BY oid)) AS h FROM pg_largeobject_metadata`,
  );
  return { n: Number(rows[0]!.n), md5: rows[0]!.h };
}

const KIND = { r: 'table', p: 'partitioned table', m: 'materialized view' } as const;

export async function compareDatabases(
  source: PgServer,
  target: PgServer,
  database: string,
  targetDatabase: string,
  plan: Pick<PlanInput, 'include' | 'exclude'>,
): Promise<DatabaseComparison> {
  const s = await connect(source, database);
  try {
    const t = await connect(target, targetDatabase);
    try {
      const selected = selects(plan);
      const key = (r: Relation) => `${r.kind}:${r.schema}.${r.name}`;
      // A sequence follows its table: one owned by an excluded table is not migrated either.
      const keep = (r: Relation) => selected(r) && (!r.owner || selected(r.owner));
      const [srcAll, tgtAll] = await Promise.all([listRelations(s), listRelations(t)]);
      const src = srcAll.filter(keep);
      const tgt = new Map(tgtAll.filter(keep).map((r) => [key(r), r]));
      const out: DatabaseComparison = {
        tables: [],
        matviews: [],
        sequences: [],
        largeObjects: { ok: true, source: { n: 0, md5: null }, target: { n: 0, md5: null } },
        extraOnTarget: [],
      };
      const srcKeys = new Set(src.map(key));
      out.extraOnTarget = [...tgt.values()].filter((r) => !srcKeys.has(key(r))).map(displayName);

      for (const r of src) {
        const there = tgt.get(key(r));
        if (r.kind === 'S') {
          const a = await nextValue(s, r);
          const b = there ? await nextValue(t, there) : null;
          const ok = b !== null && (a.ascending ? b.next >= a.next : b.next <= a.next);
          out.sequences.push({
            sequence: displayName(r),
            ok,
            sourceNext: a.next.toString(),
            targetNext: b ? b.next.toString() : null,
          });
          continue;
        }
        const list = r.kind === 'm' ? out.matviews : out.tables;
        const base = { relation: displayName(r), kind: KIND[r.kind] };
        if (r.kind === 'm' && (!r.populated || !there?.populated)) {
          // An unpopulated materialized view cannot be read; it must be unpopulated on both sides.
          const equal = !!there && there.populated === r.populated;
          list.push({
            ...base,
            equal,
            sourceRows: r.populated ? (await digest(s, r)).n : 0,
            targetRows: there ? 0 : null,
            note: !there
              ? 'missing on the target'
              : equal
                ? undefined
                : `populated on the source: ${r.populated}, on the target: ${there.populated}`,
          });
          continue;
        }
        const a = await digest(s, r);
        if (!there) {
          list.push({ ...base, equal: false, sourceRows: a.n, targetRows: null, note: 'missing on the target' });
          continue;
        }
        const b = await digest(t, there);
        const equal = a.n === b.n && a.md5 === b.md5;
        list.push({
          ...base,
          equal,
          sourceRows: a.n,
          targetRows: b.n,
          note: equal ? undefined : a.n === b.n ? 'same row count, different rows' : undefined,
        });
      }
      const [la, lb] = await Promise.all([largeObjects(s), largeObjects(t)]);
      out.largeObjects = { ok: la.n === lb.n && la.md5 === lb.md5, source: la, target: lb };
      return out;
    } finally {
      await t.end().catch(() => undefined);
    }
  } finally {
    await s.end().catch(() => undefined);
  }
}

/** "tables equal 11/12, matviews equal 2/2, sequences ok (3), large objects ok (0)". */
export function summary(c: DatabaseComparison): string {
  const eq = (xs: RelationResult[]) => `${xs.filter((x) => x.equal).length}/${xs.length}`;
  const behind = c.sequences.filter((x) => !x.ok).length;
  return [
    `tables equal ${eq(c.tables)}`,
    `matviews equal ${eq(c.matviews)}`,
    behind ? `sequences ${behind}/${c.sequences.length} behind or missing` : `sequences ok (${c.sequences.length})`,
    c.largeObjects.ok
      ? `large objects ok (${c.largeObjects.source.n})`
      : `large objects differ (source ${c.largeObjects.source.n}, target ${c.largeObjects.target.n})`,
  ].join(', ');
}

/** One line per difference: relation names and both counts. Empty when the databases are equal. */
export function differences(c: DatabaseComparison): string[] {
  const rows = (n: number | null) => (n === null ? 'missing' : `${n} rows`);
  const out: string[] = [];
  for (const x of [...c.tables, ...c.matviews].filter((y) => !y.equal))
    out.push(
      `${x.kind} ${x.relation}: source ${rows(x.sourceRows)}, target ${rows(x.targetRows)}${x.note ? ` (${x.note})` : ''}`,
    );
  for (const x of c.sequences.filter((y) => !y.ok))
    out.push(
      `sequence ${x.sequence}: next value on the source ${x.sourceNext}, on the target ${x.targetNext ?? 'missing'} (behind)`,
    );
  if (!c.largeObjects.ok)
    out.push(
      `large objects: source ${c.largeObjects.source.n} (md5 ${c.largeObjects.source.md5}), ` +
        `target ${c.largeObjects.target.n} (md5 ${c.largeObjects.target.md5})`,
    );
  if (c.extraOnTarget.length) out.push(`on the target only: ${c.extraOnTarget.join(', ')}`);
  return out;
}
