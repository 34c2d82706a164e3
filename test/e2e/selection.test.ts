/**
 * mode full, end to end: what a plan selects and renames, several databases in one
 * plan, and roles. Real servers (15 -> 17), real Temporal, real worker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from '@temporalio/worker';
import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import pg from 'pg';
import { SAMPLE_SCHEMA_SQL } from '../../src/dev/sample-data';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import type { Plan, PlanInput } from '../../src/plan/plan';
import { planFor, startPair, type PgServer } from '../helpers/postgres';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';
import { migrationWorkflow } from '../../workflows';
import { databaseStatusQuery, statusQuery } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';

const SALES_SQL = `
CREATE SCHEMA sales;
CREATE TABLE sales.invoices (
  id serial PRIMARY KEY,
  order_id bigint NOT NULL REFERENCES public.orders (id),
  customer_id bigint NOT NULL REFERENCES public.customers (id),
  total numeric(12,2) NOT NULL
);
CREATE INDEX invoices_customer ON sales.invoices (customer_id);
INSERT INTO sales.invoices (order_id, customer_id, total) SELECT id, customer_id, id * 1.5 FROM public.orders WHERE id % 4 = 0;
CREATE TABLE sales.scratch (x int);
INSERT INTO sales.scratch SELECT generate_series(1, 10);
CREATE TYPE sales.channel AS ENUM ('web', 'shop');
ALTER TABLE sales.invoices ADD COLUMN channel sales.channel NOT NULL DEFAULT 'web';
CREATE FUNCTION sales.with_tax(numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT $1 * 1.2 $$;
CREATE VIEW sales.big_invoices AS SELECT i.id, c.email FROM sales.invoices i JOIN public.customers c ON c.id = i.customer_id WHERE i.total > 1000;
CREATE SCHEMA staging;
CREATE TABLE staging.raw (line text);
INSERT INTO staging.raw VALUES ('left behind');
ANALYZE;
`;

const OWNED_SQL = `
CREATE ROLE app_owner LOGIN PASSWORD 'owner-secret';
CREATE ROLE app_reader NOLOGIN;
CREATE ROLE app_readers NOLOGIN;
CREATE ROLE app_writer NOLOGIN;
CREATE ROLE app_auditor NOLOGIN;
CREATE ROLE app_policy NOLOGIN;
ALTER ROLE app_owner SET search_path = ledger, public;
GRANT app_readers TO app_reader;
CREATE SCHEMA ledger AUTHORIZATION app_owner;
SET ROLE app_owner;
CREATE TABLE ledger.entries (id bigserial PRIMARY KEY, amount numeric NOT NULL, note text);
INSERT INTO ledger.entries (amount, note) SELECT g, 'entry ' || g FROM generate_series(1, 500) g;
CREATE VIEW ledger.small_entries AS SELECT id, amount FROM ledger.entries WHERE amount < 10;
GRANT USAGE ON SCHEMA ledger TO app_readers, app_writer;
GRANT SELECT ON ledger.entries, ledger.small_entries TO app_readers;
GRANT UPDATE (note) ON ledger.entries TO app_writer;
ALTER DEFAULT PRIVILEGES IN SCHEMA ledger GRANT SELECT ON TABLES TO app_auditor;
ALTER TABLE ledger.entries ENABLE ROW LEVEL SECURITY;
CREATE POLICY small_only ON ledger.entries FOR SELECT TO app_policy USING (amount < 100);
RESET ROLE;
`;

/**
 * Owners and privileges, as text that is equal when the target matches the source.
 * MAINTAIN (17) is left out: a 17 target gives it to every owner implicitly.
 */
