/** prepare: the target database and state schema, roles, the publication, then the snapshot the load reads. */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { preparation } from '../activity-options';
import type { DatabaseRun } from './run';
import { SnapshotHandoff } from './snapshot';

const preparing = proxyActivities<Activities>(preparation);

/** The patch that installs DDL capture on the source at prepare (plan cdc.ddl: replicate). */
export const DDL_CAPTURE = 'ddl-capture';

export async function prepare(run: DatabaseRun): Promise<SnapshotHandoff> {
  const { plan, scope } = run;
  await run.step(
    'prepareTarget',
    () => preparing.prepareTarget(scope),
    (r) =>
      `${r.createdDatabase ? `created database ${scope.targetDatabase}; ` : ''}extensions: ${r.extensions.join(', ') || 'none'}`,
  );
  if (plan.roles) {
    await run.step(
      'copyRoles',
      () => preparing.copyRoles(scope),
      (r) => {
        if (r.passwords === 'unreadable')
          run.warn(`roles created without passwords (the source role cannot read pg_authid): ${r.created.join(', ')}`);
        return `created ${r.created.join(', ') || 'none'}; existing ${r.existing.join(', ') || 'none'}; passwords ${r.passwords}`;
      },
    );
  }
  // Before the publication and the slot: DDL between the snapshot and the triggers would be lost.
  if (plan.mode === 'full+cdc' && plan.cdc.ddl !== 'stop' && patched(DDL_CAPTURE))
    await run.step(
      'installDdlCapture',
      () => preparing.installDdlCapture(scope),
      (r) =>
        r.skipped
          ? `not installed: ${r.skipped}; DDL on the source stops that table as schema drift`
          : `${r.installed ? 'installed' : 'found'} schema ${r.schema}, event triggers ${r.triggers.join(', ')} on the source`,
    );
  // Before the slot: pgoutput reads publications through the slot's historic snapshot.
  if (plan.mode === 'full+cdc')
    await run.step(
      'createPublication',
      () => preparing.createPublication(scope),
      (r) => `${r.publication} (${r.created ? `${r.tables} tables` : 'existed'})`,
    );
  run.handoff = new SnapshotHandoff(run);
  await run.handoff.start();
  return run.handoff;
}
