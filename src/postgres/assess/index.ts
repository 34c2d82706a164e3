/**
 * The migration assessment: what must hold on the source, the target and the worker
 * before a migration may start. Reads catalogs only; changes nothing on either server.
 * Each check is an entry of a group (one file per group); this file lists them.
 */
import type { DatabaseAssessment } from '../../model/activities';
import type { CheckItem, ServerSummary } from '../../model/report';
import type { Plan } from '../../plan/plan';
import { classify } from '../classify';
import { withConnection, type Endpoint } from '../connect';
import * as inspect from '../inspect';
import { runChecks, type Check } from './check';
import { openDatabaseContext, openServerContext, type DatabaseContext, type ServerContext } from './context';
import * as keys from './keys';
import * as objects from './objects';
import * as pair from './pair';
import * as planChecks from './plan';
import * as privileges from './privileges';
import * as replication from './replication';
import * as reverse from './reverse';
import * as servers from './servers';
import * as switchover from './switchover';
import * as target from './target';

/** Items about one database of the plan (each carries the database's name). */
export const DATABASE_CHECKS: Check<DatabaseContext>[] = [
  ...planChecks.databaseChecks,
  ...privileges.databaseChecks,
  ...keys.databaseChecks,
  ...objects.databaseChecks,
  ...replication.databaseChecks,
  ...switchover.databaseChecks,
  ...target.databaseChecks,
  ...pair.databaseChecks,
];

/** Server-wide items. */
export const SERVER_CHECKS: Check<ServerContext>[] = [
  ...servers.serverChecks,
  ...pair.serverChecks,
  ...replication.serverChecks,
  ...privileges.serverChecks,
  ...target.serverChecks,
  ...reverse.serverChecks,
];

/** Connects once and reports who and what is at the other end. Connection errors propagate. */
export async function probeServer(endpoint: Endpoint): Promise<ServerSummary> {
  // The target database may not exist yet (the migration creates it): probe the server anyway.
  return withConnection(
    endpoint,
    { connectTimeoutMs: 10_000, fallbackToMaintenanceDb: endpoint.side === 'target' },
    async ({ client, facts, tls, requestedDatabase }) => {
      const f = await inspect.serverFacts(client).catch((e) => {
        throw classify('query', `${endpoint.side} server`, e);
      });
      return {
        side: endpoint.side,
        host: facts.host,
        port: facts.port,
        database: requestedDatabase,
        user: facts.user,
        version: f.version,
        major: f.major,
        inRecovery: f.inRecovery,
        tls: tls && f.tls,
      };
    },
  );
}

/** The per-database items: selection, privileges, keys, objects, and the target's side of them. */
export async function assessDatabase(
  plan: Plan,
  database: string,
  targetDatabase: string,
): Promise<DatabaseAssessment> {
  let ctx: DatabaseContext | undefined;
  try {
    ctx = await openDatabaseContext(plan, database, targetDatabase);
    const items = await runChecks(DATABASE_CHECKS, ctx, database);
    return { items, selectedTables: ctx.selected.length, selectedBytes: ctx.selectedBytes };
  } catch (e) {
    // Connection failures arrive classified already (they name the server and the fix).
    throw classify('query', `assessing database ${database}`, e);
  } finally {
    await ctx?.close();
  }
}

/** Server-wide items: versions, tools, replication capacity and rights, recovery, roles, space. */
export async function assessServers(plan: Plan, databases: string[], selectedBytes: number): Promise<CheckItem[]> {
  let ctx: ServerContext | undefined;
  try {
    ctx = await openServerContext(plan, databases, selectedBytes);
    return await runChecks(SERVER_CHECKS, ctx);
  } catch (e) {
    throw classify('query', 'assessing the servers', e);
  } finally {
    await ctx?.close();
  }
}
