-- The replica identities the assessment should ask for (no unique NOT NULL index exists).
ALTER TABLE app.foo REPLICA IDENTITY FULL;
ALTER TABLE copy.foo REPLICA IDENTITY FULL;
ALTER TABLE partitioned_tables.sellers_active REPLICA IDENTITY FULL;
ALTER TABLE partitioned_tables.sellers_archive REPLICA IDENTITY FULL;
ALTER TABLE schema_name_20_chars.very______long______table______name_______50_chars REPLICA IDENTITY FULL;
