-- wal2json regression tests: the DML each file runs after creating its slot, per schema.
SET extra_float_digits = 0;

-- ===== sql/insert1.sql
SET search_path = insert1;
BEGIN;
INSERT INTO table_with_pk (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) VALUES(1, 2, 3, 3.54, 876.563452345, 1.23, 'teste', 'testando', 'um texto longo', B'001110010101010', '2013-11-02 17:30:52', '2013-02-04', true, '{ "a": 123 }', 'Old Old Parr'::tsvector);
INSERT INTO table_without_pk (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) VALUES(1, 2, 3, 3.54, 876.563452345, 1.23, 'teste', 'testando', 'um texto longo', B'001110010101010', '2013-11-02 17:30:52', '2013-02-04', true, '{ "a": 123 }', 'Old Old Parr'::tsvector);
INSERT INTO table_with_unique (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) VALUES(1, 2, 3, 3.54, 876.563452345, 1.23, 'teste', 'testando', 'um texto longo', B'001110010101010', '2013-11-02 17:30:52', '2013-02-04', true, '{ "a": 123 }', 'Old Old Parr'::tsvector);
INSERT INTO "test ""schema"."test "" with 'quotes'" VALUES (1, 2, 3);
COMMIT;

-- ===== sql/update1.sql
SET search_path = update1;
-- UPDATE: no pk
UPDATE table_without_pk SET f = -f WHERE b = 1;

-- UPDATE: no pk change
UPDATE table_with_pk SET f = -f WHERE b = 1;

-- UPDATE: pk change
UPDATE table_with_pk SET b = -b WHERE b = 1;

-- UPDATE: unique
UPDATE table_with_unique SET n = false WHERE b = 1;

-- ===== sql/update2.sql
SET search_path = update2;
-- UPDATE: REPLICA IDENTITY NOTHING
UPDATE table_with_pk SET f = -f WHERE b = 1;
UPDATE table_without_pk SET f = -f WHERE b = 1;
UPDATE table_with_unique SET f = -f WHERE b = 1;

-- ===== sql/update3.sql
SET search_path = update3;
-- UPDATE: REPLICA IDENTITY FULL
UPDATE table_with_pk SET f = -f WHERE b = 1;
UPDATE table_without_pk SET f = -f WHERE b = 1;
UPDATE table_with_unique SET f = -f WHERE b = 1;

-- ===== sql/delete2.sql
SET search_path = delete2;
-- DELETE: REPLICA IDENTITY NOTHING
DELETE FROM table_with_pk WHERE b = 1;
DELETE FROM table_without_pk WHERE b = 1;
DELETE FROM table_with_unique WHERE b = 1;

-- ===== sql/delete3.sql
SET search_path = delete3;
-- DELETE: REPLICA IDENTITY FULL
DELETE FROM table_with_pk WHERE b = 1;
DELETE FROM table_with_pk WHERE n = true;
DELETE FROM table_without_pk WHERE b = 1;
DELETE FROM table_with_unique WHERE b = 1;

-- ===== sql/delete1.sql
SET search_path = delete1;
-- DELETE: no pk
DELETE FROM table_without_pk WHERE b = 1;
-- DELETE: pk
DELETE FROM table_with_pk WHERE b = 1;
-- DELETE: unique
DELETE FROM table_with_unique WHERE b = 1;

-- ===== sql/update4.sql
SET search_path = update4;
-- UPDATE: REPLICA IDENTITY USING INDEX
UPDATE table_with_unique SET c = -c WHERE b = 1;
UPDATE table_with_unique SET g = -g WHERE n = true;

-- ===== sql/delete4.sql
SET search_path = delete4;
-- DELETE: REPLICA IDENTITY INDEX
DELETE FROM table_with_unique WHERE b = 1;
DELETE FROM table_with_unique WHERE n = true;

-- ===== sql/typmod.sql
SET search_path = typmod;
INSERT INTO table_with_pk (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) VALUES(1, 2, 3, 3.54, 876.563452345, 1.23, 'teste', 'testando', 'um texto longo', B'001110010101010', '2013-11-02 17:30:52', '2013-02-04', true, '{ "a": 123 }', 'Old Old Parr'::tsvector);
UPDATE table_with_pk SET f = -f WHERE b = 1;
DELETE FROM table_with_pk WHERE b = 1;

