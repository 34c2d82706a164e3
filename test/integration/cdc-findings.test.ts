/**
 * The change-capture findings of the review (shared/findings/cdc-switchover-audit.md), one
 * test each, against real servers: the stream and the apply run as the activity runs
 * them (streamRound), with the publication pgtransit creates. Every test works in its own
 * database pair, so they do not see each other's slots or rows.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ErrorType, PgTransitError } from '../../src/errors';
import type { Fence } from '../../src/model/activities';
import { compareLsn } from '../../src/model/lsn';
import { LOCK_KEYS } from '../../src/model/names';
import { Applier, type SourceTransaction } from '../../src/postgres/cdc/apply';
import { streamRound } from '../../src/postgres/cdc/stream';
import { endpoints } from '../../src/postgres/connect';
import { fenceSource } from '../../src/postgres/switchover';
import { copyChunk } from '../../src/postgres/copy';
import { listLoadTables, planChunks } from '../../src/postgres/chunks';
import { pairMaker } from '../helpers/cdc-pair';
import { sleep, waitFor } from '../helpers/wait';
import { planFor, startPair, type PgServer } from '../helpers/postgres';

let source: PgServer;
let target: PgServer;
let stopPair: () => Promise<void>;
const pair = pairMaker(() => ({ source, target }));

const rejection = async (p: Promise<unknown>): Promise<Error> => {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
};

/** The layout of `CREATE TABLE t (id int PRIMARY KEY, n int)` as a relation message gives it. */
const TABLE_T = {
  oid: 1,
  schema: 'public',
  name: 't',
  replicaIdentity: 'd' as const,
  columns: [
    { name: 'id', key: true, typeOid: 23 },
    { name: 'n', key: false, typeOid: 23 },
  ],
};

