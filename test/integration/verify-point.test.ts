/**
 * The verification at a point while streaming, and the fenced comparison of what changed since
 * (src/postgres/verify-point.ts, compare-changed.ts), against real servers: the stream as the
 * activity runs it (streamRound), stopped exactly before the point; then keys noted by the apply
 * and compared on both sides.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareLsn } from '../../src/model/lsn';
import { APPLICATION_NAME } from '../../src/model/names';
import { compareChanged } from '../../src/postgres/compare-changed';
import { comparableSessions } from '../../src/postgres/compare';
import { connect, endpoints } from '../../src/postgres/connect';
import { verifyAtPoint } from '../../src/postgres/verify-point';
import { pairMaker, type Pair } from '../helpers/cdc-pair';
import { startPair, type PgServer } from '../helpers/postgres';

let source: PgServer;
let target: PgServer;
let stopPair: () => Promise<void>;
const pair = pairMaker(() => ({ source, target }));

const SCHEMA = `
CREATE TABLE t (id int PRIMARY KEY, n int, note text);
CREATE TABLE u (a text, b int, v text, PRIMARY KEY (a, b));
CREATE TABLE quiet (id int PRIMARY KEY);
CREATE TABLE log (at int, what text);
INSERT INTO t SELECT g, g, 'row ' || g FROM generate_series(1, 100) g;
INSERT INTO u SELECT 'k' || g, g, 'v' FROM generate_series(1, 20) g;
INSERT INTO quiet SELECT generate_series(1, 10);
INSERT INTO log VALUES (1, 'first');`;

/** verifyAtPoint on the pair, the stream brought to the point by `reach` (and following the comparison by `follow`). */
function pointOn(
  p: Pair,
  reach: (lsn: string) => ReturnType<Pair['round']>,
  follow?: (signal: AbortSignal) => ReturnType<Pair['round']>,
) {
  const e = endpoints(p.plan);
  return verifyAtPoint({
    plan: p.plan,
    source: e.source,
    target: e.target,
    database: p.db,
    targetDatabase: p.db,
    sourceMajor: source.major,
    checksum: true,
    reach,
    follow,
  });
}

/** verifyAtPoint on the pair, `meanwhile` committed on the source just after the point is taken. */
function atPoint(p: Pair, meanwhile?: string) {
  return pointOn(p, async (lsn) => {
    if (meanwhile) await p.src(meanwhile);
    return p.round({ stopBefore: lsn, maxSeconds: 30 });
  });
}

async function changedSince(p: Pair) {
  const e = endpoints(p.plan);
  const { client: s } = await connect(e.source, { database: p.db });
  const { client: t } = await connect(e.target, { database: p.db });
  try {
    await comparableSessions(s, t);
    return await compareChanged(p.plan, p.db, s, t, true);
  } finally {
    await Promise.all([s.end(), t.end()]);
  }
}

const byTable = (rows: { table: string; equal: boolean }[]) => Object.fromEntries(rows.map((r) => [r.table, r.equal]));

