-- pgcopydb unit fixtures: workload written for the corpus (pgcopydb's unit tests copy a
-- static database and run no DML). It touches every table the fixtures create, with the
-- statements an application using them would run.
SET search_path TO public, """abc""";

-- exclusion constraint (btree, a WITH =) on a table without a key
INSERT INTO exclcon VALUES (5, 6);
UPDATE exclcon SET b = b + 10 WHERE a = 3;
DELETE FROM exclcon WHERE a = 1;

-- legacy inheritance: rows in the parent and in both children
INSERT INTO parent_model (id, a, b) VALUES (1, 1, true), (2, 2, false);
INSERT INTO child_model_1 (id, a, b, c) VALUES (11001, 2, true, '{"k": [1, 2]}');
INSERT INTO child_model_2 (id, a, b, d) VALUES (21001, 2, true, 7);
UPDATE parent_model SET b = true WHERE id IN (10001, 20001);  -- reaches the children
UPDATE ONLY parent_model SET a = 10 WHERE id = 1;
UPDATE child_model_1 SET c = c || '[5]' WHERE id BETWEEN 10002 AND 10010;
DELETE FROM parent_model WHERE id IN (2, 10003, 20003);

-- ICU collations
INSERT INTO colls (f1, f2) VALUES ('élève', 'Straße'), ('Œuvre', 'Äpfel');
UPDATE colls SET f2 = upper(f2) WHERE f1 = 'élève';
INSERT INTO mycoltab (f1, f2) VALUES ('ça', 'color');
DELETE FROM colls WHERE f1 = 'Œuvre';

-- tables the split/ctid tests use, and the quoted schema
UPDATE table_1 SET c_char = 'updated' WHERE c_bigserial % 10 = 0;
INSERT INTO table_3 (c_char) VALUES ('x'), ('y');
DELETE FROM table_2 WHERE c_bigserial > 90;
UPDATE "Sp1eCial .Char"."source1testing" SET "s1" = "s1" + 1 WHERE "s0" <= 100;
INSERT INTO "Sp1eCial .Char"."source1testing" ("s0", "s1") VALUES (10001, 2);
INSERT INTO "Sp1eCial .Char"."Tabl e.1testing" ("iD", "regId", "status", "nA M.e") VALUES (10001, 10001, 1, 'Name 10001');
UPDATE "Sp1eCial .Char"."Tabl e.1testing" SET "status" = 0, "nA M.e" = 'renamed' WHERE "iD" = 1;
DELETE FROM "Sp1eCial .Char"."Tabl e.1testing" WHERE "iD" = 2;
DELETE FROM "Sp1eCial .Char"."source1testing" WHERE "s0" = 2;
UPDATE table_ctid_candidate SET d_char = 'changed' WHERE c_char IN (SELECT c_char FROM table_ctid_candidate LIMIT 5);
INSERT INTO table_ctid_candidate_skip VALUES ('a', 'b');

-- long partial index definition
INSERT INTO test_table VALUES ('id-1', 'ds_approve', 'obj-1'), ('id-2', 'not_listed', 'obj-2');
UPDATE test_table SET event_name = 'ds_print' WHERE id = 'id-2';

-- hostile table and column names
INSERT INTO public."with MyTableName

     AS (SELECT row_id

  " (row_id) VALUES ('6f1e3c1a-3c9b-4e0e-9d4c-2a7f3b1c0d01');
INSERT INTO public."""dqname""" (id) VALUES (1), (2);
UPDATE public."""dqname""" SET id = 3 WHERE id = 2;
UPDATE """long""" SET """aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa""" = 2;

-- identity columns
INSERT INTO test_tbl (f1) VALUES ('first'), ('second');
UPDATE test_tbl SET f1 = 'second, edited' WHERE f1 = 'second';
INSERT INTO test_str_escape (f1) VALUES (E'tab\there'), (E'back\\slash'), (E'quote''s'), (E'nul-free \u00e9\u20ac');
UPDATE test_str_escape SET f1 = E'ddd\r\nddd' WHERE f1 = 'ccc';

-- a table with no columns
INSERT INTO nocols DEFAULT VALUES;
INSERT INTO nocols DEFAULT VALUES;
DELETE FROM nocols WHERE ctid = (SELECT min(ctid) FROM nocols);

-- enum in a schema named with quotes, partial index using it
INSERT INTO """abc""".job (id, state, date) VALUES (1, 'PROPOSED', '2025-01-01'), (2, DEFAULT, '2025-01-02');
UPDATE """abc""".job SET state = 'STARTED' WHERE id = 2;

-- NOT VALID check constraint: new rows must satisfy it
INSERT INTO public.employees (name, emp_id) VALUES ('Alice', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
UPDATE public.employees SET name = 'Alicia' WHERE name = 'Alice';

-- stored generated columns
INSERT INTO ref_admin_commune (id, nom) VALUES ('75056', 'Paris'), ('69123', 'Lyon');
UPDATE ref_admin_commune SET nom = 'Lyon 1er' WHERE id = '69123';
INSERT INTO gen VALUES (DEFAULT);

-- uuid-ossp defaults
INSERT INTO uuid (f1) SELECT x::text FROM generate_series(200, 209) AS t(x);
UPDATE uuid SET f1 = f1 || '!' WHERE f1 = '100';
DELETE FROM uuid WHERE f1 = '101';

-- sequences: default, identity, standalone
INSERT INTO default_table DEFAULT VALUES;
INSERT INTO identity_table DEFAULT VALUES;
SELECT nextval('standalone_id_seq'), nextval('standalone_smallint_id_seq'), nextval('standalone_minvalue_id_seq');

-- exclusion constraint next to a primary key
INSERT INTO excl_with_pkey VALUES (4, 40);
UPDATE excl_with_pkey SET val = 41 WHERE id = 4;
UPDATE excl_with_pkey SET id = 5 WHERE id = 1;
DELETE FROM excl_with_pkey WHERE id = 2;

-- tsvector
UPDATE tsv SET body = body || ' again', tsv = to_tsvector('english', title || ' ' || body || ' again') WHERE id = 1;
INSERT INTO tsv VALUES (2, 'second', 'another document', to_tsvector('english', 'second another document'));
