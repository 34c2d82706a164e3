-- constraints.sql: the test's DML that succeeds, in order, including its transactions that
-- rely on deferred checks (SET CONSTRAINTS ... DEFERRED, INITIALLY DEFERRED).

INSERT INTO INSERT_TBL(y) VALUES ('try again');
UPDATE INSERT_TBL SET x = NULL WHERE x = 5;
UPDATE INSERT_TBL SET x = 6 WHERE x = 6;
UPDATE INSERT_TBL SET x = -z, z = -x;

INSERT INTO INSERT_CHILD(x,z,cy) VALUES (6,-6,7);
INSERT INTO SYS_COL_CHECK_TBL VALUES ('Olympia', 'Washington', false, 100);
UPDATE SYS_COL_CHECK_TBL SET altitude = 200 WHERE city = 'Seattle';

INSERT INTO PRIMARY_TBL VALUES (3, 'three');
UPDATE PRIMARY_TBL SET t = 'uno' WHERE i = 1 AND t = 'one';
DELETE FROM PRIMARY_TBL WHERE i = 5;

INSERT INTO unique_nnd_tbl (t) VALUES ('eight') ON CONFLICT DO NOTHING;  -- no-op
UPDATE unique_nnd_tbl SET t = 'cinq' WHERE i = 5;

-- check is done at end of statement, so this should succeed
UPDATE unique_tbl SET i = i+1;

-- explicitly defer the constraint
BEGIN;
SET CONSTRAINTS unique_tbl_i_key DEFERRED;
INSERT INTO unique_tbl VALUES (3, 'three');
DELETE FROM unique_tbl WHERE t = 'tree'; -- makes constraint valid again
COMMIT; -- should succeed

-- test a HOT update that modifies the newly inserted tuple,
-- but should succeed because we then remove the other conflicting tuple.
BEGIN;
SET CONSTRAINTS unique_tbl_i_key DEFERRED;
INSERT INTO unique_tbl VALUES(3, 'tree'); -- should succeed for now
UPDATE unique_tbl SET t = 'threex' WHERE t = 'tree';
DELETE FROM unique_tbl WHERE t = 'three';
COMMIT;

-- deferrable UNIQUE on a partitioned table
BEGIN;
INSERT INTO parted_uniq_tbl VALUES (1);
SAVEPOINT f;
INSERT INTO parted_uniq_tbl VALUES (21);
ROLLBACK TO f;
SET CONSTRAINTS parted_uniq_tbl_i_key DEFERRED;
INSERT INTO parted_uniq_tbl VALUES (2), (22);
UPDATE parted_uniq_tbl SET i = i + 1;
COMMIT;

INSERT INTO parted_fk_naming VALUES (1, NULL);
UPDATE parted_fk_naming SET id_abc = 1 WHERE id = 1;
INSERT INTO regress_constr_partitioned VALUES (1);

-- succeed because c1 doesn't overlap
INSERT INTO circles VALUES('<(20,20), 1>', '<(0,0), 5>');
-- succeed because c2 doesn't overlap
INSERT INTO circles VALUES('<(20,20), 10>', '<(10,10), 5>');
UPDATE circles SET c2 = '<(0,0), 3>' WHERE c1 ~= '<(0,0), 5>' AND c2 = '<(0,0), 4>';

-- deferred exclusion constraint
BEGIN;
INSERT INTO deferred_excl VALUES(3);
COMMIT;
-- bug #13148: deferred constraint versus HOT update
BEGIN;
INSERT INTO deferred_excl VALUES(2, 1); -- no fail here
DELETE FROM deferred_excl WHERE f1 = 2 AND f2 IS NULL; -- remove old row
UPDATE deferred_excl SET f2 = 2 WHERE f1 = 2;
COMMIT; -- should not fail

-- a deferred primary key: swap two keys inside one transaction
BEGIN;
UPDATE notnull_tbl4 SET a = 4 WHERE a = 1;
UPDATE notnull_tbl4 SET a = 1 WHERE a = 2;
UPDATE notnull_tbl4 SET a = 2 WHERE a = 4;
COMMIT;
INSERT INTO notnull_tbl4_lk VALUES (1);

INSERT INTO cnn_uq VALUES (1), (NULL), (NULL);
UPDATE cnn_uq SET a = 2 WHERE a = 1;
INSERT INTO DEFAULT_TBL DEFAULT VALUES;
INSERT INTO DEFAULTEXPR_TBL DEFAULT VALUES;
INSERT INTO CHECK_TBL VALUES (7);
UPDATE CHECK2_TBL SET z = 6 WHERE x = 7;
INSERT INTO ATACC1 (TEST, TEST2) VALUES (1, 11);
