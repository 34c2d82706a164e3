-- pgcopydb unit-test fixtures: the schema pgcopydb's "unit" test suite builds before
-- copying a database (one file per pgcopydb issue).
-- Origin: https://github.com/dimitri/pgcopydb, commit 9af7870edcccc550b8dafb47152728b4ed076a99,
--         tests/unit/setup/setup.sql and the files it includes, concatenated in its order.
-- Licence: PostgreSQL Licence (see LICENSE in this folder, copied from the repository).
-- Changes for the corpus: the \ir lines of setup.sql are replaced by the files' text.
-- tests/unit/copydb.sh first runs ALTER DATABASE postgres SET search_path TO public, """abc""";
-- it is done here for the current database (a database-level setting the migration
-- should carry over), and for this session, which the setting does not reach.

SELECT format('ALTER DATABASE %I SET search_path TO public, %I', current_database(), '"abc"') \gexec
SET search_path TO public, """abc""";

-- ===== tests/unit/setup/1-exclusion-constraints.sql
DROP TABLE IF EXISTS exclcon;

CREATE TABLE exclcon (a integer, b integer);

insert into exclcon values (1,2), (3,4);

ALTER TABLE exclcon
  ADD CONSTRAINT constraint_fail_idx EXCLUDE USING btree (a WITH=);

-- ===== tests/unit/setup/2-inherit.sql
DROP TABLE IF EXISTS public.parent_model CASCADE;

CREATE TABLE IF NOT EXISTS public.parent_model
 (
    id integer NOT NULL,
     a integer NOT NULL,
     b boolean NOT NULL,
    CONSTRAINT pk_parent_model PRIMARY KEY (id)
 );

CREATE TABLE IF NOT EXISTS public.child_model_1
 (
    -- Inherited from table public.parent_model: id integer NOT NULL,
    -- Inherited from table public.parent_model: a integer NOT NULL,
    -- Inherited from table public.parent_model: b boolean NOT NULL,
    c jsonb NOT NULL,
    CONSTRAINT pk_child_model_1 PRIMARY KEY (id)
 )
INHERITS (public.parent_model);

CREATE TABLE IF NOT EXISTS public.child_model_2
 (
    -- Inherited from table public.parent_model: id integer NOT NULL,
    -- Inherited from table public.parent_model: a integer NOT NULL,
    -- Inherited from table public.parent_model: b boolean NOT NULL,
    d integer NOT NULL,
    CONSTRAINT pk_child_model_2 PRIMARY KEY (id)
 )
INHERITS (public.parent_model);

INSERT INTO child_model_1 (id, a, b, c)
SELECT
    10000 + s,
    1,
    false,
    '[1, 2, 3, 4]'
FROM
    generate_series(1, 1000) s;


INSERT INTO child_model_2 (id, a, b, d)
SELECT
    20000 + s,
    1,
    false,
    1313
FROM
    generate_series(1, 1000) s;

-- ===== tests/unit/setup/3-collations.sql
create table colls
 (
   id bigserial not null primary key,
   f1 text collate "fr-FR-x-icu",
   f2 text collate "de-DE-x-icu"
 );

create collation if not exists mycol
 (
   locale = 'fr-FR-x-icu',
   provider = 'icu'
 );

create table mycoltab
 (
   id bigserial not null primary key,
   f1 text collate mycol,
   f2 text collate "en-US-x-icu"
 );

-- ===== tests/unit/setup/4-list-table-split.sql
---
--- This file creates tables and populate the pgcopdyb.table_size cache with
--  fake sizes.
---

-- Create three tables with identical schema and data

create table table_1 (
    c_bigserial bigserial primary key,
    c_char char(580)
);

create table table_2 (
    c_bigserial bigserial primary key,
    c_char char(150)
);

create table table_3 (
    c_bigserial bigserial primary key,
    c_char char(512)
);

-- Insert 100 rows into table_1 and duplicate data in table_2, table_3 is empty.

