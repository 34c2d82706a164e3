-- The replica identities the assessment should ask for. Deferrable unique or primary keys cannot
-- be replica identities, so those tables get FULL too (notnull_tbl4's only key is deferred).
ALTER TABLE public.atacc1 REPLICA IDENTITY FULL;
ALTER TABLE public.atacc2 REPLICA IDENTITY FULL;
ALTER TABLE public.check2_tbl REPLICA IDENTITY FULL;
ALTER TABLE public.check_tbl REPLICA IDENTITY FULL;
ALTER TABLE public.circles REPLICA IDENTITY FULL;
ALTER TABLE public.cnn_uq REPLICA IDENTITY FULL;
ALTER TABLE public.copy_tbl REPLICA IDENTITY FULL;
ALTER TABLE public.default_tbl REPLICA IDENTITY FULL;
ALTER TABLE public.defaultexpr_tbl REPLICA IDENTITY FULL;
ALTER TABLE public.deferred_excl REPLICA IDENTITY FULL;
ALTER TABLE public.insert_child REPLICA IDENTITY FULL;
ALTER TABLE public.insert_tbl REPLICA IDENTITY FULL;
ALTER TABLE public.notnull_tbl4 REPLICA IDENTITY FULL;
ALTER TABLE public.notnull_tbl4_lk REPLICA IDENTITY FULL;
ALTER TABLE public.parted_uniq_tbl_1 REPLICA IDENTITY FULL;
ALTER TABLE public.parted_uniq_tbl_2 REPLICA IDENTITY FULL;
ALTER TABLE public.sys_col_check_tbl REPLICA IDENTITY FULL;
ALTER TABLE public.unique_nnd_tbl REPLICA IDENTITY FULL;
ALTER TABLE public.unique_tbl REPLICA IDENTITY FULL;
