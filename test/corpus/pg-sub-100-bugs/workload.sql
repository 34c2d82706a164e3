-- 100_bugs.pl: the publisher's DML for the same bugs, in order.
-- This would crash, first on the publisher, and then on the subscriber.
INSERT INTO tab1 VALUES (1, 2);

-- update to an unlogged table without replica identity
UPDATE tu1 SET a = 2;

-- UPDATE and DELETE through the new replica identity index
BEGIN;
UPDATE tab_replidentity_index SET a = -a WHERE a = 1;
DELETE FROM tab_replidentity_index WHERE a = 2;
COMMIT;

-- replication with RI FULL and dropped columns
UPDATE dropped_cols SET a = 100;

-- rows whose b is a missing attribute must be found by their old values
UPDATE tab_default SET a = a + 1;
