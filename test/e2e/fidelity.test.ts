/**
 * Fidelity of mode full, end to end (real servers 15 -> 15, so one pg_dump reads both):
 * a rich schema restores to a pg_dump-identical schema, and every column type's
 * values arrive unchanged, whatever the databases' session settings.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from '@temporalio/worker';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import * as schema from '../../src/postgres/ddl';
import type { Plan, PlanInput } from '../../src/plan/plan';
import { planFor, startPostgres, type PgServer } from '../helpers/postgres';
import { lineDiff, schemaDump } from '../helpers/schema-dump';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';
import { migrationWorkflow } from '../../workflows';
import { databaseStatusQuery } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';

/** Every kind of object pg_dump knows in a schema, with names that need quoting. */
const RICH_SCHEMA_SQL = String.raw`
CREATE ROLE fid_reader NOLOGIN;
CREATE SCHEMA util;
COMMENT ON SCHEMA util IS 'helpers; no table lives here';
CREATE SCHEMA "My Schema";
CREATE SCHEMA sales;

CREATE TYPE util.mood AS ENUM ('sad', 'ok', 'happy', 'it''s "fine"');
COMMENT ON TYPE util.mood IS 'feelings';
CREATE TYPE util.address AS (street text, city text, zip varchar(10));
CREATE TYPE util.floatrange AS RANGE (subtype = float8);
CREATE DOMAIN util.posint AS integer CONSTRAINT posint_positive CHECK (VALUE > 0);
CREATE DOMAIN util.email AS text CONSTRAINT email_has_at CHECK (VALUE ~ '@');
CREATE FUNCTION util.add_tax(numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$ SELECT round($1 * 1.2, 2) $$;
COMMENT ON FUNCTION util.add_tax(numeric) IS 'adds 20 %';
CREATE FUNCTION util.double_it(i int) RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT i * 2; END;
CREATE FUNCTION util.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE PROCEDURE util.bump(p_id bigint) LANGUAGE plpgsql AS $$ BEGIN UPDATE public."Order Items" SET qty = qty + 1 WHERE id = p_id; END $$;
CREATE PROCEDURE util.noop() LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION util.csv_state(text, text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce($1 || ',', '') || $2 $$;
CREATE AGGREGATE util.csv(text) (SFUNC = util.csv_state, STYPE = text);
CREATE FUNCTION util.approx_eq(float8, float8) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT abs($1 - $2) < 0.001 $$;
CREATE OPERATOR util.~= (LEFTARG = float8, RIGHTARG = float8, FUNCTION = util.approx_eq, COMMUTATOR = OPERATOR(util.~=));
REVOKE EXECUTE ON FUNCTION util.add_tax(numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION util.add_tax(numeric) TO fid_reader;
GRANT USAGE ON SCHEMA util TO fid_reader;

CREATE SEQUENCE public.invoice_no START 1000 INCREMENT 5;
CREATE TABLE public.customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email util.email NOT NULL UNIQUE,
  "MixedCase" text,
  "select" int,
  "user" text,
  mood util.mood DEFAULT 'ok',
  home util.address,
  created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.customers IS 'people who buy; ''quoted''';
COMMENT ON COLUMN public.customers."MixedCase" IS 'mixed';
CREATE TABLE public."Order Items" (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES public.customers (id) ON DELETE CASCADE,
  qty util.posint NOT NULL,
  price numeric(12,2) NOT NULL CHECK (price >= 0),
  gross numeric GENERATED ALWAYS AS (util.add_tax(price * qty)) STORED,
  invoice bigint DEFAULT nextval('public.invoice_no'),
  during tstzrange,
  updated_at timestamptz,
  CONSTRAINT "qty and price" UNIQUE (customer_id, price),
  CONSTRAINT "no overlap" EXCLUDE USING gist (during WITH &&)
);
COMMENT ON COLUMN public."Order Items".gross IS 'price * qty, tax included';
CREATE INDEX "Order Items updated" ON public."Order Items" (updated_at) WHERE updated_at IS NOT NULL;
CREATE INDEX customers_lower_email ON public.customers (lower(email));
CREATE TRIGGER "touch it" BEFORE UPDATE ON public."Order Items" FOR EACH ROW EXECUTE FUNCTION util.touch();
CREATE STATISTICS public.items_stats (dependencies) ON customer_id, price FROM public."Order Items";
ALTER TABLE public.customers ADD CONSTRAINT email_short CHECK (length(email) < 200) NOT VALID;
GRANT SELECT ON public.customers TO fid_reader;
GRANT SELECT (id, qty), UPDATE (qty) ON public."Order Items" TO fid_reader;

CREATE TABLE "My Schema"."café" ("naïve col" text PRIMARY KEY, "a""quote" int, "with space" int);
CREATE TABLE "My Schema"."MixedCase" (id int PRIMARY KEY, ref text REFERENCES "My Schema"."café" ("naïve col") DEFERRABLE INITIALLY DEFERRED);
CREATE UNIQUE INDEX "Café idx" ON "My Schema"."café" (("with space" * 2));
CREATE TABLE "My Schema"."he said ""hi""" (id int PRIMARY KEY, "user" text DEFAULT current_user, "SELECT" bool);
CREATE VIEW "My Schema"."it's ""quoted""" AS SELECT id, "user" FROM "My Schema"."he said ""hi""";
CREATE TABLE public."select" ("user" int PRIMARY KEY, "from" text, "where" util.floatrange);
ALTER TABLE public."select" ENABLE ROW LEVEL SECURITY;
CREATE POLICY "readers see few" ON public."select" FOR SELECT TO fid_reader USING ("user" < 100);

CREATE VIEW public.customer_totals AS
  SELECT c.id, c.email, sum(oi.gross) AS total, util.csv(oi.id::text) AS items, util.double_it(count(*)::int) AS twice
    FROM public.customers c LEFT JOIN public."Order Items" oi ON oi.customer_id = c.id GROUP BY c.id, c.email;
CREATE VIEW public."close prices" AS SELECT id FROM public."Order Items" WHERE price::float8 OPERATOR(util.~=) 10.0;
CREATE MATERIALIZED VIEW public.mood_counts AS SELECT mood, count(*) AS n FROM public.customers GROUP BY mood;
CREATE UNIQUE INDEX mood_counts_mood ON public.mood_counts (mood);
CREATE MATERIALIZED VIEW public.mood_top AS SELECT mood FROM public.mood_counts WHERE n > 1;
CREATE MATERIALIZED VIEW public.never_filled AS SELECT 1 AS one WITH NO DATA;
CREATE TABLE public.deleted_log (id bigint, at timestamptz NOT NULL DEFAULT now());
-- A schema of views and functions only, that nothing else refers to.
CREATE SCHEMA reporting;
CREATE VIEW reporting.order_summary AS SELECT customer_id, count(*) AS orders, sum(gross) AS gross FROM public."Order Items" GROUP BY customer_id;
CREATE FUNCTION reporting.revenue() RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT sum(gross) FROM public."Order Items" $$;
GRANT USAGE ON SCHEMA reporting TO fid_reader;
GRANT SELECT ON reporting.order_summary TO fid_reader;
CREATE RULE log_delete AS ON DELETE TO public.customers DO ALSO INSERT INTO public.deleted_log (id) VALUES (OLD.id);

CREATE TABLE sales.events (
  id bigint GENERATED BY DEFAULT AS IDENTITY,
  at date NOT NULL,
  kind text NOT NULL,
  payload jsonb,
  PRIMARY KEY (id, at, kind)
) PARTITION BY RANGE (at);
CREATE TABLE sales.events_2023 PARTITION OF sales.events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE sales.events_2024 PARTITION OF sales.events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') PARTITION BY LIST (kind);
CREATE TABLE sales.events_2024_click PARTITION OF sales.events_2024 FOR VALUES IN ('click');
CREATE TABLE sales.events_2024_other PARTITION OF sales.events_2024 DEFAULT;
CREATE TABLE sales.events_default PARTITION OF sales.events DEFAULT;
CREATE INDEX events_kind ON sales.events (kind);
CREATE INDEX events_payload ON sales.events USING gin (payload);

INSERT INTO public.customers (email, "MixedCase", "select", "user", mood, home)
  SELECT 'c' || g || '@example.com', 'M' || g, g, 'u' || g, (ARRAY['sad','ok','happy']::util.mood[])[1 + g % 3], ROW('street ' ||
    g, 'city', '12345')::util.address
    FROM generate_series(1, 300) g;
INSERT INTO public."Order Items" (customer_id, qty, price, during)
  SELECT 1 + g % 300, 1 + g % 5, g, tstzrange('2024-01-01'::timestamptz + g * interval '1 hour', '2024-01-01'::timestamptz + (g + 1) * interval '1 hour')
    FROM generate_series(1, 30000) g;
INSERT INTO "My Schema"."café" VALUES ('crème', 1, 1), ('brûlée', 2, 2);
INSERT INTO "My Schema"."MixedCase" VALUES (1, 'crème');
INSERT INTO "My Schema"."he said ""hi""" (id, "SELECT") VALUES (1, true), (2, NULL);
INSERT INTO public."select" VALUES (1, 'here', '[1.5,2.5)');
INSERT INTO sales.events (at, kind, payload)
  SELECT date '2023-06-01' + g % 900, (ARRAY['click','view','buy'])[1 + g % 3], jsonb_build_object('n', g) FROM generate_series(1, 40000) g;
-- A key compressed in its index, then its column set to uncompressed storage: an index built
-- anew after SET STORAGE EXTERNAL could not hold it.
CREATE TABLE public.long_keys (k text PRIMARY KEY);
INSERT INTO public.long_keys VALUES (repeat('9876543210', 10000));
ALTER TABLE public.long_keys ALTER COLUMN k SET STORAGE EXTERNAL;
DELETE FROM public.customers WHERE id = 300;
SELECT nextval('public.invoice_no');
REFRESH MATERIALIZED VIEW public.mood_counts;
REFRESH MATERIALIZED VIEW public.mood_top;
ANALYZE;
`;

