-- Chinook workload (written for the corpus): the media store's day. Chinook has no
-- sequences (keys are assigned by the application), so the statements name their keys.

-- A customer buys three tracks.
BEGIN;
INSERT INTO invoice (invoice_id, customer_id, invoice_date, billing_address, billing_city, billing_country, billing_postal_code, total)
VALUES (413, 1, '2025-01-05 10:00:00', 'Av. Brigadeiro Faria Lima, 2170', 'São José dos Campos', 'Brazil', '12227-000', 2.97);
INSERT INTO invoice_line (invoice_line_id, invoice_id, track_id, unit_price, quantity)
VALUES (2241, 413, 1, 0.99, 1), (2242, 413, 2, 0.99, 1), (2243, 413, 3, 0.99, 1);
COMMIT;

-- A second order, then a correction of its total.
BEGIN;
INSERT INTO invoice (invoice_id, customer_id, invoice_date, billing_address, billing_city, billing_country, total)
VALUES (414, 2, '2025-01-05 11:00:00', 'Theodor-Heuss-Straße 34', 'Stuttgart', 'Germany', 1.98);
INSERT INTO invoice_line VALUES (2244, 414, 10, 0.99, 2);
COMMIT;
UPDATE invoice SET total = 1.89 WHERE invoice_id = 414;
UPDATE invoice_line SET unit_price = 0.945 WHERE invoice_line_id = 2244;

-- The catalogue grows: a new artist, album and tracks.
BEGIN;
INSERT INTO artist (artist_id, name) VALUES (276, 'Corpus Ensemble'), (277, 'Sigur Rós');
INSERT INTO album (album_id, title, artist_id) VALUES (348, 'Logical Replication Suite', 276);
INSERT INTO track (track_id, name, album_id, media_type_id, genre_id, composer, milliseconds, bytes, unit_price)
VALUES (3504, 'Full Load', 348, 1, 1, 'C. Ensemble', 215000, 7000000, 0.99),
       (3505, 'Change Capture', 348, 1, 1, 'C. Ensemble', 305000, 9800000, 0.99),
       (3506, 'Switchover', 348, 1, 1, NULL, 185000, NULL, 1.29);
COMMIT;

-- Price changes on a whole genre, a composer correction.
UPDATE track SET unit_price = 1.29 WHERE genre_id = 2;
UPDATE track SET composer = 'Angus Young, Malcolm Young, Brian Johnson' WHERE track_id = 1;

-- Playlists: composite-key rows are added, removed, and one is re-keyed.
INSERT INTO playlist (playlist_id, name) VALUES (19, 'Migration Mix');
INSERT INTO playlist_track (playlist_id, track_id) SELECT 19, track_id FROM track WHERE album_id = 348;
INSERT INTO playlist_track (playlist_id, track_id) VALUES (19, 1), (19, 2);
DELETE FROM playlist_track WHERE playlist_id = 19 AND track_id = 2;
UPDATE playlist_track SET track_id = 5 WHERE playlist_id = 19 AND track_id = 1;
UPDATE playlist SET name = 'Migration Mix (2025)' WHERE playlist_id = 19;

-- Staff and customers.
UPDATE employee SET title = 'Sales Support Manager', reports_to = 2 WHERE employee_id = 3;
UPDATE customer SET support_rep_id = 4, email = 'luisg@embraer.example' WHERE customer_id = 1;
INSERT INTO customer (customer_id, first_name, last_name, country, email, support_rep_id)
VALUES (60, 'Zoë', 'Ødegård', 'Norway', 'zoe@example.no', 5);

-- A cancelled order disappears.
BEGIN;
DELETE FROM invoice_line WHERE invoice_id = 414;
DELETE FROM invoice WHERE invoice_id = 414;
COMMIT;

-- An artist is renamed; an empty playlist is dropped.
UPDATE artist SET name = 'The Corpus Ensemble' WHERE artist_id = 276;
DELETE FROM playlist WHERE playlist_id = 19 AND NOT EXISTS (SELECT 1 FROM playlist_track WHERE playlist_id = 19);
DELETE FROM playlist_track WHERE playlist_id = 19;
DELETE FROM playlist WHERE playlist_id = 19;
UPDATE media_type SET name = 'AAC audio file (protected)' WHERE media_type_id = 2;
UPDATE genre SET name = 'Rock & Roll' WHERE genre_id = 5;