-- ===== sql/specialvalue.sql
SET search_path = specialvalue;
BEGIN;
INSERT INTO xpto (b, c, d) VALUES('t', 'test1', '+inf');
INSERT INTO xpto (b, c, d) VALUES('f', 'test2', 'nan');
INSERT INTO xpto (b, c, d) VALUES(NULL, 'null', '-inf');
INSERT INTO xpto (b, c, d) VALUES(TRUE, E'valid: '' " \\ / \b \f \n \r \t \u207F \u967F invalid: \\g \\k end', 123.456);
COMMIT;

-- ===== sql/toast.sql
SET search_path = toast;
-- uncompressed external toast data
INSERT INTO xpto (toasted_col1, toasted_col2) SELECT string_agg(g.i::text, ''), string_agg((g.i*2)::text, '') FROM generate_series(1, 2000) g(i);
-- compressed external toast data
INSERT INTO xpto (toasted_col2) SELECT repeat(string_agg(to_char(g.i, 'FM0000'), ''), 50) FROM generate_series(1, 500) g(i);
-- update of existing column
UPDATE xpto SET toasted_col1 = (SELECT string_agg(g.i::text, '') FROM generate_series(1, 2000) g(i)) WHERE id = 1;
UPDATE xpto SET rand1 = 123.456 WHERE id = 1;
DELETE FROM xpto WHERE id = 1;

-- ===== sql/pk.sql
SET search_path = pk;
INSERT INTO w2j_pk_with_pk (a, b, c, d, e) VALUES(123, '2020-04-26 16:23:59', 'Melanosuchus Niger', true, 4.56);
UPDATE w2j_pk_with_pk SET a = 456, c = 'Panthera Onca', d = false;
DELETE FROM w2j_pk_with_pk;
INSERT INTO w2j_pk_without_pk (a, b, c, d, e) VALUES(123, '2020-04-26 16:23:59', 'Melanosuchus Niger', true, 4.56);
UPDATE w2j_pk_without_pk SET a = 456, c = 'Panthera Onca', d = false;
DELETE FROM w2j_pk_without_pk;
INSERT INTO w2j_pk_with_ri (a, b, c, d, e) VALUES(123, '2020-04-26 16:23:59', 'Inia Araguaiaensis', true, 4.56);
UPDATE w2j_pk_with_ri SET a = 456, c = 'Panthera Onca', d = false;
DELETE FROM w2j_pk_with_ri;

-- ===== sql/include_domain_data_type.sql
SET search_path = include_domain_data_type;
INSERT INTO test_wal2json_5 (b, c, d, e, f, g, h, i, j, k, l, m, n, o, p) VALUES(1, 2, 3, 3.54, 876.563452345, 1.23, 'teste', 'testando', 'um texto longo', B'001110010101010', '2013-11-02 17:30:52', '2013-02-04', true, '{ "a": 123 }', 'Old Old Parr'::tsvector);
UPDATE test_wal2json_5 SET f = -f WHERE b = 1;
INSERT INTO test_wal2json_6 (a, b) VALUES(1, array['b', 'c']::"wal2json_Type"[]);

-- ===== sql/numeric_data_types_as_string.sql
SET search_path = numeric_data_types_as_string;
BEGIN;
INSERT INTO table_integer (b, c, d) VALUES(32767, 2147483647, 9223372036854775807);
INSERT INTO table_integer (b, c, d) VALUES(-32768, -2147483648, -9223372036854775808);

INSERT INTO table_decimal (a, b) VALUES('Infinity', 'Infinity');
INSERT INTO table_decimal (a, b) VALUES('-Infinity', '-Infinity');
INSERT INTO table_decimal (a, b, c) VALUES('NaN', 'NaN', 'NaN');
INSERT INTO table_decimal (a, b, c) VALUES(123.456, 123456789.012345, 1234567890987654321.1234567890987654321);
INSERT INTO table_decimal (a, b, c) VALUES(-123.456, -123456789.012345, -1234567890987654321.1234567890987654321);
COMMIT;

RESET search_path;
