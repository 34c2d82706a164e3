-- 013_partition.pl: every DML statement the test runs on the publisher, in order (each
-- was its own safe_psql call). Updates that change the partition key move rows between
-- partitions; TRUNCATE hits single partitions and whole partitioned tables.

-- Tests for replication using leaf partition identity and schema
INSERT INTO tab1 VALUES (1);
INSERT INTO tab1_1 (a) VALUES (3);
INSERT INTO tab1_2 VALUES (5);
INSERT INTO tab1 VALUES (0);

-- update (replicated as update)
UPDATE tab1 SET a = 2 WHERE a = 1;
UPDATE tab1 SET a = 6 WHERE a = 5;
UPDATE tab1 SET a = 4 WHERE a = 6;
UPDATE tab1 SET a = 6 WHERE a = 4;

-- update (replicated as delete+insert)
UPDATE tab1 SET a = 1 WHERE a = 0;
UPDATE tab1 SET a = 4 WHERE a = 1;

-- delete
DELETE FROM tab1 WHERE a IN (2, 3, 5);
DELETE FROM tab1_2;

-- truncate
TRUNCATE tab1_2;
TRUNCATE tab1;

INSERT INTO tab1 VALUES (1, 'foo'), (4, 'bar'), (10, 'baz');
UPDATE tab1 SET b = 'quux' WHERE a = 4;
DELETE FROM tab1;

-- Tests for replication using root table identity and schema
INSERT INTO tab1 VALUES (1), (0);
INSERT INTO tab1_1 (a) VALUES (3);
INSERT INTO tab1_2 VALUES (5);
INSERT INTO tab2 VALUES (0), (3), (5);
INSERT INTO tab3 VALUES (1), (0), (3), (5);
INSERT INTO tab4 VALUES (0);
INSERT INTO tab4 VALUES (1);

-- update (replicated as update)
UPDATE tab1 SET a = 6 WHERE a = 5;
UPDATE tab2 SET a = 6 WHERE a = 5;
UPDATE tab3 SET a = 6 WHERE a = 5;

-- update (replicated as delete+insert)
UPDATE tab1 SET a = 2 WHERE a = 6;
UPDATE tab2 SET a = 2 WHERE a = 6;
UPDATE tab3 SET a = 2 WHERE a = 6;

-- delete
DELETE FROM tab1;
DELETE FROM tab2;
DELETE FROM tab3;

-- truncate
INSERT INTO tab1 VALUES (1), (2), (5);
INSERT INTO tab2 VALUES (1), (2), (5);
TRUNCATE tab1_2, tab2_1, tab3_1;
TRUNCATE tab1, tab2, tab3;

-- after tab2 lost and re-gained columns
INSERT INTO tab2 (a, b) VALUES (1, 'xxx'), (3, 'yyy'), (5, 'zzz');
INSERT INTO tab2 (a, b, c) VALUES (6, 'aaa', 'xxx_c');
UPDATE tab2 SET b = 'quux' WHERE a = 5;
DELETE FROM tab2 WHERE a = 1;

-- tab5 (replica identity index); the test's INSERT named no columns, here b is named
-- explicitly because the column was re-created in schema.sql
INSERT INTO tab5 (a, b) VALUES (1, 1);
UPDATE tab5 SET a = 2 WHERE a = 1;
UPDATE tab5 SET a = 3 WHERE a = 2;
UPDATE tab5 SET c = 1 WHERE a = 3;
UPDATE tab5 SET a = 4 WHERE a = 3;
