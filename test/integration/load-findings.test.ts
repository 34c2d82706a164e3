/**
 * Full-load and role findings of the review against real servers, below the workflow: the
 * load planned inside its snapshot (30), a late copy of a table in chunks (10), types
 * without binary I/O (28), role passwords that no target log may keep (20), conflict
 * messages that carry no row of a REPLICA IDENTITY FULL table (20).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import { ErrorType, PgTransitError } from '../../src/errors';
import type { LoadPlan, RestoreResult } from '../../src/model/activities';
import { replicationNames } from '../../src/model/names';
import { listLoadTables, planChunks } from '../../src/postgres/chunks';
import { streamRound } from '../../src/postgres/cdc/stream';
import { endpoints } from '../../src/postgres/connect';
import { copyChunk } from '../../src/postgres/copy';
import { createPublication } from '../../src/postgres/replication';
import { copyRoles } from '../../src/postgres/roles';
import { ensureStateSchema } from '../../src/postgres/state';
import { planFor, startPair, type PgServer } from '../helpers/postgres';

let source: PgServer;
let target: PgServer;
let stopPair: () => Promise<void>;

async function databases(prefix: string, sourceSql: string, targetSql = sourceSql): Promise<string> {
  const db = `${prefix}_${randomBytes(3).toString('hex')}`;
  await source.query(`CREATE DATABASE ${db}`);
  await target.query(`CREATE DATABASE ${db}`);
  if (sourceSql) await source.query(sourceSql, [], db);
  if (targetSql) await target.query(targetSql, [], db);
  const c = new pg.Client({ connectionString: target.url({ database: db }) });
  await c.connect();
  await ensureStateSchema(c);
  await c.end();
  return db;
}

/** The one chunk of a table of public copied whole. */
const wholeChunk = (name: string, estRows: number) => ({
  id: `public.${name}/0`,
  schema: 'public',
  name,
  part: 0,
  parts: 1,
  kind: 'all' as const,
  lo: null,
  hi: null,
  estBytes: 0,
  estRows,
});

