-- The replica identities the assessment should ask for: two keyless tables of the tests.
ALTER TABLE public."""dqname""" REPLICA IDENTITY FULL;
ALTER TABLE public.xpto2 REPLICA IDENTITY FULL;
