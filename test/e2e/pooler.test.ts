/**
 * The switchover through PgBouncer (switchover.pooler): pgbench writes through the pooler
 * (transaction pooling) during a switchover that fails and one that completes. Neither
 * fails a transaction: clients wait in the pooler from PAUSE to RESUME. After the failed
 * one the application is still on the source; after the other it is on the target, and
 * what it writes from then on is there and not on the source. With switchover.reverse the
 * rollback goes through the pooler the same way: pgbench on the target, PAUSE, the target
 * fenced and drained back, RESUME on the source, no failed transaction.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { rollbackUpdate, switchoverUpdate } from '../../src/model/messages';
import type { DatabaseStatus } from '../../src/model/status';
import { envRef, planFor } from '../helpers/postgres';
import { initPgbench, pgbenchPath } from '../helpers/pgbench';
import { startPgbouncer, type Bouncer } from '../helpers/pgbouncer';
import { startLive } from '../helpers/live';
import { useStack } from '../helpers/stack';
import { sleep, waitFor } from '../helpers/wait';

const SCHEMA = `CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
  CREATE TABLE marks (id int PRIMARY KEY, at text)`;

interface Bench {
  code: number;
  processed: number;
  failed: number;
  output: string;
}

/** pgbench through the pooler for `seconds`, at a steady rate; resolves with its figures. */
function pgbenchThrough(bouncer: Bouncer, seconds: number): Promise<Bench> {
  return new Promise((resolve) => {
    const child = spawn(
      pgbenchPath(),
      ['-n', '-M', 'simple', '-c', '4', '-j', '2', '-R', '100', '-T', String(seconds)],
      {
        env: {
          ...process.env,
          PGHOST: '127.0.0.1',
          PGPORT: String(bouncer.port),
          PGUSER: 'postgres',
          PGDATABASE: 'app',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.on('exit', (code) =>
      resolve({
        code: code ?? -1,
        processed: Number(/number of transactions actually processed: (\d+)/.exec(output)?.[1] ?? -1),
        failed: Number(/number of failed transactions: (\d+)/.exec(output)?.[1] ?? -1),
        output,
      }),
    );
  });
}

/** One statement through the pooler, as the application would run it. */
async function throughPooler<T extends pg.QueryResultRow>(bouncer: Bouncer, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: bouncer.url('app') });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

/** A stack whose source `app` holds pgbench's tables, and PgBouncer in front of it. */
function usePooledStack(): { stack: ReturnType<typeof useStack>; bouncer: () => Bouncer } {
  const stack = useStack({ sourceSql: SCHEMA });
  let bouncer: Bouncer | undefined;
  before(async () => {
    assert.equal(await initPgbench(stack.source, 1), 0);
    // Keyless: followed by all its old values.
    await stack.source.query(`ALTER TABLE pgbench_history REPLICA IDENTITY FULL`, [], 'app');
    bouncer = await startPgbouncer(stack.source, ['app']);
  });
  after(async () => {
    await bouncer?.stop();
  });
  return { stack, bouncer: () => bouncer! };
}

/** The update's outcome: ok, or the message it failed with. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => ({ ok: true as const, message: '' }),
    (e: Error) => ({ ok: false as const, message: (e.cause as Error | undefined)?.message ?? e.message }),
  );

const serverPort = async (bouncer: Bouncer) =>
  Number((await throughPooler<{ p: number }>(bouncer, 'SELECT inet_server_port() AS p'))[0]!.p);

/** pgbench through the pooler while `update` runs (started 4 s into it): 0 failed transactions. */
async function underLoad(bouncer: Bouncer, update: () => Promise<unknown>) {
  const bench = pgbenchThrough(bouncer, 20);
  await sleep(4000);
  const result = await outcome(update());
  const b = await bench;
  assert.equal(b.code, 0, b.output);
  assert.equal(b.failed, 0, b.output);
  assert.ok(b.processed > 500, `pgbench ran through it: ${b.processed} transactions`);
  return { result, bench: b };
}

describe('the switchover through PgBouncer', () => {
  const { stack, bouncer: pooler } = usePooledStack();

  it('fails no transaction of the application through a failed and a completed switchover, and moves it to the target', async () => {
    const { source, target } = stack;
    const bouncer = pooler();
    // The verification inside the fence, so that the injected failure comes while the pooler is paused.
    const plan = planFor(source, target, {
      switchover: {
        verify: 'checksum',
        verifyBeforeFence: false,
        pooler: { admin: envRef(bouncer.adminUrl), configFile: bouncer.databasesFile },
      },
    });
    const live = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await live.caughtUp();
    assert.equal(await serverPort(bouncer), source.port, 'the application starts on the source');
    const switchover = () => live.handle.executeUpdate(switchoverUpdate);

    // 1. A switchover that fails in its verification (a row changed on the target only).
    await target.query(`UPDATE items SET v = 'changed on the target' WHERE id = 7`, [], 'app');
    const { result: failed, bench: bench1 } = await underLoad(bouncer, switchover);
    assert.equal(failed.ok, false);
    assert.match(failed.message, /verification found differences: public\.items/);
    assert.equal(await serverPort(bouncer), source.port, 'the application is still on the source');
    const s1 = (await live.status()) as DatabaseStatus;
    const names = s1.steps.map((s) => s.step);
    for (const step of ['pausePooler', 'fenceSource', 'verify', 'unfenceSource', 'resumePooler'])
      assert.ok(names.includes(step), `step ${step} in ${names.join(', ')}`);
    assert.ok(!names.includes('repointPooler'), 'never repointed: the verification failed before');
    assert.equal(readFileSync(bouncer.databasesFile, 'utf8').includes(`port=${source.port}`), true);

    // 2. The row put back; the switchover completes.
    const { rows } = await source.query<{ v: string }>(`SELECT v FROM items WHERE id = 7`, [], 'app');
    await target.query(`UPDATE items SET v = $1 WHERE id = 7`, [rows[0]!.v], 'app');
    await live.caughtUp();
    const { result: done, bench: bench2 } = await underLoad(bouncer, switchover);
    assert.equal(done.ok, true, done.message);
    assert.equal(await serverPort(bouncer), target.port, 'the application is on the target');
    const report = ((await live.status()) as DatabaseStatus).switchover!;
    assert.ok(report.poolerPauseMs !== undefined && report.poolerPauseMs > 0, JSON.stringify(report));
    process.stdout.write(
      `pooler pause ${report.poolerPauseMs} ms, fence to done ${report.writeDowntimeMs} ms; ` +
        `pgbench ${bench1.processed} and ${bench2.processed} transactions, ${bench1.failed + bench2.failed} failed\n`,
    );

    // What the application writes from now on is on the target, not on the source.
    await throughPooler(bouncer, `INSERT INTO marks VALUES (1, 'after resume')`);
    assert.equal((await target.query(`SELECT 1 FROM marks WHERE id = 1`, [], 'app')).rowCount, 1);
    assert.equal((await source.query(`SELECT 1 FROM marks WHERE id = 1`, [], 'app')).rowCount, 0);
    const history = async (s: typeof source) =>
      Number((await s.query<{ n: string }>(`SELECT count(*) AS n FROM pgbench_history`, [], 'app')).rows[0]!.n);
    const [onSource, onTarget] = [await history(source), await history(target)];
    assert.ok(onTarget > onSource, `pgbench wrote on the target after RESUME (source ${onSource}, target ${onTarget})`);
  });
});

describe('the rollback through PgBouncer (switchover.reverse)', () => {
  const { stack, bouncer: pooler } = usePooledStack();

  it('fails no transaction through the switchover and the rollback, and brings the application back to the source', async () => {
    const { source, target } = stack;
    const bouncer = pooler();
    const plan = planFor(source, target, {
      targetDatabase: 'moved',
      switchover: {
        reverse: true,
        verify: 'checksum',
        pooler: { admin: envRef(bouncer.adminUrl), configFile: bouncer.databasesFile },
      },
    });
    const live = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await live.caughtUp();
    const forward = await underLoad(bouncer, () => live.handle.executeUpdate(switchoverUpdate));
    assert.equal(forward.result.ok, true, forward.result.message);
    assert.equal(await serverPort(bouncer), target.port, 'the application is on the target');
    await waitFor('reverse', async () => (await live.status())?.phase === 'reverse', 60_000, live.status);
    await throughPooler(bouncer, `INSERT INTO marks VALUES (1, 'on the target')`);

    const back = await underLoad(bouncer, () => live.handle.executeUpdate(rollbackUpdate));
    assert.equal(back.result.ok, true, back.result.message);
    assert.equal(await serverPort(bouncer), source.port, 'the application is back on the source');
    const report = ((await live.status()) as DatabaseStatus).rollback!;
    assert.ok(report.poolerPauseMs !== undefined && report.poolerPauseMs > 0, JSON.stringify(report));
    process.stdout.write(
      `rollback: pooler pause ${report.poolerPauseMs} ms, fence to done ${report.writeDowntimeMs} ms; ` +
        `pgbench ${forward.bench.processed} and ${back.bench.processed} transactions, 0 failed\n`,
    );

    // What the application wrote on the target came back; what it writes now stays on the source.
    assert.equal((await source.query(`SELECT 1 FROM marks WHERE id = 1`, [], 'app')).rowCount, 1);
    await throughPooler(bouncer, `INSERT INTO marks VALUES (2, 'back on the source')`);
    assert.equal((await source.query(`SELECT 1 FROM marks WHERE id = 2`, [], 'app')).rowCount, 1);
    assert.equal((await target.query(`SELECT 1 FROM marks WHERE id = 2`, [], 'moved')).rowCount, 0);
    const history = async (s: typeof source, database: string) =>
      Number((await s.query<{ n: string }>(`SELECT count(*) AS n FROM pgbench_history`, [], database)).rows[0]!.n);
    const [onSource, onTarget] = [await history(source, 'app'), await history(target, 'moved')];
    assert.ok(onSource > onTarget, `pgbench wrote on the source after RESUME (source ${onSource}, target ${onTarget})`);
  });
});
