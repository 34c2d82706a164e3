-- The replica identities the assessment should ask for: none of these tables has a
-- unique NOT NULL index, so REPLICA IDENTITY FULL (or a new primary key).
SET search_path TO public, """abc""";
ALTER TABLE exclcon REPLICA IDENTITY FULL;
ALTER TABLE table_ctid_candidate REPLICA IDENTITY FULL;
ALTER TABLE table_ctid_candidate_skip REPLICA IDENTITY FULL;
ALTER TABLE public."with MyTableName

     AS (SELECT row_id

  " REPLICA IDENTITY FULL;
ALTER TABLE public."""dqname""" REPLICA IDENTITY FULL;
ALTER TABLE """long""" REPLICA IDENTITY FULL;
ALTER TABLE nocols REPLICA IDENTITY FULL;
ALTER TABLE """abc""".job REPLICA IDENTITY FULL;
ALTER TABLE public.employees REPLICA IDENTITY FULL;
ALTER TABLE ref_admin_commune REPLICA IDENTITY FULL;
ALTER TABLE uuid REPLICA IDENTITY FULL;
ALTER TABLE gen REPLICA IDENTITY FULL;
