/**
 * What pg_dump dumps for a plan, and what the plan leaves out that selected objects
 * need (their restore would fail): the schema step refuses to start and names them.
 */
import type pg from 'pg';
import { ErrorType, PgTransitError } from '../../errors';
import { isSystemSchema } from '../../model/names';
import type { Plan } from '../../plan/plan';
import { globToRegExp, selectTables, type QualifiedName } from '../../plan/selection';
import { FIRST_NORMAL_OID } from '../sql';

export interface DumpScope {
  /** Schemas dumped (pg_dump -n), sorted. */
  schemas: string[];
  /** Relations of those schemas left out (pg_dump -T). */
  excluded: QualifiedName[];
  /** Selected tables that are not partitions: the names mapping.tables renames. */
  selectedRoots: QualifiedName[];
  /**
   * Objects the dump would restore that depend on something left out (a view over an
   * excluded table, a foreign key to it, a column of a type in an excluded schema).
   * Their restore would fail, so the schema step refuses to start and names them.
   */
  conflicts: string[];
}

const PG_CLASS = 1259;

/** SQL: the relation an object belongs to (index, constraint, trigger, rule, default, policy, statistics, row type), or itself. */
function owningRelation(cls: string, oid: string): string {
  return `CASE ${cls}
    WHEN 'pg_class'::regclass THEN (SELECT CASE WHEN c.relkind IN ('i', 'I') THEN (SELECT x.indrelid FROM pg_index x WHERE
      x.indexrelid = c.oid) ELSE c.oid END FROM pg_class c WHERE c.oid = ${oid})
    WHEN 'pg_constraint'::regclass THEN (SELECT NULLIF(k.conrelid, 0) FROM pg_constraint k WHERE k.oid = ${oid})
    WHEN 'pg_trigger'::regclass THEN (SELECT g.tgrelid FROM pg_trigger g WHERE g.oid = ${oid})
    WHEN 'pg_rewrite'::regclass THEN (SELECT w.ev_class FROM pg_rewrite w WHERE w.oid = ${oid})
    WHEN 'pg_attrdef'::regclass THEN (SELECT a.adrelid FROM pg_attrdef a WHERE a.oid = ${oid})
    WHEN 'pg_policy'::regclass THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = ${oid})
    WHEN 'pg_statistic_ext'::regclass THEN (SELECT s.stxrelid FROM pg_statistic_ext s WHERE s.oid = ${oid})
    WHEN 'pg_type'::regclass THEN (SELECT NULLIF(t.typrelid, 0) FROM pg_type t WHERE t.oid = ${oid})
  END`;
}

interface ScopeRelation extends QualifiedName {
  oid: number;
  kind: string;
  /** The partition root (itself when not a partition). */
  root: QualifiedName & { oid: number };
}

interface Edge {
  depSchema: string | null;
  depRel: number | null;
  cls: number;
  objid: number;
  objsubid: number;
  refCls: number;
  refOid: number;
  refSchema: string | null;
  /** When the referenced object is a relation's row type: that relation. */
  refRowtypeOf: number | null;
}

/**
 * What pg_dump dumps for a plan: the schemas of the selected tables; the table-less
 * schemas the plan selects (all of them when it includes nothing in particular); and
 * the schemas holding types, functions and sequences those depend on, without their
 * tables and views. Left out: the tables not selected (with partitions, by their root)
 * and the views, materialized views and sequences that exclude.tables names.
 */
