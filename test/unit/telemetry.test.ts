/**
 * The pure parts of the worker's telemetry: the context each JSON log line carries, the
 * metrics address, and the worker's flags over the environment.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LogEntry } from '@temporalio/worker';
import { workerTelemetry } from '../../src/cli/worker';
import { activityLogContext, jsonLogFunction, workflowLogContext } from '../../src/temporal/logging';
import { metricsBindAddress } from '../../src/temporal/worker';

const plan = { name: 'shop-move', source: { url: 'env:S' }, target: { url: 'env:T' } };

describe('JSON log lines', () => {
  it('take migration, database, phase and table from an activity and its input', () => {
    const chunk = { id: 'public.orders/2', schema: 'public', name: 'orders', part: 2, parts: 4, kind: 'key' };
    assert.deepEqual(activityLogContext('copyChunk', { plan, database: 'shop', chunk }), {
      migration: 'shop-move',
      database: 'shop',
      phase: 'full_load',
      table: 'public.orders',
    });
    assert.equal(activityLogContext('restoreSchema', { plan, section: 'post-data' }).phase, 'post_data');
    assert.equal(activityLogContext('restoreSchema', { plan, section: 'pre-data' }).phase, 'schema');
    assert.equal(activityLogContext('applyChanges', { plan, fence: { lsn: '0/1' } }).phase, 'draining');
    assert.equal(activityLogContext('applyChanges', { plan, fence: null }).phase, 'incremental');
    const notification = { migration: 'shop-move', database: 'shop', phase: 'incremental', kind: 'lag' };
    assert.deepEqual(activityLogContext('notify', { webhook: 'env:HOOK', notification }), {
      migration: 'shop-move',
      database: 'shop',
      phase: 'incremental',
      table: null,
    });
  });

  it('take migration and database from a workflow id', () => {
    assert.deepEqual(workflowLogContext('migration-shop-move/shop'), { migration: 'shop-move', database: 'shop' });
    assert.deepEqual(workflowLogContext('migration-shop-move'), { migration: 'shop-move', database: null });
    assert.deepEqual(workflowLogContext('migration-shop-move/precheck'), { migration: 'shop-move', database: null });
    assert.deepEqual(workflowLogContext('precheck-shop-move'), { migration: 'shop-move', database: null });
    assert.deepEqual(workflowLogContext('something-else'), { migration: null, database: null });
  });

  it('are one JSON object each with the four fields, null where unknown', () => {
    const lines: string[] = [];
    const log = jsonLogFunction((l) => lines.push(l));
    const at = BigInt(Date.parse('2026-12-02T10:00:00Z')) * 1_000_000n;
    log({ level: 'INFO', message: 'worker started', meta: {}, timestampNanos: at } as LogEntry);
    log({
      level: 'WARN',
      message: 'activity failed',
      meta: { workflowId: 'migration-shop-move/shop', migration: 'shop-move', phase: 'incremental', attempt: 2 },
      timestampNanos: at,
    } as LogEntry);
    assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(a, {
      time: '2026-12-02T10:00:00.000Z',
      level: 'INFO',
      message: 'worker started',
      migration: null,
      database: null,
      phase: null,
      table: null,
    });
    assert.equal(b!.database, 'shop', 'from the workflow id');
    assert.equal(b!.phase, 'incremental');
    assert.equal(b!.attempt, 2);
  });
});

describe('worker settings', () => {
  it('a metrics port, or host:port; a bare port listens on every interface', () => {
    assert.equal(metricsBindAddress('9464'), '0.0.0.0:9464');
    assert.equal(metricsBindAddress('127.0.0.1:9464'), '127.0.0.1:9464');
    assert.throws(() => metricsBindAddress('http://x:1'), /give a port \(9464\) or host:port/);
    assert.throws(() => metricsBindAddress('70000'), /give a port/);
  });

  it('flags win over the environment', () => {
    const env = { PGTRANSIT_METRICS_PORT: '9000', PGTRANSIT_LOG_FORMAT: 'text' };
    assert.deepEqual(workerTelemetry([], env), { metrics: '9000', logFormat: 'text' });
    assert.deepEqual(workerTelemetry(['--metrics-port', '9100', '--log-json'], env), {
      metrics: '9100',
      logFormat: 'json',
    });
    assert.throws(() => workerTelemetry([], { PGTRANSIT_LOG_FORMAT: 'xml' }), /use json or text/);
  });
});
