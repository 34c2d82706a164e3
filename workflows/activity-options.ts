/** Timeouts and retry policies of every activity, in one place. */
import type { ActivityOptions } from '@temporalio/workflow';
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
