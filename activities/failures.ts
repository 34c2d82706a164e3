/** Turning domain errors into Temporal failures with an explicit, registered type. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { PgTransitError } from '../src/errors';
import { classify } from '../src/postgres/classify';

export function toFailure(e: unknown): ApplicationFailure {
  if (e instanceof ApplicationFailure) return e;
  const err = e instanceof PgTransitError ? e : classify('any', '', e);
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: !err.retryable,
    details: err.details ? [err.details] : [],
  });
}

/**
 * Runs an activity body, heartbeating every few seconds so that the server notices
 * a dead worker and the activity notices cancellation, and maps its errors.
 */
export async function heartbeating<T>(body: (signal: AbortSignal) => Promise<T>, everyMs = 5_000): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), everyMs);
  try {
    return await body(ctx.cancellationSignal);
  } catch (e) {
    throw toFailure(e);
  } finally {
    clearInterval(timer);
  }
}