const RICH_SCHEMAS = ['My Schema', 'public', 'reporting', 'sales', 'util'];

/**
 * One row per kind of value, in two tables: `as_text` holds composite and enum-array
 * columns (their binary form embeds type OIDs, so it is copied as text), `as_binary`
 * holds none (copied in binary). Both get NULLs in every column and values over 1 MB.
 */
const TYPES_SQL = String.raw`
-- Type OIDs on the source move away from those the target will give the same types.
DO $$ BEGIN FOR i IN 1..25 LOOP EXECUTE format('CREATE TYPE shift%s AS ENUM (''x'')', i); EXECUTE format('DROP TYPE shift%s', i); END LOOP; END $$;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a int, b text);
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE DOMAIN small_posint AS posint CHECK (VALUE < 1000);
CREATE DOMAIN pair_d AS pair;
CREATE DOMAIN pair_dd AS pair_d;
CREATE DOMAIN labels AS text[];
CREATE FUNCTION column_list(with_oid_bound boolean) RETURNS text LANGUAGE sql AS $$
  SELECT 'id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text UNIQUE,
    n numeric, n2 numeric(20,5), f4 real, f8 double precision, i2 smallint, i4 int, i8 bigint,
    t text, vc varchar(20), ch char(5), b bytea, ok boolean,
    d date, tm time, tmtz timetz, ts timestamp, tstz timestamptz, iv interval,
    u uuid, j json, jb jsonb, ai int[], at text[], a2 int[][],
    r int4range, tr tstzrange, nr numrange, mr int4multirange, m mood, dom posint, dom2 small_posint, domarr labels,
    mon money, inet_ inet, bits bit varying(16), big text, bigb bytea,
    gen text GENERATED ALWAYS AS (coalesce(t, ''<null>'') || ''/'' || coalesce(i4::text, ''<null>'')) STORED'
  || CASE WHEN with_oid_bound THEN ', am mood[], p pair, pa pair[], pd pair_dd, ra int4range[]' ELSE '' END
$$;
DO $$ BEGIN
  EXECUTE format('CREATE TABLE as_text (%s)', column_list(true));
  EXECUTE format('CREATE TABLE as_binary (%s)', column_list(false));
END $$;

CREATE FUNCTION fill(tbl regclass, with_oid_bound boolean) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE extra_cols text := CASE WHEN with_oid_bound THEN ', am, p, pa, pd, ra' ELSE '' END;
BEGIN
  EXECUTE format($$
    INSERT INTO %s (label, n, n2, f4, f8, i2, i4, i8, t, vc, ch, b, ok, d, tm, tmtz, ts, tstz, iv, u, j, jb, ai, at, a2, r, tr,
      nr, mr, m, dom, dom2, domarr, mon, inet_, bits %s)
    VALUES
    ('typical', 12345.6789, 1.5, 1.25, 0.1::float8 + 0.2::float8, 7, 42, 9000000000, 'hello', 'varchar', 'ab', '\x00ff10', true,
     '2020-03-04', '13:14:15.123456', '13:14:15+05:30', '2020-03-04 05:06:07.891011', '2020-03-04 05:06:07.891011+00', '1 year 2 mons 3 days 04:05:06.789',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1, "a": [1, 2.50, "x"]}', '{"b": 1, "a": [1, 2.50, "x"]}',
     '{1,2,3}', '{"a b","c,d","e\"f",NULL}', '{{1,2},{3,4}}',
     '[1,10)', '[2020-01-01 00:00:00+00,2020-02-01 00:00:00+00)', '(0.5,1.5]', '{[1,3),[5,7)}', 'happy', 5, 6, '{x,y}',
     12.34, '192.168.0.1/24', B'1011' %s),
    ('edges', 'NaN', -99999.99999, 'Infinity', 'NaN', -32768, -2147483648, 9223372036854775807,
      E'tab\there\nnewline \\ backslash ''quote'' \u00e9\u00e8 \U0001F600', '', '     ', '\x', false,
     '4713-01-01 BC', '24:00:00', '00:00:00-12', 'infinity', '-infinity', '-178000000 years -1 mons -2 days -00:00:00.000001',
     '00000000-0000-0000-0000-000000000000', '{"\u00e9": "\\u00e9", "n": null}', '{"deep": {"deeper": [[], {}, null, true]}}',
     '{}', '{}', '{{NULL,2},{3,NULL}}',
     'empty', '(,)', '[-1.5,)', '{}', 'sad', 1, 999, '{}',
     -92233720368547758.08, '::1', B'' %s),
    ('float extremes', '1e-130', 0.00001, '-Infinity', 1.7976931348623157e308, 32767, 2147483647, -9223372036854775808, 'x', 'x', 'x', '\x00', NULL,
     'infinity', '00:00:00', '23:59:59.999999+14', '1999-12-31 23:59:59.999999', '2038-01-19 03:14:08+00', '0 seconds',
     'ffffffff-ffff-ffff-ffff-ffffffffffff', '[]', '"just a string"', '{-1}', '{""}', '{}',
     '[-2147483648,2147483647)', '[infinity,infinity]', '[0,0]', '{[1,2)}', 'ok', 2147483647, 1, '{NULL}',
     0, '2001:db8::ff00:42:8329/128', B'1111111111111111' %s),
    ('nulls', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL %s)
  $$, tbl, extra_cols,
    CASE WHEN with_oid_bound THEN $$, '{happy,sad}', '(1,"a ""b"" c")', '{"(1,x)","(,)",NULL}', '(7,seven)', '{"[1,2)",empty}'$$ ELSE '' END,
    CASE WHEN with_oid_bound THEN $$, '{}', '(,)', '{}', '(,)', '{}'$$ ELSE '' END,
    CASE WHEN with_oid_bound THEN $$, '{NULL}', '(-1,"")', '{"(2,\"\")"}', '(0,"")', '{}'$$ ELSE '' END,
    CASE WHEN with_oid_bound THEN ', NULL, NULL, NULL, NULL, NULL' ELSE '' END);
  -- Over 1 MB each, incompressible enough to live out of line in TOAST.
  EXECUTE format($$INSERT INTO %s (label, big, bigb)
    SELECT 'toasted', string_agg(md5(random()::text), ''), decode(string_agg(md5(g::text), ''), 'hex') FROM generate_series(1, 70000) g$$, tbl);
  EXECUTE format($$INSERT INTO %s (label, i4, t, f8, d, ts)
    SELECT 'filler ' || g, g, repeat('f', g %% 300), g / 7.0, date '2000-01-01' + g, timestamp '2000-01-01' + g * interval '1 minute'
      FROM generate_series(1, 5000) g$$, tbl);
END $f$;
SELECT fill('as_text', true), fill('as_binary', false);
-- Arrays of enums behind two domains, alone and in a composite (binary COPY writes the enum's OID into them).
CREATE DOMAIN moods AS mood[];
CREATE DOMAIN moods_d AS moods;
CREATE TYPE tagged AS (m mood[], n int);
CREATE DOMAIN tagged_d AS tagged;
CREATE DOMAIN tagged_dd AS tagged_d;
CREATE TABLE nested_domains (id int PRIMARY KEY, m moods_d, n small_posint);
INSERT INTO nested_domains VALUES (1, '{happy,sad}', 3), (2, NULL, NULL), (3, '{}', 999);
-- No key: split by heap block ranges; its TOAST is larger than its heap.
CREATE TABLE unkeyed AS SELECT label, t, big, bigb, f8 FROM as_binary;
CREATE TABLE nested_composite (id int PRIMARY KEY, tg tagged_dd);
INSERT INTO nested_composite VALUES (1, '("{ok,sad}",1)'), (2, NULL), (3, '(,)');
ANALYZE;
`;