export async function dumpScope(source: pg.Client, plan: Plan): Promise<DumpScope> {
  const { rows: relRows } = await source.query<{
    oid: number;
    schema: string;
    name: string;
    kind: string;
    root_oid: number;
    root_schema: string;
    root_name: string;
  }>(`
    WITH RECURSIVE up AS (
      SELECT c.oid AS rel, c.oid AS anc, 0 AS depth FROM pg_class c WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
      UNION ALL
      SELECT up.rel, i.inhparent, up.depth + 1 FROM up JOIN pg_class ch ON ch.oid = up.anc AND ch.relispartition JOIN pg_inherits i ON i.inhrelid = up.anc
    )
    SELECT DISTINCT ON (up.rel) up.rel::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS kind,
           rc.oid::int AS root_oid, rn.nspname AS root_schema, rc.relname AS root_name
      FROM up JOIN pg_class c ON c.oid = up.rel JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_class rc ON rc.oid = up.anc JOIN pg_namespace rn ON rn.oid = rc.relnamespace
     WHERE c.relpersistence <> 't'
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY up.rel, up.depth DESC`);
  const rels: ScopeRelation[] = relRows
    .filter((r) => !isSystemSchema(r.schema))
    .map((r) => ({
      oid: r.oid,
      schema: r.schema,
      name: r.name,
      kind: r.kind,
      root: { oid: r.root_oid, schema: r.root_schema, name: r.root_name },
    }));
  const key = (t: QualifiedName) => `${t.schema}.${t.name}`;

  // Tables by their partition root, as the load selects them; foreign tables are never dumped.
  const roots = rels.filter((r) => (r.kind === 'r' || r.kind === 'p') && r.root.oid === r.oid);
  const selectedRoots = selectTables(plan, roots).selected;
  const selectedRootOids = new Set(selectedRoots.map((r) => r.oid));
  const selected = new Set(
    rels.filter((r) => (r.kind === 'r' || r.kind === 'p') && selectedRootOids.has(r.root.oid)).map((r) => r.oid),
  );

  const { rows: nsRows } = await source.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace n WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = ` +
      `'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')`,
  );
  const allSchemas = nsRows.map((r) => r.nspname).filter((s) => !isSystemSchema(s) && !/^pg_/.test(s));
  const excludedSchema = (s: string) => (plan.exclude?.schemas ?? []).some((p) => globToRegExp(p).test(s));
  const hasTables = new Set(
    rels.filter((r) => r.kind === 'r' || r.kind === 'p' || r.kind === 'f').map((r) => r.schema),
  );
  const includesAll = !plan.include?.schemas?.length && !plan.include?.tables?.length;
  const base = new Set([
    ...rels.filter((r) => selected.has(r.oid)).map((r) => r.schema),
    ...allSchemas.filter(
      (s) =>
        !hasTables.has(s) &&
        !excludedSchema(s) &&
        (includesAll || (plan.include?.schemas ?? []).some((p) => globToRegExp(p).test(s))),
    ),
  ]);

  const { rows: edgeRows } = await source.query<{
    dep_schema: string | null;
    dep_rel: number | null;
    cls: number;
    objid: number;
    objsubid: number;
    ref_cls: number;
    ref_oid: number;
    ref_schema: string | null;
    ref_rowtype_of: number | null;
  }>(`
    SELECT COALESCE((pg_identify_object(d.classid, d.objid, 0)).schema,
                    (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid =
                      ${owningRelation('d.classid', 'd.objid')})) AS dep_schema,
           (${owningRelation('d.classid', 'd.objid')})::int AS dep_rel,
           d.classid::int AS cls, d.objid::int AS objid, d.objsubid,
           d.refclassid::int AS ref_cls, d.refobjid::int AS ref_oid,
           (pg_identify_object(d.refclassid, d.refobjid, 0)).schema AS ref_schema,
           CASE WHEN d.refclassid = 'pg_type'::regclass THEN (SELECT NULLIF(t.typrelid, 0)::int FROM pg_type t WHERE t.oid = d.refobjid) END AS ref_rowtype_of
      FROM pg_depend d
     WHERE d.deptype IN ('n', 'a') AND d.objid >= ${FIRST_NORMAL_OID} AND d.refobjid >= ${FIRST_NORMAL_OID}
       -- a sequence's OWNED BY link: the sequence goes with its table
       AND NOT (d.deptype = 'a' AND d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass)
       AND d.refclassid <> 'pg_extension'::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.deptype = 'e' AND ((e.classid = d.classid AND e.objid = d.objid) OR
         (e.classid = d.refclassid AND e.objid = d.refobjid)))`);
  const edges: Edge[] = edgeRows.map((e) => ({
    depSchema: e.dep_schema,
    depRel: e.dep_rel,
    cls: e.cls,
    objid: e.objid,
    objsubid: e.objsubid,
    refCls: e.ref_cls,
    refOid: e.ref_oid,
    refSchema: e.ref_schema,
    refRowtypeOf: e.ref_rowtype_of,
  }));

  // Schemas holding what the dumped objects need, transitively; an excluded schema stays out (and is reported below).
  const schemas = new Set(base);
  for (let grew = true; grew;) {
    grew = false;
    for (const e of edges) {
      if (
        e.depSchema &&
        schemas.has(e.depSchema) &&
        e.refSchema &&
        !schemas.has(e.refSchema) &&
        !isSystemSchema(e.refSchema) &&
        !excludedSchema(e.refSchema)
      ) {
        schemas.add(e.refSchema);
        grew = true;
      }
    }
  }

  const excludeOthers = new Set(
    selectTables(
      { exclude: { tables: plan.exclude?.tables ?? [] } },
      rels.filter((r) => ['v', 'm', 'S'].includes(r.kind)),
    ).selected.map((r) => r.oid),
  );
  const excludedRels = rels.filter((r) => {
    if (!schemas.has(r.schema)) return false;
    if (r.kind === 'f') return true;
    if (r.kind === 'r' || r.kind === 'p') return !selected.has(r.oid);
    if (!base.has(r.schema)) return r.kind !== 'S'; // a schema dumped for its types and functions: no views
    return !excludeOthers.has(r.oid);
  });
  const excludedOids = new Set(excludedRels.map((r) => r.oid));

  const broken = edges.filter(
    (e) =>
      e.depSchema !== null &&
      schemas.has(e.depSchema) &&
      !(e.depRel !== null && excludedOids.has(e.depRel)) &&
      ((e.refCls === PG_CLASS && excludedOids.has(e.refOid)) ||
        (e.refRowtypeOf !== null && excludedOids.has(e.refRowtypeOf)) ||
        (e.refSchema !== null && !schemas.has(e.refSchema) && !isSystemSchema(e.refSchema))),
  );
  const conflicts: string[] = [];
  if (broken.length > 0) {
    const { rows } = await source.query<{ dep: string; ref: string }>(
      `SELECT DISTINCT
              CASE WHEN b.cls = 'pg_rewrite'::regclass AND w.rulename = '_RETURN'
                   THEN CASE c.relkind WHEN 'm' THEN 'materialized view ' ELSE 'view ' END || (pg_identify_object('pg_class'::regclass, w.ev_class, 0)).identity
                   ELSE dep.type || ' ' || dep.identity END AS dep,
              ref.type || ' ' || ref.identity AS ref
         FROM unnest($1::oid[], $2::oid[], $3::int[], $4::oid[], $5::oid[]) AS b(cls, objid, objsubid, ref_cls, ref_oid)
         CROSS JOIN LATERAL pg_identify_object(b.cls, b.objid, b.objsubid) dep
         CROSS JOIN LATERAL pg_identify_object(b.ref_cls, b.ref_oid, 0) ref
         LEFT JOIN pg_rewrite w ON b.cls = 'pg_rewrite'::regclass AND w.oid = b.objid
         LEFT JOIN pg_class c ON c.oid = w.ev_class
        ORDER BY 1, 2`,
      [
        broken.map((e) => e.cls),
        broken.map((e) => e.objid),
        broken.map((e) => e.objsubid),
        broken.map((e) => e.refCls),
        broken.map((e) => e.refOid),
      ],
    );
    conflicts.push(...rows.map((r) => `${r.dep} needs ${r.ref}`));
  }

  return {
    schemas: [...schemas].sort(),
    excluded: excludedRels
      .map((r) => ({ schema: r.schema, name: r.name }))
      .sort((a, b) => key(a).localeCompare(key(b))),
    selectedRoots: selectedRoots.map((r) => ({ schema: r.schema, name: r.name })),
    conflicts,
  };
}

/** The refusal when the plan leaves out what selected objects need. */
export function conflictError(database: string, conflicts: string[]): PgTransitError {
  const shown = conflicts.slice(0, 20).map((c) => `  ${c}`);
  if (conflicts.length > 20) shown.push(`  and ${conflicts.length - 20} more`);
  return new PgTransitError(
    ErrorType.InvalidPlan,
    `database ${database}: the plan leaves out objects that selected objects depend on, so their definitions cannot be restored:\n${shown.join('\n')}\n` +
      'include what they need (include / exclude), or leave the dependent objects out too (exclude.tables ' +
      'also matches views, materialized views and sequences)',
    { conflicts },
  );
}
