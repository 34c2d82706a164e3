/**
 * The switchover through PgBouncer (switchover.pooler): pgbench writes through the pooler
 * (transaction pooling) during a switchover that fails and one that completes. Neither
 * fails a transaction: clients wait in the pooler from PAUSE to RESUME. After the failed
 * one the application is still on the source; after the other it is on the target, and
 * what it writes from then on is there and not on the source.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { switchoverUpdate } from '../../src/model/messages';
import type { DatabaseStatus } from '../../src/model/status';
import { envRef, planFor } from '../helpers/postgres';
import { initPgbench, pgbenchPath } from '../helpers/pgbench';
import { startPgbouncer, type Bouncer } from '../helpers/pgbouncer';
import { startLive } from '../helpers/live';
import { useStack } from '../helpers/stack';
import { sleep } from '../helpers/wait';

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

describe('the switchover through PgBouncer', () => {
  const stack = useStack({ sourceSql: SCHEMA });
  let bouncer: Bouncer;
  const variable = `PGT_POOLER_ADMIN_${process.pid}`;

  before(async () => {
    assert.equal(await initPgbench(stack.source, 1), 0);
    // Keyless: followed by all its old values.
    await stack.source.query(`ALTER TABLE pgbench_history REPLICA IDENTITY FULL`, [], 'app');
    bouncer = await startPgbouncer(stack.source, ['app']);
    process.env[variable] = bouncer.adminUrl;
  });
  after(async () => {
    delete process.env[variable];
    await bouncer?.stop();
  });

  it('fails no transaction of the application through a failed and a completed switchover, and moves it to the target', async () => {
    const { source, target } = stack;
    const plan = planFor(source, target, {
      switchover: {
        verify: 'checksum',
        pooler: { admin: envRef(bouncer.adminUrl), configFile: bouncer.databasesFile },
      },
    });
    const live = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await live.caughtUp();
    const serverPort = async () =>
      Number((await throughPooler<{ p: number }>(bouncer, 'SELECT inet_server_port() AS p'))[0]!.p);
    assert.equal(await serverPort(), source.port, 'the application starts on the source');
    const switchover = () =>
      live.handle.executeUpdate(switchoverUpdate).then(
        () => ({ ok: true as const, message: '' }),
        (e: Error) => ({ ok: false as const, message: (e.cause as Error | undefined)?.message ?? e.message }),
      );

    // 1. A switchover that fails in its verification (a row changed on the target only).
    await target.query(`UPDATE items SET v = 'changed on the target' WHERE id = 7`, [], 'app');
    const first = pgbenchThrough(bouncer, 20);
    await sleep(4000);
    const failed = await switchover();
    const bench1 = await first;
    assert.equal(failed.ok, false);
    assert.match(failed.message, /verification found differences: public\.items/);
    assert.equal(bench1.code, 0, bench1.output);
    assert.equal(bench1.failed, 0, bench1.output);
    assert.ok(bench1.processed > 500, `pgbench ran through it: ${bench1.processed} transactions`);
    assert.equal(await serverPort(), source.port, 'the application is still on the source');
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
    const second = pgbenchThrough(bouncer, 20);
    await sleep(4000);
    const done = await switchover();
    const bench2 = await second;
    assert.equal(done.ok, true, done.message);
    assert.equal(bench2.code, 0, bench2.output);
    assert.equal(bench2.failed, 0, bench2.output);
    assert.ok(bench2.processed > 500, `pgbench ran through it: ${bench2.processed} transactions`);
    assert.equal(await serverPort(), target.port, 'the application is on the target');
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
