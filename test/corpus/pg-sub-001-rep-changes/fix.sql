-- The keys the assessment should ask for (tab_notrep is excluded by the plan, as the
-- test never publishes it). A zero-column table can only use REPLICA IDENTITY FULL.
ALTER TABLE tab_nothing REPLICA IDENTITY FULL;
ALTER TABLE tab_no_replidentity_index REPLICA IDENTITY FULL;
ALTER TABLE tab_no_col REPLICA IDENTITY FULL;