insert into table_1 (c_char)
select
    left (md5(random()::text),
        10)
from
    generate_series(1, 100) s (i);

insert into table_2
select
    *
from
    table_1;

--
-- also create tables with names that needs double-quoting to see that our
-- partitioning queries can cope with that
--
CREATE SCHEMA IF NOT EXISTS "Sp1eCial .Char";

CREATE TABLE "Sp1eCial .Char"."source1testing"
 (
   "s0" int PRIMARY KEY,
   "s1" int NOT NULL
 );

insert into "Sp1eCial .Char"."source1testing"("s0", "s1")
select x, (x * 2) % 100000
  from generate_series(1, 10000) AS t(x);


CREATE TABLE "Sp1eCial .Char"."Tabl e.1testing"
 (
  "iD" int PRIMARY KEY,
  "regId" int,
  "status" int,
  "nA M.e" character varying(20) NOT NULL,

   CONSTRAINT "Tabl e_fk_1_testing"
  FOREIGN KEY ("iD")
   REFERENCES "Sp1eCial .Char"."source1testing"("s0")
);

insert into "Sp1eCial .Char"."Tabl e.1testing"("iD", "regId", "status", "nA M.e")
select
    "s0",
    "s0",
    random() * 100,
    'Name ' || "s0"
from
    "Sp1eCial .Char"."source1testing";

-- Create two tables with identical schema and data to test ctid split

create table table_ctid_candidate (
    c_char char(512),
    d_char char(512)
);

create table table_ctid_candidate_skip (
    c_char char(512),
    d_char char(512)
);

-- Insert 100 rows into table_ctid_candidate
insert into table_ctid_candidate (c_char, d_char)
select
    left (md5(random()::text), 10),
    left (md5(random()::text), 10)
from
    generate_series(1, 100) s (i);

insert into table_ctid_candidate_skip
select
    *
from
    table_ctid_candidate;

-- ===== tests/unit/setup/5-long-index-def.sql
CREATE TABLE test_table (
	id varchar(16) NOT NULL,
	event_name varchar(64) NOT NULL,
	audited_obj_id varchar(16) NOT NULL,
	CONSTRAINT id PRIMARY KEY (id)
);

--
-- Create an index with a long definition (more than BUFSIZE chars, 1024)
--
-- The test doesnot need a verification mechanism, when static memory
-- allocation is used in pgcopydb source code somewhere, then the index
-- definition does not fit and an error is produced, failing the test
-- already.
--

