/**
 * What the checks read, gathered once per assessment: the sessions to both servers and
 * the facts several checks share, each read on first use. Reads catalogs only.
 */
import type { Plan } from '../../plan/plan';
import { selectTables, type QualifiedName } from '../../plan/selection';
import { connect, endpoints, withConnection, type Connected } from '../connect';
import { dumpScope, type DumpScope } from '../ddl';
import * as inspect from '../inspect';
import { once } from './check';

/** One database of the plan: its source tables, the selection, and the target's side of it. */
export interface DatabaseContext {
  plan: Plan;
  database: string;
  targetDatabase: string;
  cdc: boolean;
  source: Connected;
  tables: inspect.TableFacts[];
  /** Selected tables; partitions follow their root, as the load and the publication select them. */
  selected: inspect.TableFacts[];
  /** Patterns of the plan that match no relation at all. */
  unmatched: { path: string; pattern: string }[];
  /** Partitions an exclude pattern names: migrated all the same, with their selected root. */
  excludedPartitions: inspect.TableFacts[];
  /** Partitions an include.tables pattern names whose root is not selected: not migrated. */
  strandedPartitions: inspect.TableFacts[];
  selectedBytes: number;
  /** Schemas of the selected tables. */
  schemas: string[];
  scope: () => Promise<DumpScope>;
  serverFacts: () => Promise<inspect.ServerFacts>;
  databaseFacts: () => Promise<inspect.DatabaseFacts>;
  extensions: () => Promise<{ name: string; version: string; schema: string }[]>;
  largeObjects: () => Promise<number>;
  target: () => Promise<TargetSide>;
  /** The target database is the source database itself (two references, one database). */
  sameDatabase: () => Promise<boolean>;
  close(): Promise<void>;
}

/** The target database: missing (and whether the role may create it), or there (a session on it). */
export type TargetSide = (
  { exists: false; facts: inspect.ServerFacts } | { exists: true; session: Connected; database: inspect.DatabaseFacts }
) & {
  available: Map<string, Set<string>>;
  /** The read-only default of the target role's sessions: in the database, or (missing) in the maintenance database. */
  readOnly: inspect.ReadOnlyDefault;
};

export async function openDatabaseContext(
  plan: Plan,
  database: string,
  targetDatabase: string,
): Promise<DatabaseContext> {
  const { source, target } = endpoints(plan);
  const src = await connect(source, { database });
  const opened: Connected[] = [src];
  try {
    const tables = await inspect.listTables(src.client);
    const { selected, unmatched, excludedPartitions, strandedPartitions } = selectByRoot(plan, tables);
    const targetSide = once(async (): Promise<TargetSide> => {
      const exists = await withConnection(target, { fallbackToMaintenanceDb: true }, ({ client }) =>
        inspect.databaseExists(client, targetDatabase),
      );
      if (!exists) {
        const facts = await withConnection(target, { fallbackToMaintenanceDb: true }, ({ client }) =>
          inspect.serverFacts(client),
        );
        const { available, readOnly } = await withConnection(
          target,
          { fallbackToMaintenanceDb: true },
          async ({ client }) => ({
            available: await inspect.availableExtensionVersions(client),
            readOnly: await inspect.readOnlyDefault(client),
          }),
        );
        return { exists: false, facts, available, readOnly };
      }
      const session = await connect(target, { database: targetDatabase });
      opened.push(session);
      return {
        exists: true,
        session,
        database: await inspect.databaseFacts(session.client),
        available: await inspect.availableExtensionVersions(session.client),
        readOnly: await inspect.readOnlyDefault(session.client),
      };
    });
    return {
      plan,
      database,
      targetDatabase,
      cdc: plan.mode === 'full+cdc',
      source: src,
      tables,
      selected,
      unmatched,
      excludedPartitions,
      strandedPartitions,
      selectedBytes: selected.reduce((n, t) => n + t.bytes, 0),
      schemas: [...new Set(selected.map((t) => t.schema))],
      scope: once(() => dumpScope(src.client, plan)),
      serverFacts: once(() => inspect.serverFacts(src.client)),
      databaseFacts: once(() => inspect.databaseFacts(src.client)),
      extensions: once(() => inspect.installedExtensions(src.client)),
      largeObjects: once(() => inspect.largeObjectCount(src.client)),
      target: targetSide,
      sameDatabase: once(async () => {
        const t = await targetSide();
        if (!t.exists) return false;
        const [a, b] = await Promise.all([
          inspect.databaseIdentity(src.client),
          inspect.databaseIdentity(t.session.client),
        ]);
        return a === b;
      }),
      close: () => Promise.all(opened.map((c) => c.client.end().catch(() => undefined))).then(() => undefined),
    };
  } catch (e) {
    await src.client.end().catch(() => undefined);
    throw e;
  }
}

/**
 * The plan's selection as the load and the publication make it: patterns select plain
 * tables and partition roots, and a partition goes with its root whatever its own name
 * matches. The partitions whose own name says otherwise are returned for the report.
 */
export function selectByRoot(
  plan: Plan,
  tables: inspect.TableFacts[],
): Pick<DatabaseContext, 'selected' | 'unmatched' | 'excludedPartitions' | 'strandedPartitions'> {
  const key = (t: QualifiedName) => `${t.schema}.${t.name}`;
  const names = (list: inspect.TableFacts[]) => new Set(list.map(key));
  const roots = names(
    selectTables(
      plan,
      tables.filter((t) => !t.isPartition),
    ).selected,
  );
  const partitions = tables.filter((t) => t.isPartition);
  const notExcluded = names(selectTables({ exclude: plan.exclude }, partitions).selected);
  const includeTables = plan.include?.tables ?? [];
  const namedByInclude = includeTables.length
    ? names(selectTables({ include: { tables: includeTables } }, partitions).selected)
    : new Set<string>();
  return {
    selected: tables.filter((t) => roots.has(key(t.root))),
    unmatched: selectTables(plan, tables).unmatched,
    excludedPartitions: partitions.filter((p) => roots.has(key(p.root)) && !notExcluded.has(key(p))),
    strandedPartitions: partitions.filter(
      (p) => !roots.has(key(p.root)) && namedByInclude.has(key(p)) && notExcluded.has(key(p)),
    ),
  };
}

/** Both servers, for the server-wide items. */
export interface ServerContext {
  plan: Plan;
  databases: string[];
  selectedBytes: number;
  cdc: boolean;
  source: Connected;
  target: Connected;
  sourceFacts: inspect.ServerFacts;
  targetFacts: inspect.ServerFacts;
  replicationUsage: () => Promise<inspect.ReplicationUsage>;
  close(): Promise<void>;
}

export async function openServerContext(
  plan: Plan,
  databases: string[],
  selectedBytes: number,
): Promise<ServerContext> {
  const { source, target } = endpoints(plan);
  const [s, t] = await Promise.all([connect(source), connect(target, { fallbackToMaintenanceDb: true })]);
  const close = () =>
    Promise.all([s.client.end().catch(() => undefined), t.client.end().catch(() => undefined)]).then(() => undefined);
  try {
    const sourceFacts = await inspect.serverFacts(s.client);
    const targetFacts = await inspect.serverFacts(t.client);
    return {
      plan,
      databases,
      selectedBytes,
      cdc: plan.mode === 'full+cdc',
      source: s,
      target: t,
      sourceFacts,
      targetFacts,
      replicationUsage: once(() => inspect.replicationUsage(s.client)),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
