-- PostgreSQL logical replication TAP test 013_partition.pl ("logical replication with
-- partitioned tables"), publisher side.
-- Origin: https://github.com/postgres/postgres, src/test/subscription/t/013_partition.pl,
--         stored version id 60610579683 (header: Copyright (c) 2021-2023).
-- Licence: PostgreSQL Licence (see LICENSE in this folder).
-- Translation: the publisher's tables and the rows it had before its second subscription
-- started. Two ALTER TABLEs the test runs part-way through are applied here up front, so
-- that the workload is DML only: tab2 gets "DROP b, ADD COLUMN c text DEFAULT 'pub_tab2',
-- ADD b text" (a partitioned table whose columns were dropped and re-added, so root and
-- partitions have different attribute numbers), and tab5 gets "DROP COLUMN b, ADD COLUMN
-- c INT" then "ADD COLUMN b INT". Publications are left out.

CREATE TABLE tab1 (a int PRIMARY KEY, b text) PARTITION BY LIST (a);
-- a partition created separately with its columns in another order, then attached
CREATE TABLE tab1_1 (b text, a int NOT NULL);
ALTER TABLE tab1 ATTACH PARTITION tab1_1 FOR VALUES IN (1, 2, 3);
CREATE TABLE tab1_2 PARTITION OF tab1 FOR VALUES IN (4, 5, 6);
CREATE TABLE tab1_def PARTITION OF tab1 DEFAULT;

CREATE TABLE tab2 (a int PRIMARY KEY, b text) PARTITION BY LIST (a);
CREATE TABLE tab2_1 (b text, a int NOT NULL);
ALTER TABLE tab2 ATTACH PARTITION tab2_1 FOR VALUES IN (0, 1, 2, 3);
CREATE TABLE tab2_2 PARTITION OF tab2 FOR VALUES IN (5, 6);

CREATE TABLE tab3 (a int PRIMARY KEY, b text) PARTITION BY LIST (a);
CREATE TABLE tab3_1 PARTITION OF tab3 FOR VALUES IN (0, 1, 2, 3, 5, 6);

-- two-level partitioning
CREATE TABLE tab4 (a int PRIMARY KEY) PARTITION BY LIST (a);
CREATE TABLE tab4_1 PARTITION OF tab4 FOR VALUES IN (-1, 0, 1) PARTITION BY LIST (a);
CREATE TABLE tab4_1_1 PARTITION OF tab4_1 FOR VALUES IN (-1, 0, 1);

-- prepare data for the initial sync
INSERT INTO tab2 VALUES (1);
INSERT INTO tab4 VALUES (-1);

-- a plain table whose replica identity is a unique index
CREATE TABLE tab5 (a int NOT NULL, b int);
CREATE UNIQUE INDEX tab5_a_idx ON tab5 (a);
ALTER TABLE tab5 REPLICA IDENTITY USING INDEX tab5_a_idx;

-- (applied part-way through by the test)
ALTER TABLE tab2 DROP b, ADD COLUMN c text DEFAULT 'pub_tab2', ADD b text;
ALTER TABLE tab5 DROP COLUMN b, ADD COLUMN c INT;
ALTER TABLE tab5 ADD COLUMN b INT;
