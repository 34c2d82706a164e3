/**
 * The whole stack for an end-to-end test file: a source and a target (15 -> 17 by
 * default) with an `app` database, a Temporal dev server and an in-process worker.
 * Registers node:test before/after hooks; read the fields inside tests.
 */
import { after, before } from 'node:test';
import type { Worker } from '@temporalio/worker';
import type { StartOptions } from '../../src/dev/embedded-postgres';
import { startPair, type PgServer } from './postgres';
import { startTemporal, type TemporalHarness } from './temporal';

export interface Stack {
  temporal: TemporalHarness;
  source: PgServer;
  target: PgServer;
  taskQueue: string;
}

export function useStack(
  opts: { sourceSql?: string; source?: Partial<StartOptions>; target?: Partial<StartOptions> } = {},
): Stack {
  const stack = {} as Stack;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let stopPair: (() => Promise<void>) | undefined;
  before(async () => {
    const [t, pair] = await Promise.all([startTemporal(), startPair(opts.source, opts.target)]);
    stack.temporal = t;
    stack.source = pair.source;
    stack.target = pair.target;
    stopPair = pair.stop;
    if (opts.sourceSql) await pair.source.query(opts.sourceSql, [], 'app');
    const w = await t.worker();
    worker = w.worker;
    stack.taskQueue = w.taskQueue;
    running = worker.run();
  });
  after(async () => {
    try {
      worker?.shutdown();
      await running;
    } finally {
      await Promise.all([stack.temporal?.stop(), stopPair?.()]);
    }
  });
  return stack;
}
