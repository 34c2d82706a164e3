/** pg_dump of a plan's section: pre-data inside the exported snapshot, post-data after the load. */
import type pg from 'pg';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorType, PgTransitError } from '../../errors';
import type { Section } from '../../model/activities';
import type { Plan } from '../../plan/plan';
import { resolveEndpoint, withConnection, type Endpoint } from '../connect';
import { readSequences } from '../sequences';
import { conflictError, dumpScope, type DumpScope } from './scope';
import { pgProgram, runTool } from './run-tool';
import { sequencesFile, type SequenceValue } from './restore';

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
}

/**
 * pg_dump of the selected schemas (minus what the plan leaves out) into a custom-format
 * archive. pre-data is dumped --schema-only. post-data is dumped without it, so that it
 * carries the REFRESH of each populated materialized view (pg_restore runs those after
 * the indexes, in dependency order), and with the sequences' current values beside it:
 * neither is schema, and without them the target's materialized views stay empty and
 * its sequences hand out values the copied rows already use.
 */
export async function dumpSection(plan: Plan, o: DumpOptions): Promise<string> {
  const { libpqEnv } = resolveEndpoint(o.source, { database: o.database });
  const file = join(o.dir, `${o.section}.dump`);
  const scope = await withConnection(o.source, { database: o.database }, async ({ client }) => {
    const scope = await dumpScope(client, plan);
    if (scope.selectedRoots.length === 0)
      throw new PgTransitError(ErrorType.InvalidPlan, `database ${o.database}: the plan selects no table`);
    if (scope.conflicts.length > 0) throw conflictError(o.database, scope.conflicts);
    if (o.section === 'post-data')
      writeFileSync(sequencesFile(file), JSON.stringify(await sequenceValues(client, scope)));
    return scope;
  });
  const args = [`--section=${o.section}`, '-Fc', '-f', file];
  if (o.section === 'pre-data') args.push('--schema-only');
  if (o.snapshot) args.push(`--snapshot=${o.snapshot}`);
  for (const s of scope.schemas) args.push('-n', exact(s));
  for (const t of scope.excluded) args.push('-T', `${exact(t.schema)}.${exact(t.name)}`);
  await runTool(
    pgProgram('pg_dump', o.sourceMajor),
    args,
    libpqEnv,
    `pg_dump --section=${o.section} of ${o.database}`,
    o.signal,
  );
  return file;
}

/** The current value of every sequence the dump restores (null: never called, as restored). */
async function sequenceValues(client: pg.Client, scope: DumpScope): Promise<SequenceValue[]> {
  const left = new Set(scope.excluded.map((t) => `${t.schema}.${t.name}`));
  return (await readSequences(client, scope.schemas))
    .filter((s) => !s.extensionMember && !left.has(`${s.schema}.${s.name}`))
    .map((s) => ({ schema: s.schema, name: s.name, lastValue: s.isCalled ? s.value : null }));
}
