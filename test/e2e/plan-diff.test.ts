/**
 * pgtransit plan diff: the dry run of a plan. What would be created on the target (by
 * name after mapping), copied (rows, bytes, chunks), left out (by which pattern), renamed,
 * which roles created, what installed on the source, and the assessment's failing items;
 * and nothing changed on either server. Real servers (15 -> 17), real Temporal, real worker,
 * the pgtransit CLI in its own process.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ddlCaptureNames, replicationNames } from '../../src/model/names';
import { planDiffSchema, type DatabasePreview, type TargetObject } from '../../src/model/plan-diff';
import type { Plan } from '../../src/plan/plan';
import { runCli } from '../helpers/cli';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { assertUntouched, snapshotSource } from '../helpers/untouched';

const dir = mkdtempSync(join(tmpdir(), 'pgtransit-plan-diff-'));

const SHOP_SQL = `
CREATE ROLE shop_reader NOLOGIN;
CREATE SCHEMA sales;
CREATE TYPE sales.channel AS ENUM ('web', 'shop');
CREATE TABLE public.customers (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE public.orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES public.customers (id), note text);
CREATE INDEX orders_customer ON public.orders (customer_id);
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch();
CREATE TABLE public.audit_log (at timestamptz NOT NULL DEFAULT now(), message text);
CREATE TABLE sales.invoices (id serial PRIMARY KEY, order_id bigint NOT NULL REFERENCES public.orders (id),
  channel sales.channel NOT NULL DEFAULT 'web');
CREATE FUNCTION sales.with_tax(numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT $1 * 1.2 $$;
CREATE VIEW sales.big_invoices AS SELECT id, order_id FROM sales.invoices WHERE id > 10;
CREATE TABLE sales.scratch (x int);
CREATE SCHEMA staging;
CREATE TABLE staging.raw (line text);
GRANT SELECT ON public.orders TO shop_reader;
INSERT INTO public.customers (email) SELECT 'c' || g || '@example.com' FROM generate_series(1, 500) g;
INSERT INTO public.orders (customer_id, note) SELECT 1 + g % 500, repeat(md5(g::text), 3) FROM generate_series(1, 20000) g;
INSERT INTO sales.invoices (order_id) SELECT g FROM generate_series(1, 300) g;
INSERT INTO public.audit_log (message) SELECT 'event ' || g FROM generate_series(1, 100) g;
INSERT INTO sales.scratch SELECT generate_series(1, 10);
INSERT INTO staging.raw VALUES ('left behind');
ANALYZE;
`;

/** full+cdc fails source.primary_keys on a table without a key. */
const KEYLESS_SQL = `CREATE TABLE events (at timestamptz NOT NULL DEFAULT now(), message text);
INSERT INTO events (message) SELECT 'e' || g FROM generate_series(1, 50) g; ANALYZE;`;

/** A view over a table the plan excludes: plan.dependencies fails, and the schema objects cannot be listed. */
const DEPS_SQL = `CREATE TABLE base (id int PRIMARY KEY); CREATE TABLE kept (id int PRIMARY KEY);
CREATE VIEW base_view AS SELECT id FROM base; INSERT INTO kept SELECT generate_series(1, 10); ANALYZE;`;

const names = (objects: TargetObject[], type: string) =>
  objects
    .filter((o) => o.type === type)
    .map((o) => o.name)
    .sort();

