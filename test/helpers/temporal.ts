/** A real Temporal dev server (the CLI binary) and a real worker, per test file. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import { createActivities } from '../../activities';
import { WORKER_DEFAULTS, WORKFLOWS_PATH, installRuntime } from '../../src/temporal/worker';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { uniqueName } from './postgres';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflows once per process, as the worker would: a forbidden import fails here. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never,
  });
  return bundle;
}

export interface TemporalHarness {
  env: TestWorkflowEnvironment;
  /** Starts a worker on a task queue of its own; returns it and the queue name. */
  worker(): Promise<{ worker: Worker; taskQueue: string }>;
  stop(): Promise<void>;
}

export async function startTemporal(): Promise<TemporalHarness> {
  installRuntime((process.env.PGTRANSIT_LOG_LEVEL as 'ERROR') ?? 'ERROR');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: ensureTemporalCli() },
      ip: '127.0.0.1',
      searchAttributes: [...SEARCH_ATTRIBUTES],
    },
  });
  return {
    env,
    async worker() {
      const taskQueue = uniqueName('q');
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: createActivities(),
        ...WORKER_DEFAULTS,
      });
      return { worker, taskQueue };
    },
    stop: () => env.teardown(),
  };
}
