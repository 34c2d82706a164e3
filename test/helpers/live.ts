/**
 * A migration started by an end-to-end test, and the waits every such test makes: its
 * database's status, incremental reached, caught up within the switchover's lag bound.
 * A migration that fails meanwhile ends the wait at once with its error.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { databaseStatusQuery } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';
import type { DatabaseStatus } from '../../src/model/status';
import type { Plan } from '../../src/plan/plan';
import type { migrateDatabaseWorkflow } from '../../workflows/database';
import { migrationWorkflow } from '../../workflows/migration';
import { waitFor } from './wait';

export interface Live {
  plan: Plan;
  workflowId: string;
  handle: WorkflowHandle<typeof migrationWorkflow>;
  child: WorkflowHandle<typeof migrateDatabaseWorkflow>;
  /** The database's status; null while its workflow does not answer yet. */
  status(): Promise<DatabaseStatus | null>;
  /** Waits until the database is in incremental. */
  incremental(timeoutMs?: number): Promise<DatabaseStatus>;
  /** Waits until it is in incremental with its lag within switchover.maxLagBytes, not stalled. */
  caughtUp(timeoutMs?: number): Promise<DatabaseStatus>;
}

export async function startLive(client: Client, taskQueue: string, plan: Plan, database = 'app'): Promise<Live> {
  const workflowId = workflowIds(plan.name).migration;
  const handle = await client.workflow.start(migrationWorkflow, { args: [plan], taskQueue, workflowId });
  const child = client.workflow.getHandle<typeof migrateDatabaseWorkflow>(childIds(workflowId).database(database));
  const status = () => child.query(databaseStatusQuery).catch(() => null);
  const until = (what: string, ok: (s: DatabaseStatus) => boolean, timeoutMs: number) =>
    waitFor(
      what,
      async () => {
        const s = await status();
        if (s?.phase === 'failed') throw new Error(`the migration failed: ${s.error}`);
        return s && ok(s) ? s : null;
      },
      timeoutMs,
      status,
    );
  return {
    plan,
    workflowId,
    handle,
    child,
    status,
    incremental: (timeoutMs = 300_000) => until('incremental', (s) => s.phase === 'incremental', timeoutMs),
    caughtUp: (timeoutMs = 180_000) =>
      until(
        'incremental with the lag under the bound',
        (s) =>
          s.phase === 'incremental' && (s.cdc?.lagBytes ?? Infinity) <= plan.switchover.maxLagBytes && !s.cdc?.stalled,
        timeoutMs,
      ),
  };
}
