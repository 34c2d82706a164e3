/**
 * The switchover's fence against a real source (findings 3, 6 and 26 of the review): every
 * writer stopped or the switchover refused, a fence that fails half-way un-fenced, the
 * database's own read-only setting kept, and a writer that escaped the fence caught.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { switchoverUpdate } from '../../src/model/messages';
import type { Plan, PlanInput } from '../../src/plan/plan';
import { fenceSource, unfenceSource } from '../../src/postgres/switchover';
import { endpoints } from '../../src/postgres/connect';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { startLive } from '../helpers/live';

const SCHEMA = `CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 1000) g;`;

describe('the switchover fence', () => {
  const stack = useStack({ sourceSql: SCHEMA, source: { settings: { max_prepared_transactions: '5' } } });

  const readOnlySetting = async (db = 'app') =>
    (
      await stack.source.query<{ c: string[] | null }>(
        `SELECT s.setconfig AS c FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0`,
        [db],
      )
    ).rows[0]?.c ?? null;

  const migrate = async (targetDatabase: string, extra: Partial<PlanInput> = {}) => {
    const plan: Plan = planFor(stack.source, stack.target, { targetDatabase, ...extra });
    const { handle, status, caughtUp } = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await caughtUp();
    const switchover = () =>
      handle.executeUpdate(switchoverUpdate).then(
        (r) => ({ ok: true as const, r }),
        (e: Error) => ({ ok: false as const, message: (e.cause as Error | undefined)?.message ?? e.message }),
      );
    return { plan, handle, status, switchover };
  };

  it('refuses while a transaction is prepared, leaves the source writable, and completes once it is committed', async () => {
    const { source } = stack;
    const m = await migrate('fence_prepared');
    const c = new pg.Client({ connectionString: source.url({ database: 'app' }) });
    await c.connect();
    await c.query(`BEGIN; INSERT INTO items VALUES (4242, 'prepared'); PREPARE TRANSACTION 'p1'`);
    await c.end();
    const refused = await m.switchover();
    assert.equal(refused.ok, false);
    assert.match(refused.ok ? '' : refused.message, /prepared transactions 'p1'.*COMMIT PREPARED or ROLLBACK PREPARED/);
    assert.equal(await readOnlySetting(), null, 'the source was left writable');
    await source.query(`COMMIT PREPARED 'p1'`, [], 'app');
    await waitFor(
      'the prepared row on the target',
      async () =>
        (await stack.target.query(`SELECT 1 FROM items WHERE id = 4242`, [], 'fence_prepared')).rowCount === 1,
      60_000,
    );
    await waitFor(
      'ready',
      async () =>
        ((await m.status())?.cdc?.lagBytes ?? Infinity) < 1 << 20 && (await m.status())?.phase === 'incremental',
      60_000,
    );
    const done = await m.switchover();
    assert.equal(done.ok, true, done.ok ? '' : done.message);
    await unfenceSource(endpoints(m.plan).source, 'app');
  });

  it('refuses while a role’s own default_transaction_read_only = off would outrank the database’s', async () => {
    const { source } = stack;
    await source.query(
      `CREATE ROLE app_writer LOGIN PASSWORD 'w'; ALTER ROLE app_writer IN DATABASE app SET default_transaction_read_only = off`,
    );
    try {
      const m = await migrate('fence_role');
      const refused = await m.switchover();
      assert.equal(refused.ok, false);
      assert.match(refused.ok ? '' : refused.message, /roles app_writer have default_transaction_read_only off/);
      assert.equal(await readOnlySetting(), null);
      await m.handle.cancel();
    } finally {
      await source.query(
        `ALTER ROLE app_writer IN DATABASE app RESET default_transaction_read_only; DROP ROLE app_writer`,
      );
    }
  });

  it('ends every session, those named pgtransit too: such a writer is rolled back, not committed after the marker', async () => {
    const { source } = stack;
    const m = await migrate('fence_named');
    const impostor = new pg.Client({
      connectionString: source.url({ database: 'app' }),
      application_name: 'pgtransit impostor',
    });
    impostor.on('error', () => undefined);
    await impostor.connect();
    await impostor.query(`BEGIN; INSERT INTO items VALUES (9999, 'impostor')`);
    const done = await m.switchover();
    assert.equal(done.ok, true, done.ok ? '' : done.message);
    // Its open transaction held up the verification point's slot: the fence ended it, the verification moved inside.
    const warnings = (await m.status())?.warnings ?? [];
    assert.ok(
      warnings.some((w) =>
        /no verification point before the fence: .*pid \d+ in app.*compared inside the fence/.test(w),
      ),
      warnings.join('\n'),
    );
    await assert.rejects(impostor.query('COMMIT'), 'the impostor’s session was ended');
    assert.equal((await source.query(`SELECT count(*)::int AS n FROM items WHERE id = 9999`, [], 'app')).rows[0]!.n, 0);
    await unfenceSource(endpoints(m.plan).source, 'app');
  });

  it('keeps the database’s own read-only setting: un-fencing restores it instead of erasing it', async () => {
    const { source } = stack;
    await source.query(`ALTER DATABASE app SET default_transaction_read_only = off`);
    try {
      const plan = planFor(source, stack.target, {});
      const e = endpoints(plan);
      await stack.target.query(`CREATE DATABASE fence_keep`);
      const keeper = { target: e.target, targetDatabase: 'fence_keep', migration: plan.name };
      await stack.target.query(`CREATE SCHEMA pgtransit`, [], 'fence_keep');
      const f = await fenceSource(e.source, 'app', 'test-previous', source.major, keeper);
      assert.ok(f.lsn);
      assert.match(JSON.stringify(await readOnlySetting()), /default_transaction_read_only=on/);
      // A retried fence must not take its own 'on' for the database's setting.
      await fenceSource(e.source, 'app', 'test-previous-2', source.major, keeper);
      await unfenceSource(e.source, 'app', keeper);
      const after = await readOnlySetting();
      assert.deepEqual(
        after,
        ['default_transaction_read_only=off'],
        'the setting as it was, and nothing of pgtransit left',
      );
    } finally {
      await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    }
  });

  it('un-fences when the fence fails half-way (a session its role may not end), with the reason', async () => {
    const { source } = stack;
    // A migration role that owns the database and its tables but is no superuser: it cannot end a superuser's session.
    await source.query(`CREATE ROLE migrator LOGIN REPLICATION PASSWORD 'm'`);
    await source.query(`CREATE DATABASE owned OWNER migrator`);
    await source.query(`SET ROLE migrator; CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)`, [], 'owned');
    const su = new pg.Client({ connectionString: source.url({ database: 'owned' }) });
    su.on('error', () => undefined);
    try {
      const plan = planFor(source, stack.target, {
        database: 'owned',
        targetDatabase: 'owned_t',
        sourceUser: { user: 'migrator', password: 'm' },
        cdc: { ddl: 'stop' },
      });
      const { handle, status, incremental } = await startLive(
        stack.temporal.env.client,
        stack.taskQueue,
        plan,
        'owned',
      );
      await incremental(180_000);
      await su.connect();
      const failed = await handle.executeUpdate(switchoverUpdate).then(
        () => null,
        (e: Error) => (e.cause as Error | undefined)?.message ?? e.message,
      );
      assert.ok(failed, 'the switchover failed');
      assert.match(failed, /could not be ended|superuser/);
      assert.equal(await readOnlySetting('owned'), null, 'the source is writable again');
      await waitFor('back in incremental', async () => (await status())?.phase === 'incremental', 60_000, status);
      await handle.cancel();
    } finally {
      await su.end().catch(() => undefined);
      await source.query(`DROP DATABASE owned WITH (FORCE)`).catch(() => undefined);
      await source.query(`DROP ROLE migrator`).catch(() => undefined);
    }
  });

  it('fails and un-fences when a writer escapes the fence and commits after the marker', async () => {
    const { source, target } = stack;
    // The verification inside the fence waits on a lock of the target table while a session that
    // overrides the read-only default writes on the fenced source.
    const m = await migrate('fence_escape', { switchover: { verifyBeforeFence: false } });
    const lock = new pg.Client({ connectionString: target.url({ database: 'fence_escape' }) });
    await lock.connect();
    await lock.query(`BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE`);
    const escaping = m.switchover();
    await waitFor(
      'the verification running',
      async () => (await m.status())?.steps.some((s) => s.step === 'verify' && !s.endedAt),
      60_000,
      m.status,
    );
    const rogue = new pg.Client({ connectionString: source.url({ database: 'app' }) });
    await rogue.connect();
    await rogue.query(`SET default_transaction_read_only = off`);
    // A change the row-count verification cannot see, whenever it reads the source: only the
    // fence's check can catch it (an INSERT raced the verification to the same refusal).
    await rogue.query(`UPDATE items SET v = 'escaped' WHERE id = 7`);
    await rogue.end();
    await lock.query('COMMIT');
    await lock.end();
    const outcome = await escaping;
    assert.equal(outcome.ok, false, 'the switchover must not complete with a write after the fence');
    assert.match(outcome.ok ? '' : outcome.message, /after the fence/);
    assert.equal(await readOnlySetting(), null, 'un-fenced');
    // The escaped write is not lost: the stream applies it once back in incremental.
    await waitFor(
      'the escaped change on the target',
      async () =>
        (await target.query(`SELECT 1 FROM items WHERE id = 7 AND v = 'escaped'`, [], 'fence_escape')).rowCount === 1,
      60_000,
    );
    await m.handle.cancel();
  });
});