const OWNERSHIP_SQL = `
SELECT 'rel ' || n.nspname || '.' || c.relname || ' owner=' || pg_get_userbyid(c.relowner) || ' acl=' ||
       coalesce((SELECT string_agg(e, ',' ORDER BY e) FROM (
                   SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee) END || ':' || x.privilege_type ||
                     ':' || pg_get_userbyid(x.grantor) AS e
                     FROM aclexplode(c.relacl) x WHERE x.privilege_type <> 'MAINTAIN') y), '-') AS line
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'ledger'
UNION ALL
SELECT 'col ' || a.attrelid::regclass || '.' || a.attname || ' acl=' || a.attacl::text FROM pg_attribute a JOIN pg_class c ON
  c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'ledger' AND a.attacl IS NOT NULL
UNION ALL
SELECT 'schema ' || nspname || ' owner=' || pg_get_userbyid(nspowner) || ' acl=' || coalesce(nspacl::text, '-') FROM pg_namespace WHERE nspname = 'ledger'
UNION ALL
SELECT 'default acl ' || pg_get_userbyid(defaclrole) || ' ' || defaclobjtype::text || ' ' || defaclacl::text FROM pg_default_acl
UNION ALL
SELECT 'policy ' || policyname || ' ' || roles::text FROM pg_policies WHERE schemaname = 'ledger'
ORDER BY 1`;

