-- Debezium PostgreSQL connector test fixtures: the type-coverage tables its tests create
-- and the rows they insert.
-- Origin: https://github.com/debezium/debezium, commit aad5519902997a3627fe296f77ea6d3452e9acce,
--   debezium-connector-postgres/src/test/resources/init_database.ddl,
--   .../postgres_create_tables.ddl, .../postgres_create_multiple_tables.ddl (verbatim), and
--   SQL string constants of .../src/test/java/io/debezium/connector/postgresql/
--   AbstractRecordsProducerTest.java (INSERT_*_STMT) and RecordsStreamProducerIT.java
--   (alias_table with its domains, enum_table, test_toast_table, timetz tables,
--   test_should_maintain_primary_key_order, not_null_table's row), unescaped from Java.
-- Licence: Apache License 2.0 (see LICENSE in this folder, the repository's LICENSE.txt).
-- Left out: PostGIS and pgvector tables (extensions outside contrib).

-- ===== debezium-connector-postgres/src/test/resources/init_database.ddl
-- noinspection SqlNoDataSourceInspectionForFile

-- Generate a number of tables to cover as many of the PG types as possible
DROP SCHEMA IF EXISTS public CASCADE;
CREATE SCHEMA public;

-- load contrib extensions for testing non-builtin types
CREATE EXTENSION IF NOT EXISTS ltree SCHEMA public;
CREATE EXTENSION IF NOT EXISTS isn SCHEMA public;
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
CREATE EXTENSION IF NOT EXISTS hstore SCHEMA public;


-- ===== debezium-connector-postgres/src/test/resources/postgres_create_tables.ddl
-- noinspection SqlNoDataSourceInspectionForFile

CREATE TABLE numeric_table (pk SERIAL, si SMALLINT, i INTEGER, bi BIGINT,
    r REAL, db DOUBLE PRECISION,
    r_int REAL, db_int DOUBLE PRECISION,
    r_nan REAL, db_nan DOUBLE PRECISION,
    r_pinf REAL, db_pinf DOUBLE PRECISION,
    r_ninf REAL, db_ninf DOUBLE PRECISION,
    ss SMALLSERIAL, bs BIGSERIAL, b BOOLEAN, o OID, PRIMARY KEY(pk));

-- no suffix -fixed scale, zs - zero scale, vs - variable scale
CREATE TABLE numeric_decimal_table (pk SERIAL,
    d DECIMAL(3,2), dzs DECIMAL(4), dvs DECIMAL, d_nn DECIMAL(3,2) NOT NULL, n NUMERIC(6,4), nzs NUMERIC(4), nvs NUMERIC,
    d_int DECIMAL(3,2), dzs_int DECIMAL(4), dvs_int DECIMAL, n_int NUMERIC(6,4), nzs_int NUMERIC(4), nvs_int NUMERIC,
    d_nan DECIMAL(3,2), dzs_nan DECIMAL(4), dvs_nan DECIMAL, n_nan NUMERIC(6,4), nzs_nan NUMERIC(4), nvs_nan NUMERIC,
    PRIMARY KEY(pk));

CREATE TABLE string_table (pk SERIAL, vc VARCHAR(2), vcv CHARACTER VARYING(2), ch CHARACTER(4), c CHAR(3), t TEXT, b BYTEA, bnn BYTEA NOT NULL, ct CITEXT, PRIMARY KEY(pk));
CREATE TABLE network_address_table (pk SERIAL, i INET, PRIMARY KEY(pk));
CREATE TABLE cidr_network_address_table (pk SERIAL, i CIDR, PRIMARY KEY(pk));
CREATE TABLE macaddr_table(pk SERIAL, m MACADDR, PRIMARY KEY(pk));
CREATE TABLE cash_table (pk SERIAL, csh MONEY, PRIMARY KEY(pk));
CREATE TABLE bitbin_table (pk SERIAL, ba BYTEA, bol BIT(1), bol2 BIT, bs BIT(2), bs7 BIT(7), bv1 BIT VARYING(1), bv BIT VARYING(2), bv2 BIT VARYING(24), bvl BIT VARYING(64), bvunlimited1 BIT VARYING, bvunlimited2 BIT VARYING, PRIMARY KEY(pk));
CREATE TABLE bytea_binmode_table (pk SERIAL, ba BYTEA, bytea_array BYTEA[], PRIMARY KEY(pk));

CREATE TABLE time_table (pk SERIAL, ts TIMESTAMP, tsneg TIMESTAMP(6) WITHOUT TIME ZONE, ts_ms TIMESTAMP(3), ts_us TIMESTAMP(6), tz TIMESTAMPTZ, date DATE,
    date_pinf DATE,
    date_ninf DATE,
    ti TIME, tip TIME(3), ttf TIME,
    ttz TIME WITH TIME ZONE, tptz TIME(3) WITH TIME ZONE,
    it INTERVAL, tsp TIMESTAMP (0) WITH TIME ZONE,
    ts_large TIMESTAMP,
    ts_large_us TIMESTAMP(6),
    ts_large_ms TIMESTAMP(3),
    tz_large TIMESTAMPTZ,
    ts_max TIMESTAMP(6),
    ts_min TIMESTAMP(6),
    tz_max TIMESTAMPTZ,
    tz_min TIMESTAMPTZ,
    ts_pinf TIMESTAMP(6),
    ts_ninf TIMESTAMP(6),
    tz_pinf TIMESTAMPTZ,
    tz_ninf TIMESTAMPTZ,
    tz_zero TIMESTAMP WITH TIME ZONE,
    PRIMARY KEY(pk));

CREATE TABLE text_table (pk SERIAL, j JSON, jb JSONB, x XML, u Uuid, PRIMARY KEY(pk));
CREATE TABLE geom_table (pk SERIAL, p POINT, PRIMARY KEY(pk));
CREATE TABLE range_table (pk SERIAL, unbounded_exclusive_tsrange TSRANGE, bounded_inclusive_tsrange TSRANGE, unbounded_exclusive_tstzrange TSTZRANGE, bounded_inclusive_tstzrange TSTZRANGE, unbounded_exclusive_daterange DATERANGE, bounded_exclusive_daterange DATERANGE, int4_number_range INT4RANGE, numerange NUMRANGE, int8_number_range INT8RANGE, PRIMARY KEY(pk));
CREATE TABLE array_table (pk SERIAL, int_array INT[], bigint_array BIGINT[], text_array TEXT[], char_array CHAR(10)[], varchar_array VARCHAR(10)[], date_array DATE[], numeric_array NUMERIC(10, 2)[], varnumeric_array NUMERIC[3], citext_array CITEXT[], inet_array INET[], cidr_array CIDR[], macaddr_array MACADDR[], tsrange_array TSRANGE[], tstzrange_array TSTZRANGE[], daterange_array DATERANGE[], int4range_array INT4RANGE[],numerange_array NUMRANGE[], int8range_array INT8RANGE[], uuid_array UUID[], json_array json[], jsonb_array jsonb[], oid_array OID[], PRIMARY KEY(pk));
CREATE TABLE array_table_with_nulls (pk SERIAL, int_array INT[], bigint_array BIGINT[], text_array TEXT[], char_array CHAR(10)[], varchar_array VARCHAR(10)[], date_array DATE[], numeric_array NUMERIC(10, 2)[], varnumeric_array NUMERIC[3], citext_array CITEXT[], inet_array INET[], cidr_array CIDR[], macaddr_array MACADDR[], tsrange_array TSRANGE[], tstzrange_array TSTZRANGE[], daterange_array DATERANGE[], int4range_array INT4RANGE[], numerange_array NUMRANGE[], int8range_array INT8RANGE[], uuid_array UUID[], json_array json[], jsonb_array jsonb[], PRIMARY KEY(pk));
CREATE TABLE custom_table (pk serial, lt ltree, i isbn NOT NULL, n TEXT, lt_array ltree[], PRIMARY KEY(pk));
CREATE TABLE hstore_table (pk serial, hs hstore, PRIMARY KEY(pk));
CREATE TABLE hstore_table_mul (pk serial, hs hstore, hsarr hstore[], PRIMARY KEY(pk));
CREATE TABLE hstore_table_with_null (pk serial, hs hstore, PRIMARY KEY(pk));
CREATE TABLE hstore_table_with_special (pk serial, hs hstore, PRIMARY KEY(pk));
CREATE TABLE unknown_type_table (pk serial, tsq tsquery, PRIMARY KEY(pk));

CREATE TABLE not_null_table (pk serial,
    val numeric(20,8), created_at timestamp not null, created_at_tz timestamptz not null, ctime time not null,
    ctime_tz timetz not null, cdate date not null, cmoney money not null, cbits bit(3) not null,
    csmallint smallint not null, cinteger integer not null, cbigint bigint not null, creal real not null,
    cbool bool not null, cfloat8 float8 not null, cnumeric numeric(6,2) not null, cvarchar varchar(5) not null,
    cbox box not null, ccircle circle not null, cinterval interval not null, cline line not null, clseg lseg not null,
    cpath path not null, cpoint point not null, cpolygon polygon not null, cchar char not null, ctext text not null,
    cjson json not null, cxml xml not null, cuuid uuid not null, cvarbit varbit(3) not null, cinet inet not null,
    ccidr cidr not null, cmacaddr macaddr not null,
    PRIMARY KEY(pk));

CREATE TABLE table_without_pk(id serial, val INTEGER);
DROP SCHEMA IF EXISTS "Quoted_"" . Schema" CASCADE;
CREATE SCHEMA "Quoted_"" . Schema";
-- GRANT ALL ON ALL TABLES IN SCHEMA "Quoted_Schema" TO postgres;
CREATE TABLE "Quoted_"" . Schema"."Quoted_"" . Table" (pk SERIAL, "Quoted_"" . Text_Column" TEXT, PRIMARY KEY(pk));


-- ===== debezium-connector-postgres/src/test/resources/postgres_create_multiple_tables.ddl
DROP SCHEMA IF EXISTS s1 CASCADE;
DROP SCHEMA IF EXISTS s2 CASCADE;
DROP SCHEMA IF EXISTS s3 CASCADE;
CREATE SCHEMA s1;
CREATE SCHEMA s2;
CREATE SCHEMA s3;
CREATE TABLE s1.a (pk SERIAL, aa integer, PRIMARY KEY(pk));
CREATE TABLE s3.a (pk SERIAL, aa integer, PRIMARY KEY(pk));
CREATE TABLE s2.b (pk SERIAL, aa integer, bb varchar(20), PRIMARY KEY(pk));
CREATE TABLE s2.c (pk SERIAL, aa integer, bb varchar(20), PRIMARY KEY(pk));
ALTER TABLE s1.a REPLICA IDENTITY DEFAULT;
ALTER TABLE s3.a REPLICA IDENTITY DEFAULT;
ALTER TABLE s2.b REPLICA IDENTITY DEFAULT;
ALTER TABLE s2.c REPLICA IDENTITY DEFAULT;

-- ===== RecordsStreamProducerIT.java: tables created by individual tests
CREATE TABLE test_table (pk SERIAL, text TEXT, PRIMARY KEY(pk));
CREATE TABLE table_with_interval (id SERIAL PRIMARY KEY, title VARCHAR(512) NOT NULL, time_limit INTERVAL DEFAULT '60 days'::INTERVAL NOT NULL);
CREATE TABLE timetz_boundary_table (pk SERIAL, ttz0 TIME(0) WITH TIME ZONE, ttz6 TIME(6) WITH TIME ZONE, PRIMARY KEY(pk));
CREATE TABLE timetz_boundary_array_table (pk SERIAL, ttz TIMETZ[] NOT NULL, PRIMARY KEY(pk));
CREATE TABLE test_should_maintain_primary_key_order(b INTEGER, d INTEGER, c INTEGER, a INTEGER, val INTEGER, PRIMARY KEY (b, d, c, a));
ALTER TABLE test_should_maintain_primary_key_order ADD COLUMN val2 INTEGER;
CREATE TYPE test_type AS ENUM ('V1');
CREATE TABLE enum_table (pk SERIAL, value test_type NOT NULL, PRIMARY KEY (pk));
ALTER TYPE test_type ADD VALUE 'V2';

-- DBZ-7193: a toasted array in a REPLICA IDENTITY FULL table
CREATE TABLE test_toast_table (id SERIAL PRIMARY KEY);
ALTER TABLE test_toast_table ADD COLUMN not_toast integer;
ALTER TABLE test_toast_table ADD COLUMN mandatory_text_array TEXT[] NOT NULL;
ALTER TABLE test_toast_table ALTER COLUMN mandatory_text_array SET STORAGE EXTENDED;
ALTER TABLE test_toast_table REPLICA IDENTITY FULL;

-- domains over most built-in types (shouldStreamDomainAliasWithProperModifiers and friends)
CREATE TABLE alias_table (pk SERIAL, PRIMARY KEY(pk));
CREATE DOMAIN bit2 AS BIT(3);
CREATE DOMAIN smallint2 AS smallint;
CREATE DOMAIN integer2 as integer;
CREATE DOMAIN bigint2 as bigint;
CREATE DOMAIN real2 as real;
CREATE DOMAIN bool2 AS BOOL DEFAULT false;
CREATE DOMAIN float82 as float8;
CREATE DOMAIN numeric2 as numeric(6,2);
CREATE DOMAIN string2 AS varchar(25) DEFAULT NULL;
CREATE DOMAIN date2 AS date;
CREATE DOMAIN time2 as time;
CREATE DOMAIN timetz2 as timetz;
CREATE DOMAIN timestamp2 as timestamp;
CREATE DOMAIN timestamptz2 AS timestamptz;
CREATE DOMAIN timewotz2 as time without time zone;
CREATE DOMAIN box2 as box;
CREATE DOMAIN circle2 as circle;
CREATE DOMAIN interval2 as interval;
CREATE DOMAIN line2 as line;
CREATE DOMAIN lseg2 as lseg;
CREATE DOMAIN path2 as path;
CREATE DOMAIN point2 as point;
CREATE DOMAIN polygon2 as polygon;
CREATE DOMAIN char2 as char;
CREATE DOMAIN text2 as text;
CREATE DOMAIN json2 as json;
CREATE DOMAIN xml2 as xml;
CREATE DOMAIN uuid2 as uuid;
CREATE DOMAIN varbit2 as varbit(3);
CREATE DOMAIN inet2 as inet;
CREATE DOMAIN cidr2 as cidr;
CREATE DOMAIN macaddr2 as macaddr;
ALTER TABLE alias_table ADD COLUMN bit_base bit(3) NOT NULL, ADD COLUMN bit_alias bit2 NOT NULL, ADD COLUMN smallint_base smallint NOT NULL, ADD COLUMN smallint_alias smallint2 NOT NULL, ADD COLUMN integer_base integer NOT NULL, ADD COLUMN integer_alias integer2 NOT NULL, ADD COLUMN bigint_base bigint NOT NULL, ADD COLUMN bigint_alias bigint2 NOT NULL, ADD COLUMN real_base real NOT NULL, ADD COLUMN real_alias real2 NOT NULL, ADD COLUMN float8_base float8 NOT NULL, ADD COLUMN float8_alias float82 NOT NULL, ADD COLUMN numeric_base numeric(6,2) NOT NULL, ADD COLUMN numeric_alias numeric2 NOT NULL, ADD COLUMN bool_base bool NOT NULL, ADD COLUMN bool_alias bool2 NOT NULL, ADD COLUMN string_base varchar(25) NOT NULL, ADD COLUMN string_alias string2 NOT NULL, ADD COLUMN date_base date NOT NULL, ADD COLUMN date_alias date2 NOT NULL, ADD COLUMN time_base time NOT NULL, ADD COLUMN time_alias time2 NOT NULL, ADD COLUMN timetz_base timetz NOT NULL, ADD COLUMN timetz_alias timetz2 NOT NULL, ADD COLUMN timestamp_base timestamp NOT NULL, ADD COLUMN timestamp_alias timestamp2 NOT NULL, ADD COLUMN timestamptz_base timestamptz NOT NULL, ADD COLUMN timestamptz_alias timestamptz2 NOT NULL, ADD COLUMN timewottz_base time without time zone NOT NULL, ADD COLUMN timewottz_alias timewotz2 NOT NULL, ADD COLUMN box_base box NOT NULL, ADD COLUMN box_alias box2 NOT NULL, ADD COLUMN circle_base circle NOT NULL, ADD COLUMN circle_alias circle2 NOT NULL, ADD COLUMN interval_base interval NOT NULL, ADD COLUMN interval_alias interval2 NOT NULL, ADD COLUMN line_base line NOT NULL, ADD COLUMN line_alias line2 NOT NULL, ADD COLUMN lseg_base lseg NOT NULL, ADD COLUMN lseg_alias lseg2 NOT NULL, ADD COLUMN path_base path NOT NULL, ADD COLUMN path_alias path2 NOT NULL, ADD COLUMN point_base point NOT NULL, ADD COLUMN point_alias point2 NOT NULL, ADD COLUMN polygon_base polygon NOT NULL, ADD COLUMN polygon_alias polygon2 NOT NULL, ADD COLUMN char_base char NOT NULL, ADD COLUMN char_alias char2 NOT NULL, ADD COLUMN text_base text NOT NULL, ADD COLUMN text_alias text2 NOT NULL, ADD COLUMN json_base json NOT NULL, ADD COLUMN json_alias json2 NOT NULL, ADD COLUMN xml_base xml NOT NULL, ADD COLUMN xml_alias xml2 NOT NULL, ADD COLUMN uuid_base UUID NOT NULL, ADD COLUMN uuid_alias uuid2 NOT NULL, ADD COLUMN varbit_base varbit(3) NOT NULL, ADD COLUMN varbit_alias varbit2 NOT NULL,ADD COLUMN inet_base inet NOT NULL, ADD COLUMN inet_alias inet2 NOT NULL, ADD COLUMN cidr_base cidr NOT NULL, ADD COLUMN cidr_alias cidr2 NOT NULL, ADD COLUMN macaddr_base macaddr NOT NULL, ADD COLUMN macaddr_alias macaddr2 NOT NULL;

-- the tests set these before checking updates (time values; the keyless table)
ALTER TABLE time_table REPLICA IDENTITY FULL;
ALTER TABLE table_without_pk REPLICA IDENTITY FULL;

-- ===== AbstractRecordsProducerTest.java: rows the snapshot tests expect (ALL_STMTS, without PostGIS)
INSERT INTO numeric_table (si, i, bi, r, db, r_int, db_int, r_nan, db_nan, r_pinf, db_pinf, r_ninf, db_ninf, ss, bs, b, o) VALUES (1, 123456, 1234567890123, 3.3, 4.44, 3, 4, 'NaN', 'NaN', 'Infinity', 'Infinity', '-Infinity', '-Infinity', 1, 123, true, 4000000000);
INSERT INTO numeric_decimal_table (d, dzs, dvs, d_nn, n, nzs, nvs, d_int, dzs_int, dvs_int, n_int, nzs_int, nvs_int, d_nan, dzs_nan, dvs_nan, n_nan, nzs_nan, nvs_nan) VALUES (1.1, 10.11, 10.1111, 3.30, 22.22, 22.2, 22.2222, 1, 10, 10, 22, 22, 22, null, null, null, null, null, null);
INSERT INTO time_table(ts, tsneg, ts_ms, ts_us, tz, date, date_pinf, date_ninf, ti, tip, ttf, ttz, tptz, it, ts_large, ts_large_us, ts_large_ms, tz_large, ts_max, ts_min, tz_max, tz_min, ts_pinf, ts_ninf, tz_pinf, tz_ninf, tz_zero) VALUES ('2016-11-04T13:51:30.123456'::TIMESTAMP, '1936-10-25T22:10:12.608'::TIMESTAMP, '2016-11-04T13:51:30.123456'::TIMESTAMP, '2016-11-04T13:51:30.123456'::TIMESTAMP, '2016-11-04T13:51:30.123456+02:00'::TIMESTAMPTZ, '2016-11-04'::DATE, 'infinity'::DATE, '-infinity'::DATE, '13:51:30'::TIME, '13:51:30.123'::TIME, '24:00:00'::TIME, '13:51:30.123789+02:00'::TIMETZ, '13:51:30.123+02:00'::TIMETZ, 'P1Y2M3DT4H5M6.78S'::INTERVAL,'21016-11-04T13:51:30.123456'::TIMESTAMP, '21016-11-04T13:51:30.123457'::TIMESTAMP, '21016-11-04T13:51:30.124'::TIMESTAMP,'21016-11-04T13:51:30.123456+07:00'::TIMESTAMPTZ,'294247-01-01T23:59:59.999999'::TIMESTAMP,'4713-12-31T23:59:59.999999 BC'::TIMESTAMP,'294247-01-01T23:59:59.999999+00:00'::TIMESTAMPTZ,'4714-12-31T23:59:59.999999Z BC'::TIMESTAMPTZ,'infinity'::TIMESTAMP,'-infinity'::TIMESTAMP,'infinity'::TIMESTAMPTZ,'-infinity'::TIMESTAMPTZ,'21016-11-04T13:51:30.000000+07:00'::TIMESTAMPTZ);
INSERT INTO bitbin_table (ba, bol, bol2, bs, bs7, bv1, bv, bv2, bvl, bvunlimited1, bvunlimited2) VALUES (E'\\001\\002\\003'::bytea, '0'::bit(1), '1'::bit(1), '11'::bit(2), '1'::bit(7), '1'::bit varying(1), '00'::bit(2), '000000110000001000000001'::bit(24),'1000000000000000000000000000000000000000000000000000000000000000'::bit(64), '101', '111011010001000110000001000000001');
INSERT INTO geom_table(p) VALUES ('(1,1)'::point);
INSERT INTO text_table(j, jb, x, u) VALUES ('{"bar": "baz"}'::json, '{"bar": "baz"}'::jsonb, '<foo>bar</foo><foo>bar</foo>'::xml, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID);
INSERT INTO cash_table (csh) VALUES ('$1234.11');
INSERT INTO string_table (vc, vcv, ch, c, t, b, bnn, ct) VALUES ('žš', 'bb', 'cdef', 'abc', 'some text', E'\\000\\001\\002'::bytea, E'\\003\\004\\005'::bytea, 'Hello World');
INSERT INTO cidr_network_address_table (i) VALUES ('192.168.100.128/25');
INSERT INTO network_address_table (i) VALUES ('192.168.2.0/12');
INSERT INTO macaddr_table (m) VALUES ('08:00:2b:01:02:03');
INSERT INTO array_table (int_array, bigint_array, text_array, char_array, varchar_array, date_array, numeric_array, varnumeric_array, citext_array, inet_array, cidr_array, macaddr_array, tsrange_array, tstzrange_array, daterange_array, int4range_array, numerange_array, int8range_array, uuid_array, json_array, jsonb_array, oid_array) VALUES ('{1,2,3}', '{1550166368505037572}', '{"one","two","three"}', '{"cone","ctwo","cthree"}', '{"vcone","vctwo","vcthree"}', '{2016-11-04,2016-11-05,2016-11-06}', '{1.2,3.4,5.6}', '{1.1,2.22,3.333}', '{"four","five","six"}', '{"192.168.2.0/12","192.168.1.1","192.168.0.2/1"}', '{"192.168.100.128/25", "192.168.0.0/25", "192.168.1.0/24"}', '{"08:00:2b:01:02:03", "08-00-2b-01-02-03", "08002b:010203"}','{"[2019-03-31 15:30:00, infinity)", "[2019-03-31 15:30:00, 2019-04-30 15:30:00]"}', '{"[2017-06-05 11:29:12.549426+00,)", "[2017-06-05 11:29:12.549426+00, 2017-06-05 12:34:56.789012+00]"}', '{"[2019-03-31, infinity)", "[2019-03-31, 2019-04-30)"}', '{"[1,6)", "[1,4)"}', '{"[5.3,6.3)", "[10.0,20.0)"}', '{"[1000000,6000000)", "[5000,9000)"}', '{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "f0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}',array['{"bar": "baz"}','{"foo": "qux"}']::json[], array['{"bar": "baz"}','{"foo": "qux"}']::jsonb[], '{3,4000000000}');
INSERT INTO array_table_with_nulls (int_array, bigint_array, text_array, date_array, numeric_array, varnumeric_array, citext_array, inet_array, cidr_array, macaddr_array, tsrange_array, tstzrange_array, daterange_array, int4range_array, numerange_array, int8range_array, uuid_array, json_array, jsonb_array) VALUES (null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null);
INSERT INTO "Quoted_"" . Schema"."Quoted_"" . Table" ("Quoted_"" . Text_Column") VALUES ('some text');
INSERT INTO custom_table (lt, i, n, lt_array) VALUES ('Top.Collections.Pictures.Astronomy.Galaxies', '978-0-393-04002-9', NULL, '{"Ship.Frigate","Ship.Destroyer"}');
INSERT INTO hstore_table (hs) VALUES ('"key" => "val"'::hstore);
INSERT INTO hstore_table_mul (hs, hsarr) VALUES ('"key1" => "val1","key2" => "val2","key3" => "val3"', array['"key4" => "val4","key5" => NULL'::hstore, '"key6" => "val6"']);
INSERT INTO hstore_table_with_null (hs) VALUES ('"key1" => "val1","key2" => NULL');
INSERT INTO hstore_table_with_special (hs) VALUES ('"key_#1" => "val 1","key 2" =>" ##123 78"');
INSERT INTO unknown_type_table (tsq) VALUES ('fat <-> cat'::tsquery);
INSERT INTO bytea_binmode_table (ba, bytea_array) VALUES (E'\\001\\002\\003'::bytea, array[E'\\000\\001\\002'::bytea, E'\\003\\004\\005'::bytea]);
INSERT INTO not_null_table VALUES (default, 30, '2019-02-10 11:34:58', '2019-02-10 11:35:00', '10:20:11', '10:20:12', '2019-02-01', '$20', B'101', 32766, 2147483646, 9223372036854775806, 3.14, true, 3.14768, 1234.56, 'Test', '(0,0),(1,1)', '<(0,0),1>', '01:02:03', '{0,1,2}', '((0,0),(1,1))', '((0,0),(0,1),(0,2))', '(1,1)', '((0,0),(0,1),(1,1))', 'a', 'hello world', '{"key": 123}', '<doc><item>abc</item></doc>', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', B'101', '192.168.1.100', '192.168.1', '08:00:2b:01:02:03');
INSERT INTO table_without_pk (val) VALUES (1), (2);
INSERT INTO s1.a (aa) VALUES (1);
INSERT INTO s2.b (aa, bb) VALUES (2, 'hello;; world');
INSERT INTO test_table (text) VALUES ('insert');
INSERT INTO test_should_maintain_primary_key_order VALUES (1, 2, 3, 4, 5);
INSERT INTO enum_table (value) VALUES ('V1');
INSERT INTO timetz_boundary_table (ttz0, ttz6) VALUES ('23:59:59.999999+00'::TIMETZ, '24:00:00+00'::TIMETZ);
INSERT INTO alias_table (bit_base, bit_alias, smallint_base, smallint_alias, integer_base, integer_alias, bigint_base, bigint_alias, real_base, real_alias, float8_base, float8_alias, numeric_base, numeric_alias, bool_base, bool_alias, string_base, string_alias, date_base, date_alias, time_base, time_alias, timetz_base, timetz_alias, timestamp_base, timestamp_alias, timestamptz_base, timestamptz_alias, timewottz_base, timewottz_alias, box_base, box_alias, circle_base, circle_alias, interval_base, interval_alias, line_base, line_alias, lseg_base, lseg_alias, path_base, path_alias, point_base, point_alias, polygon_base, polygon_alias, char_base, char_alias, text_base, text_alias, json_base, json_alias, xml_base, xml_alias, uuid_base, uuid_alias, varbit_base, varbit_alias, inet_base, inet_alias, cidr_base, cidr_alias, macaddr_base, macaddr_alias ) VALUES (B'101', B'101', 1, 1, 1, 1, 1000, 1000, 3.14, 3.14, 3.14, 3.14, 1234.12, 1234.12, true, true, 'hello', 'hello', '2019-10-02', '2019-10-02', '01:02:03', '01:02:03', '01:02:03.123789Z', '01:02:03.123789Z', '2019-10-02T01:02:03.123456', '2019-10-02T01:02:03.123456', '2019-10-02T13:51:30.123456+02:00'::TIMESTAMPTZ, '2019-10-02T13:51:30.123456+02:00'::TIMESTAMPTZ, '01:02:03', '01:02:03', '(0,0),(1,1)', '(0,0),(1,1)', '10,4,10', '10,4,10', '1 year 2 months 3 days 4 hours 5 minutes 6 seconds', '1 year 2 months 3 days 4 hours 5 minutes 6 seconds', '(0,0),(0,1)', '(0,0),(0,1)', '((0,0),(0,1))', '((0,0),(0,1))', '((0,0),(0,1),(0,2))', '((0,0),(0,1),(0,2))', '(1,1)', '(1,1)', '((0,0),(0,1),(1,0),(0,0))', '((0,0),(0,1),(1,0),(0,0))', 'a', 'a', 'Hello World', 'Hello World', '{"key": "value"}', '{"key": "value"}', XML('<foo>Hello</foo>'), XML('<foo>Hello</foo>'), '40e6215d-b5c6-4896-987c-f30f3678f608', '40e6215d-b5c6-4896-987c-f30f3678f608', B'101', B'101', '192.168.0.1', '192.168.0.1', '192.168/24', '192.168/24', '08:00:2b:01:02:03', '08:00:2b:01:02:03' );
INSERT INTO test_toast_table (not_toast, mandatory_text_array) SELECT 10, ARRAY[string_agg(md5(i::text), '')] FROM generate_series(1, 313) i;
