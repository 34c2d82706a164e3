-- PostgreSQL logical replication TAP test 001_rep_changes.pl, publisher side.
-- Origin: https://github.com/postgres/postgres, src/test/subscription/t/001_rep_changes.pl
--         (master, "Copyright (c) 2021-2025" header version).
-- Licence: PostgreSQL Licence (see LICENSE in this folder).
-- Translation: the SQL the test runs on the publisher before its first change, in order.
-- The test later switches tab_full, tab_full2 and tab_ins to REPLICA IDENTITY FULL before
-- it updates them; that state is set here. Publications and subscriptions are left out.

-- The test plants this to prove that nothing calls an unqualified catalog function.
CREATE FUNCTION public.pg_get_replica_identity_index(int)
  RETURNS regclass LANGUAGE sql AS 'SELECT 1/0';  -- shall not call

CREATE TABLE tab_notrep AS SELECT generate_series(1,10) AS a;
CREATE TABLE tab_ins AS SELECT generate_series(1,1002) AS a;
CREATE TABLE tab_full AS SELECT generate_series(1,10) AS a;
CREATE TABLE tab_full2 (x text);
INSERT INTO tab_full2 VALUES ('a'), ('b'), ('b');
CREATE TABLE tab_rep (a int primary key);
CREATE TABLE tab_mixed (a int primary key, b text, c numeric);
INSERT INTO tab_mixed (a, b, c) VALUES (1, 'foo', 1.1);
CREATE TABLE tab_include (a int, b text, CONSTRAINT covering PRIMARY KEY(a) INCLUDE(b));
CREATE TABLE tab_full_pk (a int primary key, b text);
ALTER TABLE tab_full_pk REPLICA IDENTITY FULL;
-- Let this table with REPLICA IDENTITY NOTHING, allowing only INSERT changes.
CREATE TABLE tab_nothing (a int);
ALTER TABLE tab_nothing REPLICA IDENTITY NOTHING;
-- Replicate the changes without replica identity index
CREATE TABLE tab_no_replidentity_index(c1 int);
CREATE INDEX idx_no_replidentity_index ON tab_no_replidentity_index(c1);
-- Replicate the changes without columns
CREATE TABLE tab_no_col();
INSERT INTO tab_no_col default VALUES;

-- (set by the test before its UPDATE phase)
ALTER TABLE tab_full REPLICA IDENTITY FULL;
ALTER TABLE tab_full2 REPLICA IDENTITY FULL;
ALTER TABLE tab_ins REPLICA IDENTITY FULL;
