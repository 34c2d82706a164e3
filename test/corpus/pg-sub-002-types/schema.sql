-- PostgreSQL logical replication TAP test 002_types.pl ("more complex datatypes are
-- replicated correctly"), publisher side.
-- Origin: https://github.com/postgres/postgres, src/test/subscription/t/002_types.pl,
--         commit ce554810329b9b8e862eade08b598148931eb456.
-- Licence: PostgreSQL Licence (see LICENSE in this folder).
-- Translation: the test's $ddl and its "Insert initial test data" block, verbatim.
-- The test inserts that data after the subscription is set up; here it is the initial
-- data that the full load copies.

CREATE EXTENSION hstore WITH SCHEMA public;
CREATE TABLE public.tst_one_array (
	a INTEGER PRIMARY KEY,
	b INTEGER[]
	);
CREATE TABLE public.tst_arrays (
	a INTEGER[] PRIMARY KEY,
	b TEXT[],
	c FLOAT[],
	d INTERVAL[]
	);

CREATE TYPE public.tst_enum_t AS ENUM ('a', 'b', 'c', 'd', 'e');
CREATE TABLE public.tst_one_enum (
	a INTEGER PRIMARY KEY,
	b public.tst_enum_t
	);
CREATE TABLE public.tst_enums (
	a public.tst_enum_t PRIMARY KEY,
	b public.tst_enum_t[]
	);

CREATE TYPE public.tst_comp_basic_t AS (a FLOAT, b TEXT, c INTEGER);
CREATE TYPE public.tst_comp_enum_t AS (a FLOAT, b public.tst_enum_t, c INTEGER);
CREATE TYPE public.tst_comp_enum_array_t AS (a FLOAT, b public.tst_enum_t[], c INTEGER);
CREATE TABLE public.tst_one_comp (
	a INTEGER PRIMARY KEY,
	b public.tst_comp_basic_t
	);
CREATE TABLE public.tst_comps (
	a public.tst_comp_basic_t PRIMARY KEY,
	b public.tst_comp_basic_t[]
	);
CREATE TABLE public.tst_comp_enum (
	a INTEGER PRIMARY KEY,
	b public.tst_comp_enum_t
	);
CREATE TABLE public.tst_comp_enum_array (
	a public.tst_comp_enum_t PRIMARY KEY,
	b public.tst_comp_enum_t[]
	);
CREATE TABLE public.tst_comp_one_enum_array (
	a INTEGER PRIMARY KEY,
	b public.tst_comp_enum_array_t
	);
CREATE TABLE public.tst_comp_enum_what (
	a public.tst_comp_enum_array_t PRIMARY KEY,
	b public.tst_comp_enum_array_t[]
	);

CREATE TYPE public.tst_comp_mix_t AS (
	a public.tst_comp_basic_t,
	b public.tst_comp_basic_t[],
	c public.tst_enum_t,
	d public.tst_enum_t[]
	);
CREATE TABLE public.tst_comp_mix_array (
	a public.tst_comp_mix_t PRIMARY KEY,
	b public.tst_comp_mix_t[]
	);
CREATE TABLE public.tst_range (
	a INTEGER PRIMARY KEY,
	b int4range
);
CREATE TABLE public.tst_range_array (
	a INTEGER PRIMARY KEY,
	b TSTZRANGE,
	c int8range[]
);
CREATE TABLE public.tst_hstore (
	a INTEGER PRIMARY KEY,
	b public.hstore
);

-- test_tbl_one_array_col
INSERT INTO tst_one_array (a, b) VALUES
	(1, '{1, 2, 3}'),
	(2, '{2, 3, 1}'),
	(3, '{3, 2, 1}'),
	(4, '{4, 3, 2}'),
	(5, '{5, NULL, 3}');

-- test_tbl_arrays
INSERT INTO tst_arrays (a, b, c, d) VALUES
	('{1, 2, 3}', '{"a", "b", "c"}', '{1.1, 2.2, 3.3}', '{"1 day", "2 days", "3 days"}'),
	('{2, 3, 1}', '{"b", "c", "a"}', '{2.2, 3.3, 1.1}', '{"2 minutes", "3 minutes", "1 minute"}'),
	('{3, 1, 2}', '{"c", "a", "b"}', '{3.3, 1.1, 2.2}', '{"3 years", "1 year", "2 years"}'),
	('{4, 1, 2}', '{"d", "a", "b"}', '{4.4, 1.1, 2.2}', '{"4 years", "1 year", "2 years"}'),
	('{5, NULL, NULL}', '{"e", NULL, "b"}', '{5.5, 1.1, NULL}', '{"5 years", NULL, NULL}');

-- test_tbl_single_enum
INSERT INTO tst_one_enum (a, b) VALUES
	(1, 'a'),
	(2, 'b'),
	(3, 'c'),
	(4, 'd'),
	(5, NULL);

-- test_tbl_enums
INSERT INTO tst_enums (a, b) VALUES
	('a', '{b, c}'),
	('b', '{c, a}'),
	('c', '{b, a}'),
	('d', '{c, b}'),
	('e', '{d, NULL}');

-- test_tbl_single_composites
INSERT INTO tst_one_comp (a, b) VALUES
	(1, ROW(1.0, 'a', 1)),
	(2, ROW(2.0, 'b', 2)),
	(3, ROW(3.0, 'c', 3)),
	(4, ROW(4.0, 'd', 4)),
	(5, ROW(NULL, NULL, 5));

-- test_tbl_composites
INSERT INTO tst_comps (a, b) VALUES
	(ROW(1.0, 'a', 1), ARRAY[ROW(1, 'a', 1)::tst_comp_basic_t]),
	(ROW(2.0, 'b', 2), ARRAY[ROW(2, 'b', 2)::tst_comp_basic_t]),
	(ROW(3.0, 'c', 3), ARRAY[ROW(3, 'c', 3)::tst_comp_basic_t]),
	(ROW(4.0, 'd', 4), ARRAY[ROW(4, 'd', 3)::tst_comp_basic_t]),
	(ROW(5.0, 'e', NULL), ARRAY[NULL, ROW(5, NULL, 5)::tst_comp_basic_t]);

-- test_tbl_composite_with_enums
INSERT INTO tst_comp_enum (a, b) VALUES
	(1, ROW(1.0, 'a', 1)),
	(2, ROW(2.0, 'b', 2)),
	(3, ROW(3.0, 'c', 3)),
	(4, ROW(4.0, 'd', 4)),
	(5, ROW(NULL, 'e', NULL));

-- test_tbl_composite_with_enums_array
INSERT INTO tst_comp_enum_array (a, b) VALUES
	(ROW(1.0, 'a', 1), ARRAY[ROW(1, 'a', 1)::tst_comp_enum_t]),
	(ROW(2.0, 'b', 2), ARRAY[ROW(2, 'b', 2)::tst_comp_enum_t]),
	(ROW(3.0, 'c', 3), ARRAY[ROW(3, 'c', 3)::tst_comp_enum_t]),
	(ROW(4.0, 'd', 3), ARRAY[ROW(3, 'd', 3)::tst_comp_enum_t]),
	(ROW(5.0, 'e', 3), ARRAY[ROW(3, 'e', 3)::tst_comp_enum_t, NULL]);

-- test_tbl_composite_with_single_enums_array_in_composite
INSERT INTO tst_comp_one_enum_array (a, b) VALUES
	(1, ROW(1.0, '{a, b, c}', 1)),
	(2, ROW(2.0, '{a, b, c}', 2)),
	(3, ROW(3.0, '{a, b, c}', 3)),
	(4, ROW(4.0, '{c, b, d}', 4)),
	(5, ROW(5.0, '{NULL, e, NULL}', 5));

-- test_tbl_composite_with_enums_array_in_composite
INSERT INTO tst_comp_enum_what (a, b) VALUES
	(ROW(1.0, '{a, b, c}', 1), ARRAY[ROW(1, '{a, b, c}', 1)::tst_comp_enum_array_t]),
	(ROW(2.0, '{b, c, a}', 2), ARRAY[ROW(2, '{b, c, a}', 1)::tst_comp_enum_array_t]),
	(ROW(3.0, '{c, a, b}', 1), ARRAY[ROW(3, '{c, a, b}', 1)::tst_comp_enum_array_t]),
	(ROW(4.0, '{c, b, d}', 4), ARRAY[ROW(4, '{c, b, d}', 4)::tst_comp_enum_array_t]),
	(ROW(5.0, '{c, NULL, b}', NULL), ARRAY[ROW(5, '{c, e, b}', 1)::tst_comp_enum_array_t]);

-- test_tbl_mixed_composites
INSERT INTO tst_comp_mix_array (a, b) VALUES
	(ROW(
		ROW(1,'a',1),
		ARRAY[ROW(1,'a',1)::tst_comp_basic_t, ROW(2,'b',2)::tst_comp_basic_t],
		'a',
		'{a,b,NULL,c}'),
	ARRAY[
		ROW(
			ROW(1,'a',1),
			ARRAY[
				ROW(1,'a',1)::tst_comp_basic_t,
				ROW(2,'b',2)::tst_comp_basic_t,
				NULL
				],
			'a',
			'{a,b,c}'
			)::tst_comp_mix_t
		]
	);

-- test_tbl_range
INSERT INTO tst_range (a, b) VALUES
	(1, '[1, 10]'),
	(2, '[2, 20]'),
	(3, '[3, 30]'),
	(4, '[4, 40]'),
	(5, '[5, 50]');

-- test_tbl_range_array
INSERT INTO tst_range_array (a, b, c) VALUES
	(1, tstzrange('Mon Aug 04 00:00:00 2014 CEST'::timestamptz, 'infinity'), '{"[1,2]", "[10,20]"}'),
	(2, tstzrange('Mon Aug 04 00:00:00 2014 CEST'::timestamptz - interval '2 days', 'Mon Aug 04 00:00:00 2014 CEST'::timestamptz), '{"[2,3]", "[20,30]"}'),
	(3, tstzrange('Mon Aug 04 00:00:00 2014 CEST'::timestamptz - interval '3 days', 'Mon Aug 04 00:00:00 2014 CEST'::timestamptz), '{"[3,4]"}'),
	(4, tstzrange('Mon Aug 04 00:00:00 2014 CEST'::timestamptz - interval '4 days', 'Mon Aug 04 00:00:00 2014 CEST'::timestamptz), '{"[4,5]", NULL, "[40,50]"}'),
	(5, NULL, NULL);

-- tst_hstore
INSERT INTO tst_hstore (a, b) VALUES
	(1, '"a"=>"1"'),
	(2, '"zzz"=>"foo"'),
	(3, '"123"=>"321"'),
	(4, '"yellow horse"=>"moaned"');
