-- PostgreSQL contrib/test_decoding regression tests ddl.sql and toast.sql: the tables
-- they decode changes of, with the rows and the DDL history they have before the
-- change-capture part.
-- Origin: https://github.com/postgres/postgres, contrib/test_decoding/sql/ddl.sql
--         (stored version id 2773107758) and contrib/test_decoding/sql/toast.sql
--         (stored version id 578642633, commit 0d1f98b80e094827199da8a3dea51f04d134b7bf).
-- Licence: PostgreSQL Licence (see LICENSE in this folder).
-- Translation: slot creation and pg_logical_slot_get_changes calls are left out; the
-- tables are created in the final shape the tests give them (DDL that the tests run
-- between changes is replayed here, in the same order, before any change capture).

SET synchronous_commit = on;

-- ddl.sql: changes interleaved with DDL leave a dropped column, a renamed column and a
-- column whose type was rewritten from varchar to int4.
CREATE TABLE replication_example(id SERIAL PRIMARY KEY, somedata int, text varchar(120));
BEGIN;
INSERT INTO replication_example(somedata, text) VALUES (1, 1);
INSERT INTO replication_example(somedata, text) VALUES (1, 2);
COMMIT;
ALTER TABLE replication_example ADD COLUMN bar int;
INSERT INTO replication_example(somedata, text, bar) VALUES (2, 1, 4);
BEGIN;
INSERT INTO replication_example(somedata, text, bar) VALUES (2, 2, 4);
INSERT INTO replication_example(somedata, text, bar) VALUES (2, 3, 4);
INSERT INTO replication_example(somedata, text, bar) VALUES (2, 4, NULL);
COMMIT;
ALTER TABLE replication_example DROP COLUMN bar;
INSERT INTO replication_example(somedata, text) VALUES (3, 1);
BEGIN;
INSERT INTO replication_example(somedata, text) VALUES (3, 2);
INSERT INTO replication_example(somedata, text) VALUES (3, 3);
COMMIT;
ALTER TABLE replication_example RENAME COLUMN text TO somenum;
INSERT INTO replication_example(somedata, somenum) VALUES (4, 1);
ALTER TABLE replication_example ALTER COLUMN somenum TYPE int4 USING (somenum::int4);
ALTER TABLE replication_example ADD COLUMN zaphod1 int;
ALTER TABLE replication_example ADD COLUMN zaphod2 int;

-- a table renamed after a row was written, then given a new serial primary key
CREATE TABLE tr_unique(id2 serial unique NOT NULL, data int);
INSERT INTO tr_unique(data) VALUES(10);
ALTER TABLE tr_unique RENAME TO tr_pkey;
ALTER TABLE tr_pkey ADD COLUMN id serial primary key;

-- disk spooling, and a text primary key of odd length
CREATE TABLE tr_etoomuch (id serial primary key, data int);
CREATE TABLE tr_oddlength (id text primary key, data text);

-- subtransactions
CREATE TABLE tr_sub (id serial primary key, path text);

-- a table marked as a user catalog table (readable by output plugins)
CREATE TABLE replication_metadata (
    id serial primary key,
    relation name NOT NULL,
    options text[]
)
WITH (user_catalog_table = true)
;
INSERT INTO replication_metadata(relation, options)
VALUES ('foo', ARRAY['a', 'b']);

-- updates and deletes with and without a key; the test ends with table_without_key
-- at REPLICA IDENTITY FULL (with a column added after rows existed) and
-- table_with_unique_not_null at REPLICA IDENTITY USING INDEX
CREATE TABLE table_without_key(id serial, data int);
ALTER TABLE table_without_key REPLICA IDENTITY FULL;
CREATE TABLE table_with_pkey(id serial primary key, data int);
CREATE TABLE table_with_unique_not_null(id serial unique, data int);
ALTER TABLE table_with_unique_not_null ALTER COLUMN id SET NOT NULL; --already set
ALTER TABLE table_with_unique_not_null REPLICA IDENTITY USING INDEX table_with_unique_not_null_id_key;

-- check toast support
BEGIN;
CREATE SEQUENCE toasttable_rand_seq START 79 INCREMENT 1499; -- portable "random"
CREATE TABLE toasttable(
       id serial primary key,
       toasted_col1 text,
       rand1 float8 DEFAULT nextval('toasttable_rand_seq'),
       toasted_col2 text,
       rand2 float8 DEFAULT nextval('toasttable_rand_seq')
       );
COMMIT;

-- toast.sql
CREATE SEQUENCE xpto_rand_seq START 79 INCREMENT 1499; -- portable "random"
CREATE TABLE xpto (
    id serial primary key,
    toasted_col1 text,
    rand1 float8 DEFAULT nextval('xpto_rand_seq'),
    toasted_col2 text,
    rand2 float8 DEFAULT nextval('xpto_rand_seq')
);
-- uncompressed external toast data
INSERT INTO xpto (toasted_col1, toasted_col2) SELECT string_agg(g.i::text, ''), string_agg((g.i*2)::text, '') FROM generate_series(1, 2000) g(i);

CREATE TABLE toasted_key (
    id serial,
    toasted_key text PRIMARY KEY,
    toasted_col1 text,
    toasted_col2 text
);
ALTER TABLE toasted_key ALTER COLUMN toasted_key SET STORAGE EXTERNAL;
ALTER TABLE toasted_key ALTER COLUMN toasted_col1 SET STORAGE EXTERNAL;

-- Test that HEAP2_MULTI_INSERT insertions with and without toasted
-- columns are handled correctly
CREATE TABLE toasted_copy (
    id int primary key, -- no default, copy didn't use to handle that with multi inserts
    data text
);
ALTER TABLE toasted_copy ALTER COLUMN data SET STORAGE EXTERNAL;

-- test we can decode "old" tuples bigger than the max heap tuple size correctly
CREATE TABLE toasted_several (
    id serial unique not null,
    toasted_key text primary key,
    toasted_col1 text,
    toasted_col2 text
);
ALTER TABLE toasted_several REPLICA IDENTITY FULL;
ALTER TABLE toasted_several ALTER COLUMN toasted_col1 SET STORAGE EXTERNAL;
ALTER TABLE toasted_several ALTER COLUMN toasted_col2 SET STORAGE EXTERNAL;
-- The test sets STORAGE EXTERNAL on toasted_key before this INSERT; on PostgreSQL 15 that
-- also stops compression of the primary-key index entry and the 100 kB key no longer fits
-- an index page ("index row requires 100016 bytes"), so here it is set after the INSERT.
INSERT INTO toasted_several(toasted_key) VALUES(repeat('9876543210', 10000));
ALTER TABLE toasted_several ALTER COLUMN toasted_key SET STORAGE EXTERNAL;
