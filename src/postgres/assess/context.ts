/**
 * What the checks read, gathered once per assessment: the sessions to both servers and
 * the facts several checks share, each read on first use. Reads catalogs only.
 */
import type { Plan } from '../../plan/plan';
import { selectTables } from '../../plan/selection';
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
  selected: inspect.TableFacts[];
  unmatched: { path: string; pattern: string }[];
  selectedBytes: number;
  /** Schemas of the selected tables. */
  schemas: string[];
  scope: () => Promise<DumpScope>;
  serverFacts: () => Promise<inspect.ServerFacts>;
  databaseFacts: () => Promise<inspect.DatabaseFacts>;
  extensions: () => Promise<{ name: string; version: string; schema: string }[]>;
  target: () => Promise<TargetSide>;
  close(): Promise<void>;
}

/** The target database: missing (and whether the role may create it), or there (a session on it). */
export type TargetSide =
  | { exists: false; facts: inspect.ServerFacts; available: Map<string, Set<string>> }
  | { exists: true; session: Connected; database: inspect.DatabaseFacts; available: Map<string, Set<string>> };

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
    const { selected, unmatched } = selectTables(plan, tables);
    const targetSide = once(async (): Promise<TargetSide> => {
      const exists = await withConnection(target, { fallbackToMaintenanceDb: true }, ({ client }) =>
        inspect.databaseExists(client, targetDatabase),
      );
      if (!exists) {
        const facts = await withConnection(target, { fallbackToMaintenanceDb: true }, ({ client }) =>
          inspect.serverFacts(client),
        );
        const available = await withConnection(target, { fallbackToMaintenanceDb: true }, ({ client }) =>
          inspect.availableExtensionVersions(client),
        );
        return { exists: false, facts, available };
      }
      const session = await connect(target, { database: targetDatabase });
      opened.push(session);
      return {
        exists: true,
        session,
        database: await inspect.databaseFacts(session.client),
        available: await inspect.availableExtensionVersions(session.client),
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
      selectedBytes: selected.reduce((n, t) => n + t.bytes, 0),
      schemas: [...new Set(selected.map((t) => t.schema))],
      scope: once(() => dumpScope(src.client, plan)),
      serverFacts: once(() => inspect.serverFacts(src.client)),
      databaseFacts: once(() => inspect.databaseFacts(src.client)),
      extensions: once(() => inspect.installedExtensions(src.client)),
      target: targetSide,
      close: () => Promise.all(opened.map((c) => c.client.end().catch(() => undefined))).then(() => undefined),
    };
  } catch (e) {
    await src.client.end().catch(() => undefined);
    throw e;
  }
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
