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
import { freePort } from '../../src/dev/embedded-postgres';
import { ErrorType, PgTransitError } from '../../src/errors';
import type { CheckItem } from '../../src/model/report';
import type { Plan } from '../../src/plan/plan';
import { assessDatabase, assessServers, probeServer } from '../../src/postgres/assess';
import { findTool } from '../../src/postgres/tools';
import { envRef, planFor, startPair, startPostgres, type PgServer } from '../helpers/postgres';

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
  /** PostgreSQL 15 with wal_level = logical. */
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

  before(async () => {
    const [pair, replica, stby, pg13] = await Promise.all([
      startPair(),
      startPostgres({ major: 15, settings: { wal_level: 'replica' } }),
      startPostgres({ major: 17, standby: true }),
      startPostgres({ major: 13 }),
    ]);
    ({ source, target, stop: stopPair } = pair);
    replicaSource = replica;
    standby = stby;
    old = pg13;
    await Promise.all([replicaSource.query('CREATE DATABASE app'), old.query('CREATE DATABASE app')]);
  });

  after(async () => {
    await Promise.all([stopPair?.(), replicaSource?.stop(), standby?.stop(), old?.stop()]);
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
      assert.match(i.fix ?? '', /ALTER TABLE public\.loose ADD PRIMARY KEY \(<columns>\)/);
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
      assert.match(i.fix ?? '', /ALTER TABLE public\.nullable ADD PRIMARY KEY/);
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
    it('warns when the database holds a large object', async () => {
      const { plan, db } = await prepared(
        'lo',
        "CREATE TABLE docs (id int PRIMARY KEY, blob oid); INSERT INTO docs VALUES (1, lo_from_bytea(0, 'hello'))",
      );
      const i = await assessOne(plan, db, 'source.large_objects');
      assert.equal(i.status, 'warn');
      assert.match(i.observed, new RegExp(`^1 large objects \\(pg_largeobject\\) in ${db}`));
      assert.match(i.fix ?? '', /--large-objects/);
    });

    it('passes without large objects', async () => {
      const { plan, db } = await prepared('nolo', 'CREATE TABLE docs (id int PRIMARY KEY, body bytea)');
      const i = await assessOne(plan, db, 'source.large_objects');
      assert.equal(i.status, 'pass');
      assert.equal(i.observed, 'no large objects');
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

    it('fails target.create_privilege for a role without CREATE on the target schema, passes after the grant', async () => {
      const role = await loginRole(target, 'tgtuser');
      const { plan, db } = await prepared('tgtpriv', 'CREATE TABLE t (id int PRIMARY KEY)', { targetUser: role });
      const no = await assessOne(plan, db, 'target.create_privilege');
      assert.equal(no.status, 'fail');
      assert.match(no.observed, new RegExp(`${role.user}: no CREATE on existing schemas public`));
      assert.match(no.fix ?? '', new RegExp(`GRANT CREATE ON SCHEMA <schema> TO ${role.user}`));

      await target.query(`GRANT CREATE ON SCHEMA public TO ${role.user}`, [], db);
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
