/**
 * full+cdc end to end: a writer keeps writing during the full load and incremental,
 * the switchover Update fences, drains, copies sequences, verifies and reports, and
 * the target equals the source.
 */
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { sleep, waitFor } from '../helpers/wait';
import { startLive } from '../helpers/live';
import { startWriter } from '../../src/dev/writer';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../src/dev/sample-data';
import { pauseSignal, resumeSignal, switchoverUpdate } from '../../src/model/messages';
import { replicationNames } from '../../src/model/names';

describe('migrationWorkflow full+cdc with a live writer', () => {
  const stack = useStack({ sourceSql: SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL });

  it('reaches incremental under writes, switches over through the Update, and the target equals the source', async () => {
    const { temporal, source, target, taskQueue } = stack;
    const plan = planFor(source, target, {
      mode: 'full+cdc',
      exclude: { tables: ['public.audit_log'] },
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
      switchover: { verify: 'checksum' },
    });
    const writer = startWriter(source.url({ database: 'app' }), { truncate: true });
    await sleep(500);
    const { handle, status, incremental, caughtUp } = await startLive(temporal.env.client, taskQueue, plan);

    // Not ready during the load: the validator says why.
    await waitFor('the child', status);
    const early = await handle.executeUpdate(switchoverUpdate).then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(early, 'switchover must be rejected before incremental');
    assert.match(
      early.message + String((early as { cause?: Error }).cause?.message ?? ''),
      /not possible now|not incremental/,
    );

    await incremental(180_000);
    await sleep(3000); // more writes while in incremental
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    assert.ok(writes.transactions > 20, `writer wrote ${writes.transactions} transactions`);
    await caughtUp();
    const sourceSeq = Number(
      (await source.query(`SELECT last_value FROM invoice_numbers`, [], 'app')).rows[0]!.last_value,
    );

    const { reports } = await handle.executeUpdate(switchoverUpdate).catch(async (e: Error) => {
      throw new Error(
        `switchover failed: ${(e.cause as Error | undefined)?.message ?? e.message}; status: ${JSON.stringify((await status())?.steps.slice(-6))}`,
      );
    });
    assert.equal(reports.length, 1);
    const r = reports[0]!;
    assert.ok(r.writeDowntimeMs >= 0 && r.writeDowntimeMs < 120_000);
    assert.ok(r.tablesVerified >= 8);
    assert.ok(r.sequencesCopied >= 6);
    assert.equal(r.verify, 'checksum');
    const result = (await handle.result()) as { phase: string };
    assert.equal(result.phase, 'completed');

    const st = (await status())!;
    assert.equal(st.phase, 'completed');
    assert.ok(st.cdc!.transactions > 0, 'changes were applied by the stream');
    assert.ok(Object.values(st.cdc!.tables).some((t) => t.update > 0));

    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', 'app', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
    // TOASTed bodies survived updates that did not touch them.
    const bodies = await target.query(`SELECT count(*)::int AS n FROM docs WHERE length(body) = 160000`, [], 'app');
    assert.equal(bodies.rows[0]!.n, 20);
    // Sequences continue after the source's values.
    const next = Number((await target.query(`SELECT nextval('invoice_numbers') AS v`, [], 'app')).rows[0]!.v);
    assert.equal(next, sourceSeq + 1);
    const custNext = Number(
      (await target.query(`INSERT INTO customers (email, name) VALUES ('after@x', 'after') RETURNING id`, [], 'app'))
        .rows[0]!.id,
    );
    const custMax = Number((await source.query(`SELECT max(id) AS m FROM customers`, [], 'app')).rows[0]!.m);
    assert.ok(custNext > custMax, 'identity continues after the source');
    // The source is fenced and the slot is gone.
    const ro = await source.query(
      `SELECT setconfig FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'app'`,
    );
    assert.match(JSON.stringify(ro.rows), /default_transaction_read_only=on/);
    assert.equal((await source.query(`SELECT 1 FROM pg_replication_slots`)).rowCount, 0);

    // pgtransit verify: exit 0 when equal; exit 2 naming the table when a row differs.
    const verify = async () => {
      try {
        const { stdout } = await promisify(execFile)(
          process.execPath,
          [join(__dirname, '..', '..', 'bin', 'pgtransit.js'), 'verify', plan.name, '--checksum'],
          {
            env: { ...process.env, TEMPORAL_ADDRESS: temporal.env.address, PGTRANSIT_TASK_QUEUE: taskQueue },
          },
        );
        return { code: 0, stdout };
      } catch (e) {
        return { code: (e as { code: number }).code, stdout: (e as { stdout: string }).stdout };
      }
    };
    await target.query(`DELETE FROM customers WHERE email = 'after@x'`, [], 'app'); // the row written above to test the identity
    const same = await verify();
    assert.equal(same.code, 0, same.stdout);
    assert.match(same.stdout, /all tables equal/);
    await target.query(`UPDATE products SET title = 'changed on the target' WHERE id = 7`, [], 'app');
    const diff = await verify();
    assert.equal(diff.code, 2, diff.stdout);
    assert.match(diff.stdout, /DIFF {2}public\.products/);
    assert.match(diff.stdout, /1 tables differ: public\.products/);
  });

  it('continues as new while waiting in incremental, keeping its state, and still switches over', async () => {
    const { temporal, source, target, taskQueue } = stack;
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    const plan = planFor(source, target, {
      mode: 'full+cdc',
      targetDatabase: 'app_can',
      exclude: { tables: ['public.audit_log'] },
      cdc: { roundSeconds: 1, streamSeconds: 1, roundsPerRun: 2 },
    });
    const { handle, child, status, incremental, caughtUp } = await startLive(temporal.env.client, taskQueue, plan);
    await incremental(180_000);
    const firstRun = (await child.describe()).runId;
    const rounds0 = (await status())!.cdc!.rounds;
    const writer = startWriter(source.url({ database: 'app' }));
    await waitFor(
      'two continuations with changes applied',
      async () => {
        const c = (await status())?.cdc;
        return c && c.rounds >= rounds0 + 4 && c.transactions > 0;
      },
      120_000,
      status,
    );
    await writer.stop();
    assert.notEqual((await child.describe()).runId, firstRun, 'the child continued as new');
    const st = await caughtUp(60_000);
    assert.equal(st.totals.chunksDone, st.totals.chunksTotal, 'full-load status carried over');
    assert.ok(st.cdc!.transactions > 0);
    await handle.executeUpdate(switchoverUpdate);
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', 'app_can', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
  });

  it('keeps one change stream open across batches, with counts and lag in status as it goes; pause ends it at once', async () => {
    const { temporal, source, target, taskQueue } = stack;
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    const plan = planFor(source, target, {
      mode: 'full+cdc',
      targetDatabase: 'app_long',
      exclude: { tables: ['public.audit_log'] },
      cdc: { roundSeconds: 1, streamSeconds: 600 },
    });
    const { handle, status, incremental } = await startLive(temporal.env.client, taskQueue, plan);
    const { slot } = replicationNames(plan.name, 'app');
    const walsender = async () =>
      (
        await source.query<{ pid: number | null }>(
          `SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1`,
          [slot],
        )
      ).rows[0]?.pid ?? null;
    await incremental(180_000);
    await waitFor('a stream open', async () => (await walsender()) !== null, 30_000, status);
    const before = (await status())!.cdc!;
    const pid = await walsender();

    const writer = startWriter(source.url({ database: 'app' }));
    await sleep(4000);
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    const end = (await source.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0]!.lsn;
    let seen = {};
    const during = await waitFor(
      'the writes in status while the stream is still open',
      async () => {
        const c = (await status())?.cdc;
        const slotNow = await source.query<{ ok: boolean; confirmed: string; pid: number | null }>(
          `SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok, confirmed_flush_lsn::text AS confirmed, active_pid AS pid
             FROM pg_replication_slots WHERE slot_name = $1`,
          [slot, end],
        );
        seen = { end, slot: slotNow.rows[0], pid, before: before.transactions, written: writes.transactions };
        return c && slotNow.rows[0]?.ok && c.transactions >= before.transactions + writes.transactions && c;
      },
      60_000,
      async () => ({ ...seen, cdc: (await status())?.cdc }),
    );
    assert.equal(during.rounds, before.rounds, 'no stream ended: the counts came from its reports');
    assert.ok(
      during.transactions <= before.transactions + writes.transactions,
      `each transaction counted once: ${during.transactions - before.transactions} counted, ${writes.transactions} written`,
    );
    await sleep(2500); // more reports of the same stream add nothing new
    assert.equal((await status())!.cdc!.transactions, during.transactions);
    assert.equal(await walsender(), pid, 'the same replication connection served every batch');
    assert.ok((during.lagBytes ?? Infinity) <= plan.switchover.maxLagBytes, `lag ${during.lagBytes}`);
    const applied = Object.values(during.tables).reduce((n, t) => n + t.insert + t.update + t.delete, 0);
    assert.ok(applied > 0, 'row counts in status');

    // Pause takes effect at once, not when the stream would have ended.
    const paused = Date.now();
    await handle.signal(pauseSignal);
    await waitFor('the stream closed', async () => (await walsender()) === null && !(await status())?.cdc?.streaming);
    assert.ok(Date.now() - paused < 15_000, `paused after ${Date.now() - paused} ms`);
    await handle.signal(resumeSignal);
    await waitFor('streaming again', async () => (await walsender()) !== null, 30_000, status);

    await handle.executeUpdate(switchoverUpdate);
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', 'app_long', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
  });
});
