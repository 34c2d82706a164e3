-- rules.sql: its DML through the rules, in the test's order (SELECTs that only display
-- results are left out). Every write here fans out through rewrite rules: the WAL holds
-- the rewritten changes, so a target that replays them must not fire the rules again.

-- insert values
insert into rtest_v1 values (1, 11);
insert into rtest_v1 values (2, 12);
-- delete with constant expression
delete from rtest_v1 where a = 1;
insert into rtest_v1 values (1, 11);
delete from rtest_v1 where b = 12;
insert into rtest_v1 values (2, 12);
insert into rtest_v1 values (2, 13);
delete from rtest_v1 where b = 12;
delete from rtest_v1;
-- insert select
insert into rtest_v1 select * from rtest_t2;
delete from rtest_v1;
-- same with swapped targetlist
insert into rtest_v1 (b, a) select b, a from rtest_t2;
-- now with only one target attribute
insert into rtest_v1 (a) select a from rtest_t3;
-- let attribute a differ (must be done on rtest_t1 - see above)
update rtest_t1 set a = a + 10 where b isnull;
delete from rtest_v1 where b isnull;
-- now updates with constant expression
update rtest_v1 set b = 42 where a = 2;
update rtest_v1 set b = 99 where b = 42;
update rtest_v1 set b = 88 where b < 50;
delete from rtest_v1;
insert into rtest_v1 select rtest_t2.a, rtest_t3.b
    from rtest_t2, rtest_t3
    where rtest_t2.a = rtest_t3.a;
-- updates in a mergejoin
update rtest_v1 set b = rtest_t2.b from rtest_t2 where rtest_v1.a = rtest_t2.a;
insert into rtest_v1 select * from rtest_t3;
update rtest_t1 set a = a + 10 where b > 30;
update rtest_v1 set a = rtest_t3.a + 20 from rtest_t3 where rtest_v1.b = rtest_t3.b;

--
-- Test for constraint updates/deletes
--
insert into rtest_system values ('orion', 'Linux Jan Wieck');
insert into rtest_system values ('notjw', 'WinNT Jan Wieck (notebook)');
insert into rtest_system values ('neptun', 'Fileserver');
insert into rtest_interface values ('orion', 'eth0');
insert into rtest_interface values ('orion', 'eth1');
insert into rtest_interface values ('notjw', 'eth0');
insert into rtest_interface values ('neptun', 'eth0');
insert into rtest_person values ('jw', 'Jan Wieck');
insert into rtest_person values ('bm', 'Bruce Momjian');
insert into rtest_admin values ('jw', 'orion');
insert into rtest_admin values ('jw', 'notjw');
insert into rtest_admin values ('bm', 'neptun');
update rtest_system set sysname = 'pluto' where sysname = 'neptun';
update rtest_person set pname = 'jwieck' where pdesc = 'Jan Wieck';
delete from rtest_system where sysname = 'orion';

--
-- Rule qualification test
--
insert into rtest_emp values ('wiecc', '5000.00');
insert into rtest_emp values ('gates', '80000.00');
update rtest_emp set ename = 'wiecx' where ename = 'wiecc';
update rtest_emp set ename = 'wieck', salary = '6000.00' where ename = 'wiecx';
update rtest_emp set salary = '7000.00' where ename = 'wieck';
delete from rtest_emp where ename = 'gates';
insert into rtest_empmass values ('meyer', '4000.00');
insert into rtest_empmass values ('maier', '5000.00');
insert into rtest_empmass values ('mayr', '6000.00');
insert into rtest_emp select * from rtest_empmass;
update rtest_empmass set salary = salary + '1000.00';
update rtest_emp set salary = rtest_empmass.salary from rtest_empmass where rtest_emp.ename = rtest_empmass.ename;
delete from rtest_emp using rtest_empmass where rtest_emp.ename = rtest_empmass.ename;

--
-- Multiple cascaded qualified instead rule test
--
insert into rtest_t4 values (1, 'Record should go to rtest_t4');
insert into rtest_t4 values (2, 'Record should go to rtest_t4');
insert into rtest_t4 values (10, 'Record should go to rtest_t5');
insert into rtest_t4 values (15, 'Record should go to rtest_t5');
insert into rtest_t4 values (19, 'Record should go to rtest_t5 and t7');
insert into rtest_t4 values (20, 'Record should go to rtest_t4 and t6');
insert into rtest_t4 values (26, 'Record should go to rtest_t4 and t8');
insert into rtest_t4 values (28, 'Record should go to rtest_t4 and t8');
insert into rtest_t4 values (30, 'Record should go to rtest_t4');
insert into rtest_t4 values (40, 'Record should go to rtest_t4');
delete from rtest_t4;
delete from rtest_t5;
delete from rtest_t6;
delete from rtest_t7;
delete from rtest_t8;
insert into rtest_t9 values (1, 'Record should go to rtest_t4');
insert into rtest_t9 values (2, 'Record should go to rtest_t4');
insert into rtest_t9 values (10, 'Record should go to rtest_t5');
insert into rtest_t9 values (15, 'Record should go to rtest_t5');
insert into rtest_t9 values (19, 'Record should go to rtest_t5 and t7');
insert into rtest_t9 values (20, 'Record should go to rtest_t4 and t6');
insert into rtest_t9 values (26, 'Record should go to rtest_t4 and t8');
insert into rtest_t9 values (28, 'Record should go to rtest_t4 and t8');
insert into rtest_t9 values (30, 'Record should go to rtest_t4');
insert into rtest_t9 values (40, 'Record should go to rtest_t4');
insert into rtest_t4 select * from rtest_t9 where a < 20;
insert into rtest_t4 select * from rtest_t9 where b ~ 'and t8';
insert into rtest_t4 select a + 1, b from rtest_t9 where a in (20, 30, 40);

