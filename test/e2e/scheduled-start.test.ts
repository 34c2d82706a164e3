/**
 * pgtransit start --at: the migration starts with a Temporal start delay. Status says it is
 * scheduled and for when before it runs; it runs after the time; an abort before the time
 * ends it with nothing created; a time in the past or unparseable is refused at once.
 * Real servers (15 -> 17), real Temporal, the pgtransit CLI in its own process.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import { replicationNames, workflowIds } from '../../src/model/names';
import type { MigrationStatus } from '../../src/model/status';
import type { Plan } from '../../src/plan/plan';
import { runCli } from '../helpers/cli';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { assertUntouched, snapshotSource } from '../helpers/untouched';

const dir = mkdtempSync(join(tmpdir(), 'pgtransit-scheduled-'));

const APP_SQL =
  'CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 200) g';

describe('pgtransit start --at: a migration scheduled for later', () => {
  const stack = useStack({ sourceSql: APP_SQL });
  const cli = (...args: string[]) => runCli(stack, ...args);
  const client = () => stack.temporal.env.client;

  function planFile(overrides: Parameters<typeof planFor>[2] = {}): { plan: Plan; file: string } {
    const plan = planFor(stack.source, stack.target, overrides);
    const file = join(dir, `${plan.name}.json`);
    writeFileSync(file, JSON.stringify(plan));
    return { plan, file };
  }

  /** The time given to --at, whole seconds, as an operator writes it. */
  const ahead = (ms: number) => new Date(Math.ceil((Date.now() + ms) / 1000) * 1000).toISOString();

  it('status says scheduled and for when; the migration runs after that time', async () => {
    const { plan, file } = planFile({ mode: 'full', targetDatabase: 'app' });
    const at = ahead(8_000);
    const started = await cli('start', '-f', file, '--at', at);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, new RegExp(`scheduled ${workflowIds(plan.name).migration} to start at ${at}`));

    const status = await cli('status', plan.name);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`migration ${plan.name} .*: scheduled to start at ${at}`));
    assert.match(status.stdout, new RegExp(`pgtransit abort ${plan.name}`));
    const json = await cli('status', plan.name, '--json');
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { scheduled?: { at: string }; execution: string };
    assert.equal(parsed.scheduled?.at, at);
    assert.equal(parsed.execution, 'RUNNING');
    const target = await stack.target.query(`SELECT to_regclass('public.items') AS t`, [], 'app');
    assert.equal(target.rows[0]!.t, null, 'nothing has run before the time');

    const handle = client().workflow.getHandle(workflowIds(plan.name).migration);
    const result = (await handle.result()) as { phase: string };
    assert.equal(result.phase, 'completed');
    const migration = (await handle.query('status')) as MigrationStatus;
    assert.ok(
      Date.parse(migration.startedAt) >= Date.parse(at),
      `the migration began at ${migration.startedAt}, not before ${at}`,
    );
    const copied = await stack.target.query('SELECT count(*)::int AS n FROM items', [], 'app');
    assert.equal(copied.rows[0]!.n, 200);
    const after = await cli('status', plan.name);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /: completed \[COMPLETED\]/);
    assert.doesNotMatch(after.stdout, /scheduled to start/);
  });

  it('abort before the time ends the workflow; nothing is created on the source', async () => {
    await stack.source.query('CREATE DATABASE later');
    await stack.source.query(APP_SQL, [], 'later');
    const { plan, file } = planFile({ database: 'later', targetDatabase: 'later' });
    const before = await snapshotSource(stack.source, 'later');
    const at = ahead(3_600_000);
    const started = await cli('start', '-f', file, '--at', at);
    assert.equal(started.code, 0, started.stderr);
    const status = await cli('status', plan.name);
    assert.match(status.stdout, new RegExp(`scheduled to start at ${at}`));

    // Commands that need the migration under way are refused while it waits, and do nothing.
    for (const command of ['verify', 'switchover', 'pause'] as const) {
      const r = await cli(command, plan.name);
      assert.equal(r.code, 2, `${command}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, new RegExp(`migration ${plan.name} is scheduled to start at ${at} and has not started`));
    }

    const aborted = await cli('abort', plan.name);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.match(aborted.stdout, new RegExp(`migration ${plan.name} was scheduled for ${at} and had not started`));
    const description = await client().workflow.getHandle(workflowIds(plan.name).migration).describe();
    assert.notEqual(description.status.name, 'RUNNING', 'the workflow has ended');
    assert.notEqual(description.status.name, 'COMPLETED');
    const { slot, publication } = replicationNames(plan.name, 'later');
    const left = await stack.source.query(
      `SELECT (SELECT count(*)::int FROM pg_replication_slots WHERE slot_name = $1) AS slots,
              (SELECT count(*)::int FROM pg_publication WHERE pubname = $2) AS publications`,
      [slot, publication],
      'later',
    );
    assert.deepEqual(left.rows[0], { slots: 0, publications: 0 });
    await assertUntouched(stack.source, 'later', before);
    const db = await stack.target.query(`SELECT count(*)::int AS n FROM pg_database WHERE datname = 'later'`);
    assert.equal(db.rows[0]!.n, 0, 'no target database was created');

    const again = await cli('abort', plan.name);
    assert.equal(again.code, 2, 'a second abort is refused: the migration has ended');
  });

  it('refuses a time in the past or one it cannot read, at once, naming the fix; nothing is started', async () => {
    const { plan, file } = planFile({ mode: 'full' });
    const cases: { at: string; problem: RegExp }[] = [
      { at: '2020-01-01T00:00:00Z', problem: /--at 2020-01-01T00:00:00Z is in the past \(now is .+\)/ },
      { at: 'tomorrow 2am', problem: /--at tomorrow 2am: not a time/ },
      { at: '2026-12-24T02:00:00', problem: /--at 2026-12-24T02:00:00: no time zone/ },
    ];
    for (const c of cases) {
      const r = await cli('start', '-f', file, '--at', c.at);
      assert.equal(r.code, 2, `${c.at}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, c.problem);
      assert.match(r.stderr, /e\.g\. --at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/, 'the message shows how to write it');
    }
    await assert.rejects(
      client().workflow.getHandle(workflowIds(plan.name).migration).describe(),
      WorkflowNotFoundError,
    );
  });
});
