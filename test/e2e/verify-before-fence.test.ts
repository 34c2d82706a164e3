/**
 * switchover.verifyBeforeFence end to end: the full comparison runs at a point while the
 * application writes, the fence then checks only what changed since; a difference found at the
 * point fails the switchover before anything is fenced.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { switchoverUpdate } from '../../src/model/messages';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import { planFor, type PgServer } from '../helpers/postgres';
import { startLive } from '../helpers/live';
import { useStack } from '../helpers/stack';
import { sleep, waitFor } from '../helpers/wait';

const SCHEMA = `
CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, note text);
CREATE TABLE events (id bigserial PRIMARY KEY, account int, at timestamptz DEFAULT now());
CREATE TABLE still (id int PRIMARY KEY, v text);
INSERT INTO accounts SELECT g, 1000, 'a' || g FROM generate_series(1, 2000) g;
INSERT INTO still SELECT g, 'v' FROM generate_series(1, 500) g;`;

/** The application: an update and an insert every few milliseconds until stopped; a failed write opens a new session. */
function writer(server: PgServer, database: string) {
  let stop = false;
  let writes = 0;
  const session = async () => {
    const c = new pg.Client({ connectionString: server.url({ database }) });
    // The fence ends the session: the next write finds out and reconnects.
    c.on('error', () => undefined);
    await c.connect();
    return c;
  };
  const done = (async () => {
    let c: pg.Client | null = null;
    while (!stop) {
      const id = 1 + Math.floor(Math.random() * 2000);
      try {
        c ??= await session();
        await c.query(
          `BEGIN; UPDATE accounts SET balance = balance + 1 WHERE id = ${id}; INSERT INTO events (account) VALUES (${id}); COMMIT`,
        );
        writes++;
      } catch {
        await c?.end().catch(() => undefined);
        c = null;
      }
      await sleep(5);
    }
    await c?.end().catch(() => undefined);
  })();
  return {
    async stop() {
      stop = true;
      await done;
      return writes;
    },
  };
}

