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
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { ...inspection.retry, initialInterval: '1 second', maximumAttempts: 3 },
};

/** pg_dump / pg_restore of a schema section. */
export const schemaChange: ActivityOptions = {
  startToCloseTimeout: '12 hours',
  heartbeatTimeout: '30 seconds',
  retry: { ...inspection.retry, maximumAttempts: 5 },
};