CREATE INDEX idx_test_table_partial ON test_table USING btree (audited_obj_id, id) WHERE ((event_name)::text = ANY (ARRAY[('ds_approve'::character varying)::text, ('ds_revision'::character varying)::text, ('ds_registration'::character varying)::text, ('ds_recovered_to_registration'::character varying)::text, ('ds_revise'::character varying)::text, ('ds_print'::character varying)::text, ('ds_sign'::character varying)::text, ('ds_examination'::character varying)::text, ('ds_examinated'::character varying)::text, ('ds_on_resolution'::character varying)::text, ('ds_execution'::character varying)::text, ('ds_report'::character varying)::text, ('ds_approval'::character varying)::text, ('ds_release_from_control'::character varying)::text, ('ds_archived'::character varying)::text, ('ds_distribution'::character varying)::text, ('ds_registered'::character varying)::text, ('ds_committee'::character varying)::text, ('ds_overdue'::character varying)::text, ('ds_internal_signature'::character varying)::text, ('ds_agent_signature'::character varying)::text, ('ds_registration_cso'::character varying)::text, ('ds_claim_nsi_execution_control'::character varying)::text, ('ds_claim_tech_execution_control'::character varying)::text, ('ds_approve_revision'::character varying)::text, ('ds_expire'::character varying)::text, ('ds_archive_init'::character varying)::text, ('ds_recalled_to_revision'::character varying)::text, ('ds_identity_confirmation'::character varying)::text, ('ds_check_design'::character varying)::text, ('ds_nomenclatured'::character varying)::text, ('ds_return_to_office'::character varying)::text, ('ds_nomenclature_init'::character varying)::text, ('ds_change_ctrl_stage_exec_date'::character varying)::text, ('ds_terminate_execution'::character varying)::text, ('ds_resume_to_execution'::character varying)::text, ('ds_create'::character varying)::text, ('ds_agenda_vote'::character varying)::text, ('ds_agenda_vote_finish'::character varying)::text, ('ds_claim_tech_set_curator'::character varying)::text, ('ds_claim_tech_old_curator'::character varying)::text, ('ds_claim_tech_change_ztp'::character varying)::text, ('ds_revert_archived'::character varying)::text, ('ds_setup_dsdt_ext_examination_date'::character varying)::text, ('ds_change_dsdt_ext_examination_date'::character varying)::text, ('ds_change_approve_stage'::character varying)::text, ('ds_add_ctrl_stage'::character varying)::text, ('ds_edit_ctrl_stage'::character varying)::text, ('ds_simple_int_signature'::character varying)::text, ('ds_simple_int_signature_revision'::character varying)::text, ('ds_simple_agent_signature_send'::character varying)::text, ('ds_simple_agent_signature'::character varying)::text, ('ds_simple_agent_signature_revision'::character varying)::text, ('ds_simple_print'::character varying)::text, ('ds_simple_print_revision'::character varying)::text, ('ds_simple_registration'::character varying)::text, ('ds_simple_registration_revision'::character varying)::text, ('ds_publication'::character varying)::text, ('ds_has_document_approval'::character varying)::text, ('ds_agenda_additional_vote'::character varying)::text, ('ds_approve_with_curator_approve'::character varying)::text, ('ds_approve_with_curator_revision'::character varying)::text, ('ds_pause_auto_approve'::character varying)::text, ('ds_resume_auto_approve'::character varying)::text, ('ds_increase_approve_period'::character varying)::text, ('ds_remove_approve_stage'::character varying)::text, ('ds_remove_approver'::character varying)::text, ('ds_vote_finish'::character varying)::text, ('ds_wait_document'::character varying)::text, ('ds_simple_signature'::character varying)::text, ('ds_simple_signature_revision'::character varying)::text, ('ds_attachment_original'::character varying)::text, ('ds_attach_original'::character varying)::text, ('ds_attachment_protocol'::character varying)::text, ('ds_remove_signer'::character varying)::text, ('ds_organization_of_signing'::character varying)::text, ('ds_send_to_mrmr'::character varying)::text, ('ds_sent_to_bik'::character varying)::text, ('ds_received_from_bik'::character varying)::text, ('ds_identity_confirmation_revision'::character varying)::text, ('ds_remove_inside'::character varying)::text, ('ds_replace_content'::character varying)::text, ('ds_add_question'::character varying)::text, ('ds_remove_question'::character varying)::text, ('ds_edit'::character varying)::text, ('ds_change_addressee'::character varying)::text, ('ds_delegation_delegated'::character varying)::text, ('ds_delegation_accepted'::character varying)::text, ('ds_add_attachment'::character varying)::text, ('ds_remove_attachment'::character varying)::text, ('ds_send_to_upp'::character varying)::text, ('ds_barcode_send_to_upp'::character varying)::text, ('ds_change_from_upp'::character varying)::text, ('ds_usd_deleted'::character varying)::text, ('ds_add_connected_document'::character varying)::text, ('ds_remove_connected_document'::character varying)::text, ('ds_send_to_akesd'::character varying)::text, ('ds_akesd_deleted'::character varying)::text, ('ds_change_from_akesd'::character varying)::text, ('ds_replace_attachment'::character varying)::text, ('ds_clear_attach_original_attr'::character varying)::text, ('ds_add_attachstructure'::character varying)::text, ('ds_remove_attachstructure'::character varying)::text, ('ds_remove_comment'::character varying)::text, ('ds_set_vote_results'::character varying)::text, ('ds_interrupt_approve'::character varying)::text, ('ds_stage_users_changed'::character varying)::text, ('ds_annulment'::character varying)::text, ('ds_revoke_annulment'::character varying)::text, ('Distribution'::character varying)::text]));

