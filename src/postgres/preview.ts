/**
 * The dry run of one database of a plan (`pgtransit plan diff`): what the schema step and
 * the mapping would create on the target, what the full load would copy and in which
 * chunks, what is left out and why, which roles would be created, and what the migration
 * installs on the source. Reads only: pg_dump --schema-only into a scratch folder, catalog
 * reads in READ ONLY transactions; nothing is written on either server.
 */
import type pg from 'pg';
import type { Chunk } from '../model/activities';
import { STATE_SCHEMA, ddlCaptureNames, isSystemSchema, replicationNames } from '../model/names';
import type { CopiedTable, DatabasePreview, Excluded, Rename, TargetObject } from '../model/plan-diff';
import type { Plan } from '../plan/plan';
import { displayIdent, displayName, exclusionOf, targetName, type QualifiedName } from '../plan/selection';
import { captureSkipped } from './cdc/ddl-capture';
import { planLoad } from './chunks';
import { connect, endpoints, withConnection, type Connected } from './connect';
import { dumpScope, dumpSection, withScratch, type DumpScope } from './ddl';
import { pgProgram, runTool } from './ddl/run-tool';
import { OBJECT_KINDS, existing, parseToc, readings, type TocEntry } from './ddl/toc';
import * as inspect from './inspect';
import { publishedTables } from './replication';
import { rolesOf } from './roles';

export interface PreviewOptions {
  plan: Plan;
  database: string;
  targetDatabase: string;
  sourceMajor: number;
  signal?: AbortSignal;
}

/** A relation of the dumped schemas, and the table an index or owned sequence moves with. */
interface ScopeRelation extends QualifiedName {
  kind: string;
  table: QualifiedName | null;
}

const RELATION_KIND: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};

export async function previewDatabase(o: PreviewOptions): Promise<DatabasePreview> {
  const { plan, database, targetDatabase } = o;
  const { source, target } = endpoints(plan);
  const src = await connect(source, { database });
  try {
    const { client } = src;
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const scope = await dumpScope(client, plan);
    const load = await planLoad(client, plan);
    const relations = await scopeRelations(client, scope.schemas);
    const excluded = await leftOut(client, plan, scope);
    const roles = plan.roles ? (await rolesOf(client, scope.schemas)).map((r) => r.rolname) : [];
    const extensions = (await inspect.installedExtensions(client)).map((e) => e.name);
    const published = plan.mode === 'full+cdc' ? [...(await publishedTables(client, plan)).keys()] : [];
    const ddl = plan.mode === 'full+cdc' ? await ddlNote(client, plan, database) : null;
    await client.query('COMMIT');

    const targetSide = await withConnection(target, { fallbackToMaintenanceDb: true }, async ({ client: t }) => ({
      exists: await inspect.databaseExists(t, targetDatabase),
      roles: roles.length
        ? (
            await t.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [roles])
          ).rows.map((r) => r.rolname)
        : [],
    }));
    const session = targetSide.exists ? await connect(target, { database: targetDatabase }) : null;
    try {
      const objects = await schemaObjects(o, scope, relations, session);
      const { slot, publication } = replicationNames(plan.name, database);
      return {
        database,
        targetDatabase,
        target: {
          createDatabase: !targetSide.exists,
          stateSchema: STATE_SCHEMA,
          extensions,
          ...objects,
        },
        copy: copied(load.tables, load.chunks),
        excluded,
        renamed: renames(plan, scope),
        roles: {
          copy: plan.roles,
          create: roles.filter((r) => !targetSide.roles.includes(r)),
          existing: roles.filter((r) => targetSide.roles.includes(r)),
        },
        source:
          plan.mode === 'full+cdc'
            ? {
                publication,
                publishedTables: published,
                slot,
                notes: [
                  ddl!,
                  `at the switchover (the fence): ALTER DATABASE ${displayIdent(database)} SET default_transaction_read_only = on, ` +
                    "the application's sessions ended, a logical message with prefix pgtransit written into the WAL; " +
                    'the source stays read-only afterwards',
                  `after the switchover: the slot and the publication are ${plan.switchover.keepSlot ? 'kept (switchover.keepSlot)' : 'dropped'}`,
                ],
              }
            : {
                publication: null,
                publishedTables: [],
                slot: null,
                notes: ['mode full: an exported snapshot for the load (pg_export_snapshot), nothing that outlives it'],
              },
      };
    } finally {
      await session?.client.end().catch(() => undefined);
    }
  } finally {
    await src.client.end().catch(() => undefined);
  }
}

/** What the migration does about DDL on the source during change capture (plan cdc.ddl). */
async function ddlNote(client: pg.Client, plan: Plan, database: string): Promise<string> {
  const stops = 'DDL during change capture stops the migration as schema drift';
  if (plan.cdc.ddl === 'stop') return `no DDL capture (cdc.ddl: stop): ${stops}`;
  const skipped = await captureSkipped(client, plan, database);
  if (skipped) return `no DDL capture (${skipped}): ${stops}`;
  const n = ddlCaptureNames(plan.name, database);
  return (
    `DDL capture: schema ${n.schema} with event triggers ${n.endTrigger}, ${n.dropTrigger}; each DDL statement ` +
    'goes into the WAL as a logical message and is replayed on the target in commit order; dropped at completion or abort'
  );
}