describe('change capture findings', () => {
  before(async () => {
    ({ source, target, stop: stopPair } = await startPair());
  });
  after(() => stopPair());

  it('F1: applies transactions received before a column change with the layout they were written in', async () => {
    const p = await pair('f1', `CREATE TABLE t (id int PRIMARY KEY, b text, c text)`);
    await p.round();
    // All of this arrives in one burst: the Relation message of the new layout comes while
    // the transaction before it is still waiting to be applied.
    await p.src(`INSERT INTO t VALUES (1, 'b1', 'c1')`);
    await p.src(`INSERT INTO t VALUES (2, 'b2', 'c2')`);
    await p.src(`ALTER TABLE t DROP COLUMN b`);
    await p.src(`INSERT INTO t VALUES (3, 'c3')`);
    await p.round();
    const rows = (await p.tgt(`SELECT id, b, c FROM t ORDER BY id`)).rows;
    assert.deepEqual(rows, [
      { id: 1, b: 'b1', c: 'c1' },
      { id: 2, b: 'b2', c: 'c2' },
      { id: 3, b: null, c: 'c3' },
    ]);
  });

  it('F1: a transaction with rows before and after an ALTER in the middle of it', async () => {
    const p = await pair('f1b', `CREATE TABLE t (id int PRIMARY KEY, b text, c text)`);
    await p.round();
    await p.src(
      `BEGIN; INSERT INTO t VALUES (1, 'b1', 'c1'); ALTER TABLE t DROP COLUMN b; INSERT INTO t VALUES (2, 'c2'); COMMIT`,
    );
    await p.round();
    assert.deepEqual((await p.tgt(`SELECT id, b, c FROM t ORDER BY id`)).rows, [
      { id: 1, b: 'b1', c: 'c1' },
      { id: 2, b: null, c: 'c2' },
    ]);
  });

  it('a table without columns takes its rows, and loses them, through the stream', async () => {
    const p = await pair('nocol', `CREATE TABLE nocol (); ALTER TABLE nocol REPLICA IDENTITY FULL`);
    await p.round();
    await p.src(`INSERT INTO nocol DEFAULT VALUES; INSERT INTO nocol DEFAULT VALUES; INSERT INTO nocol DEFAULT VALUES`);
    await p.round();
    assert.equal(Number((await p.tgt(`SELECT count(*) AS n FROM nocol`)).rows[0]!.n), 3);
    await p.src(`DELETE FROM nocol WHERE ctid = (SELECT min(ctid) FROM nocol)`);
    await p.round();
    assert.equal(Number((await p.tgt(`SELECT count(*) AS n FROM nocol`)).rows[0]!.n), 2);
  });

  it('F2a: a partitioned root without a key, with keyed partitions: UPDATE and DELETE reach the row', async () => {
    const ddl = `CREATE TABLE ev (id bigint NOT NULL, at date NOT NULL, v text) PARTITION BY RANGE (at);
      CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      ALTER TABLE ev_2026 ADD PRIMARY KEY (id);
      CREATE TABLE ev_2027 PARTITION OF ev FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
      ALTER TABLE ev_2027 ADD PRIMARY KEY (id);`;
    const p = await pair('f2a', ddl, ddl, { cdc: { conflictPolicy: 'ignore' } });
    await p.src(
      `INSERT INTO ev VALUES (1, '2026-05-01', 'a'), (2, '2026-06-01', 'x'), (1, '2027-05-01', 'other partition')`,
    );
    await p.round();
    await p.src(`UPDATE ev SET v = 'b' WHERE id = 1 AND at = '2026-05-01'`);
    await p.src(`DELETE FROM ev WHERE id = 2`);
    const r = await p.round();
    assert.deepEqual((await p.tgt(`SELECT id::int, at::text, v FROM ev ORDER BY at`)).rows, [
      { id: 1, at: '2026-05-01', v: 'b' },
      { id: 1, at: '2027-05-01', v: 'other partition' },
    ]);
    assert.equal(
      Object.values(r.counts).reduce((n, c) => n + c.conflicts, 0),
      0,
      'no change was dropped as a conflict',
    );
  });

  it('F2b: REPLICA IDENTITY FULL partitions: a DELETE or UPDATE never touches a row of another partition', async () => {
    const ddl = `CREATE TABLE logs (at date NOT NULL, msg text) PARTITION BY RANGE (at);
      CREATE TABLE logs_a PARTITION OF logs FOR VALUES FROM ('2026-01-01') TO ('2026-02-01');
      CREATE TABLE logs_b PARTITION OF logs FOR VALUES FROM ('2026-02-01') TO ('2026-03-01');
      ALTER TABLE logs_a REPLICA IDENTITY FULL; ALTER TABLE logs_b REPLICA IDENTITY FULL;`;
    const p = await pair('f2b', ddl);
    await p.src(`INSERT INTO logs VALUES ('2026-01-05', 'a1'), ('2026-02-05', 'b1')`);
    await p.round();
    await p.src(`UPDATE logs SET msg = 'a2' WHERE msg = 'a1'`);
    await p.round();
    await p.src(`DELETE FROM logs WHERE msg = 'a2'`);
    await p.round();
    assert.deepEqual((await p.tgt(`SELECT at::text, msg FROM logs ORDER BY at`)).rows, [
      { at: '2026-02-05', msg: 'b1' },
    ]);
  });

  it('F5: a drain that acknowledged the fence and died finds the fence again', async () => {
    const p = await pair('f5', `CREATE TABLE t (id int PRIMARY KEY)`);
    await p.round();
    await p.src(`INSERT INTO t VALUES (1)`);
    const f = await fenceSource(endpoints(p.plan).source, p.db, `test-${p.db}`, source.major);
    const fence: Fence = { id: f.id, lsn: f.lsn };
    try {
      const first = await p.round({ fence, maxSeconds: 30 });
      assert.equal(first.fenceApplied, true);
      // The attempt that applied the fence is lost; the retry must not wait for a marker it will never see again.
      const again = await p.round({ fence, maxSeconds: 5 });
      assert.equal(again.fenceApplied, true, 'the retried drain knows the fence is applied');
    } finally {
      await source.query(`ALTER DATABASE ${p.db} RESET default_transaction_read_only`);
    }
  });

  it('F37: a drain that waited for the slot while a stale attempt applied the fence knows the fence is applied', async () => {
    const p = await pair('f37', `CREATE TABLE t (id int PRIMARY KEY)`);
    await p.round();
    // An attempt Temporal timed out (its history service restarted) still streams and holds the
    // slot; its apply is held back by the apply lock until the drain has read the applied position.
    const lock = new pg.Client({ connectionString: target.url({ database: p.db }) });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [LOCK_KEYS.apply(p.plan.name, p.db)]);
    const stale = p.round({ maxSeconds: 4 });
    await waitFor('the stale attempt on the slot', async () => {
      const { rows } = await source.query(`SELECT active FROM pg_replication_slots WHERE slot_name = $1`, [p.slot]);
      return rows[0]?.active === true;
    });
    await p.src(`INSERT INTO t VALUES (1)`);
    const f = await fenceSource(endpoints(p.plan).source, p.db, `test-${p.db}`, source.major);
    const fence: Fence = { id: f.id, lsn: f.lsn };
    try {
      const drain = p.round({ fence, maxSeconds: 20 });
      await sleep(1500);
      await lock.query('COMMIT');
      const old = await stale;
      assert.ok(compareLsn(old.appliedLsn!, fence.lsn) >= 0, 'the stale attempt applied the fence');
      const r = await drain;
      assert.equal(r.fenceApplied, true, 'the drain sees the fence applied once it holds the slot');
      assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM t`)).rows[0].n, 1);
    } finally {
      await lock.end();
      await source.query(`ALTER DATABASE ${p.db} RESET default_transaction_read_only`);
    }
  });

  it('F8: an invalidated slot stops the stream at once with SlotLost, not an endless retry', async () => {
    const p = await pair('f8', `CREATE TABLE t (id int PRIMARY KEY, pad text)`);
    await p.round();
    await source.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
    await source.query(`SELECT pg_reload_conf()`);
    try {
      for (let i = 0; i < 6; i++) {
        await p.src(`INSERT INTO t SELECT g + ${i * 20000}, repeat('x', 500) FROM generate_series(1, 20000) g`);
        await source.query(`SELECT pg_switch_wal()`);
      }
      await source.query(`CHECKPOINT`);
      const status = await source.query<{ wal_status: string }>(
        `SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`,
        [p.slot],
      );
      assert.equal(status.rows[0]!.wal_status, 'lost', 'the test invalidated the slot');
      const e = await rejection(p.round({ maxSeconds: 5 }));
      assert.ok(e instanceof PgTransitError, `a classified error, got ${e.message}`);
      assert.equal(e.type, ErrorType.SlotLost);
      assert.match(e.message, new RegExp(p.slot));
    } finally {
      await source.query(`ALTER SYSTEM RESET max_slot_wal_keep_size`);
      await source.query(`SELECT pg_reload_conf()`);
    }
  });

  it('F9: a large transaction is applied in sub-batches, with bounded memory', async () => {
    const p = await pair('f9', `CREATE TABLE t (id int PRIMARY KEY, v text)`);
    await p.round();
    await p.src(`INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 60000) g`);
    const reports: { largeTransaction: { changesApplied: number } | null }[] = [];
    const r = await p.round({ maxSeconds: 5, reportEverySeconds: 0.05, onReport: (x) => reports.push(x) });
    assert.equal(Number((await p.tgt(`SELECT count(*) AS n FROM t`)).rows[0]!.n), 60000);
    const peak = (r as { peakBufferedChanges?: number }).peakBufferedChanges;
    assert.ok(peak !== undefined && peak <= 10_000, `at most 10000 changes held in memory, held ${peak}`);
    // Its progress is reported while it is applied, before its commit.
    const seen = reports.map((x) => x.largeTransaction?.changesApplied ?? 0).filter((n) => n > 0);
    assert.ok(seen.length > 0 && Math.min(...seen) < 60000, `reports of the open transaction: ${seen.join(', ')}`);
  });

  it('F16: the first round never acknowledges a position before the slot’s own', async () => {
    const p = await pair('f16', `CREATE TABLE t (id int PRIMARY KEY)`);
    const big = (l: string) => BigInt(`0x${l.split('/')[0]}`) * 2n ** 32n + BigInt(`0x${l.split('/')[1]}`);
    const floor = big(
      (
        await source.query<{ c: string }>(
          `SELECT confirmed_flush_lsn::text AS c FROM pg_replication_slots WHERE slot_name = $1`,
          [p.slot],
        )
      ).rows[0]!.c,
    );
    // A backlog keeps the walsender decoding for a while before its first keepalive, while the
    // stream already asks for one every second.
    await p.src(`INSERT INTO t SELECT g FROM generate_series(1, 200000) g`);
    const running = p.round({ maxSeconds: 3 });
    // What the stream reports as flushed, watched while the round runs: a reply of 0/1 would set the slot back.
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const r = await source.query<{ f: string | null }>(
        `SELECT flush_lsn::text AS f FROM pg_stat_replication WHERE application_name = 'pgtransit stream'`,
      );
      if (r.rows[0]?.f) seen.add(r.rows[0].f);
      await new Promise((res) => setTimeout(res, 50));
    }
    await running;
    assert.ok(seen.size > 0, 'the stream replied while watched');
    const behind = [...seen].filter((l) => big(l) < floor);
    assert.deepEqual(behind, [], `replies before the slot's confirmed position`);
  });

  it('F17: two attempts that both read the applied position before either applied apply a transaction once', async () => {
    const p = await pair('f17', '', `CREATE TABLE t (id int PRIMARY KEY, n int)`);
    await p.src(`CREATE TABLE t (id int PRIMARY KEY, n int)`);
    const connect = async () => {
      const c = new pg.Client({ connectionString: target.url({ database: p.db }) });
      await c.connect();
      return c;
    };
    const [ca, cb] = await Promise.all([connect(), connect()]);
    try {
      const opts = {
        plan: p.plan,
        database: p.db,
        conflictPolicy: 'error' as const,
        lateTables: new Set<string>(),
        lateHorizonLsn: null,
      };
      const a = new Applier(ca, opts);
      const b = new Applier(cb, opts);
      await Promise.all([a.load(), b.load()]);
      const relation = TABLE_T;
      const txn = (lsn: string, id: number): SourceTransaction => {
        const tx = { commitLsn: lsn, endLsn: lsn, commitTime: 0n, changes: [] as SourceTransaction['changes'] };
        (tx.changes as unknown[]).push({
          tag: 'insert',
          relationOid: 1,
          new: [String(id), '1'],
          relation,
          kind: 'insert',
          msg: { tag: 'insert', relationOid: 1, new: [String(id), '1'] },
        });
        return tx;
      };
      const apply = async (x: Applier) => {
        const withRelation = x as unknown as { relation?: (r: typeof relation) => Promise<void> };
        if (withRelation.relation) await withRelation.relation(relation);
        return x.applyBatch([txn('0/1000', 1), txn('0/2000', 2)]);
      };
      const applied = [await apply(a), await apply(b).catch((e: Error) => e.message)];
      assert.deepEqual(applied, [2, 0], 'the second attempt skips what the first applied');
      assert.equal(Number((await p.tgt(`SELECT count(*) AS n FROM t`)).rows[0]!.n), 2);
    } finally {
      await Promise.all([ca.end(), cb.end()]);
    }
  });

  it('counts only rows the target committed: a batch that rolled back adds nothing to the counts', async () => {
    const p = await pair('cnt', '', `CREATE TABLE t (id int PRIMARY KEY, n int)`);
    await p.tgt(`INSERT INTO t VALUES (3, 0)`);
    const c = new pg.Client({ connectionString: target.url({ database: p.db }) });
    await c.connect();
    try {
      const x = new Applier(c, {
        plan: p.plan,
        database: p.db,
        conflictPolicy: 'error',
        lateTables: new Set<string>(),
        lateHorizonLsn: null,
      });
      await x.load();
      const relation = TABLE_T;
      const txn = (lsn: string, ids: number[]): SourceTransaction => ({
        commitLsn: lsn,
        endLsn: lsn,
        commitTime: 0n,
        changes: ids.map((id) => ({ tag: 'insert' as const, relation, new: [String(id), '1'] })),
      });
      // Rows 1 and 2 are written, then row 3 conflicts: the target transaction rolls back.
      await assert.rejects(x.applyBatch([txn('0/1000', [1, 2]), txn('0/2000', [3])]), /conflict on public\.t/);
      assert.deepEqual(Object.fromEntries(x.counts), {}, 'nothing committed, nothing counted');
      assert.equal(await x.applyBatch([txn('0/3000', [4, 5])]), 1);
      assert.equal(x.counts.get('public.t')?.insert, 2);
      assert.equal(Number((await p.tgt(`SELECT count(*) AS n FROM t`)).rows[0]!.n), 3);
    } finally {
      await c.end();
    }
  });

  it('F18: a SQL_ASCII source keeps 8-bit text byte for byte through change capture', async () => {
    const p = await pair(
      'f18',
      `CREATE TABLE t (id int PRIMARY KEY, v text, vc varchar(20))`,
      undefined,
      {},
      `CREATE DATABASE %s TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'`,
    );
    await p.round();
    await p.src(`INSERT INTO t VALUES (1, E'caf\\xe9', E'na\\xefve')`);
    await p.src(`UPDATE t SET vc = E'\\xe0 la' WHERE v = E'caf\\xe9'`);
    await p.round();
    const bytes = async (q: (s: string) => Promise<pg.QueryResult>) =>
      (
        await q(
          `SELECT encode(convert_to(v, 'SQL_ASCII'), 'hex') AS v, encode(convert_to(vc, 'SQL_ASCII'), 'hex') AS vc FROM t`,
        )
      ).rows;
    assert.deepEqual(await bytes(p.tgt), await bytes(p.src));
    assert.deepEqual(await bytes(p.tgt), [{ v: '636166e9', vc: 'e0206c61' }]);
  });

  it('F21: GENERATED ALWAYS identity keys: SET id = DEFAULT, and updates that change only TOASTed columns', async () => {
    const ddl = `CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);
      CREATE TABLE d (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, big text);`;
    const p = await pair('f21', ddl);
    await p.src(`INSERT INTO t (v) VALUES ('a'); INSERT INTO d (big) VALUES (repeat(md5('x'), 10000))`);
    await p.round();
    await p.src(`UPDATE t SET id = DEFAULT WHERE v = 'a'`);
    // Only the TOASTed column, unchanged: the new row carries nothing to SET but the always-identity key.
    await p.src(`UPDATE d SET big = big WHERE id = 1`);
    await p.round();
    assert.deepEqual((await p.tgt(`SELECT id, v FROM t`)).rows, (await p.src(`SELECT id, v FROM t`)).rows);
    assert.deepEqual(
      (await p.tgt(`SELECT id, md5(big) AS h FROM d`)).rows,
      (await p.src(`SELECT id, md5(big) AS h FROM d`)).rows,
    );
  });

  it('a user catalog table (no ON CONFLICT there) takes INSERT, UPDATE and DELETE', async () => {
    const ddl = `CREATE TABLE meta (id int PRIMARY KEY, v text) WITH (user_catalog_table = true)`;
    const p = await pair('ucat', ddl);
    await p.src(`INSERT INTO meta VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    await p.round();
    await p.src(
      `UPDATE meta SET v = 'B' WHERE id = 2; DELETE FROM meta WHERE id = 3; INSERT INTO meta VALUES (4, 'd')`,
    );
    await p.round();
    const rows = `SELECT id, v FROM meta ORDER BY id`;
    assert.deepEqual((await p.tgt(rows)).rows, (await p.src(rows)).rows);
  });

  it('an UPDATE that leaves a long compressed key as it was does not rewrite it (no index entry larger than a page)', async () => {
    // The key went in compressed, then its storage became EXTERNAL (and its index's with it):
    // the source updates other columns in place; writing the same key again on the target
    // would need a new, uncompressed index entry of 100 kB.
    const ddl = `CREATE TABLE tk (id int UNIQUE NOT NULL, k text PRIMARY KEY, c text);
      ALTER TABLE tk REPLICA IDENTITY FULL;
      CREATE TABLE tk2 (k text PRIMARY KEY, c text);
      INSERT INTO tk VALUES (1, repeat('9876543210', 10000), NULL);
      INSERT INTO tk2 VALUES (repeat('0123456789', 10000), NULL);
      ALTER TABLE tk ALTER COLUMN k SET STORAGE EXTERNAL;
      ALTER TABLE tk2 ALTER COLUMN k SET STORAGE EXTERNAL;`;
    const p = await pair('longkey', ddl);
    await p.round();
    await p.src(`UPDATE tk SET c = 'changed'; UPDATE tk2 SET c = 'changed'`);
    await p.round();
    assert.deepEqual((await p.tgt(`SELECT c FROM tk UNION ALL SELECT c FROM tk2`)).rows, [
      { c: 'changed' },
      { c: 'changed' },
    ]);
  });

  it('F22: REPLICA IDENTITY FULL tables with json, point, xml and composite columns apply UPDATE and DELETE', async () => {
    const ddl = `CREATE TYPE pair AS (a int, b text);
      CREATE TABLE k (j json, p point, x xml, c pair, n int);
      ALTER TABLE k REPLICA IDENTITY FULL;`;
    const p = await pair('f22', ddl);
    await p.src(
      `INSERT INTO k VALUES ('{"a": 1}', '(1,2)', '<a>1</a>', ROW(1, 'one'), 1), ('{"a": 2}', '(3,4)', '<a>2</a>', ROW(2, 'two'), 2)`,
    );
    await p.round();
    await p.src(`UPDATE k SET n = 10 WHERE n = 1`);
    await p.src(`DELETE FROM k WHERE n = 2`);
    await p.round();
    assert.deepEqual((await p.tgt(`SELECT j::text, p::text, x::text, c::text, n FROM k`)).rows, [
      { j: '{"a": 1}', p: '(1,2)', x: '<a>1</a>', c: '(1,one)', n: 10 },
    ]);
  });

  it('F23: TRUNCATE ... CASCADE on the source never empties a target table that is not migrated', async () => {
    const src = `CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int PRIMARY KEY, parent int REFERENCES parent);`;
    // The target holds a table of its own that references a migrated one.
    const tgt = `${src} CREATE TABLE own (id int PRIMARY KEY, parent int REFERENCES parent); `;
    const p = await pair('f23', src, tgt);
    await p.src(`INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1)`);
    await p.round();
    await p.tgt(`INSERT INTO own VALUES (7, 1)`);
    await p.src(`TRUNCATE parent CASCADE`);
    const e = await p.round().then(
      () => null,
      (err: Error) => err,
    );
    assert.equal(
      (await p.tgt(`SELECT count(*)::int AS n FROM own`)).rows[0]!.n,
      1,
      'the target’s own table keeps its row',
    );
    assert.ok(
      e instanceof PgTransitError && e.type === ErrorType.ApplyFailed,
      `the apply stops and says why: ${e?.message}`,
    );
    assert.match(e.message, /own/);
  });

  it('F29: legacy inheritance: TRUNCATE ONLY and UPDATE of the parent leave the children alone, and an excluded child is not streamed', async () => {
    const ddl = `CREATE TABLE parent (id int PRIMARY KEY, v text); CREATE TABLE kid (extra int) INHERITS (parent); ALTER TABLE kid ADD PRIMARY KEY (id);`;
    const p = await pair('f29', ddl, ddl, { exclude: { tables: ['public.kid'] } });
    await p.src(`INSERT INTO parent VALUES (1, 'p')`);
    await p.tgt(`INSERT INTO kid VALUES (1, 'kid row on the target', 0)`);
    await p.round();
    await p.src(`INSERT INTO kid VALUES (2, 'excluded', 0)`);
    await p.src(`UPDATE parent SET v = 'p2' WHERE id = 1`);
    await p.round();
    assert.equal((await p.tgt(`SELECT v FROM ONLY kid WHERE id = 1`)).rows[0]!.v, 'kid row on the target');
    assert.equal(
      (await p.tgt(`SELECT count(*)::int AS n FROM ONLY kid WHERE id = 2`)).rows[0]!.n,
      0,
      'the excluded child is not streamed',
    );
    assert.equal((await p.tgt(`SELECT v FROM ONLY parent WHERE id = 1`)).rows[0]!.v, 'p2');
    await p.src(`TRUNCATE ONLY parent`);
    await p.round();
    assert.equal(
      (await p.tgt(`SELECT count(*)::int AS n FROM ONLY kid`)).rows[0]!.n,
      1,
      'TRUNCATE ONLY did not reach the child',
    );
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM ONLY parent`)).rows[0]!.n, 0);
  });

  it('F31: a keepalive during a failing batch does not acknowledge past it', async () => {
    const p = await pair('f31', `CREATE TABLE t (id int PRIMARY KEY)`);
    await p.round();
    // The batch blocks on a target lock while keepalives keep coming, then fails.
    const locker = new pg.Client({ connectionString: target.url({ database: p.db }) });
    await locker.connect();
    await locker.query(`BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE`);
    await p.src(`INSERT INTO t VALUES (1)`);
    const running = p.round({ maxSeconds: 3 }).then(
      () => null,
      (e: Error) => e,
    );
    await new Promise((r) => setTimeout(r, 4000));
    await target.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'pgtransit apply'`,
      [p.db],
    );
    await locker.query('ROLLBACK');
    await locker.end();
    assert.ok(await running, 'the round failed');
    // Had a keepalive acknowledged past the failed batch, the slot would not send the INSERT again.
    await p.round();
    assert.equal(
      (await p.tgt(`SELECT count(*)::int AS n FROM t`)).rows[0]!.n,
      1,
      'the change is applied by the next round',
    );
  });

  it('F32: overwrite never drops an INSERT that conflicts on a unique constraint other than the key', async () => {
    const ddl = `CREATE TABLE p (id int PRIMARY KEY, sku text UNIQUE)`;
    const p = await pair('f32', ddl, ddl, { cdc: { conflictPolicy: 'overwrite' } });
    await p.round();
    await p.tgt(`INSERT INTO p VALUES (100, 'SKU-1')`);
    await p.src(`INSERT INTO p VALUES (1, 'SKU-1')`);
    const e = await rejection(p.round());
    assert.ok(
      e instanceof PgTransitError && e.type === ErrorType.ApplyConflict,
      `stops with a conflict, got ${e.message}`,
    );
    assert.match(e.message, /p_sku_key|sku/);
  });

  it('F33: the standby status reply carries the current time', async () => {
    const p = await pair('f33', `CREATE TABLE t (id int PRIMARY KEY)`);
    const running = p.round({ maxSeconds: 4 });
    await new Promise((r) => setTimeout(r, 2500));
    const r = await source.query<{ skew: number }>(
      `SELECT abs(extract(epoch FROM (now() - reply_time)))::float8 AS skew FROM pg_stat_replication WHERE application_name = 'pgtransit stream'`,
    );
    await running;
    assert.ok(r.rows[0], 'the stream is connected');
    assert.ok(r.rows[0]!.skew < 60, `reply_time is ${r.rows[0]!.skew} s away from now`);
  });

  it('F35: a target role under row-level security stops the apply instead of silently skipping rows', async () => {
    const ddl = `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (500, 'hidden by the policy')`;
    const policy =
      'ALTER TABLE t ENABLE ROW LEVEL SECURITY; ALTER TABLE t FORCE ROW LEVEL SECURITY; ' +
      'CREATE POLICY hide ON t USING (id < 100) WITH CHECK (true);';
    const p = await pair('f35', ddl, `${ddl}; ${policy}`, { cdc: { conflictPolicy: 'ignore' } });
    // The policy binds the owner (FORCE), who applies the changes; a superuser would bypass it.
    const owner = `o_${p.db}`;
    await target.query(
      `CREATE ROLE ${owner} LOGIN PASSWORD 'pw'; GRANT ALL ON DATABASE ${p.db} TO ${owner}; GRANT SET ON PARAMETER session_replication_role TO ${owner}`,
    );
    await p.tgt(
      `ALTER TABLE t OWNER TO ${owner}; GRANT ALL ON SCHEMA pgtransit TO ${owner}; GRANT ALL ON ALL TABLES IN SCHEMA pgtransit TO ${owner}`,
    );
    const plan = planFor(source, target, {
      database: p.db,
      name: p.plan.name,
      targetUser: { user: owner, password: 'pw' },
      cdc: { conflictPolicy: 'ignore' },
    });
    const e = endpoints(plan);
    const round = () =>
      streamRound({
        source: e.source,
        target: e.target,
        plan,
        database: p.db,
        targetDatabase: p.db,
        slot: p.slot,
        publication: p.publication,
        sourceMajor: source.major,
        lateTables: [],
        lateHorizonLsn: null,
        maxSeconds: 2,
        fence: null,
      });
    await p.src(`UPDATE t SET v = 'changed' WHERE id = 500`);
    const err = await rejection(round());
    assert.ok(
      err instanceof PgTransitError && err.type === ErrorType.ApplyFailed,
      `the apply stops, got ${err.message}`,
    );
    assert.match(err.message, /row-level security/);
  });

  it('F36: a keyless table copied late (the snapshot lost) is replayed exactly: no row doubled, none lost', async () => {
    const ddl = `CREATE TABLE notes (n int, body text); ALTER TABLE notes REPLICA IDENTITY FULL`;
    const p = await pair('f36', `${ddl}; INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 20) g`, ddl);
    // After the slot's start and before the late copy: a row inserted then changed, two identical rows, a delete.
    await p.src(`INSERT INTO notes VALUES (200, 'x')`);
    await p.src(`UPDATE notes SET body = 'y' WHERE n = 200`);
    await p.src(`INSERT INTO notes VALUES (300, 'twin')`);
    await p.src(`INSERT INTO notes VALUES (300, 'twin')`);
    await p.src(`DELETE FROM notes WHERE n = 1`);
    const e = endpoints(p.plan);
    const c = new pg.Client({ connectionString: source.url({ database: p.db }) });
    await c.connect();
    const [chunk] = await planChunks(c, await listLoadTables(c, p.plan), 1 << 30).finally(() => c.end());
    const copied = await copyChunk(e.source, e.target, {
      migration: p.plan.name,
      database: p.db,
      targetDatabase: p.db,
      snapshot: null,
      chunk: chunk!,
      followedByChanges: true,
    });
    assert.ok(copied.late && copied.horizonLsn, 'copied late, with a horizon');
    // After the copy: the same kinds again, applied strictly.
    await p.src(`INSERT INTO notes VALUES (400, 'a')`);
    await p.src(`UPDATE notes SET body = 'b' WHERE n = 400`);
    await p.src(`INSERT INTO notes VALUES (300, 'twin')`);
    await p.src(`DELETE FROM notes WHERE n = 2`);
    await p.round({ maxSeconds: 2, lateTables: ['public.notes'], lateHorizonLsn: copied.horizonLsn });
    const rows = (q: (sql: string) => Promise<pg.QueryResult>) =>
      q(`SELECT n, body, count(*)::int AS copies FROM notes GROUP BY n, body ORDER BY n, body`).then((r) => r.rows);
    assert.deepEqual(await rows(p.tgt), await rows(p.src));
  });
});
