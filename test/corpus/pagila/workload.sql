-- pagila workload: what the DVD rental shop does while the migration captures changes.
-- Written for the corpus (pagila ships no workload); every statement uses pagila's own
-- tables and the store's normal operations (rent, pay, return, staff and catalogue edits).

-- A customer rents two films and pays for them (payment routes into partition payment_p2022_06).
BEGIN;
WITH r AS (
  INSERT INTO public.rental (rental_date, inventory_id, customer_id, staff_id)
  VALUES ('2022-06-15 10:00:00+00', 10, 1, 1), ('2022-06-15 10:00:00+00', 11, 1, 1)
  RETURNING rental_id, customer_id, staff_id
)
INSERT INTO public.payment (customer_id, staff_id, rental_id, amount, payment_date)
SELECT customer_id, staff_id, rental_id, 4.99, '2022-06-15 10:00:05+00' FROM r;
COMMIT;

-- The films come back (UPDATE of a non-key column; the last_updated trigger fires).
UPDATE public.rental SET return_date = '2022-06-18 09:30:00+00'
 WHERE rental_date = '2022-06-15 10:00:00+00' AND customer_id = 1;

-- A late fee recorded in July (partition payment_p2022_07, which has no foreign keys in pagila).
INSERT INTO public.payment (customer_id, staff_id, rental_id, amount, payment_date)
SELECT 1, 1, rental_id, 1.00, '2022-07-02 12:00:00+00'
  FROM public.rental WHERE rental_date = '2022-06-15 10:00:00+00' AND inventory_id = 10;

-- A payment booked in the wrong month is moved: the partition key changes, so the row
-- moves from payment_p2022_03 to payment_p2022_04 (a cross-partition UPDATE).
UPDATE public.payment SET payment_date = payment_date + interval '31 days'
 WHERE payment_id = (SELECT min(payment_id) FROM public.payment_p2022_03 WHERE payment_date < '2022-03-20');

-- Price corrections on many rows of several partitions at once.
UPDATE public.payment SET amount = amount + 0.01 WHERE customer_id = 2;

-- A refund deletes a payment.
DELETE FROM public.payment WHERE payment_id = (SELECT max(payment_id) FROM public.payment_p2022_05);

-- Customer data maintenance.
UPDATE public.customer SET email = lower(first_name || '.' || last_name || '@example.org') WHERE customer_id BETWEEN 3 AND 12;
UPDATE public.customer SET activebool = false, active = 0 WHERE customer_id = 13;

-- New customer with a new address in a new city of an existing country (non-ASCII text).
BEGIN;
INSERT INTO public.city (city, country_id) VALUES ('Şanlıurfa', (SELECT country_id FROM public.country WHERE country = 'Turkey'));
INSERT INTO public.address (address, district, city_id, postal_code, phone)
VALUES ('1 Göbeklitepe Yolu', 'Haliliye', currval('public.city_city_id_seq'), '63000', '904140000000');
INSERT INTO public.customer (store_id, first_name, last_name, email, address_id, active)
VALUES (1, 'AYŞE', 'YILDIZ', 'ayse.yildiz@example.org', currval('public.address_address_id_seq'), 1);
COMMIT;

-- Catalogue edits: the BEFORE trigger recomputes the tsvector column; an array column changes.
UPDATE public.film SET description = description || ' Now remastered.' WHERE film_id IN (1, 2, 3);
UPDATE public.film SET special_features = array_append(special_features, 'Commentaries') WHERE film_id = 4 AND NOT ('Commentaries' = ANY (special_features));
UPDATE public.film SET rating = 'PG-13', rental_rate = 3.99 WHERE film_id = 5;

-- A new film with its cast and category.
BEGIN;
INSERT INTO public.film (title, description, release_year, language_id, rental_duration, rental_rate, length, replacement_cost, rating, special_features, fulltext)
VALUES ('CORPUS MIGRATION', 'A Thrilling Story of a Database that Moved Without Downtime', 2022, 1, 5, 2.99, 101, 14.99, 'PG', '{Trailers,"Behind the Scenes"}', ''::tsvector);
INSERT INTO public.film_actor (actor_id, film_id) VALUES (1, currval('public.film_film_id_seq')), (2, currval('public.film_film_id_seq'));
INSERT INTO public.film_category (film_id, category_id) VALUES (currval('public.film_film_id_seq'), 6);
INSERT INTO public.inventory (film_id, store_id) VALUES (currval('public.film_film_id_seq'), 1), (currval('public.film_film_id_seq'), 2);
COMMIT;

-- A primary key changes and cascades (film_actor.actor_id is ON UPDATE CASCADE).
INSERT INTO public.actor (first_name, last_name) VALUES ('TEMP', 'ACTOR');
INSERT INTO public.film_actor (actor_id, film_id) VALUES (currval('public.actor_actor_id_seq'), 7);
UPDATE public.actor SET actor_id = 90001 WHERE actor_id = currval('public.actor_actor_id_seq');
UPDATE public.actor SET last_name = 'ACTOR-RENAMED' WHERE actor_id = 90001;

-- A staff photo large enough to be TOASTed, then updates that do not touch it.
UPDATE public.staff SET picture = decode(repeat(md5('pagila-photo'), 4000), 'hex') WHERE staff_id = 1;
UPDATE public.staff SET email = 'mike.hillyer@sakilastaff.example' WHERE staff_id = 1;
UPDATE public.staff SET active = false WHERE staff_id = 2;

-- A transaction that partly rolls back.
BEGIN;
INSERT INTO public.category (name) VALUES ('Documentary Shorts');
SAVEPOINT s1;
INSERT INTO public.category (name) VALUES ('Discarded');
ROLLBACK TO SAVEPOINT s1;
UPDATE public.category SET name = 'Documentary Short' WHERE name = 'Documentary Shorts';
COMMIT;

-- Removing a film entirely (children first, as the foreign keys are RESTRICT).
BEGIN;
DELETE FROM public.film_actor WHERE film_id = (SELECT max(film_id) FROM public.film);
DELETE FROM public.film_category WHERE film_id = (SELECT max(film_id) FROM public.film);
DELETE FROM public.inventory WHERE film_id = (SELECT max(film_id) FROM public.film);
DELETE FROM public.film WHERE film_id = (SELECT max(film_id) FROM public.film);
COMMIT;

-- Reference data.
UPDATE public.language SET name = 'Mandarin Chinese' WHERE name = 'Mandarin';
UPDATE public.country SET country = 'Türkiye' WHERE country = 'Turkey';
UPDATE public.store SET manager_staff_id = manager_staff_id WHERE store_id = 1;

-- The report the shop refreshes nightly (not carried by logical decoding).
REFRESH MATERIALIZED VIEW public.rental_by_category;
