/**
 * Worker crashes during the full load: the load finishes on the surviving or a new
 * worker and the target equals the source. With the snapshot holder alive no chunk
 * is copied late; with it killed the remaining chunks are copied late and status says so.
 * Abort: copies stop, slot and publication are dropped, the target stays as it is.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import type { Plan } from '../../src/plan/plan';
import { planFor, startPair, uniqueName, type PgServer } from '../helpers/postgres';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { sleep, waitFor } from '../helpers/wait';
import { startWriter } from '../../src/dev/writer';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../src/dev/sample-data';
import { migrationWorkflow } from '../../workflows';
import { databaseStatusQuery, switchoverUpdate } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';

const root = join(__dirname, '..', '..');

describe('full load under worker crashes', () => {
  let temporal: TemporalHarness;
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;
  const workers: WorkerProcess[] = [];

  before(async () => {
    const [t, pair] = await Promise.all([startTemporal(), startPair()]);
    temporal = t;
    ({ source, target, stop: stopPair } = pair);
    // About 150 MB: a keyed table split by key ranges, an unkeyed one split by ctid ranges.
    await source.query(
      `CREATE TABLE events (id bigint PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now());
       INSERT INTO events (id, payload) SELECT g, repeat(md5(g::text), 2) FROM generate_series(1, 1000000) g;
       CREATE TABLE readings (sensor int, value float8, note text);
       INSERT INTO readings SELECT g % 100, g * 0.5, md5(g::text) FROM generate_series(1, 400000) g;
       ANALYZE;`,
      [],
      'app',
    );
    await source.query(SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL, [], 'app');
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await Promise.all([temporal?.stop(), stopPair?.()]);
  });

  async function run(targetDatabase: string, mode: 'full' | 'full+cdc' = 'full', alsoExclude: string[] = []) {
    const taskQueue = uniqueName('q');
    // Excluding the unkeyed tables keeps full+cdc's precheck green; mode full copies them all.
    const plan: Plan = planFor(source, target, {
      mode,
      database: 'app',
      targetDatabase,
      fullLoad: { parallelism: 2, chunkSizeMB: 8 },
      ...(mode === 'full+cdc' ? { exclude: { tables: ['public.readings', 'public.audit_log', ...alsoExclude] } } : {}),
    });
    const workflowId = workflowIds(plan.name).migration;
    const handle = await temporal.env.client.workflow.start(migrationWorkflow, { args: [plan], taskQueue, workflowId });
    const status = () =>
      temporal.env.client.workflow
        .getHandle(childIds(workflowId).database('app'))
        .query(databaseStatusQuery)
        .catch(() => null);
    return { plan, taskQueue, handle, status, workflowId };
  }

  async function holderPid(): Promise<number> {
    const r = await source.query<{ app: string }>(
      `SELECT application_name AS app FROM pg_stat_activity WHERE application_name LIKE 'pgtransit snapshot pid=%'`,
    );
    return Number(r.rows[0]?.app.split('pid=')[1] ?? 0);
  }

  async function assertEqual(plan: Plan, targetDatabase: string) {
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', targetDatabase, true);
    assert.ok(cmp.length >= 1);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
      'every table equal',
    );
  }

  for (const victim of ['copier', 'holder'] as const) {
    it(`finishes exactly when the ${victim === 'holder' ? 'snapshot holder' : 'worker of some copies (not the holder)'} is killed mid-load`, async () => {
      const db = `app_${victim}`;
      const m = await run(db);
      const a = spawnWorker(temporal.env.address, m.taskQueue);
      const b = spawnWorker(temporal.env.address, m.taskQueue);
      workers.push(a, b);
      const pid = await waitFor('the snapshot holder', holderPid);
      assert.ok([a.pid, b.pid].includes(pid), `holder pid ${pid} is one of our workers`);
      await waitFor('a few chunks', async () => ((await m.status())?.totals.chunksDone ?? 0) >= 3);
      const before = (await m.status())!;
      assert.ok(before.totals.chunksDone < before.totals.chunksTotal, 'killed in the middle of the load');
      const [killed, survivor] = (victim === 'holder') === (a.pid === pid) ? [a, b] : [b, a];
      await killed.kill('SIGKILL');
      const result = await m.handle.result();
      assert.equal((result as { phase: string }).phase, 'completed');
      const st = (await m.status())!;
      assert.equal(st.totals.chunksDone, st.totals.chunksTotal);
      if (victim === 'holder') {
        assert.equal(st.snapshot?.lost, true, 'status says the snapshot was lost');
        assert.ok(st.totals.lateChunks > 0, 'remaining chunks copied late');
        assert.ok(st.warnings.some((w) => /snapshot lost/.test(w)));
      } else {
        assert.equal(st.snapshot?.lost, false);
        assert.equal(st.totals.lateChunks, 0, 'every chunk read the snapshot');
      }
      await assertEqual(m.plan, db);
      await survivor.kill('SIGTERM');
    });
  }

  it('replays the stream idempotently over tables copied late, when the holder dies during a full+cdc load with writes', async () => {
    const db = 'app_late';
    // Keyed tables only: a table without a key cannot be replayed idempotently (the precheck warns).
    const m = await run(db, 'full+cdc', ['public.notes']);
    const a = spawnWorker(temporal.env.address, m.taskQueue);
    const b = spawnWorker(temporal.env.address, m.taskQueue);
    workers.push(a, b);
    const writer = startWriter(source.url({ database: 'app' }), { truncate: true });
    const pid = await waitFor('the snapshot holder', holderPid);
    await waitFor('a few chunks', async () => ((await m.status())?.totals.chunksDone ?? 0) >= 3);
    const [holder, survivor] = a.pid === pid ? [a, b] : [b, a];
    await holder.kill('SIGKILL');
    await waitFor(
      'incremental',
      async () => (await m.status())?.phase === 'incremental',
      240_000,
      async () => [await m.status(), survivor.output().slice(-3000)],
    );
    const st = (await m.status())!;
    assert.equal(st.snapshot?.lost, true);
    assert.ok(st.totals.lateChunks > 0 && st.lateHorizonLsn, 'tables copied late, with their horizon');
    await sleep(2000);
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    await waitFor(
      'caught up',
      async () => {
        const s = await m.status();
        return s?.cdc && !s.cdc.stalled && (s.cdc.lagBytes ?? Infinity) <= m.plan.switchover.maxLagBytes;
      },
      120_000,
      m.status,
    );
    const { reports } = await m.handle.executeUpdate(switchoverUpdate).catch(async (e: Error) => {
      throw new Error(
        `switchover failed: ${(e.cause as Error | undefined)?.message ?? e.message}; ${JSON.stringify((await m.status())?.steps.slice(-5))}`,
      );
    });
    assert.ok(reports[0]!.tablesVerified > 5);
    await assertEqual(m.plan, db);
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    await survivor.kill('SIGTERM');
  });

  it('abort stops the copies, drops slot and publication, and leaves the target as it is', async () => {
    const db = 'app_abort';
    const m = await run(db, 'full+cdc');
    const w = spawnWorker(temporal.env.address, m.taskQueue);
    workers.push(w);
    await waitFor('the full load', async () => ((await m.status())?.totals.chunksDone ?? 0) >= 1);
    const slots = async () =>
      (
        await source.query(`SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE $1`, [
          `pgtransit_${m.plan.name.replace(/-/g, '_')}_%`,
        ])
      ).rows.length;
    assert.equal(await slots(), 1, 'the migration holds a slot');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin', 'pgtransit.js'), 'abort', m.plan.name],
      {
        env: { ...process.env, TEMPORAL_ADDRESS: temporal.env.address },
      },
    );
    assert.match(stdout, /database app -> app_abort: cancelled/);
    assert.match(stdout, /cleanup: (.+, )?slot pgtransit_\w+, publication pgtransit_\w+; the target was left as it is/);
    assert.equal(await slots(), 0, 'slot dropped');
    assert.equal(
      (
        await source.query(
          `SELECT 1 FROM pg_publication WHERE pubname LIKE $1`,
          [`pgtransit_${m.plan.name.replace(/-/g, '_')}_%`],
          'app',
        )
      ).rowCount,
      0,
      'publication dropped',
    );
    const left = await target.query(`SELECT to_regclass('public.events') AS r`, [], db);
    assert.notEqual(left.rows[0]!.r, null, 'target left as it is');
    const desc = await m.handle.describe();
    assert.equal(desc.status.name, 'CANCELLED');
    await w.kill('SIGTERM');
  });
});