describe('full load and role findings', () => {
  before(async () => {
    ({ source, target, stop: stopPair } = await startPair());
  });
  after(() => stopPair());

  it('F30: the load is planned inside the snapshot it copies: a table created since is not planned', async () => {
    const db = await databases('f30', `CREATE TABLE old (id int PRIMARY KEY)`);
    const holder = new pg.Client({ connectionString: source.url({ database: db }) });
    await holder.connect();
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    const snapshot = (await holder.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
    await source.query(`CREATE TABLE newer (id int PRIMARY KEY)`, [], db);
    const plan = planFor(source, target, { database: db });
    const planned = (await new MockActivityEnvironment().run(createActivities().planChunks, {
      plan,
      database: db,
      targetDatabase: db,
      snapshot,
    })) as LoadPlan;
    await holder.end();
    assert.deepEqual(
      planned.tables.map((t) => t.table),
      ['public.old'],
    );
  });

  it('the schema dump in a snapshot whose holder is gone fails as SnapshotLost, so the workflow dumps it again outside', async () => {
    const db = await databases('lostdump', `CREATE TABLE t (id int PRIMARY KEY)`, '');
    const holder = new pg.Client({ connectionString: source.url({ database: db }) });
    await holder.connect();
    await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    const snapshot = (await holder.query<{ s: string }>('SELECT pg_export_snapshot() AS s')).rows[0]!.s;
    await holder.end();
    const plan = planFor(source, target, { database: db });
    const restore = (snap: string | null) =>
      new MockActivityEnvironment().run(createActivities().restoreSchema, {
        plan,
        database: db,
        targetDatabase: db,
        section: 'pre-data' as const,
        snapshot: snap,
        sourceMajor: source.major,
        targetMajor: target.major,
      });
    await assert.rejects(restore(snapshot), (e: unknown) => {
      assert.ok(e instanceof ApplicationFailure, String(e));
      assert.equal(e.type, ErrorType.SnapshotLost);
      assert.match(e.message, /pg_dump --section=pre-data of lostdump_\w+: the exported snapshot is gone/);
      return true;
    });
    await restore(null);
    assert.equal((await target.query(`SELECT to_regclass('public.t')::text AS t`, [], db)).rows[0]!.t, 't');
  });

  it('F10: a late copy of a table in block ranges misses and doubles no row that moved between ranges', async () => {
    const ddl = `CREATE TABLE docs (id uuid PRIMARY KEY, n int, pad text)`;
    const db = await databases('f10', ddl);
    await source.query(
      `CREATE EXTENSION IF NOT EXISTS pgcrypto; INSERT INTO docs SELECT gen_random_uuid(), g, repeat('x', 200) FROM generate_series(1, 20000) g;
       DELETE FROM docs WHERE ctid < '(20,0)'::tid`,
      [],
      db,
    );
    // Free space only in the early blocks: later pages stay full, so updated rows move there.
    await source.query(`VACUUM docs`, [], db);
    await source.query(`ANALYZE docs`, [], db);
    const plan = planFor(source, target, { database: db });
    const e = endpoints(plan);
    const [table] = await (async () => {
      const c = new pg.Client({ connectionString: source.url({ database: db }) });
      await c.connect();
      try {
        return await listLoadTables(c, plan);
      } finally {
        await c.end();
      }
    })();
    const chunks = await planChunks({} as pg.Client, [table!], Math.ceil(table!.bytes / 3));
    assert.ok(chunks.length >= 2 && chunks.every((c) => c.kind === 'ctid'), 'the table is split in block ranges');
    const input = { migration: plan.name, database: db, targetDatabase: db, snapshot: null };
    const first = await copyChunk(e.source, e.target, { ...input, chunk: chunks[0]! });
    // Rows of the last blocks get new versions in the free early blocks, copied already.
    const pages = Number(
      (await source.query<{ p: string }>(`SELECT pg_relation_size('docs') / 8192 AS p`, [], db)).rows[0]!.p,
    );
    await source.query(`UPDATE docs SET pad = pad || 'y' WHERE ctid >= '(${pages - 5},0)'::tid`, [], db);
    const rest = [];
    for (const c of chunks.slice(1)) rest.push(await copyChunk(e.source, e.target, { ...input, chunk: c }));
    // Every row once (the UPDATE itself comes from the change stream, after the horizon).
    const ids = async (s: PgServer) =>
      (
        await s.query<{ n: string; h: string }>(
          `SELECT count(*) AS n, md5(string_agg(id::text, ',' ORDER BY id)) AS h FROM docs`,
          [],
          db,
        )
      ).rows[0];
    assert.deepEqual(await ids(target), await ids(source));
    assert.ok(first.horizonLsn, 'the late copy has its horizon');
    assert.ok(
      rest.every((r) => r.skipped && r.horizonLsn === first.horizonLsn),
      'the other chunks were done by it, and still know its horizon',
    );
  });

  it('a chunk is copied while other chunks of the load are still being copied, without waiting for them', async () => {
    const ddl = `CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text)`;
    const db = await databases('par', ddl);
    await source.query(
      `INSERT INTO a SELECT g, 'a' FROM generate_series(1, 100) g; INSERT INTO b VALUES (1, 'b')`,
      [],
      db,
    );
    const plan = planFor(source, target, { database: db });
    const e = endpoints(plan);
    const input = { migration: plan.name, database: db, targetDatabase: db, snapshot: null };
    const chunk = (name: string) => wholeChunk(name, 1);
    // Chunk a's copy as it stands midway: its transaction has read the markers table and is open.
    const running = new pg.Client({ connectionString: target.url({ database: db }) });
    await running.connect();
    try {
      await running.query('BEGIN');
      await running.query(`SELECT * FROM pgtransit.chunks`);
      let done = false;
      const copy = copyChunk(e.source, e.target, { ...input, chunk: chunk('b') }).finally(() => (done = true));
      while (!done) {
        const waiting = await target.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
          [db],
        );
        assert.equal(waiting.rows[0]!.n, 0, 'a session of the copy waits for a lock the running chunk holds');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal((await copy).rows, 1);
    } finally {
      await running.end();
    }
  });

  it('a table copied in chunks gets its indexes during the load unless one calls a function of the database, or it is gone', async () => {
    const ddl = `CREATE FUNCTION one_of(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x';
      CREATE TABLE plain (id int PRIMARY KEY, v text UNIQUE); CREATE INDEX plain_v ON plain (lower(v));
      CREATE TABLE own_fn (id int PRIMARY KEY, v int); CREATE INDEX own_fn_v ON own_fn (one_of(v));
      CREATE TABLE gone (id int PRIMARY KEY)`;
    const db = await databases('idx', ddl, ddl.replace(/PRIMARY KEY|UNIQUE|CREATE INDEX[^;]*;/g, ''));
    const plan = planFor(source, target, { database: db });
    await source.query(`DROP TABLE gone`, [], db);
    const built = async (name: string) =>
      (
        (await new MockActivityEnvironment().run(createActivities().restoreSchema, {
          plan,
          database: db,
          targetDatabase: db,
          section: 'post-data' as const,
          snapshot: null,
          sourceMajor: 15,
          targetMajor: 17,
          table: { schema: 'public', name },
        })) as RestoreResult
      ).restored;
    const indexes = async (t: string) =>
      (
        await target.query<{ i: string }>(
          `SELECT indexname AS i FROM pg_indexes WHERE tablename = $1 ORDER BY 1`,
          [t],
          db,
        )
      ).rows.map((r) => r.i);
    assert.equal(await built('plain'), 3);
    assert.deepEqual(await indexes('plain'), ['plain_pkey', 'plain_v', 'plain_v_key']);
    assert.equal(await built('own_fn'), 0);
    assert.deepEqual(await indexes('own_fn'), [], 'left to post-data');
    assert.equal(await built('gone'), 0);
  });

  it('F28: a user type without binary I/O is copied as text', async () => {
    const ddl = `CREATE TYPE plain_text; CREATE FUNCTION plain_text_in(cstring) RETURNS plain_text AS 'textin' LANGUAGE internal IMMUTABLE STRICT;
      CREATE FUNCTION plain_text_out(plain_text) RETURNS cstring AS 'textout' LANGUAGE internal IMMUTABLE STRICT;
      CREATE TYPE plain_text (INPUT = plain_text_in, OUTPUT = plain_text_out, LIKE = text);
      CREATE TABLE notes (id int PRIMARY KEY, body plain_text);`;
    const db = await databases('f28', ddl);
    await source.query(`INSERT INTO notes VALUES (1, 'hello'), (2, 'world')`, [], db);
    const plan = planFor(source, target, { database: db });
    const e = endpoints(plan);
    const chunk = wholeChunk('notes', 2);
    const r = await copyChunk(e.source, e.target, {
      migration: plan.name,
      database: db,
      targetDatabase: db,
      snapshot: null,
      chunk,
    });
    assert.equal(r.rows, 2);
    assert.deepEqual((await target.query(`SELECT id, body::text AS b FROM notes ORDER BY id`, [], db)).rows, [
      { id: 1, b: 'hello' },
      { id: 2, b: 'world' },
    ]);
  });

  it('F20: role password hashes never appear in the target’s server log, whatever it logs', async () => {
    const role = `r_${randomBytes(3).toString('hex')}`;
    const db = await databases('f20', '', '');
    await source.query(
      `CREATE ROLE ${role} LOGIN PASSWORD 'correct horse battery staple'; CREATE SCHEMA owned AUTHORIZATION ${role}`,
      [],
      db,
    );
    await source.query(`SET ROLE ${role}; CREATE TABLE owned.t (id int PRIMARY KEY)`, [], db);
    const hash = (
      await source.query<{ h: string }>(`SELECT rolpassword AS h FROM pg_authid WHERE rolname = $1`, [role])
    ).rows[0]!.h;
    await target.query(`ALTER SYSTEM SET log_statement = 'all'`);
    await target.query(`SELECT pg_reload_conf()`);
    try {
      const plan = planFor(source, target, { database: db, roles: true });
      const e = endpoints(plan);
      const r = await copyRoles(e.source, e.target, db, ['owned'], db);
      assert.ok(r.created.includes(role));
      assert.equal(r.passwords, 'copied');
      const copied = (
        await target.query<{ h: string }>(`SELECT rolpassword AS h FROM pg_authid WHERE rolname = $1`, [role])
      ).rows[0]!.h;
      assert.equal(copied, hash, 'the role can log in with its password on the target');
      assert.ok(!target.log().includes(hash), 'the hash is in the target’s server log');
      assert.ok(
        !target.log().includes(hash.slice(hash.indexOf('$') + 1, hash.indexOf('$') + 20)),
        'a part of the hash is in the log',
      );
    } finally {
      await target.query(`ALTER SYSTEM RESET log_statement`);
      await target.query(`SELECT pg_reload_conf()`);
    }
  });

  it('F20: a conflict on a REPLICA IDENTITY FULL table names the table, never the row', async () => {
    const ddl = `CREATE TABLE secrets (owner text, card text); ALTER TABLE secrets REPLICA IDENTITY FULL`;
    const db = await databases('f20b', ddl);
    const plan = planFor(source, target, { database: db });
    const e = endpoints(plan);
    const { slot, publication } = replicationNames(plan.name, db);
    await createPublication(e.source, plan, db, publication);
    await source.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot], db);
    const round = () =>
      streamRound({
        source: e.source,
        target: e.target,
        plan,
        database: db,
        targetDatabase: db,
        slot,
        publication,
        sourceMajor: source.major,
        lateTables: [],
        lateHorizonLsn: null,
        maxSeconds: 2,
        fence: null,
      });
    try {
      await source.query(`INSERT INTO secrets VALUES ('alice', '4111-1111-1111-1111')`, [], db);
      await round();
      await target.query(`DELETE FROM secrets`, [], db);
      await source.query(`DELETE FROM secrets WHERE owner = 'alice'`, [], db);
      const err = await round().then(
        () => null,
        (x: Error) => x,
      );
      assert.ok(
        err instanceof PgTransitError && err.type === ErrorType.ApplyConflict,
        `a conflict, got ${err?.message}`,
      );
      assert.match(err.message, /public\.secrets/);
      assert.doesNotMatch(err.message + JSON.stringify(err.details ?? {}), /4111|alice/);
    } finally {
      await source.query(`SELECT pg_drop_replication_slot($1)`, [slot], db);
    }
  });
});
