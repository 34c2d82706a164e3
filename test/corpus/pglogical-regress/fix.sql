-- A deferrable primary key cannot be the replica identity; the unique index on the
-- NOT NULL column another_id can. f1k_orders has no key at all.
ALTER TABLE public.pk_users REPLICA IDENTITY USING INDEX pk_users_another_id_idx;
ALTER TABLE public.f1k_orders REPLICA IDENTITY FULL;
