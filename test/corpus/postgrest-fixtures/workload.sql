-- PostgREST fixtures: workload written for the corpus. PostgREST's spec tests drive the
-- database over HTTP; these are the statements such requests become, on a selection of
-- the fixture tables that covers their unusual features.
SET search_path = test, public;

-- partitioned tables referencing partitioned tables (composite keys)
INSERT INTO test.car_models (name, year, car_brand_name) VALUES ('Countach', 2021, 'Lamborghini');
INSERT INTO test.car_model_sales (date, quantity, car_model_name, car_model_year) VALUES ('2021-03-01', 2, 'Countach', 2021);
INSERT INTO test.car_models_car_dealers (car_model_name, car_model_year, car_dealer_name, car_dealer_city, quantity)
VALUES ('Countach', 2021, 'The Best Deals S.A.', 'Franklin', 12);
UPDATE test.car_model_sales SET quantity = quantity + 1 WHERE car_model_name = 'DeLorean';
-- moves a row between partitions (range on quantity: 10 to 20 and default)
UPDATE test.car_models_car_dealers SET quantity = 25 WHERE car_model_name = 'DeLorean';
DELETE FROM test.car_model_sales WHERE date = '2021-02-12';

-- a view with an ON INSERT DO INSTEAD rule (writes land in competitors)
INSERT INTO test.sponsors (id, name) VALUES (1, 'Acme');
INSERT INTO test.test_null_pk_competitors_sponsors (id, sponsor_id) VALUES (1, 1), (2, NULL);
UPDATE test.competitors SET full_name = 'Competitor with sponsor' WHERE sponsor_id = 1;

-- a DEFERRABLE unique constraint checked at commit
BEGIN;
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO test.deferrable_unique_constraint VALUES (1), (2);
UPDATE test.deferrable_unique_constraint SET col = col + 1;
COMMIT;

-- names with spaces, dollars, mixed case, Arabic/Persian script and punctuation
INSERT INTO test."Server Today" ("cHostname", "Just A Server Model") VALUES ('argnim9', 'IBM,9117-MMA');
UPDATE test."Server Today" SET "Just A Server Model" = 'IBM,9119-FHA' WHERE "cHostname" = 'argnim1';
INSERT INTO test."do$llar$s" ("a$num$") VALUES (123.456);
INSERT INTO test."ghostBusters" ("escapeId") VALUES (4);
UPDATE test."ghostBusters" SET "escapeId" = 5 WHERE "escapeId" = 4;
INSERT INTO تست.موارد (هویت) VALUES (1), (2);
UPDATE تست.موارد SET هویت = 3 WHERE هویت = 2;
INSERT INTO "SPECIAL ""@/\#~_-".languages (id, name) VALUES (3, 'فارسی');
INSERT INTO "SPECIAL ""@/\#~_-".names (id, name, language_id) VALUES (4, 'Dariush', 3);
UPDATE "SPECIAL ""@/\#~_-".names SET name = name || '!' WHERE id = 1;
DELETE FROM "SPECIAL ""@/\#~_-".names WHERE id = 2;

-- ordinary resources: clients, projects, tasks, users
INSERT INTO test.clients (id, name) VALUES (3, 'Corpus Inc');
INSERT INTO test.projects (id, name, client_id) VALUES (6, 'Migration', 3);
INSERT INTO test.tasks (id, name, project_id) VALUES (9, 'Full load', 6), (10, 'Change capture', 6);
UPDATE test.tasks SET name = 'Switchover' WHERE id = 10;
UPDATE test.projects SET client_id = 3 WHERE id = 5;
DELETE FROM test.tasks WHERE id = 9;
INSERT INTO test.users (id, name) VALUES (4, 'Ünal');
REFRESH MATERIALIZED VIEW test.materialized_projects;

-- json, arrays, composites, ranges, tsvector, bytea
UPDATE test.complex_items SET settings = '{"foo":{"int":2,"bar":"qux"}}', arr_data = arr_data || 9 WHERE id = 1;
INSERT INTO test.complex_items (id, name, settings, arr_data, "field-with_sep") VALUES (4, 'Four', '{"a": [1, 2]}', '{4,4}', 4);
INSERT INTO test.json_table VALUES ('{"foo":{"bar":"new"},"id":4}');
UPDATE test.grandchild_entities SET jsonb_col = jsonb_col || '{"c": true}' WHERE id = 4;
INSERT INTO test.fav_numbers (num, person) VALUES ((0.7, 0.7)::test.complex, 'C');
UPDATE test.fav_numbers SET num = (0.55, 0.5)::test.complex WHERE person = 'A';
UPDATE test.ranges SET range = numrange(1, 100) WHERE id = 1;
INSERT INTO test.tsearch VALUES (to_tsvector('english', 'a migration moves rows'));
UPDATE test.entities SET arr = array_append(arr, 5), text_search_vector = to_tsvector('simple', 'updated') WHERE id = 1;
INSERT INTO test.images (name, img) VALUES ('big.bin', decode(repeat('cafebabe', 20000), 'hex'));
UPDATE test.images SET name = 'big2.bin' WHERE name = 'big.bin';

-- self-referencing tree and tables without keys
INSERT INTO test.family_tree (id, name, parent) VALUES ('6', 'Grandchild', '2');
UPDATE test.family_tree SET name = name || ' Jr.' WHERE id = '6';
INSERT INTO test.no_pk (a, b) VALUES ('x', 'y');
UPDATE test.no_pk SET b = 'z' WHERE a = 'x';
DELETE FROM test.no_pk WHERE a = 'x';
INSERT INTO test.timestamps VALUES ('2024-02-29 23:59:59.999999+00');
TRUNCATE test.empty_table;
