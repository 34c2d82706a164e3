/**
 * The migration assessment (src/postgres/assess.ts) against real PostgreSQL servers:
 * each item prepared once to pass and once to fail (or warn), and the promise that
 * the assessment changes nothing on the servers it reads.
 *
 * The servers are shared by the whole file; every test works in its own database,
 * with its own roles and plan name, so the tests do not see each other's objects.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { freePort } from '../../src/dev/embedded-postgres';
import { ErrorType, PgTransitError } from '../../src/errors';
import type { CheckItem } from '../../src/model/report';
import type { Plan } from '../../src/plan/plan';
import { assessDatabase, assessServers, probeServer } from '../../src/postgres/assess';
import { findTool } from '../../src/postgres/tools';
import { envRef, planFor, startPair, startPostgres, type PgServer } from '../helpers/postgres';
import { startPgbouncer } from '../helpers/pgbouncer';

type PlanOverrides = Parameters<typeof planFor>[2];

/** The one item with this id; fails the test when it is missing or repeated. */
function itemOf(items: CheckItem[], id: string): CheckItem {
  const found = items.filter((i) => i.id === id);
  assert.equal(
    found.length,
    1,
    `expected one item ${id}, got ${found.length}: ${JSON.stringify(items.map((i) => i.id))}`,
  );
  return found[0]!;
}

function ident(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** A fresh database on each server, named the same everywhere. */
async function freshDatabase(prefix: string, ...servers: PgServer[]): Promise<string> {
  const name = ident(prefix);
  for (const s of servers) await s.query(`CREATE DATABASE ${name}`);
  return name;
}

/** A non-superuser login role with a password. */
async function loginRole(
  server: PgServer,
  prefix: string,
  attributes = '',
): Promise<{ user: string; password: string }> {
  const user = ident(prefix);
  const password = `pw-${randomBytes(6).toString('hex')}`;
  await server.query(`CREATE ROLE ${user} LOGIN ${attributes} PASSWORD '${password}'`);
  return { user, password };
}

async function assessOne(plan: Plan, database: string, id: string, targetDatabase = database): Promise<CheckItem> {
  const { items } = await assessDatabase(plan, database, targetDatabase);
  return itemOf(items, id);
}

async function serverItem(plan: Plan, id: string, databases = ['app']): Promise<CheckItem> {
  return itemOf(await assessServers(plan, databases, 0), id);
}

/** A session of `role` on `database`, as an application would hold it (closed by the caller). */
async function sessionOf(
  server: PgServer,
  database: string,
  role?: { user: string; password: string },
): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: server.url({ ...role, database }), application_name: 'shop-app' });
  await c.connect();
  return c;
}

