/** Turning domain errors into Temporal failures with an explicit, registered type. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ErrorType, PgTransitError } from '../src/errors';

export function toFailure(e: unknown): ApplicationFailure {
  if (e instanceof ApplicationFailure) return e;
  if (e instanceof PgTransitError) {
    return ApplicationFailure.create({ type: e.type, message: e.message, nonRetryable: !e.retryable, details: e.details ? [e.details] : [] });
  }
  const err = e as Error;
  return ApplicationFailure.create({ type: ErrorType.Transient, message: err?.message ?? String(e), nonRetryable: false });
}

/**
 * Runs an activity body, heartbeating every few seconds so that the server notices
 * a dead worker and the activity notices cancellation, and maps its errors.
 */
export async function run<T>(body: (signal: AbortSignal) => Promise<T>, everyMs = 5_000): Promise<T> {
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
