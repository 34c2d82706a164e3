/** One change-capture round against real servers: exact values, TOAST, keys, acknowledgement. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { streamRound, type RoundOptions } from '../../src/postgres/cdc/stream';
import { endpoints } from '../../src/postgres/connect';
import { lsnToBigInt } from '../../src/model/lsn';
import { ensureStateSchema } from '../../src/postgres/state';
import { planFor, startPair, type PgServer } from '../helpers/postgres';

const TABLE = `CREATE TABLE t (id int PRIMARY KEY, n numeric, at timestamptz, b bytea, arr int[], j jsonb, f float8, big text, note text)`;

describe('streamRound', () => {
  let source: PgServer;
  let target: PgServer;
  let stop: () => Promise<void>;
  let round: (o?: Partial<RoundOptions>) => ReturnType<typeof streamRound>;

  before(async () => {
    ({ source, target, stop } = await startPair());
    await source.query(`${TABLE}; CREATE PUBLICATION pub FOR TABLE t`, [], 'app');
    await target.query(TABLE, [], 'app');
    const c = new pg.Client({ connectionString: target.url({ database: 'app' }) });
    await c.connect();
    await ensureStateSchema(c);
    await c.end();
    await source.query(`SELECT pg_create_logical_replication_slot('s1', 'pgoutput')`, [], 'app');
    const plan = planFor(source, target, {});
    const e = endpoints(plan);
    round = (o = {}) =>
      streamRound({
        source: e.source,
        target: e.target,
        plan,
        database: 'app',
        targetDatabase: 'app',
        slot: 's1',
        publication: 'pub',
        sourceMajor: 15,
        lateTables: [],
        lateHorizonLsn: null,
        maxSeconds: 2,
        fence: null,
        ...o,
      });
  });
  after(() => stop());

  const rows = async (s: PgServer) =>
    (
      await s.query(
        `SELECT id, n::text, at::text, encode(b, 'hex') AS b, arr::text, j::text, f::text, md5(big) AS big, note FROM t ORDER BY id`,
        [],
        'app',
      )
    ).rows;

  it('applies every kind of change with values exactly as written, and leaves unchanged TOAST values alone', async () => {
    await source.query(
      `SET extra_float_digits = 0; SET DateStyle = 'SQL, DMY';
       INSERT INTO t VALUES (1, 123456789.123456789, '2026-03-04 05:06:07.123456+00', '\\x00ff10', '{1,NULL,3}', '{"a": [1, 2]}',
         0.1, repeat(md5('x'), 40000), 'first'),
                            (2, 'NaN', NULL, NULL, NULL, NULL, 'Infinity', NULL, NULL),
                            (3, -1, '1999-12-31 23:59:59.999999+00', '', '{}', 'null', -0.000001234, 'small', 'three');
       UPDATE t SET note = 'first, edited' WHERE id = 1;
       UPDATE t SET id = 30 WHERE id = 3;
       DELETE FROM t WHERE id = 2;`,
      [],
      'app',
    );
    const r = await round();
    assert.equal(r.transactions, 1, 'one source transaction (one multi-statement query)');
    assert.deepEqual(await rows(target), await rows(source));
    const big = await target.query(`SELECT length(big) AS n FROM t WHERE id = 1`, [], 'app');
    assert.equal(Number(big.rows[0]!.n), 1_280_000, 'the TOASTed value survived an UPDATE that did not touch it');
    assert.deepEqual(r.counts['public.t'], { insert: 3, update: 2, delete: 1, truncate: 0, conflicts: 0 });
  });

  it('acknowledges exactly the end of the last applied commit, never beyond it', async () => {
    await source.query(`INSERT INTO t (id, note) VALUES (100, 'a')`, [], 'app');
    const r = await round();
    const slot = await source.query<{ confirmed: string }>(
      `SELECT confirmed_flush_lsn::text AS confirmed FROM pg_replication_slots WHERE slot_name = 's1'`,
      [],
      'app',
    );
    assert.ok(r.processedLsn);
    // One byte beyond would let the server skip a transaction whose commit starts right there.
    const toBig = (l: string) => BigInt(`0x${l.split('/')[0]}`) * 2n ** 32n + BigInt(`0x${l.split('/')[1]}`);
    assert.ok(
      toBig(slot.rows[0]!.confirmed) <= toBig(r.processedLsn!),
      `confirmed ${slot.rows[0]!.confirmed} <= processed ${r.processedLsn}`,
    );
  });

  it('applies a transaction committed right after an acknowledged one in the next round', async () => {
    const a = new pg.Client({ connectionString: source.url({ database: 'app' }) });
    const b = new pg.Client({ connectionString: source.url({ database: 'app' }) });
    await Promise.all([a.connect(), b.connect()]);
    await a.query(`BEGIN; INSERT INTO t (id, note) VALUES (200, 'T1')`);
    await b.query(`BEGIN; INSERT INTO t (id, note) VALUES (201, 'T2')`);
    await a.query('COMMIT');
    await b.query('COMMIT');
    await Promise.all([a.end(), b.end()]);
    await round({ maxSeconds: 1 });
    await source.query(`INSERT INTO t (id, note) VALUES (202, 'T3')`, [], 'app');
    await round({ maxSeconds: 1 });
    assert.deepEqual(await rows(target), await rows(source));
  });

  it('applies nothing twice when a round runs again over what was applied', async () => {
    const before = await rows(target);
    const r = await round({ maxSeconds: 1 });
    assert.equal(r.transactions, 0);
    assert.deepEqual(await rows(target), before);
  });

  it('stays open past its time while a transaction open on the source holds the slot’s restart point back', async () => {
    await round({ maxSeconds: 1 });
    const long = new pg.Client({ connectionString: source.url({ database: 'app' }) });
    await long.connect();
    try {
      await long.query(`BEGIN; INSERT INTO t (id, note) VALUES (400, 'open')`);
      // WAL written after it began: a new stream would decode it all again.
      await source.query(
        `INSERT INTO t (id, note) SELECT g, md5(g::text) FROM generate_series(1000, 9000) g`,
        [],
        'app',
      );
      let committedAt = 0;
      const closing = (async () => {
        await new Promise((r) => setTimeout(r, 4000));
        await long.query('COMMIT');
        committedAt = Date.now();
        // The restart point moves once the walsender decodes a snapshot with no older transaction running.
        await source.query('CHECKPOINT');
      })();
      const r = await round({ maxSeconds: 1, redecodeLimitBytes: 256 * 1024 });
      const endedAt = Date.now();
      await closing;
      assert.ok(
        committedAt > 0 && committedAt < endedAt,
        'the stream was still open when the long transaction committed',
      );
      // Applied by this stream: it was open 3 s past its maxSeconds, holding off the re-decode.
      assert.ok(r.transactions >= 2, `the bulk insert and the long transaction applied, got ${r.transactions}`);
      assert.deepEqual(await rows(target), await rows(source));
    } finally {
      await long.end();
    }
  });

  it('reports the lag from the source’s current position, not from how far the walsender has decoded', async () => {
    await source.query(`CREATE TABLE IF NOT EXISTS unpublished (id int, pad text)`, [], 'app');
    await round({ maxSeconds: 1 });
    const reports: { at: number; processedLsn: string; lagBytes: number }[] = [];
    // The source's position as the test sees it while the stream runs: a lower bound of any later report's.
    const seen: { at: number; lsn: string }[] = [];
    const watcher = new pg.Client({ connectionString: source.url({ database: 'app' }) });
    await watcher.connect();
    let watching = true;
    const polling = (async () => {
      while (watching) {
        const { rows } = await watcher.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`);
        seen.push({ at: Date.now(), lsn: rows[0]!.lsn });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const writing = (async () => {
      await new Promise((r) => setTimeout(r, 1000));
      // WAL the walsender must read through before it gets past it (nothing of it is published).
      await source.query(
        `INSERT INTO unpublished SELECT g, repeat('x', 300) FROM generate_series(1, 400000) g`,
        [],
        'app',
      );
    })();
    try {
      await round({
        maxSeconds: 6,
        reportEverySeconds: 0.1,
        onReport: (p) => reports.push({ at: Date.now(), processedLsn: p.processedLsn, lagBytes: p.lagBytes }),
      });
      await writing;
    } finally {
      watching = false;
      await polling;
      await watcher.end();
    }
    let behindSeen = 0;
    for (const r of reports) {
      const known = seen.filter((s) => s.at < r.at - 100).pop();
      if (!known) continue;
      const behind = Number(lsnToBigInt(known.lsn) - lsnToBigInt(r.processedLsn));
      if (behind > 0) behindSeen++;
      assert.ok(
        r.lagBytes >= behind,
        `a report with lag ${r.lagBytes} bytes, while the source was ${behind} bytes ahead`,
      );
    }
    assert.ok(behindSeen > 0, 'some report came while the stream was behind the source');
    await source.query(`DROP TABLE unpublished`, [], 'app');
  });

  it('stopped in the middle of a large transaction, leaves none of it on the target and applies it once in the next round', async () => {
    await round({ maxSeconds: 1 });
    // Twelve parts of 5,000: the stream receives parts faster than the target applies them.
    await source.query(
      `INSERT INTO t (id, note) SELECT g, 'large ' || g FROM generate_series(100001, 160000) g`,
      [],
      'app',
    );
    const stop = new AbortController();
    let partsSeen = 0;
    const r = await round({
      maxSeconds: 30,
      signal: stop.signal,
      reportEverySeconds: 0.05,
      onReport: (p) => {
        if (!p.largeTransaction || p.largeTransaction.changesApplied < 10000) return;
        partsSeen = p.largeTransaction.changesApplied;
        stop.abort();
      },
    });
    assert.ok(partsSeen >= 10000, 'the round was stopped inside the large transaction');
    assert.equal(r.transactions, 0);
    const { rows: left } = await target.query(`SELECT count(*)::int AS n FROM t WHERE id > 100000`, [], 'app');
    assert.equal(left[0]!.n, 0, 'no row of the stopped transaction is committed on the target');
    await round({ maxSeconds: 1 });
    assert.deepEqual(await rows(target), await rows(source));
  });

  it('stops the stream with a schema drift error naming the table and columns', async () => {
    await source.query(`ALTER TABLE t ADD COLUMN extra int; INSERT INTO t (id, extra) VALUES (300, 1)`, [], 'app');
    await assert.rejects(round(), /schema drift on public\.t: the source sends columns extra/);
    await target.query(`ALTER TABLE t ADD COLUMN extra int`, [], 'app');
    await round();
    assert.deepEqual(await rows(target), await rows(source));
  });
});
