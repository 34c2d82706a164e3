-- 031_column_list.pl: the publisher's DML after each subscription started, in the
-- test's order; each block was one safe_psql call (one implicit transaction), kept
-- here as an explicit transaction. DDL between the steps is already applied in
-- schema.sql (tab6 / tab7 key changes), so only the rows and changes are here.
BEGIN;
INSERT INTO tab1 VALUES (2, 3, 4);
INSERT INTO tab1 VALUES (5, 6, 7);
COMMIT;
BEGIN;
INSERT INTO tab3 VALUES (2, 3, 4);
INSERT INTO tab3 VALUES (5, 6, 7);
COMMIT;
BEGIN;
INSERT INTO tab4 VALUES (3, 'red', 5, 'foo');
INSERT INTO tab4 VALUES (4, 'blue', 6, 'bar');
COMMIT;
BEGIN;
INSERT INTO test_part VALUES (3, 'xxx', '2022-02-01 10:00:00');
INSERT INTO test_part VALUES (4, 'yyy', '2022-03-02 15:12:13');
INSERT INTO test_part VALUES (9, 'zzz', '2022-04-03 21:00:00');
INSERT INTO test_part VALUES (10, 'qqq', '2022-05-04 22:12:13');
COMMIT;

UPDATE tab1 SET "B" = 2 * "B" where a = 1;
UPDATE tab1 SET c = 2*c where a = 4;
UPDATE tab3 SET "B" = "B" || ' updated' where "a'" = 4;
UPDATE tab3 SET "c'" = 2 * "c'" where "a'" = 1;
UPDATE tab4 SET b = 'blue', c = c * 2, d = d || ' updated' where a = 1;
UPDATE tab4 SET b = 'red', c = c * 2, d = d || ' updated' where a = 2;

INSERT INTO tab2 VALUES (2, 'def', 6);
BEGIN;
UPDATE tab2 SET c = 5 where a = 1;
UPDATE tab2 SET b = 'xyz' where a = 2;
COMMIT;

BEGIN;
INSERT INTO tab5 VALUES (3, 33, 333, 3333);
INSERT INTO tab5 VALUES (4, 44, 444, 4444);
COMMIT;

-- tab6: updates that change the key column b
BEGIN;
INSERT INTO tab6 VALUES (2, 33, 444, 5555);
UPDATE tab6 SET b = b * 2, c = c * 3, d = d * 4;
COMMIT;
BEGIN;
INSERT INTO tab6 VALUES (3, 55, 666, 8888);
UPDATE tab6 SET b = b * 2, c = c * 3, d = d * 4;
COMMIT;

-- tab7: updates that change a key column, then a delete
BEGIN;
INSERT INTO tab7 VALUES (2, 33, 444, 5555);
UPDATE tab7 SET b = b * 2, c = c * 3, d = d * 4;
COMMIT;
BEGIN;
INSERT INTO tab7 VALUES (3, 55, 666, 7777);
UPDATE tab7 SET b = b * 2, c = c * 3, d = d * 4;
COMMIT;
BEGIN;
INSERT INTO tab7 VALUES (4, 77, 888, 9999);
UPDATE tab7 SET b = b * 2, c = c * 3, d = d * 4;
DELETE FROM tab7 WHERE a = 1;
COMMIT;

BEGIN;
INSERT INTO test_part_a VALUES (2, 5);
INSERT INTO test_part_a VALUES (7, 6);
COMMIT;
BEGIN;
INSERT INTO test_part_b VALUES (2, 3);
INSERT INTO test_part_b VALUES (7, 4);
COMMIT;
BEGIN;
INSERT INTO test_part_c VALUES (3, 7, 8);
INSERT INTO test_part_c VALUES (4, 9, 10);
COMMIT;
BEGIN;
TRUNCATE test_part_c;
INSERT INTO test_part_c VALUES (1, 3, 5);
INSERT INTO test_part_c VALUES (2, 4, 6);
COMMIT;
INSERT INTO test_part_d VALUES (3, 4);

INSERT INTO test_mix_2 VALUES (4, 5, 6);
INSERT INTO test_mix_3 VALUES (4, 5, 6);
BEGIN;
INSERT INTO test_root VALUES (2, 3, 4);
INSERT INTO test_root VALUES (11, 21, 31);
COMMIT;
INSERT INTO s1.t VALUES (4, 5, 6);
INSERT INTO s1.t VALUES (7, 8, 9);

-- key change and delete on test_oldtuple_col
BEGIN;
UPDATE test_oldtuple_col SET a = 2;
DELETE FROM test_oldtuple_col;
COMMIT;

INSERT INTO test_mix_4 VALUES (3, 4);
INSERT INTO test_mix_1 VALUES(1, 1, 1);
