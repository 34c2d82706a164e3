/**
 * The workflow's side of the snapshot hand-off (the steps are numbered with the SQL side,
 * in the postgres layer's snapshot/index.ts): hold the exported snapshot for the whole load, give
 * each copy the snapshot while it lives, copy late once it is lost, keep the horizon of
 * the late copies, and name the tables the stream must apply idempotently up to it.
 */
import { CancellationScope, condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { ErrorType } from '../../src/errors';
import type { Chunk, CopyResult, SnapshotInfo } from '../../src/model/activities';
import { compareLsn } from '../../src/model/lsn';
import { snapshotSignal } from '../../src/model/messages';
import type { DatabaseStatus } from '../../src/model/status';
import { copying, holding } from '../activity-options';
import { failureOf, surface } from '../failures';
import type { DatabaseRun } from './run';

const hold = proxyActivities<Activities>(holding);
const copy = proxyActivities<Activities>(copying);

export class SnapshotHandoff {
  private info: SnapshotInfo | null = null;
  private lostReason: string | null = null;
  private holderFailed: unknown = null;
  private readonly holderScope = new CancellationScope();
  private holder?: Promise<void>;

  constructor(private readonly run: DatabaseRun) {
    setHandler(snapshotSignal, (s) => {
      if ('ready' in s) this.info = s.ready;
      else this.lostReason = s.lost;
    });
  }

  /** Steps 1 and 2: the holder exports the snapshot and holds it; wait until it said ready (or lost). */
  async start(): Promise<void> {
    const { run } = this;
    const holder = this.holderScope.run(() => hold.holdSnapshot({ ...run.scope, sourceMajor: run.input.sourceMajor }));
    this.holder = holder;
    holder.catch(() => undefined);
    holder.then(
      () => undefined,
      (e) => (this.holderFailed = e),
    );
    await run.step('exportSnapshot', () =>
      condition(() => this.info !== null || this.lostReason !== null || this.holderFailed !== null),
    );
    if (this.holderFailed !== null) surface(this.holderFailed);
    if (!this.info) {
      // The slot exists from an attempt whose worker died before the snapshot was seen.
      run.status.snapshot = { lsn: 'unknown', slot: run.plan.mode === 'full+cdc' ? 'kept' : null, lost: true };
      run.warn(`snapshot lost before the load started (${this.lostReason}); every table is copied late`);
    } else {
      run.status.snapshot = { lsn: this.info.lsn, slot: this.info.slot, lost: false };
    }
  }

  /** Step 3: the snapshot to import now, or null once it is lost (the copy is then late). */
  live(): string | null {
    if (this.lostReason !== null) this.lose(this.lostReason);
    return this.run.status.snapshot?.lost || !this.info ? null : this.info.snapshot;
  }

  /** Step 4: from now on every copy is late; status says so once. */
  lost(why: string): void {
    this.lose(why);
  }

  private lose(why: string): void {
    const st = this.run.status;
    if (st.snapshot && !st.snapshot.lost) {
      st.snapshot.lost = true;
      st.warnings.push(`snapshot lost (${why}); the chunks not yet copied are copied late, outside it`);
    }
  }

  /** Steps 3 and 4 for one chunk: copied in the snapshot, or late when the snapshot turns out to be gone. */
  async copy(chunk: Chunk): Promise<CopyResult> {
    const snapshot = this.live();
    try {
      return await copy.copyChunk({ ...this.run.scope, chunk, snapshot });
    } catch (e) {
      const f = failureOf(e);
      if (snapshot === null || f?.type !== ErrorType.SnapshotLost) throw e;
      this.lose(f.message);
      return await copy.copyChunk({ ...this.run.scope, chunk, snapshot: null });
    }
  }

  /** Step 5: the highest WAL position after a late copy. */
  recordHorizon(r: CopyResult): void {
    const st = this.run.status;
    if (r.late && r.horizonLsn && (!st.lateHorizonLsn || compareLsn(r.horizonLsn, st.lateHorizonLsn) > 0))
      st.lateHorizonLsn = r.horizonLsn;
  }

  /** The load is over: let go of the snapshot (the slot stays for the change stream). */
  async release(): Promise<void> {
    this.holderScope.cancel();
    await this.holder?.catch(() => undefined);
  }
}

/** Step 6: tables copied late, by every name the stream may use (the partition itself, or its root). */
export function lateTables(status: DatabaseStatus): string[] {
  return [...new Set(status.tables.filter((t) => t.lateChunks > 0).flatMap((t) => [t.table, t.root ?? t.table]))];
}