--
-- Check that the ordering of rules fired is correct
--
insert into rtest_order1 values (1);

--
-- Check if instead nothing w/without qualification works
--
insert into rtest_nothn1 values (1, 'want this');
insert into rtest_nothn1 values (2, 'want this');
insert into rtest_nothn1 values (10, 'don''t want this');
insert into rtest_nothn1 values (19, 'don''t want this');
insert into rtest_nothn1 values (20, 'want this');
insert into rtest_nothn1 values (29, 'want this');
insert into rtest_nothn1 values (30, 'don''t want this');
insert into rtest_nothn1 values (39, 'don''t want this');
insert into rtest_nothn1 values (40, 'want this');
insert into rtest_nothn1 values (50, 'want this');
insert into rtest_nothn1 values (60, 'want this');
insert into rtest_nothn2 values (10, 'too small');
insert into rtest_nothn2 values (50, 'too small');
insert into rtest_nothn2 values (100, 'OK');
insert into rtest_nothn2 values (200, 'OK');
delete from rtest_nothn1;
delete from rtest_nothn2;
delete from rtest_nothn3;
insert into rtest_nothn4 values (1, 'want this');
insert into rtest_nothn4 values (2, 'want this');
insert into rtest_nothn4 values (10, 'don''t want this');
insert into rtest_nothn4 values (19, 'don''t want this');
insert into rtest_nothn4 values (20, 'want this');
insert into rtest_nothn4 values (29, 'want this');
insert into rtest_nothn4 values (30, 'don''t want this');
insert into rtest_nothn4 values (39, 'don''t want this');
insert into rtest_nothn4 values (40, 'want this');
insert into rtest_nothn4 values (50, 'want this');
insert into rtest_nothn4 values (60, 'want this');
insert into rtest_nothn1 select * from rtest_nothn4;
delete from rtest_nothn4;
insert into rtest_nothn4 values (10, 'too small');
insert into rtest_nothn4 values (50, 'too small');
insert into rtest_nothn4 values (100, 'OK');
insert into rtest_nothn4 values (200, 'OK');
insert into rtest_nothn2 select * from rtest_nothn4;

-- rules with FK checks: the conditional INSTEAD rule turns a duplicate INSERT into an
-- UPDATE (the test's own inserts here are expected FK failures; these two succeed)
insert into rule_and_refint_t3 values (1, 11, 11, 'row1, again');
insert into rule_and_refint_t3 values (2, 21, 22, 'row8');

-- inherited UPDATE through a view rule
update id_ordered set name = 'update 2' where id = 2;
update id_ordered set name = 'update 4' where id = 4;
update id_ordered set name = 'update 5' where id = 5;

-- legacy partitioning routed by rules (an UPDATE rule moves nothing across children)
insert into t1 select * from generate_series(5,19,1) g;
update t1 set a = 4 where a = 5;

-- multi-row VALUES rules: with r5/r6 present, INSERT and UPDATE on rules_src are rewritten
-- into rules_log, and the DO ALSO rules add their rows as well
update rules_src set f2 = f2 + 1;
update rules_src set f2 = f2 * 10;
insert into rules_src values(22,23), (33,default);

-- ON CONFLICT inside an INSTEAD rule: an upsert into hat_data
INSERT INTO hats VALUES ('h7', 'black');
INSERT INTO hats VALUES ('h8', 'black');
INSERT INTO hats VALUES ('h8', 'white');
INSERT INTO hats VALUES ('h8', 'forbidden');
WITH data(hat_name, hat_color) AS MATERIALIZED (
    VALUES ('h8', 'green'),
        ('h9', 'blue'),
        ('h7', 'forbidden')
)
INSERT INTO hats
    SELECT * FROM data;

-- the INSERT rule on the partitioned table redirects into its partition
INSERT INTO rules_parted_table VALUES (1);

-- MERGE is not supported on a table with rules; the other table is fine
MERGE INTO rule_merge2 t USING (SELECT 1 AS a) s
	ON t.a = s.a
	WHEN MATCHED AND t.a < 2 THEN
		UPDATE SET b = b || ' updated by merge'
	WHEN MATCHED AND t.a > 2 THEN
		DELETE
	WHEN NOT MATCHED THEN
		INSERT VALUES (s.a, '');
INSERT INTO rule_merge1 VALUES (2, 'through rule1');
UPDATE rule_merge1 SET b = 'through rule2' WHERE a = 2;
DELETE FROM rule_merge1 WHERE a = 1;