/** Relations of the dumped schemas; an index or a sequence owned by a column, with its table. */
async function scopeRelations(client: pg.Client, schemas: string[]): Promise<Map<string, ScopeRelation>> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    kind: string;
    table_schema: string | null;
    table_name: string | null;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind, tn.nspname AS table_schema, t.relname AS table_name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN LATERAL (
         SELECT i.indrelid AS rel FROM pg_index i WHERE i.indexrelid = c.oid
         UNION ALL
         SELECT d.refobjid FROM pg_depend d WHERE c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid
            AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
       ) o ON true
       LEFT JOIN pg_class t ON t.oid = o.rel LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
      WHERE n.nspname = ANY($1)`,
    [schemas],
  );
  return new Map(
    rows.map((r) => [
      `${r.schema}.${r.name}`,
      {
        schema: r.schema,
        name: r.name,
        kind: r.kind,
        table: r.table_schema && r.table_name ? { schema: r.table_schema, name: r.table_name } : null,
      },
    ]),
  );
}

/** Tables not selected, and views and materialized views the dump leaves out, each with the plan's reason. */
async function leftOut(client: pg.Client, plan: Plan, scope: DumpScope): Promise<Excluded[]> {
  const { rows } = await client.query<{ schema: string; name: string; kind: string }>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition AND c.relpersistence <> 't'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
      ORDER BY 1, 2`,
  );
  const key = (t: QualifiedName) => `${t.schema}.${t.name}`;
  const selected = new Set(scope.selectedRoots.map(key));
  const dumped = new Set(scope.schemas);
  const leftOutOfDump = new Set(scope.excluded.map(key));
  return rows
    .filter((r) => !isSystemSchema(r.schema) && !r.schema.startsWith('pg_'))
    .filter((r) =>
      r.kind === 'r' || r.kind === 'p' ? !selected.has(key(r)) : !dumped.has(r.schema) || leftOutOfDump.has(key(r)),
    )
    .map((r) => ({ relation: displayName(r), kind: RELATION_KIND[r.kind] ?? r.kind, ...exclusionOf(plan, r) }));
}

/** The renames the mapping makes: tables first (as applyMapping does), then schemas; only those that apply. */
function renames(plan: Plan, scope: DumpScope): Rename[] {
  const out: Rename[] = [];
  for (const t of scope.selectedRoots) {
    if (!plan.mapping?.tables?.[`${t.schema}.${t.name}`]) continue;
    out.push({ kind: 'table', from: displayName(t), to: displayName(targetName(plan, t)) });
  }
  for (const [from, to] of Object.entries(plan.mapping?.schemas ?? {}))
    if (scope.schemas.includes(from)) out.push({ kind: 'schema', from: displayIdent(from), to: displayIdent(to) });
  return out;
}

function copied(tables: { table: string; targetTable: string; estRows: number; estBytes: number }[], chunks: Chunk[]) {
  const list: CopiedTable[] = tables.map((t) => {
    const mine = chunks.filter((c) => `${c.schema}.${c.name}` === t.table);
    const first = mine[0];
    const split = !first || first.kind === 'all' ? 'whole' : first.kind === 'key' ? `key ${first.column}` : first.kind;
    const [schema, ...rest] = t.table.split('.');
    return {
      table: displayName({ schema: schema!, name: rest.join('.') }),
      targetTable: t.targetTable,
      estRows: t.estRows,
      estBytes: t.estBytes,
      chunks: mine.length,
      split,
    };
  });
  return {
    tables: list,
    totals: {
      tables: list.length,
      estRows: list.reduce((n, t) => n + t.estRows, 0),
      estBytes: list.reduce((n, t) => n + t.estBytes, 0),
      chunks: list.reduce((n, t) => n + t.chunks, 0),
    },
  };
}

/** Kinds pg_dump restores that are not objects of their own (attachments, row security switches). */
const NOT_CREATED = new Set(['TABLE ATTACH']);

/**
 * pre-data and post-data of pg_dump --schema-only for the plan (as the schema step dumps them),
 * each entry named as it will be on the target after the mapping; those the target has
 * already under that name (which the schema step leaves out) apart.
 */
