-- 001_rep_changes.pl: the publisher's DML, in the test's order, one statement per
-- safe_psql call (each its own transaction). Left out: the ALTER PUBLICATION /
-- SUBSCRIPTION steps, the temp1/temp2 tables the test creates and drops mid-way, and
-- "ALTER TABLE tab_mixed DROP COLUMN b" (DDL during change capture); the updates
-- around it are kept.
INSERT INTO tab_ins SELECT generate_series(1,50);
DELETE FROM tab_ins WHERE a > 20;
UPDATE tab_ins SET a = -a;

INSERT INTO tab_rep SELECT generate_series(1,50);
DELETE FROM tab_rep WHERE a > 20;
UPDATE tab_rep SET a = -a;

INSERT INTO tab_mixed VALUES (2, 'bar', 2.2);
INSERT INTO tab_full_pk VALUES (1, 'foo'), (2, 'baz');
INSERT INTO tab_nothing VALUES (generate_series(1,20));

INSERT INTO tab_include SELECT generate_series(1,50);
DELETE FROM tab_include WHERE a > 20;
UPDATE tab_include SET a = -a;

INSERT INTO tab_no_replidentity_index VALUES(1);
INSERT INTO tab_no_col default VALUES;

-- insert some duplicate rows
INSERT INTO tab_full SELECT generate_series(1,10);

INSERT INTO tab_ins VALUES(8888);
DELETE FROM tab_ins WHERE a = 8888;

-- updates with REPLICA IDENTITY FULL and duplicate tuples
UPDATE tab_full SET a = a * a;
UPDATE tab_full2 SET x = 'bb' WHERE x = 'b';
UPDATE tab_mixed SET b = 'baz' WHERE a = 1;
UPDATE tab_full_pk SET b = 'bar' WHERE a = 1;

UPDATE tab_full_pk SET b = 'quux' WHERE a = 1;
UPDATE tab_full SET a = a + 1 WHERE a = 25;
DELETE FROM tab_full_pk WHERE a = 2;

-- toasted values: a large value, then an update that does not touch it
UPDATE tab_mixed SET b = repeat('xyzzy', 100000) WHERE a = 2;
UPDATE tab_mixed SET c = 3.3 WHERE a = 2;

UPDATE tab_mixed SET b = 'bar', c = 2.2 WHERE a = 2;
UPDATE tab_mixed SET c = 11.11 WHERE a = 1;
UPDATE tab_mixed SET c = 22.22 WHERE a = 2;

INSERT INTO tab_ins SELECT generate_series(1001,1100);
DELETE FROM tab_rep;

DELETE FROM tab_ins WHERE a > 0;
INSERT INTO tab_full VALUES(0);

-- a change to a table that is not replicated (the test checks it is skipped)
INSERT INTO tab_notrep VALUES (11);