describe('pgtransit plan diff: a dry run of the plan, nothing changed anywhere', () => {
  const stack = useStack();
  const cli = (...args: string[]) => runCli(stack, ...args);

  before(async () => {
    await stack.source.query('CREATE DATABASE shop');
    await stack.source.query(SHOP_SQL, [], 'shop');
    await stack.source.query('CREATE DATABASE logs');
    await stack.source.query(KEYLESS_SQL, [], 'logs');
    await stack.source.query('CREATE DATABASE deps');
    await stack.source.query(DEPS_SQL, [], 'deps');
    await stack.target.query('CREATE DATABASE shop');
  });

  function planFile(overrides: Parameters<typeof planFor>[2]): { plan: Plan; file: string } {
    const plan = planFor(stack.source, stack.target, overrides);
    const file = join(dir, `${plan.name}.json`);
    writeFileSync(file, JSON.stringify(plan));
    return { plan, file };
  }

  const shopPlan = () =>
    planFile({
      database: 'shop',
      mode: 'full+cdc',
      roles: true,
      include: { schemas: ['public', 'sales'] },
      exclude: { tables: ['public.audit_log', 'sales.scratch'] },
      mapping: { tables: { 'public.customers': 'crm.clients' }, schemas: { sales: 'shop' } },
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
    });

  it('lists what would be created, copied, left out, renamed and installed, by name after mapping; exit 0', async () => {
    const { plan, file } = shopPlan();
    const [source, target] = await Promise.all([
      snapshotSource(stack.source, 'shop'),
      snapshotSource(stack.target, 'shop'),
    ]);

    const json = await cli('plan', 'diff', '-f', file, '--json');
    assert.equal(json.code, 0, json.stderr + json.stdout);
    const diff = planDiffSchema.parse(JSON.parse(json.stdout));
    assert.equal(diff.ok, true);
    assert.equal(diff.plan, plan.name);
    assert.deepEqual(diff.assessment.failing, []);
    assert.equal(diff.databases.length, 1);
    const d: DatabasePreview = diff.databases[0]!;
    assert.equal(d.database, 'shop');
    assert.equal(d.targetDatabase, 'shop');
    assert.equal(d.target.createDatabase, false);
    assert.equal(d.target.objectsError, undefined);
    const objects = d.target.objects;

    assert.deepEqual(names(objects, 'schema'), ['crm', 'shop']);
    assert.deepEqual(names(objects, 'table'), ['crm.clients', 'public.orders', 'shop.invoices']);
    assert.deepEqual(names(objects, 'view'), ['shop.big_invoices']);
    assert.deepEqual(names(objects, 'type'), ['shop.channel']);
    assert.deepEqual(names(objects, 'function'), ['public.touch()', 'shop.with_tax(numeric)']);
    assert.deepEqual(names(objects, 'sequence'), [
      'crm.customers_id_seq',
      'public.orders_id_seq',
      'shop.invoices_id_seq',
    ]);
    assert.deepEqual(names(objects, 'index'), ['public.orders_customer']);
    assert.deepEqual(names(objects, 'constraint'), [
      'crm.customers_email_key',
      'crm.customers_pkey',
      'public.orders_pkey',
      'shop.invoices_pkey',
    ]);
    assert.deepEqual(names(objects, 'fk constraint'), [
      'public.orders_customer_id_fkey',
      'shop.invoices_order_id_fkey',
    ]);
    assert.deepEqual(names(objects, 'trigger'), ['public.orders_touch']);
    const clients = objects.find((o) => o.type === 'table' && o.name === 'crm.clients')!;
    assert.equal(clients.source, 'public.customers');
    assert.equal(clients.section, 'pre-data');
    const pkey = objects.find((o) => o.name === 'crm.customers_pkey')!;
    assert.deepEqual([pkey.table, pkey.section], ['crm.clients', 'post-data']);
    assert.equal(objects.find((o) => o.name === 'public.orders_touch')!.table, 'public.orders');
    const all = objects.map((o) => o.name).join(' ');
    for (const left of ['audit_log', 'scratch', 'staging', 'raw'])
      assert.ok(!all.includes(left), `${left} is not created: ${all}`);
    assert.deepEqual(names(d.target.existing, 'schema'), ['public'], 'public exists on the target already');
    assert.equal(d.target.stateSchema, 'pgtransit');

    const copied = Object.fromEntries(d.copy.tables.map((t) => [t.table, t]));
    assert.deepEqual(Object.keys(copied).sort(), ['public.customers', 'public.orders', 'sales.invoices']);
    assert.equal(copied['public.customers']!.targetTable, 'crm.clients');
    assert.equal(copied['sales.invoices']!.targetTable, 'shop.invoices');
    for (const t of d.copy.tables) {
      assert.ok(t.estRows > 0, `${t.table}: rows estimated (${t.estRows})`);
      assert.ok(t.estBytes > 0, `${t.table}: bytes estimated`);
    }
    assert.ok(Math.abs(copied['public.orders']!.estRows - 20000) < 2000, String(copied['public.orders']!.estRows));
    assert.ok(copied['public.orders']!.chunks >= 2, 'orders is larger than chunkSizeMB: split');
    assert.equal(copied['public.orders']!.split, 'key id');
    assert.deepEqual([copied['sales.invoices']!.chunks, copied['sales.invoices']!.split], [1, 'whole']);
    assert.equal(
      d.copy.totals.chunks,
      d.copy.tables.reduce((n, t) => n + t.chunks, 0),
    );

    assert.deepEqual(d.excluded.map((e) => `${e.relation} ${e.by} ${e.pattern}`).sort(), [
      'public.audit_log exclude.tables.0 public.audit_log',
      'sales.scratch exclude.tables.1 sales.scratch',
      'staging.raw include null',
    ]);
    assert.deepEqual(
      d.renamed.map((r) => `${r.kind} ${r.from} -> ${r.to}`),
      ['table public.customers -> crm.clients', 'schema sales -> shop'],
    );
    assert.equal(d.roles.copy, true);
    assert.deepEqual(d.roles.create, ['shop_reader']);

    const { slot, publication } = replicationNames(plan.name, 'shop');
    assert.equal(d.source.publication, publication);
    assert.equal(d.source.slot, slot);
    assert.deepEqual([...d.source.publishedTables].sort(), ['public.customers', 'public.orders', 'sales.invoices']);
    assert.match(d.source.notes.join('\n'), /default_transaction_read_only/);
    assert.ok(
      d.source.notes.some((n) => n.startsWith(`DDL capture: schema ${ddlCaptureNames(plan.name, 'shop').schema} `)),
      d.source.notes.join('\n'),
    );

    const text = await cli('plan', 'diff', '-f', file);
    assert.equal(text.code, 0, text.stderr + text.stdout);
    for (const line of [
      /^ {2}create on the target \(database shop\):/m,
      /^ {4}before the load \(pre-data\):\n(?: {6}.+\n)* {6}table +crm\.clients +\(from public\.customers\)/m,
      /^ {4}after the load \(post-data\):\n(?: {6}.+\n)* {6}fk constraint +public\.orders_customer_id_fkey on public\.orders$/m,
      /^ {4}public\.orders -> public\.orders +~\d+ rows, .+, \d+ chunks \(key id\)/m,
      /^ {4}public\.audit_log +table, by exclude\.tables\.0 = "public\.audit_log"/m,
      /^ {4}staging\.raw +table, no include pattern matches it/m,
      /^ {4}table public\.customers -> crm\.clients/m,
      /^ {4}schema sales -> shop/m,
      /^ {2}roles to create on the target: shop_reader/m,
      new RegExp(`^ {4}publication ${publication} FOR TABLE 3 tables`, 'm'),
      new RegExp(`^ {4}logical replication slot ${slot} \\(pgoutput\\)`, 'm'),
      /the plan would run: no assessment item fails/,
    ])
      assert.match(text.stdout, line);

    await assertUntouched(stack.source, 'shop', source);
    await assertUntouched(stack.target, 'shop', target, 'the target');
    const leftovers = await stack.target.query(
      `SELECT nspname FROM pg_namespace WHERE nspname IN ('crm', 'shop', 'sales', 'pgtransit')`,
      [],
      'shop',
    );
    assert.deepEqual(leftovers.rows, [], 'no schema was created on the target');
  });

  it('a plan that fails the assessment exits 2 naming the failing item, and still changes nothing', async () => {
    const { file } = planFile({ database: 'logs', mode: 'full+cdc' });
    const [source, target] = await Promise.all([
      snapshotSource(stack.source, 'logs'),
      snapshotSource(stack.target, 'postgres'),
    ]);
    const text = await cli('plan', 'diff', '-f', file);
    assert.equal(text.code, 2, text.stderr + text.stdout);
    assert.match(text.stdout, /^FAIL +source\.primary_keys \[logs\] .*public\.events/m);
    assert.match(text.stdout, /the plan would not run: 1 assessment item fails/);
    assert.match(text.stdout, /^ {6}table +public\.events$/m, 'the rest of the diff is shown too');
    assert.match(text.stdout, /create database logs on the target/);

    const json = await cli('plan', 'diff', '-f', file, '--json');
    assert.equal(json.code, 2);
    const diff = planDiffSchema.parse(JSON.parse(json.stdout));
    assert.equal(diff.ok, false);
    assert.deepEqual(
      diff.assessment.failing.map((i) => `${i.id} ${i.database}`),
      ['source.primary_keys logs'],
    );
    assert.equal(diff.databases[0]!.target.createDatabase, true);

    await assertUntouched(stack.source, 'logs', source);
    await assertUntouched(stack.target, 'postgres', target, 'the target');
  });

  it('a plan that leaves out what a view needs fails plan.dependencies and says why the objects cannot be listed', async () => {
    const { file } = planFile({ database: 'deps', mode: 'full', exclude: { tables: ['public.base'] } });
    const source = await snapshotSource(stack.source, 'deps');
    const json = await cli('plan', 'diff', '-f', file, '--json');
    assert.equal(json.code, 2, json.stderr + json.stdout);
    const diff = planDiffSchema.parse(JSON.parse(json.stdout));
    assert.deepEqual(
      diff.assessment.failing.map((i) => i.id),
      ['plan.dependencies'],
    );
    const d = diff.databases[0]!;
    assert.match(d.target.objectsError ?? '', /view public\.base_view needs table public\.base/);
    assert.deepEqual(d.target.objects, []);
    assert.deepEqual(
      d.copy.tables.map((t) => t.table),
      ['public.kept'],
    );
    assert.deepEqual(d.excluded, [
      { relation: 'public.base', kind: 'table', by: 'exclude.tables.0', pattern: 'public.base' },
    ]);
    assert.deepEqual(d.source, {
      publication: null,
      publishedTables: [],
      slot: null,
      notes: [d.source.notes[0]!],
    });
    assert.match(d.source.notes[0]!, /mode full/);
    await assertUntouched(stack.source, 'deps', source);
  });
});
