-- What the assessment's fix amounts to for this case: give each inherited child a key.
ALTER TABLE public.payment_p2017_01 ADD PRIMARY KEY (payment_id);
ALTER TABLE public.payment_p2017_02 ADD PRIMARY KEY (payment_id);
ALTER TABLE public.payment_p2017_03 ADD PRIMARY KEY (payment_id);
ALTER TABLE public.payment_p2017_04 ADD PRIMARY KEY (payment_id);
ALTER TABLE public.payment_p2017_05 ADD PRIMARY KEY (payment_id);
ALTER TABLE public.payment_p2017_06 ADD PRIMARY KEY (payment_id);
