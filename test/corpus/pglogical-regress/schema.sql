-- pglogical regression tests (sql/*.sql), provider side: basic, toasted, primary_key,
-- triggers, matview and foreign_key.
-- Origin: https://github.com/2ndQuadrant/pglogical, commit bff71f2c6b0bd9748ecee15dcc93201cd1a145a0,
--         sql/basic.sql, sql/toasted.sql, sql/primary_key.sql, sql/triggers.sql,
--         sql/matview.sql, sql/foreign_key.sql.
-- Licence: PostgreSQL Licence (see LICENSE in this folder, the repository's COPYRIGHT).
-- Translation: the DDL wrapped in pglogical.replicate_ddl_command($$ ... $$) is run
-- directly; replication-set calls, waits, and everything the tests run on the subscriber
-- (\c :subscriber_dsn) are left out. Each table gets the first rows its test writes; the
-- rest of its changes are in workload.sql. primary_key.sql changes the key of pk_users
-- several times; the table is created in its final state (primary key DEFERRABLE
-- INITIALLY DEFERRED, unique index on another_id).

-- basic.sql
CREATE TABLE public.basic_dml (
	id serial primary key,
	other integer,
	data text,
	something interval
);
-- check basic insert replication
INSERT INTO basic_dml(other, data, something)
VALUES (5, 'foo', '1 minute'::interval),
       (4, 'bar', '12 weeks'::interval),
       (3, 'baz', '2 years 1 hour'::interval),
       (2, 'qux', '8 months 2 days'::interval),
       (1, NULL, NULL);

-- toasted.sql
BEGIN;
CREATE TABLE public.toasted (
	id serial primary key,
	other text,
	data text NOT NULL
);
ALTER TABLE public.toasted ALTER COLUMN data SET STORAGE EXTERNAL;
COMMIT;
-- check replication of toast values
INSERT INTO toasted(other, data) VALUES('foo', repeat('1234567890', 300));

-- primary_key.sql (final shape of pk_users)
CREATE TABLE public.pk_users (
    id integer,
    another_id integer not null,
    a_id integer,
    name text,
    address text
);
ALTER TABLE public.pk_users
    ADD CONSTRAINT pk_users_pkey PRIMARY KEY (id) DEFERRABLE INITIALLY DEFERRED;
CREATE UNIQUE INDEX pk_users_another_id_idx ON public.pk_users(another_id);
INSERT INTO pk_users VALUES(1,11,1,'User1', 'Address1');
INSERT INTO pk_users VALUES(2,12,1,'User2', 'Address2');
INSERT INTO pk_users VALUES(3,13,2,'User3', 'Address3');
INSERT INTO pk_users VALUES(4,14,2,'User4', 'Address4');

-- triggers.sql (the history trigger and the filter trigger live on the subscriber)
CREATE TABLE public.test_trg_data(id serial primary key, data text);
INSERT INTO test_trg_data(data) VALUES ('no_history');

-- matview.sql
CREATE TABLE public.test_tbl(id serial primary key, data text);
CREATE MATERIALIZED VIEW public.test_mv AS (SELECT * FROM public.test_tbl);
INSERT INTO test_tbl VALUES (1, 'a');
REFRESH MATERIALIZED VIEW test_mv;
CREATE UNIQUE INDEX ON public.test_mv(id);

-- foreign_key.sql (f1k_orders is in the insert-only replication set: no key)
CREATE TABLE public.f1k_products (
    product_no integer PRIMARY KEY,
    product_id integer,
    name text,
    price numeric
);
CREATE TABLE public.f1k_orders (
    order_id integer,
    product_no integer REFERENCES public.f1k_products (product_no),
    quantity integer
);
INSERT into public.f1k_products VALUES (1, 1, 'product1', 1.20);
INSERT into public.f1k_products VALUES (2, 2, 'product2', 2.40);
INSERT into public.f1k_orders VALUES (300, 1, 4);
