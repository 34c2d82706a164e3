/**
 * precheckWorkflow through the real Temporal dev server, a real worker and real
 * PostgreSQL servers; the CLI and the `temporal` CLI as an operator would use them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import type { PrecheckReport } from '../../src/model/report';
import type { Plan, PlanInput } from '../../src/plan/plan';
import { envRef, planFor, startPostgres, uniqueName, type PgServer } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import type { TemporalHarness } from '../helpers/temporal';
import { precheckWorkflow } from '../../workflows';

const run = promisify(execFile);

/**
 * What `temporal workflow show` prints, in text and in JSON, with every payload's
 * base64 data decoded too, so a secret cannot hide in an encoded payload.
 */
async function historyText(address: string, workflowId: string): Promise<string> {
  const show = (output: string[]) =>
    run(ensureTemporalCli(), ['workflow', 'show', '--workflow-id', workflowId, '--address', address, ...output], {
      maxBuffer: 1 << 24,
    });
  const [text, json] = await Promise.all([show([]), show(['--output', 'json'])]);
  const decoded: string[] = [];
  JSON.parse(json.stdout, (key, value) => {
    if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return [text.stdout, json.stdout, ...decoded].join('\n');
}
const root = join(__dirname, '..', '..');

const ITEMS_SQL =
  'CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 100) g';

describe('precheckWorkflow', () => {
  const stack = useStack({ sourceSql: ITEMS_SQL });
  let temporal: TemporalHarness;
  let taskQueue: string;
  let source: PgServer;
  let target: PgServer;
  let replicaSource: PgServer;
  const dir = mkdtempSync(join(tmpdir(), 'pgtransit-wf-'));

  before(async () => {
    ({ temporal, taskQueue, source, target } = stack);
    replicaSource = await startPostgres({ major: 15, settings: { wal_level: 'replica' } });
    await replicaSource.query('CREATE DATABASE app');
    await replicaSource.query(ITEMS_SQL, [], 'app');
  });
  after(() => replicaSource?.stop());

  const execute = (plan: unknown, workflowId = uniqueName('precheck')) =>
    // Invalid plans on purpose too: the workflow validates its input itself.
    temporal.env.client.workflow.execute(precheckWorkflow, { args: [plan as PlanInput], taskQueue, workflowId });

  it('returns an itemised report for a good pair', async () => {
    const report = await execute(planFor(source, target));
    assert.equal(report.ok, true, JSON.stringify(report.items.filter((i) => i.status === 'fail')));
    assert.equal(report.source.major, 15);
    assert.equal(report.target.major, 17);
    assert.deepEqual(report.databases, ['app']);
    for (const item of report.items) {
      assert.match(item.id, /^(source|target|pair|plan|worker)\.[a-z_]+$/);
      assert.ok(['pass', 'warn', 'fail'].includes(item.status));
      assert.ok(item.observed.length > 0);
      if (item.status !== 'pass') assert.ok(item.fix, `${item.id} needs a fix`);
    }
    const ids = new Set(report.items.map((i) => i.id));
    for (const id of [
      'source.connection',
      'target.connection',
      'pair.versions',
      'worker.pg_dump',
      'source.wal_level',
      'source.replication_slots',
      'source.wal_senders',
      'source.replication_privilege',
      'source.select_privilege',
      'source.publication_privilege',
      'source.max_slot_wal_keep_size',
      'source.long_transactions',
      'source.primary_keys',
      'source.unlogged_tables',
      'source.large_objects',
      'source.c_functions',
      'source.replication_names',
      'pair.extensions',
      'pair.encoding',
      'plan.selection',
      'target.primary',
      'target.empty',
      'target.create_privilege',
      'target.disk_space',
      'target.database',
    ]) {
      assert.ok(ids.has(id), `missing item ${id}`);
    }
    assert.deepEqual(report.summary, {
      pass: report.items.filter((i) => i.status === 'pass').length,
      warn: report.items.filter((i) => i.status === 'warn').length,
      fail: 0,
    });
  });

  it('reports a failing item instead of failing the workflow', async () => {
    const report = await execute(planFor(replicaSource, target));
    assert.equal(report.ok, false);
    const wal = report.items.find((i) => i.id === 'source.wal_level');
    assert.equal(wal?.status, 'fail');
    assert.equal(report.items[0]?.status, 'fail', 'failures come first');
  });

  it('fails a malformed plan at once, non-retryably, naming the field', async () => {
    const workflowId = uniqueName('bad-plan');
    const bad = {
      name: 'Bad Name',
      source: { url: 'postgres://u:pw@h/db' },
      target: { url: 'env:X' },
      fullLoad: { parallelism: 0 },
    };
    const err = await execute(bad, workflowId).then(
      () => assert.fail('expected a failure'),
      (e) => e,
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.ok(err.cause instanceof ApplicationFailure);
    assert.equal(err.cause.type, 'InvalidPlan');
    assert.equal(err.cause.nonRetryable, true);
    assert.match(err.cause.message, /^name: /m);
    assert.match(err.cause.message, /^source\.url: .*literal password/m);
    assert.match(err.cause.message, /^fullLoad\.parallelism: /m);
    const history = await temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
    assert.ok(
      !history.events?.some((e) => e.activityTaskScheduledEventAttributes),
      'no activity may run for an invalid plan',
    );
  });

  for (const side of ['source', 'target'] as const) {
    it(`fails fast on a wrong ${side} password, naming the server, and keeps the password out of history`, async () => {
      const workflowId = uniqueName('wrong-pw');
      const password = `wrong-${uniqueName('pw')}`;
      const plan: Plan = planFor(source, target);
      plan[side] = {
        url: envRef((side === 'source' ? source : target).url({ user: 'postgres', password, database: 'app' })),
      };
      const err = await execute(plan, workflowId).then(
        () => assert.fail('expected a failure'),
        (e) => e,
      );
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ApplicationFailure);
      assert.equal(err.cause.type, 'AuthenticationFailed');
      assert.match(
        err.cause.message,
        new RegExp(
          `^${side} server 127\\.0\\.0\\.1:\\d+ \\(database app, user postgres\\): password authentication failed`,
        ),
      );
      const history = await temporal.env.client.workflow.getHandle(workflowId).fetchHistory();
      const attempts = history.events
        ?.filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes!.attempt);
      assert.ok(
        attempts?.every((a) => a === 1),
        `no retry of an authentication failure (attempts ${attempts})`,
      );

      const stdout = await historyText(temporal.env.address, workflowId);
      assert.match(stdout, /"url":"env:PGT_TEST_URL_/, 'the history holds the reference');
      assert.ok(!stdout.includes(password), 'the wrong password must not be in history');
      assert.ok(!stdout.includes(source.password), 'the real password must not be in history');
    });
  }

  it('never writes the real password into the history of a successful run', async () => {
    const workflowId = uniqueName('ok');
    await execute(planFor(source, target), workflowId);
    const stdout = await historyText(temporal.env.address, workflowId);
    assert.match(stdout, /"observed":/, 'the decoded report is part of what was searched');
    assert.ok(!stdout.includes(source.password));
  });

  it('can be started with `temporal workflow start --input-file`', async () => {
    const workflowId = uniqueName('cli-start');
    const file = join(dir, `${workflowId}.json`);
    writeFileSync(file, JSON.stringify(planFor(source, target)));
    await run(ensureTemporalCli(), [
      'workflow',
      'start',
      '--type',
      'precheckWorkflow',
      '--task-queue',
      taskQueue,
      '--workflow-id',
      workflowId,
      '--input-file',
      file,
      '--address',
      temporal.env.address,
    ]);
    const report = (await temporal.env.client.workflow.getHandle(workflowId).result()) as PrecheckReport;
    assert.equal(report.ok, true);
  });

  describe('pgtransit precheck (the CLI)', () => {
    const cli = async (plan: unknown, extra: Record<string, string> = {}) => {
      const file = join(dir, `${uniqueName('plan')}.json`);
      writeFileSync(file, JSON.stringify(plan));
      try {
        const { stdout } = await run(
          process.execPath,
          [join(root, 'bin', 'pgtransit.js'), 'precheck', '-f', file, '--json'],
          {
            env: { ...process.env, TEMPORAL_ADDRESS: temporal.env.address, PGTRANSIT_TASK_QUEUE: taskQueue, ...extra },
          },
        );
        return { code: 0, stdout, stderr: '' };
      } catch (e) {
        const err = e as { code: number; stdout: string; stderr: string };
        return { code: err.code, stdout: err.stdout, stderr: err.stderr };
      }
    };

    it('exits 0 for a good pair', async () => {
      const r = await cli(planFor(source, target));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).ok, true);
    });

    it('exits 2 and names the failing item for a broken pair', async () => {
      const r = await cli(planFor(replicaSource, target));
      assert.equal(r.code, 2, r.stderr);
      const report = JSON.parse(r.stdout) as PrecheckReport;
      assert.ok(report.items.some((i) => i.id === 'source.wal_level' && i.status === 'fail'));
    });

    it('exits 1 naming the address when Temporal is unreachable', async () => {
      const r = await cli(planFor(source, target), { TEMPORAL_ADDRESS: '127.0.0.1:1' });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /cannot reach Temporal at 127\.0\.0\.1:1/);
    });

    it('exits 2 with the field path for an invalid plan file', async () => {
      const r = await cli({ name: 'ok-name', source: { url: 'env:A' } });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /target: /);
    });
  });
});
