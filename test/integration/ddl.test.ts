/**
 * DDL capture and replay (cdc.ddl: replicate) against real servers: the event triggers
 * pgtransit installs on the source, the stream and the apply as the activity runs them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorType, PgTransitError } from '../../src/errors';
import { dropDdlCapture, installDdlCapture } from '../../src/postgres/cdc/ddl-capture';
import { endpoints, withConnection } from '../../src/postgres/connect';
import { createPublication, dropReplication } from '../../src/postgres/replication';
import { ddlCaptureNames, replicationNames } from '../../src/model/names';
import { pairMaker, type Pair } from '../helpers/cdc-pair';
import { rejection } from '../helpers/fake-migration';
import { planFor, startPair, type PgServer } from '../helpers/postgres';

let source: PgServer;
let target: PgServer;
let stopPair: () => Promise<void>;
const pair = pairMaker(() => ({ source, target }));

async function captured(prefix: string, sql: string, plan = {}): Promise<Pair> {
  const p = await pair(prefix, sql, sql, plan);
  await installDdlCapture(endpoints(p.plan).source, p.plan, p.db, p.publication);
  return p;
}

describe('DDL during change capture', () => {
  before(async () => {
    ({ source, target, stop: stopPair } = await startPair());
  });
  after(() => stopPair());

  it('applies data before and after an ALTER of one source transaction in order, with the new layout', async () => {
    const p = await captured('ddl_order', `CREATE TABLE t (id int PRIMARY KEY, a text, b int)`);
    await p.src(`BEGIN;
      INSERT INTO t VALUES (1, 'one', 10);
      ALTER TABLE t ADD COLUMN c text DEFAULT 'dflt';
      INSERT INTO t VALUES (2, 'two', 20, 'cee');
      ALTER TABLE t DROP COLUMN b;
      ALTER TABLE t RENAME COLUMN a TO name;
      UPDATE t SET name = 'uno' WHERE id = 1;
      INSERT INTO t VALUES (3, 'three', 'c3');
      COMMIT`);
    // Several statements in one query: only the DDL statement of each firing is replayed.
    await p.src(`ALTER TABLE t ALTER COLUMN id TYPE bigint USING id::bigint; INSERT INTO t VALUES (4, 'four', 'c4')`);
    const r = await p.round();
    assert.ok(r.transactions >= 2);
    const rows = (await p.tgt(`SELECT id, name, c FROM t ORDER BY id`)).rows;
    assert.deepEqual(rows, [
      { id: '1', name: 'uno', c: 'dflt' },
      { id: '2', name: 'two', c: 'cee' },
      { id: '3', name: 'three', c: 'c3' },
      { id: '4', name: 'four', c: 'c4' },
    ]);
    const cols = await p.tgt(
      `SELECT string_agg(attname || ':' || format_type(atttypid, atttypmod), ',' ORDER BY attnum) AS c
         FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0 AND NOT attisdropped`,
    );
    assert.equal(cols.rows[0]!.c, 'id:bigint,name:text,c:text');
  });

  it('never replays pgtransit’s own DDL: another migration’s capture, publication and cleanup on the same database', async () => {
    const p = await captured('ddl_own', `CREATE TABLE t (id int PRIMARY KEY)`);
    const other = planFor(source, target, { database: p.db });
    const names = replicationNames(other.name, p.db);
    const e = endpoints(other).source;
    await installDdlCapture(e, other, p.db, names.publication);
    await createPublication(e, other, p.db, names.publication);
    await dropReplication(e, p.db, null, names.publication);
    await withConnection(e, { database: p.db, writable: true }, ({ client }) =>
      dropDdlCapture(client, other.name, p.db),
    );
    await p.src(`CREATE TABLE later (id int PRIMARY KEY); INSERT INTO later VALUES (1)`);
    await p.round();
    assert.deepEqual((await p.tgt(`SELECT id FROM later`)).rows, [{ id: 1 }]);
    const left = await p.tgt(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pgtransit_ddl_%'`);
    assert.deepEqual(left.rows, [], 'no capture schema replayed onto the target');
  });

  it('follows a table created on the source: rows of its own and later transactions arrive', async () => {
    const p = await captured('ddl_new', `CREATE TABLE t (id int PRIMARY KEY)`);
    await p.src(`CREATE TABLE fresh (id serial PRIMARY KEY, v text NOT NULL); INSERT INTO fresh (v) VALUES ('same')`);
    await p.src(`INSERT INTO fresh (v) VALUES ('later')`);
    await p.src(`CREATE INDEX CONCURRENTLY fresh_v ON fresh (v)`);
    await p.src(`CREATE TABLE parts (id int, at date, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)`);
    await p.src(`CREATE TABLE parts_2025 PARTITION OF parts FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')`);
    await p.src(`INSERT INTO parts VALUES (1, '2025-05-05')`);
    await p.round();
    assert.deepEqual((await p.tgt(`SELECT id, v FROM fresh ORDER BY id`)).rows, [
      { id: 1, v: 'same' },
      { id: 2, v: 'later' },
    ]);
    assert.equal((await p.tgt(`SELECT 1 FROM pg_indexes WHERE indexname = 'fresh_v'`)).rowCount, 1);
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM parts_2025`)).rows[0]!.n, 1);
    // Detached, the partition is a table of its own: it stays in the stream.
    await p.src(`ALTER TABLE parts DETACH PARTITION parts_2025`);
    await p.src(`INSERT INTO parts_2025 VALUES (2, '2025-06-06')`);
    await p.round();
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM parts_2025`)).rows[0]!.n, 2);
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM parts`)).rows[0]!.n, 0);
  });

  it('skips DDL outside the selection, and stops on a statement it does not replay, naming it, until marked done', async () => {
    const p = await captured('ddl_sel', `CREATE SCHEMA other; CREATE TABLE t (id int PRIMARY KEY)`, {
      include: { schemas: ['public'] },
    });
    await p.src(`CREATE TABLE other.x (id int PRIMARY KEY); INSERT INTO other.x VALUES (1)`);
    await p.src(`INSERT INTO t VALUES (1)`);
    await p.round();
    assert.equal((await p.tgt(`SELECT to_regclass('other.x') IS NULL AS gone`)).rows[0]!.gone, true);
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM t`)).rows[0]!.n, 1);

    await p.src(`CREATE STATISTICS t_stats ON id, (id + 1) FROM t`);
    await p.src(`INSERT INTO t VALUES (2)`);
    const e = await rejection<PgTransitError>(p.round());
    assert.equal(e.type, ErrorType.SchemaDrift);
    assert.match(e.message, /CREATE STATISTICS is not replayed .*CREATE STATISTICS t_stats ON id/);
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM t`)).rows[0]!.n, 1, 'nothing after it applied');
    const lsn = /ddl_skipped .* VALUES \('[^']+', '[^']+', '([0-9A-F/]+)'\)/.exec(e.message)![1]!;
    await p.tgt(`INSERT INTO pgtransit.ddl_skipped VALUES ($1, $2, $3)`, [p.plan.name, p.db, lsn]);
    await p.round();
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM t`)).rows[0]!.n, 2);
  });

  it('stops on a column whose values for existing rows the target would compute differently', async () => {
    const p = await captured(
      'ddl_volatile',
      `CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 5)`,
    );
    await p.src(`ALTER TABLE t ADD COLUMN fixed text DEFAULT 'user'`);
    await p.round();
    assert.equal(
      (await p.tgt(`SELECT count(*)::int AS n FROM t WHERE fixed = 'user'`)).rows[0]!.n,
      5,
      'a constant default replays',
    );
    await p.src(`ALTER TABLE t ADD COLUMN seen timestamptz DEFAULT now()`);
    const e = await rejection<PgTransitError>(p.round());
    assert.equal(e.type, ErrorType.SchemaDrift);
    assert.match(e.message, /fills existing rows of t\.seen \(a default that is not immutable: DEFAULT now\(\)\)/);
    assert.equal(
      (await p.tgt(`SELECT count(*)::int AS n FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'seen'`))
        .rows[0]!.n,
      0,
    );
    const lsn = /VALUES \('[^']+', '[^']+', '([0-9A-F/]+)'\)/.exec(e.message)![1]!;
    await p.tgt(`INSERT INTO pgtransit.ddl_skipped VALUES ($1, $2, $3)`, [p.plan.name, p.db, lsn]);
    await p.tgt(`ALTER TABLE t ADD COLUMN seen timestamptz`); // by hand, as the message says
    await p.src(`ALTER TABLE t ADD COLUMN n serial`);
    const serial = await rejection<PgTransitError>(p.round());
    assert.match(serial.message, /t\.n \(a default that is not immutable: DEFAULT nextval/);
  });

  it('keeps the text of DDL that may hold a password out of the stream and the stop', async () => {
    const p = await captured(
      'ddl_secret',
      `CREATE TABLE t (id int PRIMARY KEY); CREATE FOREIGN DATA WRAPPER nowhere_fdw`,
    );
    await p.src(`CREATE SERVER far FOREIGN DATA WRAPPER nowhere_fdw OPTIONS (host 'nowhere')`);
    await p.src(`CREATE USER MAPPING FOR CURRENT_USER SERVER far OPTIONS (user 'u', password 'hunter2-secret')`);
    const e = await rejection<PgTransitError>(p.round());
    assert.equal(e.type, ErrorType.SchemaDrift);
    assert.match(e.message, /CREATE SERVER is not replayed by change capture \(its text is not captured/);
    const lsn = /VALUES \('[^']+', '[^']+', '([0-9A-F/]+)'\)/.exec(e.message)![1]!;
    await p.tgt(`INSERT INTO pgtransit.ddl_skipped VALUES ($1, $2, $3)`, [p.plan.name, p.db, lsn]);
    const mapping = await rejection<PgTransitError>(p.round());
    assert.match(mapping.message, /CREATE USER MAPPING is not replayed/);
    assert.doesNotMatch(JSON.stringify({ m: mapping.message, d: mapping.details }), /hunter2/);
    const wal = await p.src(
      `SELECT count(*)::int AS n FROM pg_logical_slot_peek_binary_changes($1, NULL, NULL, 'proto_version', '1',
         'publication_names', $2, 'messages', 'true') WHERE position('hunter2' in encode(data, 'escape')) > 0`,
      [p.slot, p.publication],
    );
    assert.equal(wal.rows[0]!.n, 0, 'the password is not in the stream');
  });

  it('stops on DDL naming a table the mapping renames', async () => {
    const p = await captured('ddl_map', `CREATE TABLE t (id int PRIMARY KEY)`, {
      mapping: { tables: { 'public.t': 'public.t2' } },
    });
    await p.tgt(`ALTER TABLE t RENAME TO t2`);
    await p.src(`ALTER TABLE t ADD COLUMN n int`);
    const e = await rejection<PgTransitError>(p.round());
    assert.equal(e.type, ErrorType.SchemaDrift);
    assert.match(
      e.message,
      /ALTER TABLE \(ALTER TABLE t ADD COLUMN n int\) names public\.t, which the plan's mapping renames/,
    );
  });

  it('removes triggers, functions and schema with the slot and publication', async () => {
    const p = await captured('ddl_drop', `CREATE TABLE t (id int PRIMARY KEY)`);
    const n = ddlCaptureNames(p.plan.name, p.db);
    const dropped = await dropReplication(endpoints(p.plan).source, p.db, p.slot, p.publication, p.plan.name);
    assert.ok(dropped.includes(`schema ${n.schema}`), dropped.join(', '));
    const left = await p.src(
      `SELECT (SELECT count(*)::int FROM pg_event_trigger) AS triggers,
              (SELECT count(*)::int FROM pg_namespace WHERE nspname LIKE 'pgtransit%') AS schemas,
              (SELECT count(*)::int FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace WHERE s.nspname LIKE 'pgtransit%') AS functions`,
    );
    assert.deepEqual(left.rows[0], { triggers: 0, schemas: 0, functions: 0 });
    await p.src(`ALTER TABLE t ADD COLUMN after_cleanup int`); // DDL works without the capture
    await withConnection(endpoints(p.plan).source, { database: p.db }, ({ client }) =>
      dropDdlCapture(client, p.plan.name, p.db),
    );
  });
});