describe('verification at a point while streaming', () => {
  before(async () => {
    ({ source, target, stop: stopPair } = await startPair());
  });
  after(() => stopPair());

  it('compares both sides with exactly the transactions before the point, and stops the stream there', async () => {
    const p = await pair('vp1', SCHEMA);
    await p.round();
    await p.src(`UPDATE t SET n = -n WHERE id <= 10; DELETE FROM u WHERE b > 15`);
    const v = await atPoint(p, `INSERT INTO t VALUES (1000, 0, 'after the point')`);
    assert.equal(v.round.pointReached, true);
    assert.ok(v.compared.length >= 4, JSON.stringify(v.compared));
    assert.ok(
      v.compared.every((c) => c.equal),
      JSON.stringify(v.compared.filter((c) => !c.equal)),
    );
    assert.equal(
      v.compared.find((c) => c.table === 'public.u')!.sourceRows,
      15,
      'the delete before the point is in both',
    );
    assert.ok(v.appliedLsn && compareLsn(v.appliedLsn, v.lsn) < 0);
    assert.equal((await p.tgt(`SELECT 1 FROM t WHERE id = 1000`)).rowCount, 0, 'nothing after the point applied');
    // Nor acknowledged: the transaction after the point was received, dropped, and is sent again.
    const { rows } = await source.query<{ lsn: string }>(
      `SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1`,
      [p.slot],
    );
    assert.ok(compareLsn(rows[0]!.lsn, v.lsn) <= 0, `the slot confirmed ${rows[0]!.lsn}, past the point ${v.lsn}`);
    await p.round();
    assert.equal((await p.tgt(`SELECT 1 FROM t WHERE id = 1000`)).rowCount, 1, 'the next round applies it');
  });

  it('streams on while the snapshots are compared, the keys it applies noted', async () => {
    const p = await pair('vp6', SCHEMA);
    await p.round();
    const v = await pointOn(
      p,
      async (lsn) => {
        await p.src(`UPDATE t SET n = 0 WHERE id = 3`);
        return p.round({ stopBefore: lsn, maxSeconds: 30 });
      },
      (signal) => p.round({ maxSeconds: 3600, signal }),
    );
    assert.ok(
      v.compared.every((c) => c.equal),
      JSON.stringify(v.compared.filter((c) => !c.equal)),
    );
    assert.ok(v.followed, 'the stream followed the comparison');
    // Applied by the following round or the next one, with its key noted either way.
    await p.round();
    assert.equal((await p.tgt(`SELECT n FROM t WHERE id = 3`)).rows[0]!.n, 0);
    const since = await changedSince(p);
    assert.equal(since.keys, 1);
    assert.deepEqual(byTable(since.compared), { 'public.t': true });
  });

  it('finds a difference at the point on the target alone', async () => {
    const p = await pair('vp2', SCHEMA);
    await p.round();
    await p.tgt(`UPDATE t SET note = 'target only' WHERE id = 42`);
    const v = await atPoint(p);
    assert.deepEqual(
      v.compared.filter((c) => !c.equal).map((c) => c.table),
      ['public.t'],
    );
  });

  it('compares, inside the fence, only the rows changed since the point, and finds what differs among them', async () => {
    const p = await pair('vp3', SCHEMA);
    await p.round();
    const v = await atPoint(p);
    assert.ok(v.compared.every((c) => c.equal));
    await p.src(
      `UPDATE t SET n = 0 WHERE id IN (5, 6, 7); DELETE FROM t WHERE id = 8; INSERT INTO t VALUES (500, 1, 'new');
       UPDATE u SET b = b + 100 WHERE a = 'k1'; UPDATE u SET v = 'changed' WHERE b = 2`,
    );
    await p.round();
    const clean = await changedSince(p);
    assert.equal(clean.since, v.lsn);
    // t: 5, 6, 7, 8, 500; u: the old and the new key of k1, and k2.
    assert.equal(clean.keys, 8);
    assert.equal(clean.wholeTables, 0);
    assert.deepEqual(byTable(clean.compared), { 'public.t': true, 'public.u': true });

    // A changed row that differs, a deleted row back on the target, and a new row missing there.
    await p.tgt(`UPDATE t SET note = 'lost update' WHERE id = 6`);
    await p.tgt(`INSERT INTO t VALUES (8, 8, 'row 8')`);
    await p.tgt(`DELETE FROM u WHERE a = 'k1'`);
    // A row changed on the target alone, which the stream never touched since the point: not looked at.
    await p.tgt(`UPDATE quiet SET id = -1 WHERE id = 1`);
    const dirty = await changedSince(p);
    assert.deepEqual(byTable(dirty.compared), { 'public.t': false, 'public.u': false });
    const t = dirty.compared.find((c) => c.table === 'public.t')!;
    assert.equal(t.sourceRows, 4, 'of the changed keys of t, 4 exist on the source');
    assert.equal(t.targetRows, 5, 'and 5 on the target (8 is back)');
  });

  it('compares a keyless or truncated table whole', async () => {
    const p = await pair('vp4', SCHEMA);
    await p.round();
    await atPoint(p);
    await p.src(`INSERT INTO log VALUES (2, 'second'); TRUNCATE quiet`);
    await p.round();
    const whole = await changedSince(p);
    assert.equal(whole.wholeTables, 2);
    assert.deepEqual(byTable(whole.compared), { 'public.log': true, 'public.quiet': true });
    await p.tgt(`INSERT INTO log VALUES (3, 'target only')`);
    assert.deepEqual(byTable((await changedSince(p)).compared), { 'public.log': false, 'public.quiet': true });
  });

  it('defers to the fence a table rewritten during the comparison (TRUNCATE is not MVCC-safe), comparing it whole there', async () => {
    const p = await pair('vp7', SCHEMA);
    await p.round();
    // A real difference on quiet, which a rewrite after the point hides from the comparison at the point.
    await p.tgt(`UPDATE quiet SET id = -1 WHERE id = 1`);
    const v = await pointOn(p, async (lsn) => {
      // After the point: the source snapshot reads t empty (a new file), though it held 100 rows at the point.
      await p.src(`TRUNCATE t`);
      await p.src(`VACUUM FULL quiet`);
      return p.round({ stopBefore: lsn, maxSeconds: 30 });
    });
    assert.deepEqual(
      v.compared.filter((c) => !c.equal),
      [],
      'a rewritten table is no difference at the point',
    );
    assert.deepEqual(v.deferred, ['public.quiet', 'public.t']);
    assert.equal(
      v.compared.find((c) => c.table === 'public.t'),
      undefined,
    );
    await p.round();
    const since = await changedSince(p);
    assert.equal(since.wholeTables, 2);
    assert.deepEqual(byTable(since.compared), { 'public.t': true, 'public.quiet': false });
  });

  it('holds no table lock for the whole comparison: each table is read in a transaction of its own on the snapshot', async () => {
    const p = await pair('vp8', SCHEMA);
    await p.round();
    const held = async (server: PgServer) =>
      (
        await server.query<{ relname: string }>(
          `SELECT c.relname FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_class c ON c.oid = l.relation
            WHERE a.application_name = $1 AND c.relnamespace = 'public'::regnamespace ORDER BY 1`,
          [APPLICATION_NAME.verify],
          p.db,
        )
      ).rows.map((r) => r.relname);
    let locks: { source: string[]; target: string[] } | null = null;
    const v = await pointOn(
      p,
      (lsn) => p.round({ stopBefore: lsn, maxSeconds: 30 }),
      // Told when the comparison has read every table, its snapshots still open.
      (signal) =>
        new Promise((resolve, reject) =>
          signal.addEventListener('abort', () => {
            Promise.all([held(source), held(target)])
              .then(([s, t]) => (locks = { source: s, target: t }))
              .then(() => p.round({ maxSeconds: 1 }))
              .then(resolve, reject);
          }),
        ),
    );
    assert.ok(v.compared.length >= 4);
    assert.deepEqual(locks, { source: [], target: [] }, 'no table stays locked once it was read');
  });

  it('leaves the stream where it was when it cannot reach the point in its time', async () => {
    const p = await pair('vp5', SCHEMA);
    await p.round();
    const failed = await pointOn(p, async () => ({ ...(await p.round({ maxSeconds: 1 })), pointReached: false })).then(
      () => null,
      (err: Error) => err.message,
    );
    assert.match(failed ?? '', /did not reach the verification point/);
  });
});
