/** schema and post_data: pg_dump sections restored on the target, then the name mapping. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ErrorType } from '../../src/errors';
import type { Section } from '../../src/model/activities';
import { failureOf } from '../failures';
import { schemaChange } from '../activity-options';
import type { DatabaseRun } from './run';
import type { SnapshotHandoff } from './snapshot';

const ddl = proxyActivities<Activities>(schemaChange);

const restore = (run: DatabaseRun, section: Section, snapshot: () => string | null) =>
  run.step(
    `restoreSchema ${section}`,
    () =>
      ddl.restoreSchema({
        ...run.scope,
        section,
        snapshot: snapshot(),
        sourceMajor: run.input.sourceMajor,
        targetMajor: run.input.targetMajor,
      }),
    (r) => `${r.restored} objects restored, ${r.skipped} already present`,
  );

/**
 * A table's indexes and key constraints, built once its rows are all copied, while the load
 * copies the other tables (the post-data step then finds them present).
 */
export const restoreTableIndexes = (run: DatabaseRun, table: { schema: string; name: string }) =>
  ddl.restoreSchema({
    ...run.scope,
    section: 'post-data',
    snapshot: null,
    sourceMajor: run.input.sourceMajor,
    targetMajor: run.input.targetMajor,
    table,
  });

/**
 * Pre-data, dumped inside the snapshot the load copies from. When the snapshot is lost before
 * the dump could read it, every table is copied late anyway: the schema is dumped as it is now.
 */
export async function restorePreData(run: DatabaseRun, handoff: SnapshotHandoff): Promise<void> {
  run.phase('schema');
  const snapshot = handoff.live();
  try {
    await restore(run, 'pre-data', () => snapshot);
  } catch (e) {
    const f = failureOf(e);
    if (snapshot === null || f?.type !== ErrorType.SnapshotLost) throw e;
    handoff.lost(f.message);
    await restore(run, 'pre-data', () => null);
  }
}

/** Post-data (keys, indexes, FKs, triggers, materialized views, sequence values), then the renames. */
export async function restorePostData(run: DatabaseRun): Promise<void> {
  run.phase('post_data');
  await restore(run, 'post-data', () => null);
  await run.step(
    'applyMapping',
    () => ddl.applyMapping(run.scope),
    (r) => r.join('; ') || 'no renames',
  );
}
