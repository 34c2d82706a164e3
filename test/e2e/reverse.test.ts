/**
 * switchover.reverse end to end: after the switchover the target's writes stream back to the
 * fenced source, and pgtransit rollback brings the application back onto the source with
 * nothing lost (every row, every sequence); the rollback Update is refused when there is
 * nothing to roll back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { rollbackUpdate, statusQuery, switchoverUpdate } from '../../src/model/messages';
import { replicationNames, reverseReplicationNames } from '../../src/model/names';
import type { PgServer } from '../helpers/postgres';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { waitFor } from '../helpers/wait';
import { startLive } from '../helpers/live';

const SCHEMA = `
CREATE TABLE items (id bigserial PRIMARY KEY, v text NOT NULL, n int);
CREATE TABLE notes (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, item bigint REFERENCES items(id) ON DELETE CASCADE, body text);
CREATE TABLE tags (item bigint, tag text, PRIMARY KEY (item, tag));
CREATE SEQUENCE tickets START 100;
INSERT INTO items (v, n) SELECT md5(g::text), g FROM generate_series(1, 500) g;
INSERT INTO notes (item, body) SELECT g, 'note ' || g FROM generate_series(1, 200) g;
INSERT INTO tags SELECT g, t FROM generate_series(1, 100) g, unnest(ARRAY['a', 'b']) t;
SELECT nextval('tickets');
`;

const TABLES = ['items', 'notes', 'tags'];
const SEQUENCES = ['items_id_seq', 'notes_id_seq', 'tickets'];

/** Every row of every table, in key order, and every sequence's state, as text. */
async function contents(server: PgServer, database: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const t of TABLES)
    out[t] = (await server.query(`SELECT * FROM ${t} ORDER BY 1, 2`, [], database)).rows.map((r) => JSON.stringify(r));
  for (const s of SEQUENCES)
    out[s] = (await server.query(`SELECT last_value::text, is_called FROM ${s}`, [], database)).rows[0];
  return out;
}

/** A plain session's write: the application's, not pgtransit's (which overrides the fence). */
async function write(server: PgServer, database: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: server.url({ database }) });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const refusal = (e: unknown) =>
  e instanceof WorkflowUpdateFailedError && e.cause instanceof Error ? e.cause.message : String(e);

