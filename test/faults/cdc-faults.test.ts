/**
 * Change capture under faults: workers killed during incremental, each conflict
 * policy against a deliberately conflicting target row, and a switchover that fails
 * mid-way (sequence copy) and un-fences the source.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from '@temporalio/worker';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import type { Plan, PlanInput } from '../../src/plan/plan';
import type { DatabaseStatus } from '../../src/model/status';
import { planFor, startPair, uniqueName, type PgServer } from '../helpers/postgres';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { startWriter } from '../../src/dev/writer';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../src/dev/sample-data';
import { sleep, waitFor } from '../helpers/wait';
import { migrationWorkflow } from '../../workflows';
import { databaseStatusQuery, pauseSignal, resumeSignal, switchoverUpdate } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';

describe('change capture under faults', () => {
  let temporal: TemporalHarness;
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  const processes: WorkerProcess[] = [];

  before(async () => {
    const [t, pair] = await Promise.all([startTemporal(), startPair()]);
    temporal = t;
    ({ source, target, stop: stopPair } = pair);
    await source.query(SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL, [], 'app');
    ({ worker, taskQueue } = await temporal.worker());
    running = worker.run();
  });

  after(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    try {
      worker?.shutdown();
      await running;
    } finally {
      await Promise.all([temporal?.stop(), stopPair?.()]);
    }
  });

  const start = async (plan: Plan, queue = taskQueue) => {
    const workflowId = workflowIds(plan.name).migration;
    const handle = await temporal.env.client.workflow.start(migrationWorkflow, {
      args: [plan],
      taskQueue: queue,
      workflowId,
    });
    const status = () =>
      temporal.env.client.workflow
        .getHandle(childIds(workflowId).database('app'))
        .query(databaseStatusQuery)
        .catch(() => null);
    return { handle, status };
  };
  const planTo = (targetDatabase: string, extra: Partial<PlanInput> = {}) =>
    planFor(source, target, {
      mode: 'full+cdc',
      targetDatabase,
      exclude: { tables: ['public.audit_log'] },
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
      ...extra,
    });
  const caughtUp = (status: () => Promise<DatabaseStatus | null>, maxLag = 1 << 20) =>
    waitFor(
      'incremental with lag under the bound',
      async () => {
        const s = await status();
        return s?.phase === 'incremental' && s.cdc && (s.cdc.lagBytes ?? Infinity) <= maxLag && !s.cdc.stalled
          ? s
          : null;
      },
      180_000,
      status,
    );

  it('loses and doubles nothing when workers are killed during incremental, several times', async () => {
    const queue = uniqueName('q');
    const plan = planTo('app_kill', { switchover: { verify: 'checksum' } });
    const w = spawnWorker(temporal.env.address, queue);
    processes.push(w);
    const { handle, status } = await start(plan, queue);
    await waitFor('incremental', async () => (await status())?.phase === 'incremental', 180_000, status);
    const writer = startWriter(source.url({ database: 'app' }));
    let current = w;
    for (let i = 0; i < 3; i++) {
      await sleep(2500);
      const before = (await status())!.cdc!.transactions;
      await current.kill('SIGKILL');
      current = spawnWorker(temporal.env.address, queue);
      processes.push(current);
      // The stream moves to the new worker and applies more.
      await waitFor(
        `apply after kill ${i + 1}`,
        async () => ((await status())?.cdc?.transactions ?? 0) > before,
        120_000,
        status,
      );
    }
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    const s = await caughtUp(status);
    assert.equal(s.cdc!.stalled, undefined, 'no conflict: nothing was applied twice');
    const { reports } = await handle.executeUpdate(switchoverUpdate);
    assert.equal(reports[0]!.tablesVerified >= 8, true);
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', 'app_kill', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
      'nothing lost',
    );
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
  });

  it('applies each conflict policy to a deliberately conflicting target row', async () => {
    const runs = await Promise.all(
      (['error', 'ignore', 'overwrite'] as const).map(async (policy) => {
        const plan = planTo(`app_${policy}`, { cdc: { conflictPolicy: policy } });
        return { policy, plan, ...(await start(plan)) };
      }),
    );
    for (const r of runs) await caughtUp(r.status);
    // The target already holds product 100000; the source now inserts its own.
    for (const r of runs)
      await target.query(
        `INSERT INTO products (id, sku, title, price) VALUES (100000, 'TARGET', 'target row', 1)`,
        [],
        `app_${r.policy}`,
      );
    await source.query(
      `INSERT INTO products (id, sku, title, price) VALUES (100000, 'SOURCE', 'source row', 2)`,
      [],
      'app',
    );

    const byPolicy = Object.fromEntries(runs.map((r) => [r.policy, r]));
    const stalled = await waitFor(
      'the error policy to stop',
      async () => (await byPolicy.error!.status())?.cdc?.stalled,
      60_000,
      byPolicy.error!.status,
    );
    assert.match(stalled.reason, /conflict on public\.products: INSERT of a row that already exists \(key id=100000\)/);
    const errStatus = (await byPolicy.error!.status())!;
    assert.match(errStatus.error ?? '', /public\.products/);

    for (const policy of ['ignore', 'overwrite'] as const) {
      const s = await waitFor(
        `${policy} to count the conflict`,
        async () => {
          const x = await byPolicy[policy]!.status();
          return (x?.cdc?.tables['public.products']?.conflicts ?? 0) >= 1 ? x : null;
        },
        60_000,
        byPolicy[policy]!.status,
      );
      assert.equal(s.cdc!.stalled, undefined);
    }
    const sku = async (db: string) =>
      (await target.query(`SELECT sku FROM products WHERE id = 100000`, [], db)).rows[0]!.sku;
    assert.equal(await sku('app_ignore'), 'TARGET', 'ignore keeps the target row');
    assert.equal(await sku('app_overwrite'), 'SOURCE', 'overwrite takes the source row');

    // Error policy: the operator fixes the target and resumes; the change then applies.
    await target.query(`DELETE FROM products WHERE id = 100000`, [], 'app_error');
    await byPolicy.error!.handle.signal(resumeSignal);
    await waitFor(
      'the error policy to apply after resume',
      async () =>
        (await target.query(`SELECT sku FROM products WHERE id = 100000`, [], 'app_error')).rows[0]?.sku === 'SOURCE',
      60_000,
      byPolicy.error!.status,
    );
    for (const r of runs) await r.handle.cancel();
    await source.query(`DELETE FROM products WHERE id = 100000`, [], 'app');
  });

  it('un-fences the source when the switchover fails mid-way, then succeeds once fixed', async () => {
    const plan = planTo('app_fail');
    const { handle, status } = await start(plan);
    await caughtUp(status);
    // Injected fault: the target lost a sequence, so the sequence copy fails after the fence.
    await target.query(`DROP SEQUENCE invoice_numbers`, [], 'app_fail');
    const err = await handle.executeUpdate(switchoverUpdate).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err, 'the switchover must fail');
    assert.match((err.cause as Error | undefined)?.message ?? err.message, /un-fenced.*invoice_numbers/s);
    const s = (await status())!;
    assert.equal(s.phase, 'incremental', 'back to incremental');
    assert.ok(s.steps.some((x) => x.step === 'unfenceSource' && x.endedAt));
    // The application can write to the source again.
    await source.query(`INSERT INTO scratch (v) VALUES (-1)`, [], 'app');
    const ro = await source.query(
      `SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'app'`,
    );
    assert.equal(ro.rowCount, 0, 'the read-only default is gone');

    await target.query(`CREATE SEQUENCE invoice_numbers START 1000`, [], 'app_fail');
    await caughtUp(status);
    const { reports } = await handle.executeUpdate(switchoverUpdate);
    assert.ok(reports[0]!.sequencesCopied >= 6);
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', 'app_fail', false);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
  });

  it('pauses and resumes, and stops on schema drift until the target is fixed', async () => {
    // cdc.ddl: stop keeps the schema-drift stop (replicate would replay the ALTER).
    const plan = planTo('app_drift', { cdc: { ddl: 'stop' } });
    const { handle, status } = await start(plan);
    await caughtUp(status);
    await handle.signal(pauseSignal);
    await waitFor(
      'paused',
      async () => {
        const c = (await status())?.cdc;
        return c?.paused && !c.streaming;
      },
      30_000,
      status,
    );
    const before = (await status())!.cdc!.transactions;
    await source.query(`INSERT INTO scratch (v) VALUES (-100)`, [], 'app');
    await sleep(2500);
    assert.equal((await status())!.cdc!.transactions, before, 'nothing applied while paused');
    assert.equal(
      (await target.query(`SELECT count(*)::int AS n FROM scratch WHERE v = -100`, [], 'app_drift')).rows[0]!.n,
      0,
    );
    await handle.signal(resumeSignal);
    await waitFor(
      'applied after resume',
      async () =>
        (await target.query(`SELECT count(*)::int AS n FROM scratch WHERE v = -100`, [], 'app_drift')).rows[0]!.n === 1,
      60_000,
      status,
    );

    // The source gains a column the target lacks: applying stops and says which.
    await source.query(
      `ALTER TABLE scratch ADD COLUMN extra text; INSERT INTO scratch (v, extra) VALUES (-200, 'new column')`,
      [],
      'app',
    );
    const stalled = await waitFor('schema drift', async () => (await status())?.cdc?.stalled, 60_000, status);
    assert.equal(stalled.type, 'SchemaDrift');
    assert.match(stalled.reason, /schema drift on public\.scratch: .*columns extra/);
    await target.query(`ALTER TABLE scratch ADD COLUMN extra text`, [], 'app_drift');
    await handle.signal(resumeSignal);
    await waitFor(
      'applied after the fix',
      async () =>
        (await target.query(`SELECT extra FROM scratch WHERE v = -200`, [], 'app_drift')).rows[0]?.extra ===
        'new column',
      60_000,
      status,
    );
    await handle.cancel();
    await source.query(`ALTER TABLE scratch DROP COLUMN extra`, [], 'app');
  });
});
