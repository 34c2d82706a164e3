/**
 * The snapshot hand-off, from the full load to the change stream: every row is copied
 * once from one consistent snapshot, and the stream starts exactly where that snapshot
 * ends, so nothing is missed and nothing applied twice. The steps, and where each lives:
 *
 * 0. Publication first (../replication.ts createPublication): pgoutput reads publications
 *    through the slot's historic snapshot, so one created after the slot would not exist
 *    for the changes in between.
 * 1. Export (export.ts): CREATE_REPLICATION_SLOT ... EXPORT_SNAPSHOT on a replication
 *    connection gives the slot's consistent point and a snapshot name (mode full:
 *    pg_export_snapshot() in a REPEATABLE READ transaction, no slot).
 * 2. Hold (export.ts, activity holdSnapshot): the snapshot stays importable only while that
 *    connection stays open and idle, so one heartbeating activity holds it until the load
 *    ends and signals it to its workflow (snapshotSignal). A retried holder (holder.ts)
 *    cannot export the same snapshot again: it reports the snapshot lost instead.
 * 3. Import (import.ts): every chunk's source transaction runs REPEATABLE READ with
 *    SET TRANSACTION SNAPSHOT; pre-data is dumped with pg_dump --snapshot.
 * 4. Loss (import.ts, workflows/database/snapshot.ts): an import that fails means the
 *    holder is gone; the workflow marks the snapshot lost, says so in status, and copies
 *    the chunks left "late", outside any snapshot.
 * 5. Horizon (late.ts): after each late copy, the source's WAL insert position; the
 *    workflow keeps the highest.
 * 6. Stream (late.ts, ../cdc/apply.ts): changes after the consistent point come from the
 *    slot. Tables copied late are applied idempotently (insert = upsert, update or delete
 *    of a missing row = no-op) until the stream passes the horizon; strict apply follows.
 *    A table without a key cannot be made idempotent: its late copy reads the snapshot of a
 *    temporary slot instead (exact.ts), whose consistent point is an exact horizon; the
 *    stream skips its changes before it and applies the rest strictly.
 */
export { holdSnapshot, type HoldOptions } from './export';
export { holderInterrupted, slotExists } from './holder';
export { importSnapshot } from './import';
export { lateHorizon, replayedIdempotently } from './late';
