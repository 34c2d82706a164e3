-- The replica identities the assessment should ask for (a unique NOT NULL index where one exists, else FULL).
ALTER TABLE insert1.table_without_pk REPLICA IDENTITY FULL;
ALTER TABLE insert1.table_with_unique REPLICA IDENTITY USING INDEX table_with_unique_g_n_key;
ALTER TABLE update1.table_without_pk REPLICA IDENTITY FULL;
ALTER TABLE update1.table_with_unique REPLICA IDENTITY USING INDEX table_with_unique_g_n_key;
ALTER TABLE delete1.table_without_pk REPLICA IDENTITY FULL;
ALTER TABLE delete1.table_with_unique REPLICA IDENTITY USING INDEX table_with_unique_g_n_key;
ALTER TABLE update2.table_without_pk REPLICA IDENTITY FULL;
ALTER TABLE update2.table_with_unique REPLICA IDENTITY USING INDEX table_with_unique_g_n_key;
ALTER TABLE delete2.table_without_pk REPLICA IDENTITY FULL;
ALTER TABLE delete2.table_with_unique REPLICA IDENTITY USING INDEX table_with_unique_g_n_key;
ALTER TABLE update2.table_with_pk REPLICA IDENTITY DEFAULT;
ALTER TABLE delete2.table_with_pk REPLICA IDENTITY DEFAULT;
ALTER TABLE numeric_data_types_as_string.table_integer REPLICA IDENTITY FULL;
ALTER TABLE numeric_data_types_as_string.table_decimal REPLICA IDENTITY FULL;
ALTER TABLE pk.w2j_pk_without_pk REPLICA IDENTITY FULL;