-- ===== tests/unit/setup/6-multiline-table-name.sql
CREATE TABLE public."with MyTableName

     AS (SELECT row_id

  " (
    row_id uuid NOT NULL
);

--
-- See https://github.com/dimitri/pgcopydb/issues/430
--
-- Migration fails when table has double quotes in them
--

CREATE TABLE IF NOT EXISTS public."""dqname"""
(
    id integer
);


--
-- See https://github.com/dimitri/pgcopydb/issues/483
--
-- Migrations fails when the column name of a table is very long
--
CREATE TABLE """long"""
(
    """aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa""" INT
);

INSERT INTO """long""" VALUES (1);

-- ===== tests/unit/setup/7-identity.sql
create table test_tbl
 (
   id bigint not null generated always as identity primary key,
   f1 text
 );

-- ===== tests/unit/setup/8-string-escape.sql
create table test_str_escape
 (
   id bigint not null generated always as identity primary key,
   f1 text
 );

insert into test_str_escape (f1)
     values (E'aaa\naaa'),
            (E'bbb\r\nbbb'),
            (E'ccc');

-- ===== tests/unit/setup/9-table-with-zero-cols.sql
create table nocols();

-- ===== tests/unit/setup/10-search-path-index-enum.sql
---
--- Index creation fails when referencing an object due to search_path issues
---
--- See https://github.com/dimitri/pgcopydb/issues/489

BEGIN;

CREATE SCHEMA """abc""";

CREATE TYPE """abc""".state AS ENUM (
    'PROPOSED',
    'SCHEDULED',
    'STARTED'
);

CREATE TABLE """abc""".job (
    id bigint NOT NULL,
    state """abc""".state DEFAULT 'SCHEDULED'::"""abc""".state NOT NULL,
    date date NOT NULL
);

CREATE INDEX indexname ON """abc""".job USING btree (state) WHERE (state = 'SCHEDULED'::state);

COMMIT;

-- ===== tests/unit/setup/11-check-constraint.sql
CREATE TABLE public.employees (
    name character varying NOT NULL,
    emp_id uuid
);

--
-- See https://github.com/dimitri/pgcopydb/issues/498
--
-- Migration fails when handling CHECK CONSTRAINT
--

ALTER TABLE public.employees
    ADD CONSTRAINT chk_employees_name_not_abc CHECK (((name)::text !~ 'abc'::text)) NOT VALID;

-- ===== tests/unit/setup/12-generated-column.sql
--
-- See https://github.com/dimitri/pgcopydb/issues/496
--
-- Migration fails when table has generated columns
--

CREATE TABLE ref_admin_commune (
    id character varying NOT NULL,
    nom character varying(50),
    test text GENERATED ALWAYS AS (upper((nom)::text)) STORED
);

-- ===== tests/unit/setup/14-uuid.sql
create extension "uuid-ossp";

create table uuid(id uuid default uuid_generate_v4(), f1 text);

insert into uuid(f1)
     select x::text from generate_series(100, 199, 1) as t(x);

-- ===== tests/unit/setup/15-attgenerated.sql
---
--- See https://github.com/dimitri/pgcopydb/issues/757
---

create table gen
 (
   nb int generated always as (1) stored
 );

insert into gen values(default);

-- ===== tests/unit/setup/16-sequences.sql
---
--- See https://github.com/dimitri/pgcopydb/issues/777
---

-- A sequence used as default
create sequence default_table_id_seq;
create table default_table (id integer primary key default nextval('default_table_id_seq'));
select setval('default_table_id_seq', 667);

-- A sequence used as identity
create table identity_table (id integer primary key generated always as identity);
select setval('identity_table_id_seq', 668);

-- A standalone sequence
create sequence standalone_id_seq;
select setval('standalone_id_seq', 669);

