-- pagila 2.0 workload (written for the corpus): the shop's operations against the
-- legacy-partitioned payment table. Inserts go to the parent and the DO INSTEAD rules
-- route them into the children; updates and deletes through the parent reach the
-- children by inheritance.

-- A rental and its payment; the rule payment_insert_p2017_05 sends the row to payment_p2017_05.
BEGIN;
INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id)
VALUES ('2017-05-20 10:00:00', 10, 1, 1), ('2017-05-20 10:00:00', 11, 1, 1);
INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date)
SELECT customer_id, staff_id, rental_id, 4.99, '2017-05-20 10:00:05' FROM rental
 WHERE rental_date = '2017-05-20 10:00:00' AND customer_id = 1;
COMMIT;

-- June: a child that was empty so far (rule payment_insert_p2017_06).
INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date)
SELECT 2, 2, rental_id, 0.99, '2017-06-01 08:00:00' FROM rental WHERE rental_date = '2017-05-20 10:00:00' AND inventory_id = 10;

-- Returns.
UPDATE rental SET return_date = '2017-05-23 09:00:00' WHERE rental_date = '2017-05-20 10:00:00';

-- Price corrections through the parent: rows of several children change.
UPDATE payment SET amount = amount + 0.01 WHERE customer_id = 3;
UPDATE ONLY payment SET amount = 0 WHERE false;  -- the parent itself holds no rows

-- Moving a payment to another month cannot be an UPDATE (the child's CHECK would fail),
-- so the application deletes and re-inserts it.
BEGIN;
WITH moved AS (
  DELETE FROM payment WHERE payment_id = (SELECT min(payment_id) FROM payment_p2017_03)
  RETURNING customer_id, staff_id, rental_id, amount, payment_date
)
INSERT INTO payment_p2017_04 (customer_id, staff_id, rental_id, amount, payment_date)
SELECT customer_id, staff_id, rental_id, amount, payment_date + interval '31 days' FROM moved;
COMMIT;

-- Refund.
DELETE FROM payment WHERE payment_id = (SELECT max(payment_id) FROM payment_p2017_02);

-- Customers and addresses.
UPDATE customer SET email = lower(first_name || '.' || last_name || '@example.org') WHERE customer_id BETWEEN 4 AND 9;
BEGIN;
INSERT INTO address (address, district, city_id, postal_code, phone) VALUES ('12 Rue des Écoles', 'Île-de-France', 1, '75005', '33100000000');
INSERT INTO customer (store_id, first_name, last_name, email, address_id, active)
VALUES (2, 'ÉLODIE', 'MARTIN', 'elodie.martin@example.org', currval('address_address_id_seq'), 1);
COMMIT;

-- Catalogue.
UPDATE film SET description = description || ' Director''s cut.' WHERE film_id IN (1, 2);
UPDATE film SET special_features = '{Trailers,Commentaries}' WHERE film_id = 3;
INSERT INTO actor (first_name, last_name) VALUES ('CORPUS', 'ACTOR');
INSERT INTO film_actor (actor_id, film_id) VALUES (currval('actor_actor_id_seq'), 1);
UPDATE actor SET actor_id = 9002 WHERE actor_id = currval('actor_actor_id_seq');  -- cascades to film_actor
INSERT INTO inventory (film_id, store_id) VALUES (1, 2);

-- Staff photo (TOASTed bytea) and an update that leaves it alone.
UPDATE staff SET picture = decode(repeat(md5('pagila2'), 3000), 'hex') WHERE staff_id = 2;
UPDATE staff SET email = 'jon.stephens@sakilastaff.example' WHERE staff_id = 2;

-- Reference data.
UPDATE language SET name = 'Mandarin Chinese' WHERE name = 'Mandarin';
DELETE FROM inventory WHERE inventory_id = currval('inventory_inventory_id_seq');
