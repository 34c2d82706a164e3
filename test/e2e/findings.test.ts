/**
 * Findings of the review that take a whole migration to show, against real servers: server
 * timeouts from database settings (15), a snapshot holder whose slot creation failed (11),
 * partitions truncated or dropped during change capture (13), sequences owned across
 * schemas (25), large objects, a permanent target error and a target that went away (no
 * silent endless retry).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { switchoverUpdate } from '../../src/model/messages';
import type { Plan, PlanInput } from '../../src/plan/plan';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { sleep, waitFor } from '../helpers/wait';
import { startLive } from '../helpers/live';

describe('findings that take a whole migration', () => {
  const stack = useStack();

  const migrate = async (database: string, targetDatabase: string, extra: Partial<PlanInput> = {}) => {
    const plan: Plan = planFor(stack.source, stack.target, { database, targetDatabase, ...extra });
    const { handle, status, caughtUp } = await startLive(stack.temporal.env.client, stack.taskQueue, plan, database);
    const switchover = () => handle.executeUpdate(switchoverUpdate);
    return { plan, handle, status, caughtUp, switchover };
  };
  const equal = async (plan: Plan, database: string, targetDatabase: string) =>
    (await compareTables(plan, endpoints(plan).source, endpoints(plan).target, database, targetDatabase, true)).filter(
      (c) => !c.equal,
    );

  it('F15: database and role timeouts never cut a chunk, the apply or the snapshot’s session', async () => {
    const { source, target } = stack;
    await source.query(`CREATE DATABASE timeouts`);
    await source.query(
      `CREATE TABLE big (id int PRIMARY KEY, pad text); INSERT INTO big SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 300000) g;
       CREATE TABLE small (id int PRIMARY KEY, v text); INSERT INTO small SELECT g, 'v' FROM generate_series(1, 100) g;`,
      [],
      'timeouts',
    );
    await source.query(`ALTER DATABASE timeouts SET statement_timeout = '100ms'`);
    await source.query(`ALTER DATABASE timeouts SET idle_in_transaction_session_timeout = '1s'`);
    await source.query(`ALTER DATABASE timeouts SET lock_timeout = '50ms'`);
    await target.query(`CREATE DATABASE timeouts_t`);
    await target.query(`ALTER DATABASE timeouts_t SET statement_timeout = '100ms'`);
    await target.query(`ALTER DATABASE timeouts_t SET idle_in_transaction_session_timeout = '1s'`);
    const m = await migrate('timeouts', 'timeouts_t', { fullLoad: { parallelism: 1, chunkSizeMB: 8 } });
    const s = await m.caughtUp();
    assert.equal(s.snapshot?.lost, false, 'the snapshot held for the whole load');
    assert.equal(s.totals.lateChunks, 0);
    await source.query(`SET statement_timeout = 0; UPDATE big SET pad = 'changed' WHERE id % 3 = 0`, [], 'timeouts');
    await m.caughtUp();
    const { reports } = await m.switchover().catch(async (e: Error) => {
      const steps = (await m.status())?.steps.slice(-6);
      throw new Error(`switchover failed: ${(e.cause as Error | undefined)?.message}; steps ${JSON.stringify(steps)}`);
    });
    assert.equal(reports.length, 1);
    assert.deepEqual(await equal(m.plan, 'timeouts', 'timeouts_t'), []);
  });

  it('F11: a snapshot holder whose slot creation was cut off creates the slot on its retry, and nothing is copied late', async () => {
    const { source } = stack;
    await source.query(`CREATE DATABASE holder`);
    await source.query(
      `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 5000) g`,
      [],
      'holder',
    );
    // An open transaction makes the slot's creation wait for it ...
    const blocker = new pg.Client({ connectionString: source.url({ database: 'holder' }) });
    await blocker.connect();
    await blocker.query(`BEGIN; SELECT txid_current()`);
    const m = await migrate('holder', 'holder_t');
    // ... while its session is ended (a network blip, a lock wait cut short).
    await waitFor(
      'the snapshot holder waiting',
      async () =>
        (await source.query(`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'pgtransit snapshot%'`))
          .rowCount === 1,
      60_000,
    );
    await sleep(500);
    await source.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'pgtransit snapshot%'`,
    );
    await sleep(1500);
    await blocker.query('COMMIT');
    await blocker.end();
    const s = await m.caughtUp();
    assert.equal(s.snapshot?.lost, false, 'the retry exported a snapshot of its own');
    assert.equal(s.totals.lateChunks, 0, 'nothing copied late');
    await source.query(`INSERT INTO t VALUES (-1, 'after')`, [], 'holder');
    await m.caughtUp();
    await m.switchover();
    assert.deepEqual(await equal(m.plan, 'holder', 'holder_t'), []);
  });

  it('F13: a partition truncated during change capture is truncated on the target; one detached and dropped stops the switchover (cdc.ddl: stop)', async () => {
    const { source, target } = stack;
    await source.query(`CREATE DATABASE parts`);
    await source.query(
      `CREATE TABLE ev (id bigint NOT NULL, at date NOT NULL, v text) PARTITION BY RANGE (at);
       CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
       CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
       ALTER TABLE ev_2025 ADD PRIMARY KEY (id); ALTER TABLE ev_2026 ADD PRIMARY KEY (id);
       INSERT INTO ev SELECT g, date '2025-01-01' + (g % 700), 'x' FROM generate_series(1, 2000) g;`,
      [],
      'parts',
    );
    // Without DDL capture (cdc.ddl: replicate replays the DETACH and DROP: test/integration/ddl.test.ts).
    const m = await migrate('parts', 'parts_t', { cdc: { ddl: 'stop' } });
    await m.caughtUp();
    await source.query(`TRUNCATE ev_2025`, [], 'parts');
    await waitFor(
      'the partition truncated on the target',
      async () =>
        Number((await target.query<{ n: string }>(`SELECT count(*) AS n FROM ev_2025`, [], 'parts_t')).rows[0]!.n) ===
        0,
      60_000,
      m.status,
    );
    await source.query(`ALTER TABLE ev DETACH PARTITION ev_2026`, [], 'parts');
    await source.query(`DROP TABLE ev_2026`, [], 'parts');
    await m.caughtUp();
    const refused = await m.switchover().then(
      () => null,
      (e: Error) => (e.cause as Error | undefined)?.message ?? e.message,
    );
    assert.ok(refused, 'the switchover must not pass while the target still holds the dropped partition’s rows');
    assert.match(refused, /public\.ev\b/);
    await m.handle.cancel();
  });

  it('F25: a sequence cannot be owned across schemas (the finding is wrong); an owned one follows its table mapped to another schema', async () => {
    const { source, target } = stack;
    await source.query(`CREATE DATABASE seqs`);
    await source.query(
      `CREATE SCHEMA s1; CREATE SCHEMA s2; CREATE SEQUENCE s1.ids; CREATE TABLE s2.t (id int PRIMARY KEY DEFAULT nextval('s1.ids'), v text)`,
      [],
      'seqs',
    );
    // PostgreSQL refuses the situation the finding describes, both ways it could arise.
    await assert.rejects(source.query(`ALTER SEQUENCE s1.ids OWNED BY s2.t.id`, [], 'seqs'), /same schema/);
    await source.query(
      `CREATE TABLE s2.u (id serial PRIMARY KEY, v text); INSERT INTO s2.u (v) SELECT 'x' FROM generate_series(1, 10)`,
      [],
      'seqs',
    );
    await assert.rejects(source.query(`ALTER SEQUENCE s2.u_id_seq SET SCHEMA s1`, [], 'seqs'), /owned sequence/);
    await source.query(`INSERT INTO s2.t (v) SELECT 'x' FROM generate_series(1, 3)`, [], 'seqs');
    const m = await migrate('seqs', 'seqs_t', { mapping: { tables: { 's2.u': 's3.u' } } });
    await m.caughtUp();
    await source.query(`INSERT INTO s2.u (v) SELECT 'y' FROM generate_series(1, 5)`, [], 'seqs');
    await m.caughtUp();
    const { reports } = await m.switchover();
    assert.ok(reports[0]!.sequencesCopied >= 2);
    const next = Number(
      (await target.query<{ v: string }>(`SELECT nextval(pg_get_serial_sequence('s3.u', 'id')) AS v`, [], 'seqs_t'))
        .rows[0]!.v,
    );
    assert.equal(next, 16, 'the mapped table’s sequence continues after the source');
    assert.equal(
      Number((await target.query<{ v: string }>(`SELECT nextval('s1.ids') AS v`, [], 'seqs_t')).rows[0]!.v),
      4,
      'the unowned one too',
    );
  });

  it('large objects are copied by the full load, a database of large objects only too', async () => {
    const { source, target } = stack;
    await source.query(`CREATE DATABASE blobs`);
    await source.query(
      `SELECT lo_from_bytea(0, convert_to(repeat(md5(g::text), g * 100), 'UTF8')) FROM generate_series(1, 30) g`,
      [],
      'blobs',
    );
    const m = await migrate('blobs', 'blobs_t', { mode: 'full' });
    const r = await m.handle.result();
    assert.equal(r.phase, 'completed');
    const digest = async (db: string, s = source) =>
      (
        await s.query<{ n: string; h: string }>(
          `SELECT count(*) AS n, md5(string_agg(oid::text || md5(lo_get(oid)), ',' ORDER BY oid)) AS h FROM pg_largeobject_metadata`,
          [],
          db,
        )
      ).rows[0];
    assert.deepEqual(await digest('blobs_t', target), await digest('blobs'));
  });

  it('large objects created and unlinked during change capture are level after the switchover', async () => {
    const { source, target } = stack;
    await source.query(`CREATE DATABASE blobs_cdc`);
    await source.query(
      `CREATE TABLE docs (id int PRIMARY KEY, body oid);
       INSERT INTO docs SELECT g, lo_from_bytea(0, convert_to(repeat(md5(g::text), 500), 'UTF8')) FROM generate_series(1, 5) g`,
      [],
      'blobs_cdc',
    );
    const m = await migrate('blobs_cdc', 'blobs_cdc_t', { switchover: { verify: 'checksum' } });
    await m.caughtUp();
    // After the snapshot: two new ones (one larger than a piece), one unlinked.
    await source.query(
      `INSERT INTO docs VALUES (6, lo_from_bytea(0, convert_to(repeat('x', 3000000), 'UTF8'))),
                               (7, lo_from_bytea(0, '\\x00ff'::bytea));
       SELECT lo_unlink(body) FROM docs WHERE id = 2; DELETE FROM docs WHERE id = 2`,
      [],
      'blobs_cdc',
    );
    await m.caughtUp();
    const { reports } = await m.switchover();
    assert.equal(reports.length, 1);
    const digest = async (db: string, s = source) =>
      (
        await s.query<{ n: string; h: string }>(
          `SELECT count(*) AS n, md5(string_agg(oid::text || md5(lo_get(oid)), ',' ORDER BY oid)) AS h FROM pg_largeobject_metadata`,
          [],
          db,
        )
      ).rows[0];
    const [a, b] = [await digest('blobs_cdc'), await digest('blobs_cdc_t', target)];
    assert.equal(a!.n, '6');
    assert.deepEqual(b, a);
    const st = await m.status();
    assert.ok(
      st?.steps.some((x) => x.step === 'syncLargeObjects' && x.detail === '2 created, 1 unlinked'),
      JSON.stringify(st?.steps),
    );
  });

  it('materialized views refreshed on the source during change capture are refreshed on the target at the switchover', async () => {
    const { source, target } = stack;
    await source.query(`CREATE DATABASE views`);
    await source.query(
      `CREATE TABLE sales (id int PRIMARY KEY, amount int); INSERT INTO sales SELECT g, g FROM generate_series(1, 10) g;
       CREATE MATERIALIZED VIEW totals AS SELECT count(*) AS n, sum(amount) AS s FROM sales;
       CREATE MATERIALIZED VIEW empty_one AS SELECT * FROM sales WITH NO DATA;`,
      [],
      'views',
    );
    const m = await migrate('views', 'views_t');
    await m.caughtUp();
    await source.query(
      `INSERT INTO sales SELECT g, g FROM generate_series(11, 20) g; REFRESH MATERIALIZED VIEW totals`,
      [],
      'views',
    );
    await m.caughtUp();
    const { reports } = await m.switchover();
    assert.equal(reports.length, 1);
    assert.deepEqual((await target.query(`SELECT n::int, s::int FROM totals`, [], 'views_t')).rows, [
      { n: 20, s: 210 },
    ]);
    assert.equal(
      (await target.query(`SELECT relispopulated AS p FROM pg_class WHERE relname = 'empty_one'`, [], 'views_t'))
        .rows[0]!.p,
      false,
    );
  });

  it('a permanent error on the target stops the apply within 30 s, with the reason in status', async () => {
    const { source, target } = stack;
    await source.query(`CREATE DATABASE stuck`);
    await source.query(`CREATE TABLE t (id int PRIMARY KEY, v text)`, [], 'stuck');
    const m = await migrate('stuck', 'stuck_t');
    await m.caughtUp();
    // The target turned read-only: every retry would be refused the same way.
    await target.query(`ALTER DATABASE stuck_t SET default_transaction_read_only = on`);
    await target.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'stuck_t' AND application_name LIKE 'pgtransit%'`,
    );
    await source.query(`INSERT INTO t VALUES (1, 'x')`, [], 'stuck');
    const started = Date.now();
    const stalled = await waitFor(
      'the stall in status',
      async () => (await m.status())?.cdc?.stalled,
      30_000,
      m.status,
    );
    assert.ok(Date.now() - started < 30_000);
    assert.equal(stalled.type, 'ApplyFailed');
    assert.match(stalled.reason, /read-only/);
    await target.query(`ALTER DATABASE stuck_t RESET default_transaction_read_only`);
    await m.handle.cancel();
  });

  it('a target that goes away is waited for, with the retries in status, and applying resumes when it is back', async () => {
    const { source, target } = stack;
    await source.query(`CREATE DATABASE away`);
    await source.query(`CREATE TABLE t (id int PRIMARY KEY, v text)`, [], 'away');
    const m = await migrate('away', 'away_t');
    await m.caughtUp();
    await target.halt();
    try {
      await source.query(`INSERT INTO t VALUES (1, 'while the target was down')`, [], 'away');
      const retrying = await waitFor(
        'the retries in status',
        async () => {
          const r = Object.values((await m.status())?.retrying ?? {});
          return r.find((x) => x.activity === 'applyChanges' && x.attempt >= 2);
        },
        30_000,
        m.status,
      );
      assert.match(retrying.error, /unreachable|ECONNREFUSED|terminat|connect/i);
      assert.ok(Date.parse(retrying.since) <= Date.parse(retrying.lastAt));
    } finally {
      await target.resume();
    }
    await waitFor(
      'applied once the target is back',
      async () => (await target.query(`SELECT 1 FROM t WHERE id = 1`, [], 'away_t')).rowCount === 1,
      120_000,
      m.status,
    );
    await waitFor(
      'the retries gone from status',
      async () => Object.keys((await m.status())?.retrying ?? {}).length === 0,
      60_000,
      m.status,
    );
    await m.handle.cancel();
  });
});
