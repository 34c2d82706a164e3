-- pgcopydb fixtures: the DML their tests run during change capture, plus statements
-- written for the corpus for the filtering tables (the filtering test itself runs no DML).
-- Origin: tests/cdc-replica-identity-index/dml.sql, the SQL heredoc of
-- tests/cdc-matview/copydb.sh, tests/cdc-partitioned-target/dml.sql and dml-truncate.sql,
-- and tests/blobs/copydb.sh (which imports the same blobs a second time after the snapshot).

-- ===== tests/cdc-replica-identity-index/dml.sql
---
--- pgcopydb tests/cdc-replica-identity-index/dml.sql
---
--- DML exercised during CDC streaming. The UPDATEs are the interesting part:
--- they must replicate correctly even though the table has no PRIMARY KEY,
--- only a REPLICA IDENTITY USING INDEX (id, created_at).
---

begin;

-- New rows inserted during CDC.
insert into event_matches (name)
select 'cdc-' || i from generate_series(1, 5) as g(i);

-- UPDATEs where the replica identity columns are NOT changed. This is the
-- case the previously-broken parser mishandled: test_decoding emits the
-- new tuple without an explicit old-key section, and the parser has to
-- identify which columns make up the identity by reading the attribute
-- metadata.
update event_matches
   set name = 'initial-updated-' || id
 where name like 'initial-%';

update event_matches
   set name = 'cdc-updated-' || id
 where name like 'cdc-%';

-- DELETE also relies on the replica identity columns.
delete from event_matches where name = 'cdc-updated-5';

commit;

-- ===== tests/cdc-matview/copydb.sh (phase 1)
begin;
insert into src values (4, 'delta'), (5, 'epsilon');
commit;

refresh materialized view concurrently mv1;

-- ===== tests/cdc-partitioned-target/dml.sql
---
--- pgcopydb tests/cdc-partitioned-target/dml.sql
---
--- DML phase 1: INSERT new rows on the flat source. After replay these
--- should land in the correct partitions on the target. Phase 2 (the
--- TRUNCATE) is in dml-truncate.sql so the test can checkpoint between
--- the two and assert each phase independently.
---

begin;

insert into partitioned_target.events (id, bucket, payload)
     values (4, 1, 'd'),
            (5, 0, 'e');

commit;

-- ===== tests/cdc-partitioned-target/dml-truncate.sql
---
--- pgcopydb tests/cdc-partitioned-target/dml-truncate.sql
---
--- DML phase 2: TRUNCATE the flat source. ld_transform writes this as
--- "TRUNCATE ONLY ...", which Postgres rejects against the partitioned
--- target unless ld_apply rewrites it. After replay the target must be
--- empty.
---

truncate only partitioned_target.events;

-- ===== tests/blobs/copydb.sh: more blobs after the snapshot (regenerated as in schema.sql)
SELECT lo_from_bytea(0, decode(repeat(md5('aj-robbie-BuQ1RZckYW4-unsplash.jpg'), 12000), 'hex'));
SELECT lo_from_bytea(0, decode(repeat(md5('richard-jacobs-8oenpCXktqQ-unsplash.jpg'), 12500), 'hex'));

-- ===== written for the corpus: the filtering fixtures in use
insert into foo.tbl1 (status_id, desc_text) values (2, 'first'), (1, 'second');
insert into foo.tbl2 (tbl1_id, desc_text) select id, 'child of ' || desc_text from foo.tbl1;
update foo.tbl1 set status_id = 3 where desc_text = 'first';
delete from foo.tbl2 where desc_text = 'child of second';
update foo.tbl_status set name = 'archived' where id = 3;
insert into app.foo (f1) values ('app row');
insert into copy.foo (f1) values ('copy row');
insert into schema_name_20_chars.very______long______table______name_______50_chars default values;
insert into seq.default_table default values;
insert into seq.identity_table default values;
select nextval('seq.standalone_id_seq'), nextval('seq.standalone_smallint_id_seq'), nextval('seq.standalone_minvalue_id_seq');
insert into partitioned_tables.sellers (id, archive) values (4, 0), (5, 1);
-- a seller is archived: the row moves from the default partition to sellers_archive
update partitioned_tables.sellers set archive = 1 where id = 1;
delete from partitioned_tables.sellers where id = 3;
refresh materialized view foo.matview_1;