-- A standalone sequence smallint
create sequence standalone_smallint_id_seq as smallint;
select setval('standalone_smallint_id_seq', 670);

-- A standalone sequence with a minvalue that has not been set
create sequence standalone_minvalue_id_seq minvalue 671;

-- ===== tests/unit/setup/17-exclusion-with-pkey.sql
DROP TABLE IF EXISTS excl_with_pkey;

CREATE TABLE excl_with_pkey (
    id  integer NOT NULL,
    val integer NOT NULL
);

ALTER TABLE excl_with_pkey ADD CONSTRAINT excl_with_pkey_pkey PRIMARY KEY (id);
ALTER TABLE excl_with_pkey ADD CONSTRAINT excl_with_pkey_excl EXCLUDE USING btree (val WITH =);

INSERT INTO excl_with_pkey VALUES (1, 10), (2, 20), (3, 30);

-- ===== tests/unit/setup/18-function-acl.sql
--
-- Issue #888: function ACL entries in the pg_restore TOC use the schema name
-- as the namespace field (e.g. "public test_function_acl(integer, integer) owner")
-- rather than the dash used by SCHEMA/EXTENSION entries.  pgcopydb must parse
-- these correctly and preserve the ACL on the target.
--
-- We REVOKE the default PUBLIC EXECUTE to produce an explicit, non-default
-- proacl.  pg_dump only generates an ACL entry when proacl differs from the
-- initial privileges, so a simple REVOKE (not a GRANT) triggers the entry.
--
CREATE OR REPLACE FUNCTION test_function_acl(x integer, y integer)
    RETURNS integer
    LANGUAGE sql
    IMMUTABLE STRICT
AS $$ SELECT $1 + $2 $$;

-- Revoking the default PUBLIC execute privilege creates a non-default proacl
-- that pg_dump will include as an explicit ACL entry in the archive.
REVOKE EXECUTE ON FUNCTION test_function_acl(integer, integer) FROM PUBLIC;

-- ===== tests/unit/setup/19-pg-stat-statements-acl.sql
--
-- Issue #888 (extended): pg_stat_statements has a function with a very long
-- signature (one input parameter plus ~40 OUT parameters) that produces a
-- correspondingly long ACL entry in the pg_restore TOC.  This exercises the
-- line-reading and ACL-parsing code more thoroughly than a short signature.
--
-- We REVOKE the default PUBLIC EXECUTE to produce an explicit, non-default
-- proacl that pg_dump will include as an ACL entry in the archive.
--
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

-- Revoking the default PUBLIC execute privilege creates a non-default proacl
-- that pg_dump will include as an explicit ACL entry in the archive.
REVOKE EXECUTE ON FUNCTION pg_stat_statements(boolean) FROM PUBLIC;

-- ===== tests/unit/setup/20-collation-multi-use.sql
--
-- Regression test for https://github.com/dimitri/pgcopydb/issues/889
--
-- Two views that both reference the same built-in "C" collation cause
-- schema_list_collations() to return two rows with the same colloid (one per
-- view column) but different description values.  UNION does not collapse them
-- because the description differs, so catalog_add_s_coll() receives two INSERT
-- attempts for the same OID and fails with a SQLite PRIMARY KEY constraint
-- error.
--
-- The fix wraps the UNION in SELECT DISTINCT ON (colloid) so that only one row
-- per collation OID is inserted into s_coll.
--
CREATE VIEW v_coll_test AS SELECT 'foo' COLLATE "C";
CREATE VIEW v_coll_test2 AS SELECT * FROM v_coll_test;

-- ===== tests/unit/setup/21-tsvector.sql
---
--- See https://github.com/dimitri/pgcopydb/issues/894
---

create table tsv
 (
   id    bigint primary key,
   title text,
   body  text,
   tsv   tsvector
 );

insert into tsv values (
  1,
  'hello world',
  'this is a test document',
  to_tsvector('english', 'hello world this is a test document')
);
