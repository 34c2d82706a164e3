-- PostgreSQL logical replication TAP test 100_bugs.pl ("tests for various bugs found
-- over time"), publisher side.
-- Origin: https://github.com/postgres/postgres, src/test/subscription/t/100_bugs.pl,
--         commit 87ce27de6963091f4a365f80bcdb06b9da098f00 (header: Copyright (c) 2021-2024).
-- Licence: PostgreSQL Licence (see LICENSE in this folder).
-- Translation: the publisher-side tables of the bugs that concern table contents, each in
-- the state the test gives it before its DML. Left out: the bug #16643 two-database
-- set-up, the cascaded-subscriber set-up, the temporary table, and the schema-rename
-- test (DDL inside the replicated transaction).

-- Bug #15114: an index predicate calling a SQL function (evaluated when the replica
-- identity columns are computed)
CREATE TABLE tab1 (a int PRIMARY KEY, b int);
CREATE FUNCTION double(x int) RETURNS int IMMUTABLE LANGUAGE SQL AS 'select x * 2';
CREATE INDEX ON tab1 (b) WHERE a > double(1);

-- FOR ALL TABLES must ignore unlogged tables
CREATE UNLOGGED TABLE tu1 AS SELECT 1 AS a;

-- The replica identity index was changed to another unique index
CREATE TABLE tab_replidentity_index(a int not null, b int not null);
CREATE UNIQUE INDEX idx_replidentity_index_a ON tab_replidentity_index(a);
CREATE UNIQUE INDEX idx_replidentity_index_b ON tab_replidentity_index(b);
ALTER TABLE tab_replidentity_index REPLICA IDENTITY USING INDEX idx_replidentity_index_a;
INSERT INTO tab_replidentity_index VALUES(1, 1),(2, 2);
-- (the test switches the identity to the other index just before its UPDATE)
ALTER TABLE tab_replidentity_index REPLICA IDENTITY USING INDEX idx_replidentity_index_b;

-- REPLICA IDENTITY FULL with a dropped column
CREATE TABLE dropped_cols (a int, b_drop int, c int);
ALTER TABLE dropped_cols REPLICA IDENTITY FULL;
-- some initial data
INSERT INTO dropped_cols VALUES (1, 1, 1);
ALTER TABLE dropped_cols DROP COLUMN b_drop;

-- REPLICA IDENTITY FULL and a column added with a DEFAULT after a row existed: that
-- row's b is a "missing attribute" (pg_attribute.atthasmissing), not stored in the tuple
CREATE TABLE tab_default (a int);
ALTER TABLE tab_default REPLICA IDENTITY FULL;
INSERT INTO tab_default VALUES (1);
ALTER TABLE tab_default ADD COLUMN b bool DEFAULT false NOT NULL;
INSERT INTO tab_default VALUES (2, true);
