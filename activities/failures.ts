/**
 * Turning domain errors into Temporal failures with an explicit, registered type, and
 * telling the workflow when an activity fails and will be tried again: a retry that repeats
 * must be visible in status, not only in the server's pending-activity list.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ErrorType, PgTransitError } from '../src/errors';
import { activityRetrySignal } from '../src/model/messages';
import { classify } from '../src/postgres/classify';
import { workflowLogContext } from '../src/temporal/logging';
import { activityRetried } from '../src/temporal/metrics';

export interface Heartbeating {
  /** Heartbeat this often (milliseconds). */
  everyMs?: number;
  /**
   * The assessment fails at once when a server does not answer; once the migration runs,
   * a server that stops answering (restarted, network cut) is waited for, with the retries in status.
   */
  waitForServers?: boolean;
  /** Every failure is worth another try (un-fencing: giving up would leave the application locked out). */
  retryAll?: boolean;
}

export function toFailure(e: unknown, o: Heartbeating = {}): ApplicationFailure {
  if (e instanceof ApplicationFailure) return e;
  const err = e instanceof PgTransitError ? e : classify('any', '', e);
  const type = o.waitForServers && err.type === ErrorType.ServerUnreachable ? ErrorType.Transient : err.type;
  return ApplicationFailure.create({
    type,
    message: err.message,
    nonRetryable: !o.retryAll && type !== ErrorType.Transient,
    details: err.details ? [err.details] : [],
  });
}

/** Retries reported to the workflow: the first few, then one in twenty (history stays small however long it lasts). */
const reported = (attempt: number) => attempt <= 5 || attempt % 20 === 0;

/**
 * Runs an activity body, heartbeating every few seconds so that the server notices
 * a dead worker and the activity notices cancellation, and maps its errors.
 */
export async function heartbeating<T>(
  body: (signal: AbortSignal) => Promise<T>,
  o: Heartbeating = { waitForServers: true },
): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), o.everyMs ?? 5_000);
  try {
    const result = await body(ctx.cancellationSignal);
    if (ctx.info.attempt > 1) await tellWorkflow(ctx, null);
    return result;
  } catch (e) {
    const failure = toFailure(e, o);
    if (!failure.nonRetryable && !ctx.cancellationSignal.aborted) {
      const { migration, database } = workflowLogContext(ctx.info.workflowExecution.workflowId);
      activityRetried({
        migration: migration ?? '',
        database: database ?? '',
        activity: ctx.info.activityType,
        type: failure.type ?? ErrorType.Transient,
      });
      ctx.log.warn('activity failed, to be tried again', { attempt: ctx.info.attempt, error: failure.message });
      if (reported(ctx.info.attempt)) await tellWorkflow(ctx, failure);
    } else if (!ctx.cancellationSignal.aborted) {
      ctx.log.warn('activity failed', { attempt: ctx.info.attempt, type: failure.type, error: failure.message });
    }
    throw failure;
  } finally {
    clearInterval(timer);
  }
}

/**
 * A retried activity that runs long (a change stream) says it works again as soon as it
 * does, not when it ends: the retry leaves status then.
 */
export async function recovered(ctx: Context): Promise<void> {
  if (ctx.info.attempt > 1) await tellWorkflow(ctx, null);
}

async function tellWorkflow(ctx: Context, failure: ApplicationFailure | null): Promise<void> {
  const { info } = ctx;
  const { workflowId, runId } = info.workflowExecution;
  const retry = failure
    ? {
        activityId: info.activityId,
        activity: info.activityType,
        attempt: info.attempt,
        type: failure.type ?? ErrorType.Transient,
        error: failure.message,
        at: new Date().toISOString(),
      }
    : {
        activityId: info.activityId,
        activity: info.activityType,
        attempt: info.attempt,
        recovered: true,
        at: new Date().toISOString(),
      };
  // The workflow may have ended meanwhile (or never listens, as the assessment): nothing to tell then.
  await ctx.client.workflow
    .getHandle(workflowId, runId)
    .signal(activityRetrySignal, retry)
    .catch(() => undefined);
}
