/**
 * The application's entry on PgBouncer (plan switchover.pooler) through a switchover or a
 * rollback: PAUSE before the fence, repoint at the side taking over, RESUME once it may write.
 * `run.pooler` remembers what to undo when it fails.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { poolerEntry } from '../../src/plan/plan';
import { switching, unfencing } from '../activity-options';
import { now, type DatabaseRun } from './run';

const sw = proxyActivities<Activities>(switching);
const unfence = proxyActivities<Activities>(unfencing);

const poolerEntryOf = (run: DatabaseRun) => poolerEntry(run.plan.switchover.pooler!, run.scope.database);

/** PAUSE the application's entry on PgBouncer: transactions in flight finish, new ones wait there. */
export async function pausePooler(run: DatabaseRun): Promise<void> {
  // Marked first: a PAUSE whose answer was lost is resumed by the un-fence all the same.
  run.pooler = { pausedAt: now(), repointed: false };
  const { pausedAt } = await run.step(
    'pausePooler',
    () => sw.pausePooler(run.scope),
    () => `entry ${poolerEntryOf(run)} paused: new transactions wait in PgBouncer`,
  );
  run.pooler = { pausedAt, repointed: false };
}

/**
 * The paused entry's host, port and dbname rewritten to `side`'s, then RELOAD: a few attempts
 * inside the fenced window, retried until it succeeds when it `undoes` a repoint.
 */
export async function repointPooler(run: DatabaseRun, side: 'source' | 'target', undoes = false): Promise<void> {
  await run.step(
    'repointPooler',
    () => (undoes ? unfence : sw).repointPooler({ ...run.scope, to: side }),
    (x) => `${poolerEntryOf(run)} now ${x.now.replace(/^[^=]*=\s*/, '')}; reloaded`,
  );
}

/** RESUME a paused entry (nothing when none is): the waiting clients go on, on `side`; the pause they saw, in ms. */
export async function resumePooler(run: DatabaseRun, side: 'source' | 'target'): Promise<number | undefined> {
  const pooler = run.pooler;
  if (!pooler) return undefined;
  const { resumedAt } = await run.step(
    'resumePooler',
    () => unfence.resumePooler(run.scope),
    () => `entry ${poolerEntryOf(run)} resumed on the ${side}`,
  );
  run.pooler = undefined;
  return Math.max(0, Date.parse(resumedAt) - Date.parse(pooler.pausedAt));
}