describe('switchover.reverse: rollback without loss', () => {
  const stack = useStack({ sourceSql: SCHEMA });

  it('refuses a rollback on a migration without switchover.reverse, saying why', async () => {
    const plan = planFor(stack.source, stack.target, { targetDatabase: 'plain' });
    const live = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await live.caughtUp();
    const refused = await live.handle.executeUpdate(rollbackUpdate).then(
      () => null,
      (e: unknown) => refusal(e),
    );
    assert.ok(refused, 'the rollback must be refused');
    assert.match(refused, /rollback not possible now: the plan has no switchover\.reverse/);
    await live.handle.cancel();
    // Its slot is dropped as it ends: the next migration's slots are counted alone.
    await live.handle.result().catch(() => undefined);
  });

  it('streams the target’s writes back to the fenced source and rolls back with every row and sequence', async () => {
    const { source, target } = stack;
    const plan = planFor(source, target, { targetDatabase: 'back', switchover: { reverse: true, verify: 'checksum' } });
    const live = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await live.incremental();
    // Before the switchover there is nothing to roll back.
    const early = await live.handle.executeUpdate(rollbackUpdate).then(
      () => null,
      (e: unknown) => refusal(e),
    );
    assert.ok(early, 'a rollback before the switchover must be refused');
    assert.match(early, /rollback not possible now: the switchover has not completed/);

    await write(
      source,
      'app',
      `INSERT INTO items (v, n) SELECT 'src ' || g, g FROM generate_series(1, 20) g;
       UPDATE items SET n = -n WHERE id <= 10; DELETE FROM items WHERE id BETWEEN 490 AND 495;
       SELECT nextval('tickets')`,
    );
    await live.caughtUp();
    const { reports } = await live.handle.executeUpdate(switchoverUpdate);
    assert.equal(reports.length, 1);
    assert.match(reports[0]!.sourceNote, /reverse stream/);
    const rev = reverseReplicationNames(plan.name, 'back');
    const slots = async (server: PgServer) =>
      (await server.query<{ slot_name: string }>(`SELECT slot_name FROM pg_replication_slots`)).rows.map(
        (r) => r.slot_name,
      );
    assert.deepEqual(await slots(target), [rev.slot], 'the reverse slot on the target');
    assert.deepEqual(await slots(source), [], 'the forward slot is dropped at the switchover');
    await waitFor('reverse', async () => (await live.status())?.phase === 'reverse', 60_000, live.status);
    assert.equal((await live.handle.query(statusQuery)).phase, 'reverse');

    // The application on the target; the source refuses it.
    await assert.rejects(
      write(source, 'app', `INSERT INTO items (v) VALUES ('too late')`),
      /read-only transaction/,
      'the source stays fenced for the application',
    );
    await write(
      target,
      'back',
      `INSERT INTO items (v, n) SELECT 'tgt ' || g, g FROM generate_series(1, 30) g;
       INSERT INTO notes (item, body) SELECT id, 'on the target' FROM items WHERE v LIKE 'tgt %';
       UPDATE items SET v = 'changed on the target', n = NULL WHERE id BETWEEN 100 AND 120;
       DELETE FROM items WHERE id BETWEEN 200 AND 210;
       DELETE FROM tags WHERE tag = 'b' AND item < 50;
       UPDATE tags SET tag = 'c' WHERE tag = 'a' AND item > 90;
       SELECT nextval('tickets') FROM generate_series(1, 7)`,
    );
    // The status shows the reverse stream applying them.
    const shown = await waitFor(
      'the reverse stream counting the target’s writes',
      async () => {
        const s = await live.status();
        return (s?.reverse?.tables['public.items']?.insert ?? 0) >= 30 ? s : null;
      },
      120_000,
      live.status,
    );
    assert.equal(shown.reverse!.slot, rev.slot);
    assert.ok(shown.reverse!.lagBytes !== undefined);
    // Applied to the source already, before any rollback.
    await waitFor(
      'the target’s inserts on the source',
      async () =>
        (await source.query<{ n: number }>(`SELECT count(*)::int AS n FROM items WHERE v LIKE 'tgt %'`, [], 'app'))
          .rows[0]!.n === 30,
      60_000,
    );
    // A write that only the drain brings: committed just before the rollback.
    await write(target, 'back', `INSERT INTO items (v, n) VALUES ('last one', 1); SELECT nextval('tickets')`);

    const rolled = await live.handle.executeUpdate(rollbackUpdate).catch(async (e: unknown) => {
      throw new Error(
        `rollback failed: ${refusal(e)}; steps: ${JSON.stringify((await live.status())?.steps.slice(-6))}`,
      );
    });
    assert.equal(rolled.reports.length, 1);
    const r = rolled.reports[0]!;
    assert.ok(r.writeDowntimeMs >= 0 && r.writeDowntimeMs < 120_000);
    assert.ok(r.fenceLsn && r.appliedLsn);
    assert.equal(r.sequencesCopied, SEQUENCES.length);
    assert.equal(r.tablesVerified, TABLES.length);

    assert.deepEqual(await contents(source, 'app'), await contents(target, 'back'), 'the source equals the target');
    const last = await source.query(`SELECT 1 FROM items WHERE v = 'last one'`, [], 'app');
    assert.equal(last.rowCount, 1, 'the write committed just before the rollback is on the source');

    const result = (await live.handle.result()) as { phase: string };
    assert.equal(result.phase, 'rolled_back');
    // The application is back on the source; the target is fenced.
    await write(source, 'app', `INSERT INTO items (v) VALUES ('back on the source')`);
    await assert.rejects(write(target, 'back', `INSERT INTO items (v) VALUES ('x')`), /read-only transaction/);
    // Nothing of pgtransit is left on the source, nor of the reverse stream on the target.
    assert.deepEqual(await slots(source), []);
    assert.deepEqual(await slots(target), []);
    const leftovers = async (server: PgServer, database: string) =>
      (
        await server.query<{ what: string }>(
          `SELECT 'schema ' || nspname AS what FROM pg_namespace WHERE nspname = 'pgtransit'
           UNION ALL SELECT 'publication ' || pubname FROM pg_publication`,
          [],
          database,
        )
      ).rows.map((x) => x.what);
    assert.deepEqual(await leftovers(source, 'app'), []);
    assert.deepEqual(await leftovers(target, 'back'), []);
    const settings = await source.query(
      `SELECT 1 FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'app'`,
    );
    assert.equal(settings.rowCount, 0, 'the source database has no setting of pgtransit left');
    assert.equal(replicationNames(plan.name, 'app').slot.includes('_rev'), false);
  });
});