describe('the verification before the fence', () => {
  const stack = useStack({ sourceSql: SCHEMA });

  it('fails a switchover on a difference at the point before fencing anything, then switches over checking only the changes inside the fence', async () => {
    const { source, target } = stack;
    const plan = planFor(source, target, { targetDatabase: 'before', switchover: { verify: 'checksum' } });
    const live = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await live.caughtUp();
    const app = writer(source, 'app');
    const switchover = () =>
      live.handle.executeUpdate(switchoverUpdate).then(
        (r) => ({ ok: true as const, r, message: '' }),
        (e: Error) => ({ ok: false as const, r: null, message: (e.cause as Error | undefined)?.message ?? e.message }),
      );

    // A row changed on the target alone: found at the point, and nothing was fenced.
    await target.query(`UPDATE still SET v = 'target only' WHERE id = 7`, [], 'before');
    await sleep(1000);
    const failed = await switchover();
    assert.equal(failed.ok, false);
    assert.match(
      failed.message,
      /verification at [0-9A-F]+\/[0-9A-F]+ \(before the fence, nothing was fenced\) found differences: public\.still/,
    );
    const s1 = (await live.status())!;
    const steps1 = s1.steps.map((s) => s.step);
    assert.ok(steps1.includes('verifyAtPoint'), steps1.join(', '));
    assert.ok(!steps1.includes('fenceSource'), `never fenced: ${steps1.join(', ')}`);

    // Put back: the switchover completes while the application writes up to the fence.
    const { rows } = await source.query<{ v: string }>(`SELECT v FROM still WHERE id = 7`, [], 'app');
    await target.query(`UPDATE still SET v = $1 WHERE id = 7`, [rows[0]!.v], 'before');
    await live.caughtUp();
    await sleep(1000);
    const done = await switchover();
    const writes = await app.stop();
    assert.equal(done.ok, true, done.message);
    assert.ok(writes > 50, `the application wrote meanwhile (${writes})`);
    const s2 = (await live.status())!;
    const after = s2.steps.slice(s2.steps.map((s) => s.step).lastIndexOf('verifyAtPoint'));
    const names = after.map((s) => s.step);
    for (const step of ['verifyAtPoint', 'catchUp', 'fenceSource', 'drain', 'verify'])
      assert.ok(names.includes(step), `step ${step} in ${names.join(', ')}`);
    assert.ok(names.indexOf('verifyAtPoint') < names.indexOf('fenceSource'));
    const fenced = after.find((s) => s.step === 'verify')!;
    assert.match(
      fenced.detail ?? '',
      /^changes since [0-9A-F]+\/[0-9A-F]+: \d+ rows in \d+ tables, 0 compared whole, 0 differ$/,
    );
    assert.ok(!/in 0 tables/.test(fenced.detail ?? ''), `the writes since the point were checked: ${fenced.detail}`);
    const differ = (
      await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', 'before', true)
    ).filter((c) => !c.equal);
    assert.deepEqual(differ, []);
  });

  it('compares every table inside the fence with verifyBeforeFence: false', async () => {
    const { source, target } = stack;
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    const plan = planFor(source, target, {
      targetDatabase: 'inside',
      switchover: { verify: 'checksum', verifyBeforeFence: false },
    });
    const live = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await live.caughtUp();
    await live.handle.executeUpdate(switchoverUpdate);
    const names = (await live.status())!.steps.map((s) => s.step);
    assert.ok(!names.includes('verifyAtPoint'), names.join(', '));
    const fenced = (await live.status())!.steps.find((s) => s.step === 'verify')!;
    assert.match(fenced.detail ?? '', /^3 tables, 0 differ$/);
  });
  it('verify.every compares every table on its schedule while the application writes and truncates, the latest result in status', async () => {
    const { source, target } = stack;
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    const plan = planFor(source, target, { targetDatabase: 'scheduled', verify: { every: '3s' } });
    const live = await startLive(stack.temporal.env.client, stack.taskQueue, plan);
    await live.caughtUp();
    const app = writer(source, 'app');
    // TRUNCATE is not MVCC-safe: one during a comparison must not read as a difference.
    let truncating = true;
    const truncates = (async () => {
      let n = 0;
      while (truncating) {
        await source.query(`TRUNCATE events`, [], 'app').catch(() => undefined);
        n++;
        await sleep(250);
      }
      return n;
    })();
    const runs = async (n: number) =>
      waitFor(
        `${n} scheduled verifications`,
        async () => {
          const s = await live.status();
          return s?.verification && s.verification.runs >= n && !s.verification.runningSince ? s : null;
        },
        120_000,
        live.status,
      );
    const s1 = await runs(3);
    truncating = false;
    assert.ok((await truncates) > 5);
    const l1 = s1.verification!.latest!;
    assert.equal(l1.equal, true, JSON.stringify(l1));
    // A table truncated while it was compared is deferred to the next comparison (or the fence), not counted.
    assert.equal(l1.tables + l1.deferred.length, 3, JSON.stringify(l1));
    assert.equal(l1.checksum, true);
    assert.match(l1.lsn ?? '', /^[0-9A-F]+\/[0-9A-F]+$/);
    assert.deepEqual(
      s1.warnings.filter((w) => /scheduled verification/.test(w)),
      [],
      'no comparison so far found a difference, nor failed',
    );
    assert.equal(s1.phase, 'incremental');

    // A row changed on the target alone: the next comparison names its table.
    await target.query(`UPDATE still SET v = 'target only' WHERE id = 9`, [], 'scheduled');
    const s2 = await waitFor(
      'a scheduled verification with a difference',
      async () => {
        const s = await live.status();
        return s?.verification?.latest?.equal === false ? s : null;
      },
      60_000,
      live.status,
    );
    assert.match(s2.verification!.latest!.differences.join('; '), /^public\.still source 500 rows, target 500/);
    assert.ok(
      s2.warnings.some((w) => /app: the scheduled verification at .* found differences: public\.still/.test(w)),
    );
    // Nothing of the comparisons stays on the source: only the migration's own slot.
    const slots = await source.query<{ slot_name: string }>(`SELECT slot_name FROM pg_replication_slots`);
    assert.deepEqual(
      slots.rows.map((r) => r.slot_name).filter((x) => x.startsWith('pgtransit_point')),
      [],
    );
    await target.query(`UPDATE still SET v = 'v' WHERE id = 9`, [], 'scheduled');
    await waitFor(
      'equal again',
      async () => (await live.status())?.verification?.latest?.equal === true,
      60_000,
      live.status,
    );
    await app.stop();
    const { reports } = await live.handle.executeUpdate(switchoverUpdate);
    assert.equal(reports.length, 1);
  });
});