describe('migrationWorkflow mode full: fidelity', () => {
  let temporal: TemporalHarness;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;
  let source: PgServer;
  let target: PgServer;

  before(async () => {
    let s: PgServer | undefined;
    let t: PgServer | undefined;
    [temporal, s, t] = await Promise.all([startTemporal(), startPostgres({ major: 15 }), startPostgres({ major: 15 })]);
    source = s!;
    target = t!;
    // An ICU database with settings and a comment: the migration creates its target like pg_dump --create would.
    await source.query(`CREATE DATABASE rich TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`);
    await source.query(`ALTER DATABASE rich SET search_path = public, util, "My Schema"`);
    await source.query(`ALTER DATABASE rich SET work_mem = '8MB'`);
    await source.query(`COMMENT ON DATABASE rich IS 'the rich one'`);
    await source.query('CREATE DATABASE typed');
    // Session settings that change the text form of values: the copy and the comparison must not depend on them.
    await source.query(`ALTER DATABASE typed SET DateStyle = 'SQL, DMY'`);
    await source.query(`ALTER DATABASE typed SET IntervalStyle = 'sql_standard'`);
    await source.query(`ALTER DATABASE typed SET extra_float_digits = 0`);
    await source.query(`ALTER DATABASE typed SET TimeZone = 'America/New_York'`);
    await source.query(`ALTER DATABASE typed SET bytea_output = 'escape'`);
    await target.query('CREATE DATABASE typed');
    await target.query(`ALTER DATABASE typed SET DateStyle = 'ISO, MDY'`);
    await target.query(`ALTER DATABASE typed SET TimeZone = 'Asia/Tokyo'`);
    await Promise.all([source.query(RICH_SCHEMA_SQL, [], 'rich'), source.query(TYPES_SQL, [], 'typed')]);
    ({ worker, taskQueue } = await temporal.worker());
    running = worker.run();
  });

  after(async () => {
    try {
      worker?.shutdown();
      await running;
    } finally {
      await Promise.all([temporal?.stop(), source?.stop(), target?.stop()]);
    }
  });

  async function migrate(overrides: Partial<PlanInput> & { database: string }): Promise<Plan> {
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
    return plan;
  }

  it('restores a rich schema that pg_dump cannot tell from the source', async () => {
    const plan = await migrate({ database: 'rich', roles: true });
    // "Order Items" (a key, a unique and an exclusion constraint, a partial index, statistics, a
    // trigger, a foreign key) is copied in several chunks: its indexes and keys are built during the
    // load; the leaf partitions in several chunks wait for their root's in post-data.
    const st = await temporal.env.client.workflow
      .getHandle(childIds(workflowIds(plan.name).migration).database('rich'))
      .query(databaseStatusQuery);
    const chunked = st.tables.filter((t) => t.chunksTotal > 1).map((t) => t.table);
    assert.ok(
      chunked.includes('public.Order Items') && chunked.some((t) => t.startsWith('sales.events_')),
      chunked.join(),
    );
    const copy = st.steps.find((x) => x.step === 'copy');
    assert.match(copy?.detail ?? '', /indexes of 1 table built during the copy/);
    const db = `SELECT d.datlocprovider, d.daticulocale, d.datcollate, shobj_description(d.oid, 'pg_database') AS comment, s.setconfig
                  FROM pg_database d LEFT JOIN pg_db_role_setting s ON s.setdatabase = d.oid AND s.setrole = 0 WHERE d.datname = 'rich'`;
    const [sdb, tdb] = await Promise.all([source.query(db), target.query(db)]);
    assert.deepEqual(tdb.rows, sdb.rows);
    assert.deepEqual(tdb.rows[0]!.setconfig, ['search_path=public, util, "My Schema"', 'work_mem=8MB']);
    const [a, b] = await Promise.all([
      schemaDump(source, 'rich', RICH_SCHEMAS),
      schemaDump(target, 'rich', RICH_SCHEMAS),
    ]);
    assert.ok(a.length > 200, 'the source dump is the rich schema');
    const diff = lineDiff(a, b);
    assert.equal(diff, '', `schema dumps differ (- source, + target):\n${diff}`);

    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'rich', 'rich', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
    assert.equal(
      cmp.length,
      16,
      'every table and leaf partition (12), the partitioned root, the three materialized views',
    );
    const storage =
      `SELECT attrelid::regclass::text AS rel, attstorage FROM pg_attribute ` +
      `WHERE attname = 'k' AND attrelid::regclass::text LIKE 'long_keys%' ORDER BY 1`;
    assert.deepEqual((await target.query(storage, [], 'rich')).rows, (await source.query(storage, [], 'rich')).rows);

    // Materialized views hold data on the target exactly when they do on the source.
    const mv = `SELECT c.relname, c.relispopulated FROM pg_class c WHERE c.relkind = 'm' ORDER BY 1`;
    const [smv, tmv] = await Promise.all([source.query(mv, [], 'rich'), target.query(mv, [], 'rich')]);
    assert.deepEqual(tmv.rows, smv.rows);
    assert.deepEqual(
      tmv.rows.map((r) => r.relispopulated),
      [true, true, false],
    );
    const counts = `SELECT mood::text, n FROM public.mood_counts ORDER BY 1`;
    assert.deepEqual((await target.query(counts, [], 'rich')).rows, (await source.query(counts, [], 'rich')).rows);

    // Sequences continue where the source is: new rows on the target do not collide.
    const seqs = `SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2`;
    const [sseq, tseq] = await Promise.all([source.query(seqs, [], 'rich'), target.query(seqs, [], 'rich')]);
    assert.deepEqual(tseq.rows, sseq.rows);

    // A schema step retried after its worker died: pre-data finds everything there; post-data
    // finds part of it (as if the first attempt stopped midway) and creates only the rest.
    await target.query(
      `DROP TRIGGER "touch it" ON public."Order Items"; DROP POLICY "readers see few" ON public."select"; DROP INDEX "My Schema"."Café idx";
       ALTER TABLE "My Schema"."MixedCase" DROP CONSTRAINT "MixedCase_ref_fkey"; DROP RULE log_delete ON public.customers; DROP STATISTICS public.items_stats;`,
      [],
      'rich',
    );
    for (const section of ['pre-data', 'post-data'] as const) {
      const restored = await schema.withScratch(async (dir) => {
        const archive = await schema.dumpSection(plan, {
          source: endpoints(plan).source,
          database: 'rich',
          section,
          snapshot: null,
          sourceMajor: 15,
          dir,
        });
        return schema.restoreSection({
          target: endpoints(plan).target,
          targetDatabase: 'rich',
          archive: archive!,
          section,
          keepOwnership: true,
          jobs: 2,
          targetMajor: 15,
          dir,
        });
      });
      assert.ok(restored.skipped > (section === 'pre-data' ? 40 : 30), `${section} again: ${JSON.stringify(restored)}`);
    }
    const again = await schemaDump(target, 'rich', RICH_SCHEMAS);
    assert.equal(lineDiff(a, again), '', 'the retried schema steps restored the same schema');

    await target.query(`INSERT INTO public.customers (email) VALUES ('new@example.com')`, [], 'rich');
    await target.query(`INSERT INTO public."Order Items" (customer_id, qty, price) VALUES (1, 1, 99999)`, [], 'rich');
    await target.query(`INSERT INTO sales.events (at, kind) VALUES ('2024-05-01', 'click')`, [], 'rich');
  });

  it('copies every column type exactly, recomputing generated columns', async () => {
    const plan = await migrate({ database: 'typed' });
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'typed', 'typed', true);
    assert.deepEqual(
      cmp.map((c) => [c.table, c.sourceRows]),
      [
        ['public.as_binary', 5005],
        ['public.as_text', 5005],
        ['public.nested_composite', 3],
        ['public.nested_domains', 3],
        ['public.unkeyed', 5005],
      ],
    );
    const st = await temporal.env.client.workflow
      .getHandle(workflowIds(plan.name).database('typed'))
      .query(databaseStatusQuery);
    assert.ok(
      st.tables.find((t) => t.table === 'public.unkeyed')!.chunksTotal > 1,
      'the unkeyed table was split by block ranges',
    );
    const moodOid = `SELECT 'mood'::regtype::oid::int AS oid`;
    assert.notEqual(
      (await target.query(moodOid, [], 'typed')).rows[0]!.oid,
      (await source.query(moodOid, [], 'typed')).rows[0]!.oid,
      'type OIDs differ between the servers',
    );
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );

    for (const table of ['as_text', 'as_binary']) {
      // Read both sides in one fixed session setup, so the text forms are comparable.
      const probe = `SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3;
        SELECT label, f8::text, d::text, ts::text, tstz::text, iv::text, n::text, f4::text, md5(big) AS big, md5(bigb) AS bigb, length(big) AS len, gen
          FROM ${table} WHERE label IN ('typical', 'edges', 'nulls', 'toasted') ORDER BY label`;
      const pick = (r: unknown) =>
        (Array.isArray(r) ? r[r.length - 1].rows : (r as { rows: unknown[] }).rows) as Record<string, unknown>[];
      const [s, t] = [pick(await source.query(probe, [], 'typed')), pick(await target.query(probe, [], 'typed'))];
      assert.deepEqual(t, s, `${table}: spot-checked values`);
      const typical = t.find((r) => r.label === 'typical')!;
      assert.equal(typical.f8, '0.30000000000000004', `${table}: float8 keeps every digit`);
      assert.equal(typical.d, '2020-03-04', `${table}: day and month not swapped`);
      assert.equal(typical.tstz, '2020-03-04 05:06:07.891011+00');
      assert.equal(typical.iv, '1 year 2 mons 3 days 04:05:06.789');
      assert.equal(typical.gen, 'hello/42', `${table}: generated column recomputed`);
      const edges = t.find((r) => r.label === 'edges')!;
      assert.equal(edges.n, 'NaN');
      assert.equal(edges.f8, 'NaN');
      assert.equal(edges.f4, 'Infinity');
      assert.equal(t.find((r) => r.label === 'nulls')!.gen, '<null>/<null>');
      const toasted = t.find((r) => r.label === 'toasted')!;
      assert.ok(Number(toasted.len) > 1_000_000);
    }
    // The target recomputed the generated column rather than receiving it, and identity still generates.
    const gen = await target.query(
      `SELECT attgenerated FROM pg_attribute WHERE attrelid = 'as_text'::regclass AND attname = 'gen'`,
      [],
      'typed',
    );
    assert.equal(gen.rows[0]!.attgenerated, 's');
    const ins = await target.query(`INSERT INTO as_binary (label) VALUES ('after') RETURNING id`, [], 'typed');
    assert.ok(ins.rows[0]!.id > 5005, 'identity continues after the copied rows');
    await assert.rejects(
      target.query(`INSERT INTO as_binary (id, label) VALUES (1, 'x')`, [], 'typed'),
      /non-DEFAULT value into column "id"/,
    );
  });
});
