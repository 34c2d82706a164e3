/**
 * Activities: thin wrappers that call src/postgres and map errors. Their names are
 * recorded in workflow history: never rename one.
 */
import type { Plan } from '../src/plan/schema';
import type { CheckItem, ServerSummary } from '../src/plan/report';
import * as assess from '../src/postgres/assess';
import type { DatabaseAssessment } from '../src/postgres/assess';
import { run } from './failures';

export interface ActivityDeps {
  assess: Pick<typeof assess, 'probeServer' | 'assessDatabase' | 'assessServers' | 'endpoints'>;
}

export function createActivities(deps: ActivityDeps = { assess }) {
  const a = deps.assess;
  return {
    /** Connects to one server: who answers, which version, primary or standby. */
    async probeServer(input: { plan: Plan; side: 'source' | 'target' }): Promise<ServerSummary> {
      return run(() => a.probeServer(a.endpoints(input.plan)[input.side]));
    },
    /** Per-database items: selection, privileges, keys, target emptiness, extensions, encoding. */
    async assessDatabase(input: { plan: Plan; database: string; targetDatabase: string }): Promise<DatabaseAssessment> {
      return run(() => a.assessDatabase(input.plan, input.database, input.targetDatabase));
    },
    /** Server-wide items: versions, pg_dump, replication capacity and rights, target role and space. */
    async assessServers(input: { plan: Plan; databases: string[]; selectedBytes: number }): Promise<CheckItem[]> {
      return run(() => a.assessServers(input.plan, input.databases, input.selectedBytes));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
