-- The key the assessment should ask for: the keyless root s1.t has one partition without a key.
ALTER TABLE public.t_1 REPLICA IDENTITY FULL;
