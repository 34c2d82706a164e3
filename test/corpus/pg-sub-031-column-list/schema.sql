-- PostgreSQL logical replication TAP test 031_column_list.pl, publisher side.
-- Origin: https://github.com/postgres/postgres, src/test/subscription/t/031_column_list.pl,
--         commit 50e6eb731d98ab6d0e625a0b87fb327b172bbebd (header: Copyright (c) 2022-2025).
-- Licence: PostgreSQL Licence (see LICENSE in this folder).
-- Translation: the test creates, drops and re-creates tables as it goes; this file holds
-- every publisher table of the test at once, each in the last shape the test gives it
-- (tab6 keyed on b, tab7 keyed on (b, a)), with the rows each had when its subscription
-- started. Left out: publications with column lists (pgtransit publishes whole tables),
-- and the test's second "t / t_1 / t_2" family, whose names clash with the s1.t family
-- kept here. The later rows and changes are in workload.sql.

-- tab1: simple 1:1 replication (mixed-case column)
CREATE TABLE tab1 (a int PRIMARY KEY, "B" int, c int);
-- tab2: replication from regular to table with fewer columns
CREATE TABLE tab2 (a int PRIMARY KEY, b varchar, c int);
-- tab3: simple 1:1 replication with weird column names
CREATE TABLE tab3 ("a'" int PRIMARY KEY, "B" varchar, "c'" int);
-- test_part: partitioned tables, with multi-level partitioning
CREATE TABLE test_part (a int PRIMARY KEY, b text, c timestamptz) PARTITION BY LIST (a);
CREATE TABLE test_part_1_1 PARTITION OF test_part FOR VALUES IN (1,2,3,4,5,6);
CREATE TABLE test_part_2_1 PARTITION OF test_part FOR VALUES IN (7,8,9,10,11,12) PARTITION BY LIST (a);
CREATE TABLE test_part_2_2 PARTITION OF test_part_2_1 FOR VALUES IN (7,8,9,10);
-- tab4: table with user-defined enum types
CREATE TYPE test_typ AS ENUM ('blue', 'red');
CREATE TABLE tab4 (a INT PRIMARY KEY, b test_typ, c int, d text);

INSERT INTO tab1 VALUES (1, 2, 3);
INSERT INTO tab1 VALUES (4, 5, 6);
INSERT INTO tab3 VALUES (1, 2, 3);
INSERT INTO tab3 VALUES (4, 5, 6);
INSERT INTO tab4 VALUES (1, 'red', 3, 'oh my');
INSERT INTO tab4 VALUES (2, 'blue', 4, 'hello');
INSERT INTO test_part VALUES (1, 'abc', '2021-07-04 12:00:00');
INSERT INTO test_part VALUES (2, 'bcd', '2021-07-03 11:12:13');
INSERT INTO test_part VALUES (7, 'abc', '2021-07-04 12:00:00');
INSERT INTO test_part VALUES (8, 'bcd', '2021-07-03 11:12:13');
INSERT INTO tab2 VALUES (1, 'abc', 3);

CREATE TABLE tab5 (a int PRIMARY KEY, b int, c int, d int);
INSERT INTO tab5 VALUES (1, 11, 111, 1111);
INSERT INTO tab5 VALUES (2, 22, 222, 2222);

-- tab6: the test later moves the primary key from a to b
CREATE TABLE tab6 (a int, b int PRIMARY KEY, c int, d int);
INSERT INTO tab6 VALUES (1, 22, 333, 4444);

-- tab7: the test later replaces the key by (a, b), then by (b, a)
CREATE TABLE tab7 (a int, b int, c int, d int, PRIMARY KEY (b, a));
INSERT INTO tab7 VALUES (1, 22, 333, 4444);

-- Partitioned tables whose root has no key; each partition has its own key and
-- REPLICA IDENTITY USING INDEX, on a different column per partition.
CREATE TABLE test_part_a (a int, b int, c int) PARTITION BY LIST (a);
CREATE TABLE test_part_a_1 PARTITION OF test_part_a FOR VALUES IN (1,2,3,4,5);
ALTER TABLE test_part_a_1 ADD PRIMARY KEY (a);
ALTER TABLE test_part_a_1 REPLICA IDENTITY USING INDEX test_part_a_1_pkey;
CREATE TABLE test_part_a_2 PARTITION OF test_part_a FOR VALUES IN (6,7,8,9,10);
ALTER TABLE test_part_a_2 ADD PRIMARY KEY (b);
ALTER TABLE test_part_a_2 REPLICA IDENTITY USING INDEX test_part_a_2_pkey;
-- initial data, one row in each partition
INSERT INTO test_part_a VALUES (1, 3);
INSERT INTO test_part_a VALUES (6, 4);