async function schemaObjects(
  o: PreviewOptions,
  scope: DumpScope,
  relations: Map<string, ScopeRelation>,
  target: Connected | null,
): Promise<Pick<DatabasePreview['target'], 'objects' | 'existing' | 'objectsError'>> {
  if (scope.conflicts.length > 0)
    return {
      objects: [],
      existing: [],
      objectsError:
        `the plan leaves out what selected objects depend on, so the schema step would refuse to start: ` +
        scope.conflicts.join('; '),
    };
  const { plan } = o;
  const { source } = endpoints(plan);
  let entries: { entry: TocEntry; section: 'pre-data' | 'post-data' }[];
  try {
    entries = await withScratch(async (dir) => {
      const out: { entry: TocEntry; section: 'pre-data' | 'post-data' }[] = [];
      for (const section of ['pre-data', 'post-data'] as const) {
        const archive = await dumpSection(plan, {
          source,
          database: o.database,
          section,
          snapshot: null,
          sourceMajor: o.sourceMajor,
          dir,
          signal: o.signal,
        });
        if (archive === null) continue;
        const toc = parseToc(await runTool(pgProgram('pg_restore', 0), ['-l', archive], {}, 'pg_restore -l'));
        out.push(...toc.map((entry) => ({ entry, section })));
      }
      return out;
    });
  } catch (e) {
    return { objects: [], existing: [], objectsError: (e as Error).message };
  }

  const schemas = new Set(scope.schemas);
  const mapped = entries.flatMap(({ entry, section }) => {
    const m = mapEntry(plan, entry, schemas, relations);
    return m ? [{ ...m, section }] : [];
  });
  const present = target
    ? await existing(
        target.client,
        mapped.map((m) => m.probe),
      )
    : new Set<string>();
  const objects: TargetObject[] = [];
  const already: TargetObject[] = [];
  for (const m of mapped) (present.has(m.probe.line) ? already : objects).push({ ...m.object, section: m.section });

  // Schemas a table mapping moves tables into: created by the mapping when neither the dump nor the target has them.
  const created = new Set([...objects, ...already].filter((x) => x.type === 'schema').map((x) => x.name));
  const wanted = [
    ...new Set(
      scope.selectedRoots
        .filter((t) => plan.mapping?.tables?.[`${t.schema}.${t.name}`])
        .map((t) => targetName(plan, t).schema),
    ),
  ].filter((s) => !created.has(displayIdent(s)));
  const there = target
    ? new Set(
        (
          await target.client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname = ANY($1)', [
            wanted,
          ])
        ).rows.map((r) => r.nspname),
      )
    : new Set<string>();
  for (const s of wanted)
    (there.has(s) ? already : objects).push({ type: 'schema', name: displayIdent(s), section: 'mapping' });
  return { objects, existing: already };
}

/**
 * An archive entry under its name on the target: a table by the table mapping, an index or
 * owned sequence with its table, a constraint, trigger, rule or policy in its table's schema,
 * anything else in its schema's mapping. `probe` is the entry as the target would name it,
 * for the look-up of what exists already.
 */
function mapEntry(
  plan: Plan,
  e: TocEntry,
  schemas: Set<string>,
  relations: Map<string, ScopeRelation>,
): { object: Omit<TargetObject, 'section'>; probe: TocEntry } | null {
  const lookup = OBJECT_KINDS[e.desc];
  if (!lookup || NOT_CREATED.has(e.desc)) return null;
  const owner = e.words[e.words.length - 1] ?? '';
  const schemaOf = (s: string) => plan.mapping?.schemas?.[s] ?? s;
  const type = e.desc.toLowerCase();
  const probe = (words: string[]): TocEntry => ({ line: e.line, desc: e.desc, words: [...words, owner] });
  if (lookup.kind === 'schema') {
    const name = e.words.slice(1, -1).join(' ');
    const to = schemaOf(name);
    return {
      object: { type, name: displayIdent(to), ...(to !== name ? { source: displayIdent(name) } : {}) },
      probe: probe(['-', ...to.split(' ')]),
    };
  }
  if (lookup.parts === 1) {
    const options = readings(e.words, 2);
    const [schema, name] = options.find((r) => schemas.has(r[0]!)) ?? options[0] ?? [];
    if (schema === undefined || name === undefined) return null;
    const rel = relations.get(`${schema}.${name}`);
    let to: QualifiedName;
    if (e.desc === 'TABLE') to = targetName(plan, { schema, name });
    else if (rel?.table) to = { schema: targetName(plan, rel.table).schema, name };
    else to = { schema: schemaOf(schema), name };
    // Functions, operators and aggregates carry their argument types in the name: shown as pg_dump writes them.
    const shown = (q: QualifiedName) =>
      lookup.kind === 'proc' || lookup.kind === 'operator' ? `${displayIdent(q.schema)}.${q.name}` : displayName(q);
    const from = { schema, name };
    return {
      object: {
        type,
        name: shown(to),
        ...(to.schema !== schema || to.name !== name ? { source: shown(from) } : {}),
      },
      probe: probe([...to.schema.split(' '), ...to.name.split(' ')]),
    };
  }
  const options = readings(e.words, 3);
  const [schema, table, name] = options.find((r) => relations.has(`${r[0]}.${r[1]}`)) ?? options[0] ?? [];
  if (schema === undefined || table === undefined || name === undefined) return null;
  const to = targetName(plan, { schema, name: table });
  return {
    object: {
      type,
      name: displayName({ schema: to.schema, name }),
      table: displayName(to),
      ...(to.schema !== schema ? { source: displayName({ schema, name }) } : {}),
    },
    probe: probe([...to.schema.split(' '), ...to.name.split(' '), ...name.split(' ')]),
  };
}