/** Waits until `database` has no client session left (a closed client's backend exits a moment after). */
async function settled(server: PgServer, database: string): Promise<void> {
  for (let tries = 0; tries < 50; tries++) {
    const { rows } = await server.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity
        WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      [database],
    );
    if (Number(rows[0]!.n) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function rejection(p: Promise<unknown>): Promise<PgTransitError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PgTransitError, `expected a PgTransitError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a rejection');
}

describe('migration assessment on real servers', () => {
  /** PostgreSQL 15 with wal_level = logical and max_prepared_transactions = 5. */
  let source: PgServer;
  /** PostgreSQL 17, the usual target; also the "newer source" of the version test. */
  let target: PgServer;
  let stopPair: () => Promise<void>;
  /** PostgreSQL 15 with wal_level = replica. */
  let replicaSource: PgServer;
  /** PostgreSQL 17 in recovery. */
  let standby: PgServer;
  /** PostgreSQL 13: older than every source here. */
  let old: PgServer;
  /** PostgreSQL 10: the oldest source pgtransit accepts (pgoutput without TRUNCATE). */
  let oldest: PgServer;

  before(async () => {
    const [pair, replica, stby, pg13, pg10] = await Promise.all([
      startPair({ settings: { max_prepared_transactions: '5' } }),
      startPostgres({ major: 15, settings: { wal_level: 'replica' } }),
      startPostgres({ major: 17, standby: true }),
      startPostgres({ major: 13 }),
      startPostgres({ major: 10 }),
    ]);
    ({ source, target, stop: stopPair } = pair);
    replicaSource = replica;
    standby = stby;
    old = pg13;
    oldest = pg10;
    await Promise.all([
      replicaSource.query('CREATE DATABASE app'),
      old.query('CREATE DATABASE app'),
      oldest.query('CREATE DATABASE app'),
    ]);
  });

  after(async () => {
    await Promise.all([stopPair?.(), replicaSource?.stop(), standby?.stop(), old?.stop(), oldest?.stop()]);
  });

  /** A plan for the 15 -> 17 pair in a database of its own holding `setup` on the source. */
  async function prepared(
    prefix: string,
    setup: string,
    overrides: PlanOverrides = {},
  ): Promise<{ plan: Plan; db: string }> {
    const db = await freshDatabase(prefix, source, target);
    if (setup) await source.query(setup, [], db);
    return { plan: planFor(source, target, { database: db, ...overrides }), db };
  }

  describe('probeServer', () => {
    it('reports the version, user and recovery state of each side', async () => {
      const s = await probeServer({ side: 'source', ref: envRef(source.url({ database: 'app' })) });
      assert.equal(s.side, 'source');
      assert.equal(s.major, 15);
      assert.equal(s.user, 'postgres');
      assert.equal(s.database, 'app');
      assert.equal(s.port, source.port);
      assert.equal(s.inRecovery, false);
      const t = await probeServer({ side: 'target', ref: envRef(standby.url()) });
      assert.equal(t.major, 17);
      assert.equal(t.inRecovery, true);
    });

    it('rejects a wrong password with AuthenticationFailed naming the side, never the password', async () => {
      for (const side of ['source', 'target'] as const) {
        const server = side === 'source' ? source : target;
        const e = await rejection(
          probeServer({
            side,
            ref: envRef(server.url({ user: 'postgres', password: 'not-the-password', database: 'app' })),
          }),
        );
        assert.equal(e.type, ErrorType.AuthenticationFailed);
        assert.match(e.message, new RegExp(`${side} server 127\\.0\\.0\\.1:${server.port}`));
        assert.ok(!e.message.includes('not-the-password'), e.message);
        assert.equal(e.retryable, false);
      }
    });

    it('rejects a closed port with ServerUnreachable at once (connection refused, not a timeout)', async () => {
      const port = await freePort();
      const e = await rejection(
        probeServer({ side: 'target', ref: envRef(`postgresql://postgres:x@127.0.0.1:${port}/app`) }),
      );
      assert.equal(e.type, ErrorType.ServerUnreachable);
      assert.equal(e.details?.code, 'ECONNREFUSED');
      assert.match(e.message, new RegExp(`target server 127\\.0\\.0\\.1:${port}`));
    });

    it('rejects a missing database with DatabaseNotFound', async () => {
      const e = await rejection(probeServer({ side: 'source', ref: envRef(source.url({ database: 'no_such_db' })) }));
      assert.equal(e.type, ErrorType.DatabaseNotFound);
      assert.match(e.message, /source server .*database no_such_db/);
    });
  });

  describe('source.wal_level', () => {
    it('passes with wal_level = logical', async () => {
      const i = await serverItem(planFor(source, target), 'source.wal_level');
      assert.equal(i.status, 'pass');
      assert.match(i.observed, /wal_level = logical/);
    });

    it('fails with wal_level = replica in mode full+cdc', async () => {
      const i = await serverItem(planFor(replicaSource, target, { mode: 'full+cdc' }), 'source.wal_level');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /wal_level = replica/);
      assert.match(i.fix ?? '', /wal_level = 'logical'/);
    });

    it('only warns with wal_level = replica in mode full', async () => {
      const i = await serverItem(planFor(replicaSource, target, { mode: 'full' }), 'source.wal_level');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /wal_level = replica \(mode full does not need logical\)/);
    });
  });

  describe('source.replication_privilege', () => {
    it('fails for a login role without REPLICATION', async () => {
      const role = await loginRole(source, 'norepl');
      const i = await serverItem(planFor(source, target, { sourceUser: role }), 'source.replication_privilege');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, new RegExp(`${role.user}: neither REPLICATION nor superuser`));
      assert.match(i.fix ?? '', new RegExp(`ALTER ROLE ${role.user} REPLICATION`));
    });

    it('passes for a role with REPLICATION', async () => {
      const role = await loginRole(source, 'repl', 'REPLICATION');
      const i = await serverItem(planFor(source, target, { sourceUser: role }), 'source.replication_privilege');
      assert.equal(i.status, 'pass');
      assert.equal(i.observed, `${role.user}: REPLICATION`);
      assert.equal(i.fix, undefined);
    });
  });

  describe('switchover.reverse', () => {
    const reverse = { switchover: { reverse: true } };

    it('adds no item to a plan without it', async () => {
      const items = await assessServers(planFor(source, target), ['app'], 0);
      assert.deepEqual(
        items.filter((i) => /reverse/.test(i.id)),
        [],
      );
    });

    it('passes on a logical target with a free slot, for a superuser on both sides', async () => {
      for (const id of [
        'target.reverse_wal_level',
        'target.reverse_capacity',
        'target.reverse_rights',
        'source.reverse_apply_rights',
      ]) {
        const i = await serverItem(planFor(source, target, reverse), id);
        assert.equal(i.status, 'pass', `${id}: ${i.observed}`);
      }
    });

    it('fails when the target’s wal_level is not logical, naming the fix', async () => {
      const i = await serverItem(planFor(source, replicaSource, reverse), 'target.reverse_wal_level');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /wal_level = replica on the target/);
      assert.match(i.fix ?? '', /on the target: ALTER SYSTEM SET wal_level = 'logical'/);
    });

    it('fails for a target role without REPLICATION, and with roles: true without superuser', async () => {
      const role = await loginRole(target, 'revnorepl');
      const i = await serverItem(
        planFor(source, target, { ...reverse, targetUser: role, roles: true }),
        'target.reverse_rights',
      );
      assert.equal(i.status, 'fail');
      assert.match(i.observed, new RegExp(`${role.user} has no REPLICATION attribute on the target`));
      assert.match(i.observed, /roles: true/);
      assert.match(i.fix ?? '', new RegExp(`ALTER ROLE ${role.user} REPLICATION`));
    });

    it('fails for a source role that may not SET session_replication_role', async () => {
      const role = await loginRole(source, 'revnoset', 'REPLICATION');
      const i = await serverItem(
        planFor(source, target, { ...reverse, sourceUser: role }),
        'source.reverse_apply_rights',
      );
      assert.equal(i.status, 'fail');
      assert.match(i.fix ?? '', new RegExp(`GRANT SET ON PARAMETER session_replication_role TO ${role.user}`));
    });
  });

  describe('source.select_privilege', () => {
    it('fails when the source role cannot read a selected table or its sequence', async () => {
      const role = await loginRole(source, 'reader');
      const { plan, db } = await prepared('nosel', 'CREATE TABLE secret (id serial PRIMARY KEY, v text)', {
        sourceUser: role,
        mode: 'full',
      });
      const i = await assessOne(plan, db, 'source.select_privilege');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, new RegExp(`^${role.user}: `));
      assert.match(i.observed, /no SELECT on tables public\.secret/);
      assert.match(i.observed, /no SELECT on sequences public\.secret_id_seq/);
      assert.match(i.fix ?? '', new RegExp(`GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO ${role.user}`));
    });

    it('passes once the table and its sequence are granted', async () => {
      const role = await loginRole(source, 'reader');
      const { plan, db } = await prepared(
        'sel',
        `CREATE TABLE open (id serial PRIMARY KEY, v text); GRANT SELECT ON open, open_id_seq TO ${role.user}`,
        {
          sourceUser: role,
          mode: 'full',
        },
      );
      const i = await assessOne(plan, db, 'source.select_privilege');
      assert.equal(i.status, 'pass', i.observed);
      assert.match(i.observed, new RegExp(`${role.user} can read all 1 selected tables`));
    });
  });

  describe('source.publication_privilege', () => {
    it('fails in mode full+cdc for a role that does not own the selected tables, passes once it does', async () => {
      const role = await loginRole(source, 'publisher', 'REPLICATION');
      const { plan, db } = await prepared('pubpriv', 'CREATE TABLE owned_elsewhere (id int PRIMARY KEY)', {
        sourceUser: role,
      });
      await source.query(
        `GRANT CREATE ON DATABASE ${db} TO ${role.user}; GRANT SELECT ON owned_elsewhere TO ${role.user}`,
        [],
        db,
      );
      const no = await assessOne(plan, db, 'source.publication_privilege');
      assert.equal(no.status, 'fail');
      assert.match(no.observed, new RegExp(`^${role.user}: does not own public\\.owned_elsewhere`));
      assert.match(no.fix ?? '', new RegExp(`GRANT <owner> TO ${role.user}`));

      await source.query(`ALTER TABLE owned_elsewhere OWNER TO ${role.user}`, [], db);
      const yes = await assessOne(plan, db, 'source.publication_privilege');
      assert.equal(yes.status, 'pass', yes.observed);
      assert.equal(yes.observed, `${role.user} has CREATE on ${db} and owns the selected tables`);
    });
  });

  describe('source.primary_keys', () => {
    it('fails in mode full+cdc for a table without a key, with an ALTER TABLE fix naming it', async () => {
      const { plan, db } = await prepared(
        'nokey',
        'CREATE TABLE keyed (id int PRIMARY KEY); CREATE TABLE loose (a int, b text)',
      );
      const i = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /1 selected tables have no primary key or replica identity index: public\.loose;/);
      assert.ok(!i.observed.includes('keyed'), i.observed);
      assert.ok((i.fix ?? '').includes('ALTER TABLE public.loose REPLICA IDENTITY FULL;'), i.fix);
    });

    it('only warns in mode full', async () => {
      const { plan, db } = await prepared('nokeyfull', 'CREATE TABLE loose (a int, b text)', { mode: 'full' });
      const i = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /public\.loose/);
      assert.match(i.fix ?? '', /ALTER TABLE public\.loose/);
    });

    it('names a unique index on NOT NULL columns as the replica identity, and ignores one on a nullable column', async () => {
      const { plan, db } = await prepared(
        'uniq',
        `CREATE TABLE coded (code text NOT NULL, v text); CREATE UNIQUE INDEX coded_code_idx ON coded (code);
         CREATE TABLE nullable (code text, v text); CREATE UNIQUE INDEX nullable_code_idx ON nullable (code);`,
      );
      const i = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(i.status, 'fail');
      assert.match(i.fix ?? '', /ALTER TABLE public\.coded REPLICA IDENTITY USING INDEX coded_code_idx;/);
      assert.ok((i.fix ?? '').includes('ALTER TABLE public.nullable REPLICA IDENTITY FULL;'), i.fix);
      assert.ok(!(i.fix ?? '').includes('nullable_code_idx'), i.fix);
    });

    it('warns for REPLICA IDENTITY FULL without a key', async () => {
      const { plan, db } = await prepared(
        'full_ident',
        'CREATE TABLE wide (a int, b text); ALTER TABLE wide REPLICA IDENTITY FULL',
      );
      const i = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /REPLICA IDENTITY FULL \(no key\): public\.wide/);
    });

    it('fails in mode full+cdc for a PRIMARY KEY DEFERRABLE (no replica identity), with one exact fix per table', async () => {
      const { plan, db } = await prepared(
        'deferrable',
        `CREATE TABLE items (id int PRIMARY KEY DEFERRABLE INITIALLY IMMEDIATE, code text NOT NULL, v text);
         CREATE UNIQUE INDEX items_code_idx ON items (code);
         CREATE TABLE slots (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
         CREATE TABLE tags (name text NOT NULL, CONSTRAINT tags_name_key UNIQUE (name) DEFERRABLE);
         CREATE TABLE keyed (id int PRIMARY KEY, pos int UNIQUE DEFERRABLE);
         INSERT INTO items VALUES (1, 'a', 'x'); INSERT INTO slots VALUES (1, 'x'); INSERT INTO tags VALUES ('x');`,
      );
      // What the item guards against: once a publication exists, the application's UPDATE fails on the source.
      await source.query('CREATE PUBLICATION probe FOR TABLE items, slots, tags, keyed', [], db);
      await assert.rejects(
        source.query(`UPDATE items SET v = 'y'`, [], db),
        /"items" .*does not have a replica identity/,
      );

      const i = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /^3 selected tables have no primary key or replica identity index: /);
      assert.match(i.observed, /public\.items \(deferrable primary key items_pkey\), /);
      assert.match(i.observed, /public\.slots \(deferrable primary key slots_pkey\), /);
      assert.match(i.observed, /public\.tags;/);
      assert.ok(!i.observed.includes('keyed'), i.observed);
      assert.match(
        i.observed,
        /UPDATE and DELETE on these tables would fail on the source as soon as the migration starts/,
      );
      const fix = i.fix ?? '';
      const statements = [
        'ALTER TABLE public.items REPLICA IDENTITY USING INDEX items_code_idx;',
        'ALTER TABLE public.slots REPLICA IDENTITY FULL;',
        'ALTER TABLE public.tags REPLICA IDENTITY FULL;',
      ];
      for (const statement of statements) assert.ok(fix.includes(statement), fix);
      assert.ok(!fix.includes('tags_name_key'), fix);
      assert.match(fix, /NOT DEFERRABLE/);

      // The fix is exact: applied as given, the source accepts the writes and the item no longer fails.
      await source.query(statements.join(' '), [], db);
      await source.query(`UPDATE items SET v = 'y'; UPDATE slots SET v = 'y'; DELETE FROM tags`, [], db);
      const fixed = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(fixed.status, 'warn', fixed.observed);
      assert.match(fixed.observed, /REPLICA IDENTITY FULL \(no key\): public\.slots, public\.tags;/);
    });

    it('fails for REPLICA IDENTITY NOTHING, and lists one statement per table up to the list limit', async () => {
      const loose = Array.from({ length: 12 }, (_, n) => `CREATE TABLE loose_${String(n).padStart(2, '0')} (v text);`);
      const { plan, db } = await prepared(
        'nothing',
        `CREATE TABLE hushed (id int PRIMARY KEY, v text); ALTER TABLE hushed REPLICA IDENTITY NOTHING;
         CREATE TABLE "Odd Name" (v text); ${loose.join(' ')}`,
      );
      const i = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(i.status, 'fail');
      assert.match(
        i.observed,
        /^14 selected tables have no primary key or replica identity index: public\."Odd Name", /,
      );
      assert.match(i.observed, /public\.hushed \(REPLICA IDENTITY NOTHING\)/);
      assert.match(i.observed, /and 4 more; UPDATE and DELETE on these tables would fail on the source as soon as the/);
      const fix = i.fix ?? '';
      assert.ok(fix.includes('ALTER TABLE public."Odd Name" REPLICA IDENTITY FULL;'), fix);
      assert.ok(fix.includes('ALTER TABLE public.loose_00 REPLICA IDENTITY FULL;'), fix);
      assert.equal(fix.match(/ALTER TABLE/g)?.length, 10, fix);
      assert.match(fix, /and 4 more tables/);
      // The table with a key only needs its default identity back.
      const { plan: plan2, db: db2 } = await prepared(
        'nothing_pk',
        'CREATE TABLE quiet (id int PRIMARY KEY, v text); ALTER TABLE quiet REPLICA IDENTITY NOTHING;',
      );
      const q = await assessOne(plan2, db2, 'source.primary_keys');
      assert.equal(q.status, 'fail');
      assert.match(
        q.observed,
        /^1 selected tables have no primary key or replica identity index: public\.quiet \(REPLICA IDENTITY NOTHING\);/,
      );
      assert.ok((q.fix ?? '').startsWith('ALTER TABLE public.quiet REPLICA IDENTITY DEFAULT;'), q.fix);
    });

    it('passes when every table has a primary key or a replica identity index', async () => {
      const { plan, db } = await prepared(
        'keys',
        `CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (code text NOT NULL); CREATE UNIQUE INDEX b_code ON b (code);
         ALTER TABLE b REPLICA IDENTITY USING INDEX b_code;`,
      );
      const i = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(i.status, 'pass', i.observed);
      assert.match(i.observed, /all 2 selected tables/);
    });
  });

  describe('source.unlogged_tables', () => {
    const setup = 'CREATE TABLE durable (id int PRIMARY KEY); CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY)';

    it('fails in mode full+cdc', async () => {
      const { plan, db } = await prepared('unlogged', setup);
      const i = await assessOne(plan, db, 'source.unlogged_tables');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /unlogged tables: public\.scratch \(/);
      assert.ok(!i.observed.includes('durable'), i.observed);
      assert.match(i.fix ?? '', /SET LOGGED/);
    });

    it('warns in mode full', async () => {
      const { plan, db } = await prepared('unlogged_full', setup, { mode: 'full' });
      const i = await assessOne(plan, db, 'source.unlogged_tables');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /public\.scratch/);
    });

    it('passes when the unlogged table is excluded', async () => {
      const { plan, db } = await prepared('unlogged_ex', setup, { exclude: { tables: ['public.scratch'] } });
      const i = await assessOne(plan, db, 'source.unlogged_tables');
      assert.equal(i.status, 'pass', i.observed);
    });
  });

  describe('source.large_objects', () => {
    const setup =
      "CREATE TABLE docs (id int PRIMARY KEY, blob oid); INSERT INTO docs VALUES (1, lo_from_bytea(0, 'hello'))";

    it('warns in mode full+cdc that change capture does not follow large objects', async () => {
      const { plan, db } = await prepared('lo', setup);
      const i = await assessOne(plan, db, 'source.large_objects');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, new RegExp(`^1 large objects in ${db}: copied by the full load; change capture`));
      assert.match(
        i.observed,
        /written in place \(lo_put, lo_write, lo_truncate\) after the full load keeps its old contents/,
      );
      assert.match(i.fix ?? '', /switchover.verify: checksum compares their contents/);
    });

    it('passes in mode full (the full load copies them)', async () => {
      const { plan, db } = await prepared('lo_full', setup, { mode: 'full' });
      const i = await assessOne(plan, db, 'source.large_objects');
      assert.equal(i.status, 'pass', i.observed);
      assert.equal(i.observed, `1 large objects in ${db}, copied by the full load`);
    });

    it('passes without large objects', async () => {
      const { plan, db } = await prepared('nolo', 'CREATE TABLE docs (id int PRIMARY KEY, body bytea)');
      const i = await assessOne(plan, db, 'source.large_objects');
      assert.equal(i.status, 'pass');
      assert.equal(i.observed, 'no large objects');
    });

    it('a database holding only large objects passes plan.selection', async () => {
      const { plan, db } = await prepared('lo_only', "SELECT lo_from_bytea(0, 'a'), lo_from_bytea(0, 'b')");
      const r = await assessDatabase(plan, db, db);
      const i = itemOf(r.items, 'plan.selection');
      assert.equal(i.status, 'pass', i.observed);
      assert.equal(i.observed, 'no tables; 2 large objects');
      assert.equal(r.selectedTables, 0);
    });
  });

  describe('source.self_referencing_views', () => {
    it('fails on a view that reads itself, and passes once it is left out', async () => {
      const { plan, db } = await prepared(
        'selfview',
        `CREATE TABLE t (id int PRIMARY KEY); CREATE VIEW "Loop" AS SELECT * FROM t;
         CREATE OR REPLACE VIEW "Loop" AS SELECT * FROM "Loop"; CREATE VIEW fine AS SELECT * FROM t`,
      );
      const i = await assessOne(plan, db, 'source.self_referencing_views');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /^views that read themselves: public\."Loop";/);
      assert.equal(i.fix?.startsWith('DROP VIEW public."Loop";'), true, i.fix);
      const without = await assessOne(
        { ...plan, exclude: { ...plan.exclude, tables: ['public.Loop'] } },
        db,
        'source.self_referencing_views',
      );
      assert.equal(without.status, 'pass', without.observed);
    });
  });

  describe('source.c_functions', () => {
    it('warns about a C-language function that is not part of an extension', async () => {
      const { plan, db } = await prepared(
        'cfunc',
        `CREATE TABLE t (id int PRIMARY KEY);
         CREATE FUNCTION public.parse_pairs(cstring) RETURNS cstring AS '$libdir/hstore', 'hstore_in' LANGUAGE c STRICT`,
      );
      const i = await assessOne(plan, db, 'source.c_functions');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /C-language functions outside extensions: public\.parse_pairs;/);
    });

    it('passes when C functions come from an extension', async () => {
      const { plan, db } = await prepared('cext', 'CREATE EXTENSION hstore; CREATE TABLE t (id int PRIMARY KEY)');
      const i = await assessOne(plan, db, 'source.c_functions');
      assert.equal(i.status, 'pass', i.observed);
    });
  });

  describe('source.replication_names', () => {
    it('passes while the slot and publication names are free, fails once a slot or publication takes them', async () => {
      const { plan, db } = await prepared('names', 'CREATE TABLE t (id int PRIMARY KEY)');
      // The names a migration creates, spelled out here so a change to their form shows up.
      const slot = `pgtransit_${plan.name.replace(/-/g, '_')}_${db}`;

      const free = await assessOne(plan, db, 'source.replication_names');
      assert.equal(free.status, 'pass');
      assert.match(free.observed, new RegExp(`${slot} are free`));

      await source.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot], db);
      try {
        const taken = await assessOne(plan, db, 'source.replication_names');
        assert.equal(taken.status, 'fail');
        assert.equal(taken.observed, `replication slot ${slot} already exists`);
        assert.match(taken.fix ?? '', new RegExp(`pg_drop_replication_slot\\('${slot}'\\)`));
      } finally {
        await source.query('SELECT pg_drop_replication_slot($1)', [slot]);
      }

      await source.query(`CREATE PUBLICATION ${slot} FOR TABLE t`, [], db);
      const pub = await assessOne(plan, db, 'source.replication_names');
      assert.equal(pub.status, 'fail');
      assert.equal(pub.observed, `publication ${slot} already exists`);
      assert.match(pub.fix ?? '', new RegExp(`DROP PUBLICATION ${slot}`));
    });
  });

  describe('plan.selection', () => {
    const setup = 'CREATE TABLE orders (id int PRIMARY KEY); CREATE TABLE customers (id int PRIMARY KEY)';

    it('passes when every pattern matches', async () => {
      const { plan, db } = await prepared('sel_ok', setup, { include: { tables: ['public.orders', 'public.cust*'] } });
      const r = await assessDatabase(plan, db, db);
      const i = itemOf(r.items, 'plan.selection');
      assert.equal(i.status, 'pass');
      assert.equal(r.selectedTables, 2);
      assert.ok(r.selectedBytes > 0);
    });

    it('warns about an include pattern that matches nothing', async () => {
      const { plan, db } = await prepared('sel_typo', setup, {
        include: { tables: ['public.orders', 'public.ordres'] },
      });
      const r = await assessDatabase(plan, db, db);
      const i = itemOf(r.items, 'plan.selection');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /^1 tables selected/);
      assert.match(i.observed, /include\.tables\.1 = "public\.ordres"/);
      assert.equal(r.selectedTables, 1);
    });

    it('fails when nothing is selected', async () => {
      const { plan, db } = await prepared('sel_none', setup, { include: { schemas: ['sales'] } });
      const r = await assessDatabase(plan, db, db);
      const i = itemOf(r.items, 'plan.selection');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, new RegExp(`no table of database ${db} matches .* \\(2 tables exist\\)`));
      assert.equal(r.selectedTables, 0);
    });
  });

  describe('partitions follow their root', () => {
    const setup = `CREATE TABLE ev (id bigint NOT NULL, at date NOT NULL, v text) PARTITION BY RANGE (at);
       CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
       CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
       CREATE UNIQUE INDEX ev_2025_id ON ev_2025 (id);
       ALTER TABLE ev_2026 ADD PRIMARY KEY (id);
       CREATE TABLE other (a int);
       INSERT INTO ev VALUES (1, '2025-05-01', 'a'), (2, '2026-05-01', 'b');`;

    it('include.tables naming the root selects its partitions, and a partition without key fails the key check', async () => {
      const { plan, db } = await prepared('part_inc', setup, { include: { tables: ['public.ev'] } });
      // The load and the publication select by root: this is what the application meets on the source.
      await source.query('CREATE PUBLICATION probe FOR TABLE ev WITH (publish_via_partition_root = true)', [], db);
      await assert.rejects(
        source.query(`UPDATE ev SET v = 'x'`, [], db),
        /"ev_2025" .*does not have a replica identity/,
      );

      const r = await assessDatabase(plan, db, db);
      assert.equal(r.selectedTables, 3);
      assert.equal(itemOf(r.items, 'plan.selection').status, 'pass');
      const i = itemOf(r.items, 'source.primary_keys');
      assert.equal(i.status, 'fail');
      assert.match(
        i.observed,
        /^1 selected tables have no primary key or replica identity index: public\.ev_2025 \(partition of public\.ev\);/,
      );
      assert.ok(!i.observed.includes('ev_2026') && !i.observed.includes('other'), i.observed);
      assert.ok((i.fix ?? '').startsWith('ALTER TABLE public.ev_2025 REPLICA IDENTITY USING INDEX ev_2025_id;'), i.fix);

      // A root without a key is fine once every leaf has one.
      await source.query('ALTER TABLE public.ev_2025 REPLICA IDENTITY USING INDEX ev_2025_id', [], db);
      await source.query(`UPDATE ev SET v = 'x'`, [], db);
      const fixed = await assessOne(plan, db, 'source.primary_keys');
      assert.equal(fixed.status, 'pass', fixed.observed);
      assert.match(fixed.observed, /^all 2 selected tables /);
    });

    it('exclude.tables naming a partition does not exclude it: plan.selection says so, the key check covers it', async () => {
      const { plan, db } = await prepared('part_exc', setup, {
        exclude: { tables: ['public.ev_2025', 'public.other'] },
      });
      const r = await assessDatabase(plan, db, db);
      assert.equal(r.selectedTables, 3);
      const sel = itemOf(r.items, 'plan.selection');
      assert.equal(sel.status, 'warn');
      assert.match(
        sel.observed,
        /the plan's exclude names partitions, which follow their root: public\.ev_2025 \(partition of public\.ev\) is migrated with public\.ev/,
      );
      assert.ok((sel.fix ?? '').includes('ALTER TABLE public.ev DETACH PARTITION public.ev_2025;'), sel.fix);
      const keys = itemOf(r.items, 'source.primary_keys');
      assert.equal(keys.status, 'fail');
      assert.match(keys.observed, /: public\.ev_2025 \(partition of public\.ev\);/);
      assert.ok((keys.fix ?? '').includes('ALTER TABLE public.ev_2025 REPLICA IDENTITY USING INDEX ev_2025_id;'));

      // Naming only a partition selects nothing: the partition follows its root, which is not included.
      const alone = planFor(source, target, { database: db, include: { tables: ['public.ev_2026'] } });
      const none = await assessOne(alone, db, 'plan.selection');
      assert.equal(none.status, 'fail');
      assert.match(
        none.observed,
        /public\.ev_2026 \(partition of public\.ev\) follows its root, which is not selected/,
      );
      assert.match(none.fix ?? '', /include public\.ev/);
    });
  });

  describe('source.version', () => {
    it('warns for a PostgreSQL 10 source in mode full+cdc: pgoutput captures TRUNCATE from 11 on', async () => {
      const i = await serverItem(planFor(oldest, target), 'source.version');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /^PostgreSQL 10\.\d+: pgoutput does not capture TRUNCATE before 11/);
      assert.match(i.observed, /switchover's verification would then refuse/);
      assert.match(i.fix ?? '', /upgrade the source to PostgreSQL 11 or later/);
      const full = await serverItem(planFor(oldest, target, { mode: 'full' }), 'source.version');
      assert.equal(full.status, 'pass', full.observed);
      assert.equal((await serverItem(planFor(source, target), 'source.version')).status, 'pass');
    });

    it('runs every per-database check on a 10 source (partitions there have no root key)', async () => {
      const db = await freshDatabase('ten', oldest, target);
      await oldest.query(
        `CREATE TABLE ev (id int NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
         CREATE TABLE ev_a PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         CREATE TABLE ev_b PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
         ALTER TABLE ev_b ADD PRIMARY KEY (id);`,
        [],
        db,
      );
      const r = await assessDatabase(
        planFor(oldest, target, { database: db, include: { tables: ['public.ev'] } }),
        db,
        db,
      );
      assert.equal(r.selectedTables, 3);
      const i = itemOf(r.items, 'source.primary_keys');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /: public\.ev_a \(partition of public\.ev\);/);
      assert.ok((i.fix ?? '').startsWith('ALTER TABLE public.ev_a REPLICA IDENTITY FULL;'), i.fix);
      for (const id of [
        'source.fence_rights',
        'source.read_only_overrides',
        'source.replica_triggers',
        'source.encoding',
      ])
        itemOf(r.items, id);
    });
  });

  describe('target.replication_role', () => {
    it('fails for a target role that may not SET session_replication_role, passes after GRANT SET ON PARAMETER', async () => {
      const role = await loginRole(target, 'applier');
      const plan = planFor(source, target, { targetUser: role });
      const no = await serverItem(plan, 'target.replication_role');
      assert.equal(no.status, 'fail');
      assert.match(no.observed, new RegExp(`^${role.user} may not SET session_replication_role`));
      assert.ok(no.fix?.startsWith(`GRANT SET ON PARAMETER session_replication_role TO ${role.user};`), no.fix);

      await target.query(`GRANT SET ON PARAMETER session_replication_role TO ${role.user}`);
      const yes = await serverItem(plan, 'target.replication_role');
      assert.equal(yes.status, 'pass', yes.observed);
      assert.equal(yes.observed, `${role.user} may SET session_replication_role (granted SET ON PARAMETER)`);
      const superuser = await serverItem(planFor(source, target), 'target.replication_role');
      assert.equal(superuser.observed, 'postgres may SET session_replication_role (superuser)');
      const full = await assessServers(planFor(source, target, { targetUser: role, mode: 'full' }), ['app'], 0);
      assert.equal(full.filter((i) => i.id === 'target.replication_role').length, 0);
    });

    it('fails on a 13 target for a role that is not a superuser', async () => {
      const role = await loginRole(old, 'applier');
      const i = await serverItem(planFor(source, old, { targetUser: role }), 'target.replication_role');
      assert.equal(i.status, 'fail');
      assert.match(
        i.observed,
        new RegExp(`^${role.user} may not SET session_replication_role .*only a superuser may before 15`),
      );
      assert.ok(i.fix?.startsWith(`ALTER ROLE ${role.user} SUPERUSER;`), i.fix);
    });
  });

  describe('plan.pooler', () => {
    it('passes with the entry and its file; fails naming an unknown entry, an admin console that does not answer, a file it cannot rewrite', async () => {
      const { plan, db } = await prepared('pooler', 'CREATE TABLE t (id int PRIMARY KEY)');
      const bouncer = await startPgbouncer(source, [db]);
      try {
        const withPooler = (pooler: NonNullable<Plan['switchover']['pooler']>) =>
          planFor(source, target, { name: plan.name, database: db, switchover: { pooler } });
        const admin = envRef(bouncer.adminUrl);
        const ok = await assessOne(withPooler({ admin, configFile: bouncer.databasesFile }), db, 'plan.pooler');
        assert.equal(ok.status, 'pass', ok.observed);
        assert.match(ok.observed, new RegExp(`PgBouncer entry ${db} points at .*:${source.port}/${db}`));
        const unknown = await assessOne(
          withPooler({ admin, configFile: bouncer.databasesFile, databases: { [db]: 'shop' } }),
          db,
          'plan.pooler',
        );
        assert.equal(unknown.status, 'fail');
        assert.match(unknown.observed, /PgBouncer has no database entry shop/);
        assert.match(unknown.fix ?? '', /switchover\.pooler\.databases/);
        const silent = await assessOne(
          withPooler({
            admin: envRef(`postgres://postgres@127.0.0.1:${await freePort()}/pgbouncer`),
            configFile: bouncer.databasesFile,
          }),
          db,
          'plan.pooler',
        );
        assert.equal(silent.status, 'fail');
        assert.match(silent.observed, /admin console \(switchover\.pooler\.admin\) did not answer/);
        const nofile = await assessOne(
          withPooler({ admin, configFile: '/nonexistent/databases.ini' }),
          db,
          'plan.pooler',
        );
        assert.equal(nofile.status, 'fail');
        assert.match(
          nofile.observed,
          /configFile \/nonexistent\/databases\.ini cannot be read and written on the worker \(ENOENT\)/,
        );
      } finally {
        await bouncer.stop();
      }
    });
  });

  describe('source.ddl_capture', () => {
    it('names what cdc.ddl: replicate installs; asked for, fails without a superuser or before 14; unset, warns and falls back', async () => {
      const { plan, db } = await prepared('ddlcap', 'CREATE TABLE t (id int PRIMARY KEY)');
      const schema = `pgtransit_ddl_${plan.name.replace(/-/g, '_')}_${db}`;
      const ok = await assessOne(plan, db, 'source.ddl_capture');
      assert.equal(ok.status, 'pass', ok.observed);
      assert.match(
        ok.observed,
        new RegExp(`installs schema ${schema} .*event triggers ${schema}_end \\(ddl_command_end\\)`),
      );

      const role = await loginRole(source, 'ddlcap', 'REPLICATION');
      const asked = { ddl: 'replicate' as const };
      const plain = await assessOne(
        planFor(source, target, { database: db, sourceUser: role, cdc: asked }),
        db,
        'source.ddl_capture',
      );
      assert.equal(plain.status, 'fail');
      assert.match(plain.observed, new RegExp(`event triggers need a superuser and ${role.user} is not one$`));
      assert.match(plain.fix ?? '', /cdc\.ddl: stop/);
      // Unset: the migration runs, DDL stopping as drift, and the assessment says so.
      const unset = await assessOne(
        planFor(source, target, { database: db, sourceUser: role }),
        db,
        'source.ddl_capture',
      );
      assert.equal(unset.status, 'warn');
      assert.match(
        unset.observed,
        /is not one; cdc\.ddl is unset, so DDL on the source will stop that table as schema drift/,
      );

      const stop = await assessOne(
        planFor(source, target, { database: db, sourceUser: role, cdc: { ddl: 'stop' } }),
        db,
        'source.ddl_capture',
      );
      assert.equal(stop.status, 'pass');
      assert.match(stop.observed, /nothing installed on the source/);

      const v13 = await assessOne(planFor(old, target, { database: 'app', cdc: asked }), 'app', 'source.ddl_capture');
      assert.equal(v13.status, 'fail');
      assert.match(v13.observed, /the source is 13$/);
      assert.match(v13.fix ?? '', /cdc\.ddl: stop/);
      const v13unset = await assessOne(planFor(old, target, { database: 'app' }), 'app', 'source.ddl_capture');
      assert.equal(v13unset.status, 'warn');
      assert.match(v13unset.observed, /the source is 13; cdc\.ddl is unset/);
    });
  });

  describe('source.fence_rights', () => {
    it('fails without ownership of the database, warns without pg_signal_backend naming who has sessions', async () => {
      const role = await loginRole(source, 'fencer', 'REPLICATION');
      const shopper = await loginRole(source, 'shopper');
      const { plan, db } = await prepared('fence', 'CREATE TABLE t (id int PRIMARY KEY)', { sourceUser: role });
      const no = await assessOne(plan, db, 'source.fence_rights');
      assert.equal(no.status, 'fail');
      assert.match(
        no.observed,
        new RegExp(
          `^${role.user} does not own database ${db}: the switchover's ALTER DATABASE ${db} SET default_transaction_read_only`,
        ),
      );
      assert.ok(no.fix?.startsWith(`ALTER DATABASE ${db} OWNER TO ${role.user};`), no.fix);

      await source.query(`ALTER DATABASE ${db} OWNER TO ${role.user}`);
      await settled(source, db);
      const app = await sessionOf(source, db, shopper);
      try {
        const warn = await assessOne(plan, db, 'source.fence_rights');
        assert.equal(warn.status, 'warn');
        assert.match(warn.observed, new RegExp(`^${role.user} may not pg_terminate_backend other roles' sessions`));
        assert.match(warn.observed, new RegExp(`sessions in ${db} now that it could not end: ${shopper.user}`));
        assert.equal(warn.fix, `GRANT pg_signal_backend TO ${role.user};`);

        await source.query(`GRANT pg_signal_backend TO ${role.user}`);
        const admin = await sessionOf(source, db);
        try {
          const su = await assessOne(plan, db, 'source.fence_rights');
          assert.equal(su.status, 'warn');
          assert.match(su.observed, /superusers' sessions, which only a superuser can end: postgres/);
          assert.ok(!su.observed.includes(shopper.user), su.observed);
        } finally {
          await admin.end();
        }
      } finally {
        await app.end();
      }
      await settled(source, db);
      const yes = await assessOne(plan, db, 'source.fence_rights');
      assert.equal(yes.status, 'pass', yes.observed);
      assert.equal(yes.observed, `${role.user} owns ${db} and is a member of pg_signal_backend`);
    });
  });

  describe('source.read_only_overrides', () => {
    it('warns about roles whose default_transaction_read_only = off would keep them writable through the fence', async () => {
      const { plan, db } = await prepared('rooverride', 'CREATE TABLE t (id int PRIMARY KEY)');
      const everywhere = await loginRole(source, 'rw_all');
      const here = await loginRole(source, 'rw_here');
      const fixed = await loginRole(source, 'rw_fixed');
      await source.query(
        `ALTER ROLE ${everywhere.user} SET default_transaction_read_only = off;
         ALTER ROLE ${here.user} IN DATABASE ${db} SET default_transaction_read_only = false;
         ALTER ROLE ${fixed.user} SET default_transaction_read_only = off;
         ALTER ROLE ${fixed.user} IN DATABASE ${db} SET default_transaction_read_only = on;`,
      );
      try {
        // The premise: with the database read-only by default (the fence), their new sessions still write.
        await source.query(`ALTER DATABASE ${db} SET default_transaction_read_only = on`);
        const s = await sessionOf(source, db, here);
        try {
          const { rows } = await s.query<{ default_transaction_read_only: string }>(
            'SHOW default_transaction_read_only',
          );
          assert.equal(rows[0]!.default_transaction_read_only, 'off');
        } finally {
          await s.end();
        }
        await source.query(`ALTER DATABASE ${db} RESET default_transaction_read_only`);

        const i = await assessOne(plan, db, 'source.read_only_overrides');
        assert.equal(i.status, 'warn');
        assert.match(i.observed, /^2 roles have default_transaction_read_only = off for /);
        assert.ok(i.observed.includes(`${everywhere.user} (every database)`), i.observed);
        assert.ok(i.observed.includes(`${here.user} (in ${db})`), i.observed);
        assert.ok(!i.observed.includes(fixed.user), i.observed);
        assert.match(i.observed, /their sessions would stay writable through the switchover's fence/);
        const fix = i.fix ?? '';
        assert.ok(fix.includes(`ALTER ROLE ${everywhere.user} RESET default_transaction_read_only;`), fix);
        assert.ok(fix.includes(`ALTER ROLE ${here.user} IN DATABASE ${db} RESET default_transaction_read_only;`), fix);
        assert.ok(fix.includes(`ALTER ROLE <role> IN DATABASE ${db} SET default_transaction_read_only = on`), fix);
      } finally {
        await source.query(
          `ALTER ROLE ${everywhere.user} RESET default_transaction_read_only;
           ALTER ROLE ${fixed.user} RESET default_transaction_read_only;`,
        );
      }
      await source.query(`ALTER ROLE ${here.user} IN DATABASE ${db} RESET default_transaction_read_only`);
      const none = await assessOne(plan, db, 'source.read_only_overrides');
      assert.equal(none.status, 'pass', none.observed);
    });
  });

  describe('source.prepared_transactions', () => {
    it('warns about a prepared transaction in the database, naming it and the tables it locks', async () => {
      const { plan, db } = await prepared('prepared', 'CREATE TABLE ledger (id int PRIMARY KEY)');
      const gid = ident('xa');
      const c = await sessionOf(source, db);
      try {
        await c.query(`BEGIN; INSERT INTO ledger VALUES (1); PREPARE TRANSACTION '${gid}'`);
      } finally {
        await c.end();
      }
      try {
        const i = await assessOne(plan, db, 'source.prepared_transactions');
        assert.equal(i.status, 'warn');
        assert.match(
          i.observed,
          new RegExp(`^1 prepared transactions in ${db}: '${gid}' by postgres \\(\\d+s, locks public\\.ledger\\)`),
        );
        assert.match(i.observed, /the switchover refuses while any exist/);
        assert.ok(i.fix?.startsWith(`COMMIT PREPARED '${gid}'; or ROLLBACK PREPARED '${gid}';`), i.fix);
      } finally {
        await source.query(`ROLLBACK PREPARED '${gid}'`, [], db);
      }
      const none = await assessOne(plan, db, 'source.prepared_transactions');
      assert.equal(none.status, 'pass', none.observed);
      assert.equal(none.observed, `max_prepared_transactions = 5; no prepared transaction in ${db}`);
      const off = await assessOne(planFor(replicaSource, target), 'app', 'source.prepared_transactions');
      assert.equal(off.status, 'pass', off.observed);
      assert.equal(off.observed, 'max_prepared_transactions = 0: no transaction can be prepared');
    });
  });

  describe('source.replica_triggers', () => {
    const setup = `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.n := coalesce(NEW.n, 0) + 1; RETURN NEW; END$$;
       CREATE TABLE counters (id int PRIMARY KEY, n int);
       CREATE TRIGGER counters_touch BEFORE INSERT OR UPDATE ON counters FOR EACH ROW EXECUTE PROCEDURE touch();
       ALTER TABLE counters ENABLE ALWAYS TRIGGER counters_touch;
       CREATE TABLE audit (id int PRIMARY KEY, n int);
       CREATE TRIGGER "Audit Touch" BEFORE INSERT ON audit FOR EACH ROW EXECUTE PROCEDURE touch();
       ALTER TABLE audit ENABLE REPLICA TRIGGER "Audit Touch";
       CREATE TABLE plain (id int PRIMARY KEY, n int REFERENCES counters);
       CREATE TRIGGER plain_touch BEFORE INSERT ON plain FOR EACH ROW EXECUTE PROCEDURE touch();`;

    it('fails in mode full+cdc for ALWAYS and REPLICA triggers, with ENABLE TRIGGER as the fix', async () => {
      const { plan, db } = await prepared('trig', setup);
      const i = await assessOne(plan, db, 'source.replica_triggers');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /^2 triggers on selected tables fire while changes are applied/);
      assert.ok(i.observed.includes('public.audit "Audit Touch" (ENABLE REPLICA)'), i.observed);
      assert.ok(i.observed.includes('public.counters counters_touch (ENABLE ALWAYS)'), i.observed);
      assert.ok(!i.observed.includes('plain'), i.observed);
      const fix = i.fix ?? '';
      assert.ok(
        fix.startsWith(
          'ALTER TABLE public.audit ENABLE TRIGGER "Audit Touch"; ALTER TABLE public.counters ENABLE TRIGGER counters_touch;',
        ),
        fix,
      );
    });

    it('warns in mode full, and passes once the triggers are back to origin-only', async () => {
      const { plan, db } = await prepared('trig_full', setup, { mode: 'full' });
      const i = await assessOne(plan, db, 'source.replica_triggers');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /public\.counters counters_touch/);
      await source.query(
        'ALTER TABLE public.audit ENABLE TRIGGER "Audit Touch"; ALTER TABLE public.counters ENABLE TRIGGER counters_touch;',
        [],
        db,
      );
      const cdc = await assessOne(planFor(source, target, { database: db }), db, 'source.replica_triggers');
      assert.equal(cdc.status, 'pass', cdc.observed);
    });
  });

  describe('source.encoding', () => {
    it('warns for a SQL_ASCII source in mode full+cdc, naming the columns whose 8-bit text change capture cannot carry', async () => {
      const db = ident('ascii');
      await source.query(`CREATE DATABASE ${db} ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
      await target.query(`CREATE DATABASE ${db} ENCODING 'SQL_ASCII' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'`);
      await source.query(
        `CREATE TABLE docs (id int PRIMARY KEY, title text, code char(3), meta json, tags varchar(20)[], n numeric);
         INSERT INTO docs VALUES (1, E'caf\\351', 'abc', E'{"a": "caf\\351"}', ARRAY['x'], 1);`,
        [],
        db,
      );
      const plan = planFor(source, target, { database: db });
      const i = await assessOne(plan, db, 'source.encoding');
      assert.equal(i.status, 'warn');
      assert.match(
        i.observed,
        new RegExp(
          `^${db} is SQL_ASCII: change capture carries non-ASCII bytes only in text, varchar, char and name columns`,
        ),
      );
      assert.ok(i.observed.includes('public.docs.meta (json), public.docs.tags (character varying(20)[])'), i.observed);
      assert.ok(!/title|code|\.n /.test(i.observed), i.observed);
      const check = "SELECT count(*) FROM public.docs WHERE meta::text ~ '[\\x80-\\xff]';";
      assert.ok(i.fix?.startsWith(check), i.fix);
      // The statement finds the row whose json holds a non-ASCII byte.
      const { rows } = await source.query<{ count: string }>(check, [], db);
      assert.equal(rows[0]!.count, '1');

      const full = await assessOne(planFor(source, target, { database: db, mode: 'full' }), db, 'source.encoding');
      assert.equal(full.status, 'pass', full.observed);
      const utf8 = await assessOne(planFor(source, target), 'app', 'source.encoding');
      assert.equal(utf8.status, 'pass', utf8.observed);
      assert.equal(utf8.observed, 'app is UTF8');
    });
  });

  describe('target.empty', () => {
    it('fails when a selected table already exists on the target', async () => {
      const { plan, db } = await prepared(
        'clash',
        'CREATE TABLE accounts (id int PRIMARY KEY); CREATE TABLE fresh (id int PRIMARY KEY)',
      );
      await target.query('CREATE TABLE accounts (id int)', [], db);
      const i = await assessOne(plan, db, 'target.empty');
      assert.equal(i.status, 'fail');
      assert.equal(i.observed, '1 of the selected tables already exist on the target: public.accounts');
      assert.match(i.fix ?? '', /mapping\.tables/);
    });

    it('passes when mapping.tables renames the table away from the existing one', async () => {
      const { plan, db } = await prepared('clash_map', 'CREATE TABLE accounts (id int PRIMARY KEY)', {
        mapping: { tables: { 'public.accounts': 'public.accounts_migrated' } },
      });
      await target.query('CREATE TABLE accounts (id int)', [], db);
      const i = await assessOne(plan, db, 'target.empty');
      assert.equal(i.status, 'pass', i.observed);
    });
  });

  describe('pair.extensions', () => {
    it('fails for an extension the target cannot install (adminpack is gone in 17)', async () => {
      const { plan, db } = await prepared(
        'ext_missing',
        'CREATE EXTENSION adminpack; CREATE EXTENSION hstore; CREATE TABLE t (id int PRIMARY KEY)',
      );
      const i = await assessOne(plan, db, 'pair.extensions');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /not available on the target: adminpack \d/);
      assert.ok(!i.observed.includes('hstore'), i.observed);
      assert.match(i.fix ?? '', /pg_available_extensions/);
    });

    it('passes for an extension the target has', async () => {
      const { plan, db } = await prepared(
        'ext_ok',
        'CREATE EXTENSION hstore; CREATE TABLE t (id int PRIMARY KEY, h hstore)',
      );
      const i = await assessOne(plan, db, 'pair.extensions');
      assert.equal(i.status, 'pass', i.observed);
      assert.match(i.observed, /hstore/);
    });
  });

  describe('pair.encoding', () => {
    /** A source database with one table, and a target database created with `options`. */
    async function withTargetDatabase(prefix: string, options: string): Promise<{ plan: Plan; db: string }> {
      const db = ident(prefix);
      await source.query(`CREATE DATABASE ${db}`);
      await source.query('CREATE TABLE t (id int PRIMARY KEY)', [], db);
      await target.query(`CREATE DATABASE ${db} ${options}`);
      return { plan: planFor(source, target, { database: db }), db };
    }

    it('passes for the same encoding and collation', async () => {
      const { plan, db } = await prepared('enc_ok', 'CREATE TABLE t (id int PRIMARY KEY)');
      const i = await assessOne(plan, db, 'pair.encoding');
      assert.equal(i.status, 'pass');
      assert.equal(i.observed, 'UTF8, collation C on both');
    });

    it('fails when the target database has another encoding', async () => {
      const { plan, db } = await withTargetDatabase(
        'enc',
        "ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'",
      );
      const i = await assessOne(plan, db, 'pair.encoding');
      assert.equal(i.status, 'fail');
      assert.equal(i.observed, `source ${db} is UTF8, target ${db} is LATIN1`);
      assert.match(i.fix ?? '', /ENCODING 'UTF8'/);
    });

    it('warns when only the libc collation differs', async () => {
      const { plan, db } = await withTargetDatabase(
        'coll',
        "ENCODING 'UTF8' TEMPLATE template0 LC_COLLATE 'C.UTF-8' LC_CTYPE 'C'",
      );
      const i = await assessOne(plan, db, 'pair.encoding');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, /source C\/C, target C\.UTF-8\/C/);
      assert.match(i.fix ?? '', /LC_COLLATE 'C'/);
    });

    it('warns when the target database sorts with ICU while the source uses libc C', async () => {
      // datcollate stays C here: only the locale provider tells that text sorts differently.
      const { plan, db } = await withTargetDatabase(
        'icu',
        "ENCODING 'UTF8' TEMPLATE template0 LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'und'",
      );
      const i = await assessOne(plan, db, 'pair.encoding');
      assert.equal(i.status, 'warn', i.observed);
      assert.match(i.observed, /target icu und/);
      assert.match(i.fix ?? '', /LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0/);
    });

    it('passes when both databases use the same ICU locale (daticulocale in 15, datlocale in 17)', async () => {
      const db = ident('icu_both');
      const icu = "ENCODING 'UTF8' TEMPLATE template0 LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'und'";
      await source.query(`CREATE DATABASE ${db} ${icu}`);
      await source.query('CREATE TABLE t (id int PRIMARY KEY)', [], db);
      await target.query(`CREATE DATABASE ${db} ${icu}`);
      const i = await assessOne(planFor(source, target, { database: db }), db, 'pair.encoding');
      assert.equal(i.status, 'pass', i.observed);
      assert.equal(i.observed, 'UTF8, collation icu und (C/C) on both');
    });
  });

  describe('target.database, target.create_privilege and target.createrole', () => {
    it('passes a missing target database when the target role may create it, fails when it may not', async () => {
      const db = ident('nodb');
      await source.query(`CREATE DATABASE ${db}`);
      await source.query('CREATE TABLE t (id int PRIMARY KEY)', [], db);
      // The target URL names `app`: the database under assessment does not exist there yet.
      const superPlan = planFor(source, target, { database: db, targetDatabase: 'app' });
      const ok = await assessOne(superPlan, db, 'target.database');
      assert.equal(ok.status, 'pass');
      assert.match(ok.observed, new RegExp(`database ${db} does not exist on the target; postgres may create it`));

      const role = await loginRole(target, 'nocreatedb');
      const plan = planFor(source, target, { database: db, targetDatabase: 'app', targetUser: role });
      const no = await assessOne(plan, db, 'target.database');
      assert.equal(no.status, 'fail');
      assert.match(no.observed, new RegExp(`${role.user} may not create it`));
      assert.match(no.fix ?? '', new RegExp(`CREATE DATABASE ${db} ENCODING 'UTF8'.*ALTER ROLE ${role.user} CREATEDB`));
    });

    it('fails target.create_privilege without CREATE on the target schema or database, passes after both grants', async () => {
      const role = await loginRole(target, 'tgtuser');
      const { plan, db } = await prepared('tgtpriv', 'CREATE TABLE t (id int PRIMARY KEY)', { targetUser: role });
      const no = await assessOne(plan, db, 'target.create_privilege');
      assert.equal(no.status, 'fail');
      assert.match(no.observed, new RegExp(`${role.user}: no CREATE on existing schemas public`));
      assert.match(no.fix ?? '', new RegExp(`GRANT CREATE ON SCHEMA <schema> TO ${role.user}`));

      await target.query(`GRANT CREATE ON SCHEMA public TO ${role.user}`, [], db);
      // Every schema exists, but pgtransit's state schema does not: CREATE SCHEMA needs the database's CREATE.
      const noDb = await assessOne(plan, db, 'target.create_privilege');
      assert.equal(noDb.status, 'fail');
      assert.equal(
        noDb.observed,
        `${role.user}: no CREATE on database ${db} (needed for pgtransit's state schema pgtransit)`,
      );
      assert.match(noDb.fix ?? '', new RegExp(`^GRANT CREATE ON DATABASE ${db} TO ${role.user};`));

      await target.query(`GRANT CREATE ON DATABASE ${db} TO ${role.user}`);
      const yes = await assessOne(plan, db, 'target.create_privilege');
      assert.equal(yes.status, 'pass', yes.observed);
    });

    it('fails target.createrole when roles are migrated by a role without CREATEROLE', async () => {
      const role = await loginRole(target, 'nocreaterole');
      const no = await serverItem(planFor(source, target, { targetUser: role, roles: true }), 'target.createrole');
      assert.equal(no.status, 'fail');
      assert.match(no.observed, new RegExp(`${role.user}: no CREATEROLE`));
      assert.match(no.fix ?? '', new RegExp(`ALTER ROLE ${role.user} CREATEROLE`));

      const yes = await serverItem(planFor(source, target, { roles: true }), 'target.createrole');
      assert.equal(yes.status, 'pass');
      const without = await assessServers(planFor(source, target, { targetUser: role, roles: false }), ['app'], 0);
      assert.equal(without.filter((i) => i.id === 'target.createrole').length, 0);
    });
  });

  describe('target.primary', () => {
    it('passes for a primary', async () => {
      const i = await serverItem(planFor(source, target), 'target.primary');
      assert.equal(i.status, 'pass');
    });

    it('fails for a standby in recovery', async () => {
      const i = await serverItem(planFor(source, standby, { targetDatabase: 'postgres' }), 'target.primary');
      assert.equal(i.status, 'fail');
      assert.match(i.observed, /standby \(in recovery\)/);
      assert.match(i.fix ?? '', /promote/);
    });
  });

  describe('pair.versions and worker.pg_dump', () => {
    it('pass for a 15 source and a 17 target', async () => {
      const items = await assessServers(planFor(source, target), ['app'], 0);
      const versions = itemOf(items, 'pair.versions');
      assert.equal(versions.status, 'pass');
      assert.equal(versions.observed, 'source 15, target 17');
      const dump = itemOf(items, 'worker.pg_dump');
      assert.equal(dump.status, 'pass', dump.observed);
    });

    it('fail for a 17 source and a 13 target', async (t) => {
      const items = await assessServers(planFor(target, old), ['app'], 0);
      const versions = itemOf(items, 'pair.versions');
      assert.equal(versions.status, 'fail');
      assert.match(versions.observed, /source 17, target 13: moving to an older major is not supported/);
      assert.match(versions.fix ?? '', /PostgreSQL 17 or later/);

      const newest = findTool('pg_dump')[0];
      if (newest && newest.major >= 17) {
        t.skip(`this worker has pg_dump ${newest.major}: cannot show a pg_dump older than the source`);
        return;
      }
      const dump = itemOf(items, 'worker.pg_dump');
      assert.equal(dump.status, 'fail');
      assert.match(dump.observed, /the source is 17 and pg_dump cannot dump a newer server/);
      assert.match(dump.fix ?? '', /PostgreSQL 17 client tools/);
    });
  });

  describe('databases across majors', () => {
    it('reads the database facts of 17 and 13, whose pg_database columns differ', async () => {
      const db = await freshDatabase('across', target, old);
      await target.query('CREATE TABLE t (id int PRIMARY KEY)', [], db);
      const { items } = await assessDatabase(planFor(target, old, { database: db }), db, db);
      const i = itemOf(items, 'pair.encoding');
      assert.equal(i.status, 'pass', i.observed);
      assert.equal(i.observed, 'UTF8, collation C on both');
    });
  });

  describe('read-only', () => {
    async function snapshot(server: PgServer, db: string) {
      const q = async (sql: string, database = db) => JSON.stringify((await server.query(sql, [], database)).rows);
      return {
        slots: await q('SELECT slot_name, database, active FROM pg_replication_slots ORDER BY 1'),
        publications: await q('SELECT pubname FROM pg_publication ORDER BY 1'),
        classes: await q('SELECT count(*) AS n FROM pg_class'),
        roles: await q('SELECT rolname, rolsuper, rolreplication, rolcreaterole FROM pg_roles ORDER BY 1'),
        databases: await q('SELECT datname FROM pg_database ORDER BY 1'),
        extensions: await q('SELECT extname, extversion FROM pg_extension ORDER BY 1'),
      };
    }

    /** Sessions of the assessment still open on `server` (application_name pgtransit). */
    async function openSessions(server: PgServer): Promise<number> {
      // A closed client's backend exits a moment after the client returns: wait for it.
      for (let tries = 0; ; tries++) {
        const { rows } = await server.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'pgtransit'`,
        );
        const n = Number(rows[0]!.n);
        if (n === 0 || tries >= 50) return n;
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    it('changes nothing on the source or the target, and leaves no session open', async () => {
      const { plan, db } = await prepared(
        'readonly',
        `CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (x int); CREATE UNLOGGED TABLE c (id int PRIMARY KEY);
         CREATE EXTENSION hstore; SELECT lo_from_bytea(0, 'x');`,
      );
      await target.query('CREATE TABLE a (id int)', [], db);
      const before = { source: await snapshot(source, db), target: await snapshot(target, db) };

      const { items, selectedBytes } = await assessDatabase(plan, db, db);
      const serverItems = await assessServers(plan, [db], selectedBytes);
      // The run must have reached the replication and target checks for the comparison to mean anything.
      assert.ok(items.some((i) => i.id === 'source.replication_names'));
      assert.ok(items.some((i) => i.id === 'target.empty' && i.status === 'fail'));
      assert.ok(serverItems.some((i) => i.id === 'target.disk_space'));

      const afterRun = { source: await snapshot(source, db), target: await snapshot(target, db) };
      assert.deepEqual(afterRun, before);
      assert.equal(await openSessions(source), 0);
      assert.equal(await openSessions(target), 0);
    });
  });
});