CREATE TABLE test_part_b (a int, b int) PARTITION BY LIST (a);
CREATE TABLE test_part_b_1 PARTITION OF test_part_b FOR VALUES IN (1,2,3,4,5);
ALTER TABLE test_part_b_1 ADD PRIMARY KEY (a);
ALTER TABLE test_part_b_1 REPLICA IDENTITY USING INDEX test_part_b_1_pkey;
CREATE TABLE test_part_b_2 PARTITION OF test_part_b FOR VALUES IN (6,7,8,9,10);
ALTER TABLE test_part_b_2 ADD PRIMARY KEY (b);
ALTER TABLE test_part_b_2 REPLICA IDENTITY USING INDEX test_part_b_2_pkey;
-- initial data, one row in each partitions
INSERT INTO test_part_b VALUES (1, 1);
INSERT INTO test_part_b VALUES (6, 2);

CREATE TABLE test_part_c (a int, b int, c int) PARTITION BY LIST (a);
CREATE TABLE test_part_c_1 PARTITION OF test_part_c FOR VALUES IN (1,3);
ALTER TABLE test_part_c_1 ADD PRIMARY KEY (a);
ALTER TABLE test_part_c_1 REPLICA IDENTITY USING INDEX test_part_c_1_pkey;
CREATE TABLE test_part_c_2 PARTITION OF test_part_c FOR VALUES IN (2,4);
ALTER TABLE test_part_c_2 ADD PRIMARY KEY (b);
ALTER TABLE test_part_c_2 REPLICA IDENTITY USING INDEX test_part_c_2_pkey;
-- initial data, one row for each partition
INSERT INTO test_part_c VALUES (1, 3, 5);
INSERT INTO test_part_c VALUES (2, 4, 6);

CREATE TABLE test_part_d (a int, b int) PARTITION BY LIST (a);
CREATE TABLE test_part_d_1 PARTITION OF test_part_d FOR VALUES IN (1,3);
ALTER TABLE test_part_d_1 ADD PRIMARY KEY (a);
ALTER TABLE test_part_d_1 REPLICA IDENTITY USING INDEX test_part_d_1_pkey;
INSERT INTO test_part_d VALUES (1, 2);

CREATE TABLE test_mix_2 (a int PRIMARY KEY, b int, c int);
INSERT INTO test_mix_2 VALUES (1, 2, 3);

CREATE TABLE test_mix_3 (a int PRIMARY KEY, b int, c int);
INSERT INTO test_mix_3 VALUES (1, 2, 3);

CREATE TABLE test_root (a int PRIMARY KEY, b int, c int) PARTITION BY RANGE (a);
CREATE TABLE test_root_1 PARTITION OF test_root FOR VALUES FROM (1) TO (10);
CREATE TABLE test_root_2 PARTITION OF test_root FOR VALUES FROM (10) TO (20);
INSERT INTO test_root VALUES (1, 2, 3);
INSERT INTO test_root VALUES (10, 20, 30);

-- A keyless partitioned root in schema s1 whose partition lives in schema public.
CREATE SCHEMA s1;
CREATE TABLE s1.t (a int, b int, c int) PARTITION BY RANGE (a);
CREATE TABLE t_1 PARTITION OF s1.t FOR VALUES FROM (1) TO (10);
INSERT INTO s1.t VALUES (1, 2, 3);

CREATE TABLE test_oldtuple_col (a int PRIMARY KEY, b int, c int);
INSERT INTO test_oldtuple_col VALUES(1, 2, 3);

-- Dropped column and a stored generated column.
CREATE TABLE test_mix_4 (a int PRIMARY KEY, b int, c int, d int GENERATED ALWAYS AS (a + 1) STORED);
ALTER TABLE test_mix_4 DROP COLUMN c;
INSERT INTO test_mix_4 VALUES (1, 2);

CREATE TABLE test_mix_1 (a int PRIMARY KEY, b int, c int);
