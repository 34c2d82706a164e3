/**
 * full_load: the tables largest first, in chunks, `fullLoad.parallelism` at a time, with
 * progress in status. A table split in several chunks gets its indexes and keys built by the
 * lane that copied its last chunk, while the other lanes copy on (a native subscription, and
 * a restore of post-data after the load, build them only once every table is copied).
 */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { Chunk, CopyResult, LoadPlan } from '../../src/model/activities';
import type { TableProgress } from '../../src/model/status';
import { inspection } from '../activity-options';
import { surface } from '../failures';
import { now, type DatabaseRun } from './run';
import { restoreTableIndexes } from './schema';
import type { SnapshotHandoff } from './snapshot';

const inspecting = proxyActivities<Activities>(inspection);

export async function fullLoad(run: DatabaseRun, handoff: SnapshotHandoff): Promise<void> {
  run.phase('full_load');
  const planned = await run.step(
    'planChunks',
    () => inspecting.planChunks({ ...run.scope, snapshot: handoff.live() }),
    (r) => `${r.tables.length} tables, ${r.chunks.length} chunks`,
  );
  if (planned.snapshotLost) handoff.lost(planned.snapshotLost);
  const progress = new LoadProgress(run, planned);
  const queue = [...planned.chunks];
  const indexesEarly = patched('indexes-during-load');
  // A partition's indexes hang from its root's (attached in post-data): built there, in order.
  const partitions = new Set(planned.tables.filter((t) => t.root !== t.table).map((t) => t.table));
  let indexed = 0;
  const copyOne = async (c: Chunk): Promise<void> => {
    progress.started(c);
    const r = await handoff.copy(c);
    handoff.recordHorizon(r);
    progress.done(c, r);
    if (
      indexesEarly &&
      c.parts > 1 &&
      c.kind !== 'lo' &&
      !partitions.has(`${c.schema}.${c.name}`) &&
      progress.copied(c)
    ) {
      // Nothing restored: the table is gone, or an index of it calls a function of the database's (post-data builds it).
      const built = await restoreTableIndexes(run, { schema: c.schema, name: c.name });
      if (built.restored > 0) indexed++;
    }
  };
  const lanes = Array.from({ length: Math.min(run.plan.fullLoad.parallelism, queue.length) }, async () => {
    for (let c = queue.shift(); c; c = queue.shift()) await copyOne(c);
  });
  const { totals } = run.status;
  await run.step(
    'copy',
    () => Promise.all(lanes).catch(surface),
    () =>
      `${totals.rows} rows, ${totals.bytes} bytes, ${totals.lateChunks} late chunks` +
      (indexed ? `, indexes of ${indexed} ${indexed === 1 ? 'table' : 'tables'} built during the copy` : ''),
  );
  await handoff.release();
}

/** Rows, bytes and chunks per table and in total, throughput and ETA. */
class LoadProgress {
  private readonly byTable: Map<string, TableProgress>;
  private readonly startedAt = Date.now();

  constructor(
    private readonly run: DatabaseRun,
    planned: LoadPlan,
  ) {
    const st = run.status;
    st.tables = planned.tables.map((t): TableProgress => ({
      ...t,
      rows: 0,
      bytes: 0,
      chunksDone: 0,
      chunksTotal: 0,
      lateChunks: 0,
    }));
    this.byTable = new Map(st.tables.map((t) => [t.table, t]));
    for (const c of planned.chunks) this.table(c).chunksTotal++;
    st.totals.chunksTotal = planned.chunks.length;
    st.totals.estBytes = st.tables.reduce((n, t) => n + t.estBytes, 0);
  }

  private table(c: Chunk): TableProgress {
    return this.byTable.get(`${c.schema}.${c.name}`)!;
  }

  /** Every chunk of the chunk's table is copied. */
  copied(c: Chunk): boolean {
    const t = this.table(c);
    return t.chunksDone === t.chunksTotal;
  }

  started(c: Chunk): void {
    this.table(c).startedAt ??= now();
  }

  done(c: Chunk, r: CopyResult): void {
    const st = this.run.status;
    const t = this.table(c);
    if (r.wholeTable) {
      // A late copy of the whole table replaced what its chunks had copied before.
      st.totals.rows -= t.rows;
      st.totals.bytes -= t.bytes;
      t.rows = 0;
      t.bytes = 0;
    }
    t.rows += r.rows;
    t.bytes += r.bytes;
    t.chunksDone++;
    if (r.late) {
      t.lateChunks++;
      st.totals.lateChunks++;
    }
    if (t.chunksDone === t.chunksTotal) t.endedAt = now();
    st.totals.chunksDone++;
    st.totals.rows += r.rows;
    st.totals.bytes += r.bytes;
    const seconds = (Date.now() - this.startedAt) / 1000;
    st.throughput = seconds > 0 ? Math.round(st.totals.bytes / seconds) : undefined;
    st.etaSeconds = st.throughput
      ? Math.round(Math.max(0, st.totals.estBytes - st.totals.bytes) / st.throughput)
      : undefined;
    st.updatedAt = now();
    // The phase gauge again: a worker that took the workflow over after a restart shows it from here on.
    this.run.observe();
  }
}
