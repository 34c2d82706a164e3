/**
 * The harness of the workflow tests with fake activities: a plan that is never resolved, a
 * migration run on a worker of its own, and small helpers for Updates and failures.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { databaseStatusQuery, statusQuery } from '../../src/model/messages';
import { workflowIds } from '../../src/model/names';
import type { DatabaseStatus, MigrationStatus } from '../../src/model/status';
import { parsePlan, type Plan, type PlanInput } from '../../src/plan/plan';
import { WORKER_DEFAULTS } from '../../src/temporal/worker';
import type { migrateDatabaseWorkflow } from '../../workflows/database';
import { migrationWorkflow } from '../../workflows/migration';
import type { Fakes } from './fake-activities';
import { workflowBundle, type TemporalHarness } from './temporal';
import { waitFor } from './wait';

/** A valid plan; the env: references are never resolved, since no real activity runs. */
export function makePlan(prefix: string, overrides: Partial<PlanInput> = {}): Plan {
  const parsed = parsePlan({
    name: `${prefix}-${randomBytes(4).toString('hex')}`,
    source: { url: 'env:UNUSED_SOURCE' },
    target: { url: 'env:UNUSED_TARGET' },
    fullLoad: { parallelism: 1, chunkSizeMB: 128 },
    cdc: { roundSeconds: 1 },
    ...overrides,
  });
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.issues));
  return parsed.plan;
}

/** Asserts that `p` rejects, and returns what it rejected with. */
export const rejection = <E = unknown>(p: Promise<unknown>): Promise<E> =>
  p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e as E,
  );

/** A Temporal call that never answers (an Update stuck in its handler) fails the test instead of hanging it. */
export function answered<T>(p: Promise<T>, ms = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  );
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The ApplicationFailure an Update failed or was rejected with. */
export function updateFailure(e: unknown): ApplicationFailure {
  assert.ok(e instanceof WorkflowUpdateFailedError, `expected WorkflowUpdateFailedError, got ${String(e)}`);
  assert.ok(e.cause instanceof ApplicationFailure, `expected an ApplicationFailure cause, got ${String(e.cause)}`);
  return e.cause;
}

export interface Running {
  plan: Plan;
  handle: WorkflowHandle<typeof migrationWorkflow>;
  child: WorkflowHandle<typeof migrateDatabaseWorkflow>;
  status(): Promise<MigrationStatus>;
  db(): Promise<DatabaseStatus>;
  /** Polls `fn` (errors count as not yet) until it returns something truthy. */
  until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs?: number): Promise<T>;
}

/** Starts the migration on a worker of its own with `fakes` as its activities, runs `body`, then ends both workflows. */
export async function migrate(
  temporal: TemporalHarness,
  fakes: Fakes,
  plan: Plan,
  body: (r: Running) => Promise<void>,
  database = 'app',
): Promise<void> {
  const { client } = temporal.env;
  const taskQueue = `q-${plan.name}`;
  const ids = workflowIds(plan.name);
  const workflowId = ids.migration;
  const worker = await Worker.create({
    connection: temporal.env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: fakes.activities,
    ...WORKER_DEFAULTS,
  });
  const handle = client.workflow.getHandle<typeof migrationWorkflow>(workflowId);
  const child = client.workflow.getHandle<typeof migrateDatabaseWorkflow>(ids.database(database));
  const db = () => child.query(databaseStatusQuery);
  const until: Running['until'] = (what, fn, timeoutMs = 20_000) =>
    waitFor(
      what,
      () => fn().catch(() => null),
      timeoutMs,
      async () => ({
        db: await db().catch(() => null),
        calls: fakes.calls.map((c) => `${c.activity}:${c.outcome ?? 'running'}`).slice(-12),
      }),
    );
  try {
    await worker.runUntil(async () => {
      await client.workflow.start(migrationWorkflow, { args: [plan], taskQueue, workflowId });
      await body({ plan, handle, child, status: () => handle.query(statusQuery), db, until });
    });
  } finally {
    // After the worker stopped, so that no activity of theirs completes into a closed workflow.
    for (const h of [child, handle]) await h.terminate('test over').catch(() => undefined);
  }
}