describe('migrationWorkflow mode full: selection, mapping, databases, roles', () => {
  let temporal: TemporalHarness;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;

  before(async () => {
    const [t, pair] = await Promise.all([startTemporal(), startPair()]);
    temporal = t;
    ({ source, target, stop: stopPair } = pair);
    for (const db of ['shop', 'merge', 'deps', 'app2', 'owned']) await source.query(`CREATE DATABASE ${db}`);
    await Promise.all([
      source.query(SAMPLE_SCHEMA_SQL + SALES_SQL, [], 'shop'),
      source.query(SAMPLE_SCHEMA_SQL + SALES_SQL, [], 'merge'),
      source.query(
        SAMPLE_SCHEMA_SQL + `CREATE VIEW recent_audit AS SELECT * FROM audit_log ORDER BY at DESC LIMIT 10;`,
        [],
        'deps',
      ),
      source.query(SAMPLE_SCHEMA_SQL, [], 'app'),
      source.query(
        `CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 1000) g;`,
        [],
        'app2',
      ),
      source.query(OWNED_SQL, [], 'owned'),
    ]);
    ({ worker, taskQueue } = await temporal.worker());
    running = worker.run();
  });

  after(async () => {
    try {
      worker?.shutdown();
      await running;
    } finally {
      await Promise.all([temporal?.stop(), stopPair?.()]);
    }
  });

  async function migrate(
    overrides: Partial<PlanInput> & { database?: string; targetDatabase?: string },
  ): Promise<{ plan: Plan; workflowId: string }> {
    const plan = planFor(source, target, { mode: 'full', fullLoad: { parallelism: 3, chunkSizeMB: 1 }, ...overrides });
    const workflowId = workflowIds(plan.name).migration;
    const result = await temporal.env.client.workflow
      .execute(migrationWorkflow, { args: [plan], taskQueue, workflowId })
      .catch((e: Error) => {
        let root: Error = e;
        while (root.cause instanceof Error) root = root.cause;
        throw new Error(`migration ${workflowId} failed: ${root.message}`, { cause: e });
      });
    assert.equal((result as { phase: string }).phase, 'completed');
    return { plan, workflowId };
  }

  it('leaves out what is excluded and renames tables and schemas, keeping their indexes and foreign keys', async () => {
    const { plan } = await migrate({
      database: 'shop',
      include: { schemas: ['public', 'sales'] },
      exclude: { tables: ['public.audit_log', 'sales.scratch'] },
      mapping: { tables: { 'public.customers': 'crm.clients' }, schemas: { sales: 'shop' } },
    });
    const q = async (sql: string) => (await target.query(sql, [], 'shop')).rows;

    const rels =
      await q(`SELECT n.nspname || '.' || c.relname AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE c.relkind IN ('r', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`);
    assert.deepEqual(
      rels.map((r) => r.r),
      ['crm.clients', 'public.order_items', 'public.orders', 'public.products', 'shop.big_invoices', 'shop.invoices'],
    );
    assert.deepEqual(
      await q(`SELECT nspname FROM pg_namespace WHERE nspname IN ('sales', 'staging', 'pgtransit')`),
      [],
      'old, unselected and state schemas are gone',
    );

    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'shop', 'shop', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
    assert.deepEqual(
      cmp.map((c) => `${c.table} -> ${c.targetTable}`),
      [
        'public.customers -> crm.clients',
        'public.order_items -> public.order_items',
        'public.orders -> public.orders',
        'public.products -> public.products',
        'sales.invoices -> shop.invoices',
      ],
    );

    const indexes = await q(
      `SELECT schemaname || '.' || tablename || ' ' || indexname AS i FROM pg_indexes WHERE tablename IN ('clients', 'invoices') ORDER BY 1`,
    );
    assert.deepEqual(
      indexes.map((r) => r.i),
      [
        'crm.clients customers_email_key',
        'crm.clients customers_pkey',
        'shop.invoices invoices_customer',
        'shop.invoices invoices_pkey',
      ],
    );
    const fks = await q(
      `SELECT conrelid::regclass::text || ' -> ' || confrelid::regclass::text AS fk FROM pg_constraint WHERE contype = 'f' ORDER BY 1`,
    );
    assert.deepEqual(
      fks.map((r) => r.fk),
      [
        'order_items -> orders',
        'order_items -> products',
        'orders -> crm.clients',
        'shop.invoices -> crm.clients',
        'shop.invoices -> orders',
      ],
    );
    // The identity sequence moved with its table and continues after the copied ids.
    const next = await q(`INSERT INTO crm.clients (email, name) VALUES ('new@example.com', 'New') RETURNING id`);
    assert.equal(Number(next[0]!.id), 2001);
    const invoice = await q(
      `INSERT INTO shop.invoices (order_id, customer_id, total) VALUES (1, 2001, 1) RETURNING id`,
    );
    assert.equal(Number(invoice[0]!.id), 2501);
    assert.equal(
      (await q(`SELECT count(*)::int AS n FROM shop.big_invoices`))[0]!.n,
      (await source.query(`SELECT count(*)::int AS n FROM sales.big_invoices`, [], 'shop')).rows[0]!.n,
    );
  });

  it('merges a schema into one that exists on the target, with its types, functions and views', async () => {
    const { plan } = await migrate({
      database: 'merge',
      exclude: { schemas: ['staging'] },
      mapping: { schemas: { sales: 'public' } },
    });
    const q = async (sql: string) => (await target.query(sql, [], 'merge')).rows;
    const objects =
      await q(`SELECT n.nspname || '.' || c.relname || ' ' || c.relkind::text AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND c.relkind IN ('r', 'v', 'S') ORDER BY 1`);
    assert.deepEqual(
      objects.map((r) => r.o),
      [
        'public.audit_log r',
        'public.big_invoices v',
        'public.customers r',
        'public.customers_id_seq S',
        'public.invoices r',
        'public.invoices_id_seq S',
        'public.order_items r',
        'public.orders r',
        'public.orders_id_seq S',
        'public.products r',
        'public.products_id_seq S',
        'public.scratch r',
      ],
    );
    assert.deepEqual(await q(`SELECT nspname FROM pg_namespace WHERE nspname IN ('sales', 'staging')`), []);
    assert.equal((await q(`SELECT public.with_tax(10)::text AS v`))[0]!.v, '12.0');
    assert.equal((await q(`SELECT 'shop'::public.channel::text AS v`))[0]!.v, 'shop');
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'merge', 'merge', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
    assert.ok(cmp.some((c) => c.targetTable === 'public.invoices'));
    const next = await q(`INSERT INTO public.invoices (order_id, customer_id, total) VALUES (1, 1, 1) RETURNING id`);
    assert.equal(Number(next[0]!.id), 2501);
  });

  it('refuses at the precheck, naming the view, when a selected view depends on an excluded table; excluding the view too works', async () => {
    const plan = planFor(source, target, { mode: 'full', database: 'deps', exclude: { tables: ['public.audit_log'] } });
    const workflowId = workflowIds(plan.name).migration;
    await assert.rejects(
      temporal.env.client.workflow.execute(migrationWorkflow, { args: [plan], taskQueue, workflowId }),
      (e: unknown) => {
        assert.ok(e instanceof WorkflowFailedError);
        assert.ok(e.cause instanceof ApplicationFailure, String(e.cause));
        assert.equal(e.cause.type, 'PrecheckFailed');
        assert.equal(e.cause.nonRetryable, true);
        assert.match(
          e.cause.message,
          /plan\.dependencies \[deps\]: .*view public\.recent_audit needs table public\.audit_log/,
        );
        return true;
      },
    );
    const status = await temporal.env.client.workflow.getHandle(workflowId).query(statusQuery);
    assert.equal(status.phase, 'failed');
    assert.deepEqual(status.databases, [], 'nothing was started');
    const db = await target.query(`SELECT 1 FROM pg_database WHERE datname = 'deps'`);
    if (db.rowCount) {
      const restored = await target.query(
        `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`,
        [],
        'deps',
      );
      assert.equal(restored.rows[0]!.n, 0, 'nothing was restored');
    }

    // Leaving the view out too is accepted.
    const { plan: second } = await migrate({
      database: 'deps',
      exclude: { tables: ['public.audit_log', 'public.recent_audit'] },
    });
    const cmp = await compareTables(second, endpoints(second).source, endpoints(second).target, 'deps', 'deps', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
    assert.equal(cmp.length, 4);
    const left = await target.query(
      `SELECT to_regclass('public.recent_audit') AS v, to_regclass('public.audit_log') AS t`,
      [],
      'deps',
    );
    assert.deepEqual(left.rows[0], { v: null, t: null });
  });

  it('migrates several databases, each in its own child workflow', async () => {
    const { plan, workflowId } = await migrate({ database: 'app', databases: ['app', 'app2'] });
    for (const db of ['app', 'app2']) {
      const handle = temporal.env.client.workflow.getHandle(childIds(workflowId).database(db));
      const description = await handle.describe();
      assert.equal(description.type, 'migrateDatabaseWorkflow');
      assert.equal(description.status.name, 'COMPLETED');
      assert.equal(description.parentExecution?.workflowId, workflowId);
      const st = await handle.query(databaseStatusQuery);
      assert.equal(st.phase, 'completed');
      assert.equal(st.targetDatabase, db);
      const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, db, db, true);
      assert.ok(cmp.length > 0);
      assert.deepEqual(
        cmp.filter((c) => !c.equal),
        [],
      );
    }
    const notes = await target.query(`SELECT count(*)::int AS n FROM notes`, [], 'app2');
    assert.equal(notes.rows[0]!.n, 1000);
    const stray = await target.query(`SELECT to_regclass('public.notes') AS r`, [], 'app');
    assert.equal(stray.rows[0]!.r, null, 'each database went to its namesake');
  });

  it('roles: true creates the owners and grantees, and the target grants what the source grants', async () => {
    const { workflowId } = await migrate({ database: 'owned', roles: true });
    const st = await temporal.env.client.workflow
      .getHandle(childIds(workflowId).database('owned'))
      .query(databaseStatusQuery);
    const step = st.steps.find((s) => s.step === 'copyRoles');
    assert.ok(step, 'copyRoles ran');

    const roles = `SELECT rolname, rolcanlogin, rolconfig FROM pg_roles WHERE rolname LIKE 'app\\_%' ORDER BY 1`;
    assert.deepEqual((await target.query(roles)).rows, (await source.query(roles)).rows);
    const members = `SELECT r.rolname || ' has ' || m.rolname AS m
      FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member JOIN pg_roles m ON m.oid = a.roleid WHERE m.rolname LIKE 'app\\_%' ORDER BY 1`;
    assert.deepEqual((await target.query(members)).rows, (await source.query(members)).rows);
    const [s, t] = await Promise.all([
      source.query(OWNERSHIP_SQL, [], 'owned'),
      target.query(OWNERSHIP_SQL, [], 'owned'),
    ]);
    assert.ok(s.rows.length >= 8);
    assert.deepEqual(t.rows, s.rows);

    const can = `SELECT has_table_privilege('app_reader', 'ledger.entries', 'SELECT') AS reader,
      has_column_privilege('app_writer', 'ledger.entries', 'note', 'UPDATE') AS writer,
                        has_table_privilege('app_writer', 'ledger.entries', 'DELETE') AS writer_deletes`;
    assert.deepEqual((await target.query(can, [], 'owned')).rows[0], {
      reader: true,
      writer: true,
      writer_deletes: false,
    });
    // The owner's password came along (as its hash): it logs in on the target.
    const owner = new pg.Client({
      connectionString: target.url({ user: 'app_owner', password: 'owner-secret', database: 'owned' }),
    });
    await owner.connect();
    try {
      const r = await owner.query(`SELECT current_user AS u, count(*)::int AS n FROM entries`);
      assert.deepEqual(r.rows[0], { u: 'app_owner', n: 500 });
    } finally {
      await owner.end();
    }
  });
});
