/** pg_dump of a plan's section: pre-data inside the exported snapshot, post-data after the load. */
import type pg from 'pg';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorType, PgTransitError } from '../../errors';
import type { Section } from '../../model/activities';
import type { Plan } from '../../plan/plan';
import type { QualifiedName } from '../../plan/selection';
import { resolveEndpoint, withConnection, type Endpoint } from '../connect';
import { readSequences } from '../sequences';
import { FIRST_NORMAL_OID } from '../sql';
import { conflictError, dumpScope, type DumpScope } from './scope';
import { pgProgram, runTool } from './run-tool';
import { sequencesFile, storageFile, type ColumnStorage, type SequenceValue } from './restore';

/** A psql-pattern that matches exactly this name. */
function exact(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export interface DumpOptions {
  source: Endpoint;
  database: string;
  section: Section;
  snapshot: string | null;
  sourceMajor: number;
  dir: string;
  signal?: AbortSignal;
  /**
   * post-data of this table alone (its indexes and constraints), without the sequences' values;
   * none (null) when the table is gone or an index of it calls a function of the database's own.
   */
  table?: QualifiedName;
}

/**
 * pg_dump of the selected schemas (minus what the plan leaves out) into a custom-format
 * archive. pre-data is dumped --schema-only. post-data is dumped without it when a
 * populated materialized view is in scope, so that it carries the REFRESH of each (pg_restore
 * runs those after the indexes, in dependency order); without one, --schema-only spares
 * pg_dump its reading of every table's data entry (0.5 s of the 0.7 s it takes on a
 * 10-million-row table). The sequences' current values are written beside it: they are not
 * schema, and without them the target's sequences hand out values the copied rows already use.
 */
export async function dumpSection(plan: Plan, o: DumpOptions): Promise<string | null> {
  const { libpqEnv } = resolveEndpoint(o.source, { database: o.database });
  const file = join(o.dir, `${o.section}.dump`);
  let refreshes = false;
  const scope = await withConnection(o.source, { database: o.database }, async ({ client }) => {
    const scope = await dumpScope(client, plan);
    if (scope.conflicts.length > 0) throw conflictError(o.database, scope.conflicts);
    if (o.section === 'post-data' && o.table) {
      const t = o.table;
      if (!(await buildsAlone(client, t))) return null;
      const storage = (await indexedStorage(client, scope)).filter((c) => c.schema === t.schema && c.name === t.name);
      writeFileSync(storageFile(file), JSON.stringify(storage));
    } else if (o.section === 'post-data') {
      writeFileSync(sequencesFile(file), JSON.stringify(await sequenceValues(client, scope)));
      writeFileSync(storageFile(file), JSON.stringify(await indexedStorage(client, scope)));
      refreshes = await populatedMatviews(client, scope);
    }
    return scope;
  });
  // Nothing selected but large objects (the load copies those): pg_dump without -n would dump everything.
  // A table's own post-data: nothing when it cannot be built before the other tables' rows are in.
  if (scope === null || scope.schemas.length === 0) return null;
  // pg_dump quotes only its own version's keywords: a newer target's (json on 16+) would not parse.
  const args = [`--section=${o.section}`, '-Fc', '--quote-all-identifiers', '-f', file];
  if (o.section === 'pre-data' || !refreshes) args.push('--schema-only');
  if (o.snapshot) args.push(`--snapshot=${o.snapshot}`);
  if (o.table) args.push('-t', `${exact(o.table.schema)}.${exact(o.table.name)}`);
  else {
    for (const s of scope.schemas) args.push('-n', exact(s));
    for (const t of scope.excluded) args.push('-T', `${exact(t.schema)}.${exact(t.name)}`);
  }
  const what = `pg_dump --section=${o.section} of ${o.table ? `${o.table.schema}.${o.table.name} in ` : ''}${o.database}`;
  await runTool(pgProgram('pg_dump', o.sourceMajor), args, libpqEnv, what, o.signal).catch((e: Error) => {
    // The holder of the exported snapshot is gone (its worker died, the source restarted).
    if (o.snapshot && /invalid snapshot identifier/.test(e.message))
      throw new PgTransitError(ErrorType.SnapshotLost, `${what}: the exported snapshot is gone (${e.message})`);
    throw e;
  });
  return file;
}

/**
 * Whether a table's indexes can be built while other tables are still being copied: it
 * still exists (pg_dump -t would fail on a table dropped since its copy), and none of its
 * indexes (nor the constraints they back) calls a function of the database's own, which
 * could read a table not copied yet.
 */
async function buildsAlone(client: pg.Client, t: QualifiedName): Promise<boolean> {
  const { rows } = await client.query<{ exists: boolean; user_functions: boolean }>(
    `SELECT r IS NOT NULL AS exists,
            EXISTS (SELECT 1 FROM pg_index i JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid
                     WHERE i.indrelid = r AND d.refclassid = 'pg_proc'::regclass AND d.refobjid >= ${FIRST_NORMAL_OID}) AS user_functions
       FROM to_regclass(quote_ident($1) || '.' || quote_ident($2)) r`,
    [t.schema, t.name],
  );
  return rows[0]!.exists && !rows[0]!.user_functions;
}

/** Whether the dump holds a populated materialized view (its REFRESH is not schema). */
async function populatedMatviews(client: pg.Client, scope: DumpScope): Promise<boolean> {
  const left = scope.excluded.map((t) => `${t.schema}.${t.name}`);
  const { rows } = await client.query(
    `SELECT 1 FROM pg_matviews WHERE schemaname = ANY($1) AND ispopulated
        AND format('%s.%s', schemaname, matviewname) <> ALL($2) LIMIT 1`,
    [scope.schemas, left],
  );
  return rows.length > 0;
}

/** The current value of every sequence the dump restores (null: never called, as restored). */
async function sequenceValues(client: pg.Client, scope: DumpScope): Promise<SequenceValue[]> {
  const left = new Set(scope.excluded.map((t) => `${t.schema}.${t.name}`));
  return (await readSequences(client, scope.schemas))
    .filter((s) => !s.extensionMember && !left.has(`${s.schema}.${s.name}`))
    .map((s) => ({ schema: s.schema, name: s.name, lastValue: s.isCalled ? s.value : null }));
}

/**
 * Indexed columns stored uncompressed (EXTERNAL, PLAIN) where their type would compress:
 * their index entries from before the ALTER ... SET STORAGE are compressed, and an index
 * built anew on the target (after pg_dump's SET STORAGE) could not hold them.
 */
async function indexedStorage(client: pg.Client, scope: DumpScope): Promise<ColumnStorage[]> {
  const left = new Set(scope.excluded.map((t) => `${t.schema}.${t.name}`));
  const { rows } = await client.query<ColumnStorage>(
    `SELECT n.nspname AS schema, c.relname AS name, a.attname AS column, a.attstorage AS storage, t.typstorage AS "typeStorage"
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_type t ON t.oid = a.atttypid
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p', 'm') AND a.attnum > 0 AND NOT a.attisdropped
        AND a.attstorage IN ('e', 'p') AND t.typstorage IN ('x', 'm')
        AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND a.attnum = ANY (i.indkey::int2[]))
      ORDER BY 1, 2, 3`,
    [scope.schemas],
  );
  return rows.filter((r) => !left.has(`${r.schema}.${r.name}`));
}
