/**
 * migrateDatabaseWorkflow: one database of the plan, id `<migration id>/<database>`.
 * prepare -> schema -> full_load -> post_data -> (mode full: completed)
 *   -> catch_up -> incremental -> switchover -> completed (switchover.reverse: -> reverse
 *   -> rollback or finish). One file per phase.
 */
import { ContinueAsNew, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { DatabaseInput, DatabaseResult } from '../../src/model/workflows';
import { preparation } from '../activity-options';
import { changeCapture } from './change-capture';
import { fullLoad } from './full-load';
import { prepare } from './prepare';
import { reverseCapture } from './reverse';
import { DatabaseRun } from './run';
import { restorePostData, restorePreData } from './schema';

const preparing = proxyActivities<Activities>(preparation);

export async function migrateDatabaseWorkflow(input: DatabaseInput): Promise<DatabaseResult> {
  const run = new DatabaseRun(input);
  try {
    // A continuation carries on with the change stream; everything before it is done.
    if (input.carried)
      return await finish(run, await (input.carried.reverse ? reverseCapture(run) : changeCapture(run)));
    const handoff = await prepare(run);
    await restorePreData(run, handoff);
    await fullLoad(run, handoff);
    await restorePostData(run);
    if (run.plan.mode === 'full') {
      await run.step('dropState', () => preparing.dropState(run.scope));
      run.phase('completed');
      return await finish(run, run.result());
    }
    // The slot and publication stay: the change stream starts at the snapshot's consistent point.
    return await finish(run, await changeCapture(run));
  } catch (e) {
    // Continuing as new is not an ending: the next run carries on with the same slot.
    if (e instanceof ContinueAsNew) throw e;
    await run.abandon(e);
    await run.notifier.flush();
    throw e;
  }
}

/** The last notifications go out before the run ends. */
async function finish(run: DatabaseRun, result: DatabaseResult): Promise<DatabaseResult> {
  await run.notifier.flush();
  return result;
}
