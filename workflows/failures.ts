/**
 * The one place in workflows/ that reads failures: which registered type an activity's
 * or a child's failure carries, its message, and re-raising it as the workflow's own.
 * Workflow code throws ApplicationFailure, never a plain Error (a plain Error fails the
 * workflow task and looks like a hang).
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES } from '../src/errors';
import { formatPlanIssues, parsePlan, type Plan } from '../src/plan/plan';

/** The ApplicationFailure an activity raised, when `e` is one. */
export function failureOf(e: unknown): ApplicationFailure | null {
  return e instanceof ActivityFailure && e.cause instanceof ApplicationFailure ? e.cause : null;
}

/**
 * Whether an activity's failure is one its retry policy would have retried: a timeout (a dead
 * worker), a lost connection; not an error that names a problem the operator must fix.
 */
export function retryable(e: unknown): boolean {
  if (!(e instanceof ActivityFailure)) return false;
  const f = failureOf(e);
  return f === null || (!f.nonRetryable && !(NON_RETRYABLE_ERROR_TYPES as string[]).includes(f.type ?? ''));
}

/** What went wrong, in the words of whoever raised it (an activity's or a child's failure: its cause). */
export function messageOf(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause instanceof Error ? e.cause.message : e.message;
}

/** Whether an activity failed with one of these registered types. */
export function hasType(e: unknown, ...types: ErrorType[]): boolean {
  const f = failureOf(e);
  return f !== null && (types as string[]).includes(f.type ?? '');
}

/** Re-raises an activity's failure as the workflow's own, so its message names the cause. */
export function surface(e: unknown): never {
  const f = failureOf(e);
  if (f) {
    throw ApplicationFailure.create({
      type: f.type ?? ErrorType.Transient,
      message: f.message,
      nonRetryable: true,
      details: f.details as unknown[] | undefined,
    });
  }
  throw e;
}

/** Validates the plan inside the workflow: a plan started from the UI never met the CLI. */
export function validatePlan(input: unknown): Plan {
  const result = parsePlan(input);
  if (!result.ok) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidPlan,
      message: `the plan is invalid:\n${formatPlanIssues(result.issues)}`,
      nonRetryable: true,
      details: [result.issues],
    });
  }
  return result.plan;
}
