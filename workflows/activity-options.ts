/** Timeouts and retry policies of every activity, in one place. */
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors';

/** Short catalog reads: a few attempts, then the operator hears about it. */
export const inspection: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
};

/** Short writes that prepare or clean up (target database, publication, dropping the slot): the limits of a catalog read. */
export const preparation: ActivityOptions = inspection;

/** Connecting for the first time: wrong credentials or addresses fail at once. */
export const probe: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '30 seconds',
  retry: { ...inspection.retry, maximumAttempts: 3 },
};

/** Copying a chunk: long, heartbeating; a dead worker is noticed within 20 s and the chunk retried elsewhere. */
export const copying: ActivityOptions = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '20 seconds',
  retry: { ...inspection.retry, maximumAttempts: 10 },
};

/** Holding the exported snapshot for the whole load; a retry only reports the snapshot lost. */
export const holding: ActivityOptions = {
  startToCloseTimeout: '30 days',
  heartbeatTimeout: '20 seconds',
  // Heartbeats are throttled to 0.8 x the timeout, so the holder may learn of its cancellation
  // 16 s late; the load does not wait for that (closing its session is all that is left).
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { ...inspection.retry, initialInterval: '1 second', maximumAttempts: 3 },
};

/** pg_dump / pg_restore of a schema section. */
export const schemaChange: ActivityOptions = {
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '30 seconds',
  retry: { ...inspection.retry, maximumAttempts: 5 },
};

/**
 * A change stream: heartbeats every second (the worker's heartbeat throttle is 1 s,
 * src/temporal/worker.ts), so cancellation (pause, switchover) reaches it at once and a dead
 * worker is noticed within 5 s. It stays open for plan.cdc.streamSeconds, and longer while a
 * large source transaction is applied in parts (ending then would undo them): the heartbeat,
 * not a start-to-close limit, tells a live stream from a dead one.
 */
export const streaming: ActivityOptions = {
  startToCloseTimeout: '24 hours',
  heartbeatTimeout: '5 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  // No attempt limit: a dead worker or a dropped connection must never end change capture.
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
};

/** Switchover steps: quick, and a failure must surface fast so the source is un-fenced. */
export const switching: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { ...inspection.retry, maximumAttempts: 3 },
};

/**
 * The switchover's verification: every table counted (or checksummed) on both sides, so its
 * limit grows with the data (at least an hour, and twice the time at 20 MB/s a side).
 */
export function verifying(estBytes: number): ActivityOptions {
  const seconds = Math.max(3600, Math.ceil((estBytes / (20 * 1024 * 1024)) * 2));
  return { ...switching, startToCloseTimeout: `${seconds} seconds`, heartbeatTimeout: '2 minutes' };
}

/** Un-fencing the source: the application is locked out until it succeeds, so it never gives up (the retries show in status). */
export const unfencing: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: [],
  },
};

/** A drain round's own limit (seconds): the stream stops at the fence long before. */
export const DRAIN_ROUND_SECONDS = 600;

/**
 * A notification to the webhook: a few tries within about 15 s, then it is given up with a
 * warning in status. Never awaited by the migration: a failing webhook must not slow it.
 */
export const notifying: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
};
