-- Northwind workload (written for the corpus): orders, shipping, stock and staff changes.
-- order_id is smallint and assigned by the application.

BEGIN;
INSERT INTO orders (order_id, customer_id, employee_id, order_date, required_date, ship_via, freight, ship_name, ship_address, ship_city, ship_postal_code, ship_country)
VALUES (11078, 'ALFKI', 1, '1998-05-07', '1998-06-04', 1, 12.5, 'Alfreds Futterkiste', 'Obere Str. 57', 'Berlin', '12209', 'Germany');
INSERT INTO order_details (order_id, product_id, unit_price, quantity, discount)
VALUES (11078, 1, 18, 10, 0), (11078, 2, 19, 5, 0.05), (11078, 3, 10, 3, 0);
UPDATE products SET units_in_stock = units_in_stock - 10, units_on_order = units_on_order + 10 WHERE product_id = 1;
UPDATE products SET units_in_stock = units_in_stock - 5 WHERE product_id = 2;
COMMIT;

-- Shipping: several open orders leave the warehouse.
UPDATE orders SET shipped_date = '1998-05-08' WHERE shipped_date IS NULL AND order_id < 11020;
UPDATE orders SET freight = freight * 1.1 WHERE ship_country = 'Mexico';

-- Order line changes on a composite key (order_id, product_id): quantity, then the product itself.
UPDATE order_details SET quantity = 4, discount = 0.1 WHERE order_id = 11078 AND product_id = 3;
UPDATE order_details SET product_id = 4 WHERE order_id = 11078 AND product_id = 3;
DELETE FROM order_details WHERE order_id = 11078 AND product_id = 2;

-- A new customer with a demographic segment (composite-key link table).
BEGIN;
INSERT INTO customer_demographics (customer_type_id, customer_desc) VALUES ('SMB', 'Small and medium business');
INSERT INTO customers (customer_id, company_name, contact_name, contact_title, address, city, postal_code, country, phone)
VALUES ('CORPS', 'Corpus Trading GmbH', 'Jürgen Groß', 'Owner', 'Königstraße 1', 'Stuttgart', '70173', 'Germany', '0711-555 01');
INSERT INTO customer_customer_demo (customer_id, customer_type_id) VALUES ('CORPS', 'SMB'), ('ALFKI', 'SMB');
COMMIT;

-- Catalogue: a category picture (bytea, TOASTed), prices, a discontinued product.
UPDATE categories SET picture = decode(repeat('89504e470d0a1a0a', 2500), 'hex') WHERE category_id = 1;
UPDATE categories SET description = 'Soft drinks, coffees, teas, beers, and ales' WHERE category_id = 1;
UPDATE products SET unit_price = unit_price * 1.05 WHERE supplier_id = 1;
UPDATE products SET discontinued = 1 WHERE product_id = 24;
INSERT INTO suppliers (supplier_id, company_name, contact_name, city, country, homepage)
VALUES (30, 'Café Corpus', 'Élise Durand', 'Lyon', 'France', '#https://example.org/cafe-corpus#');
INSERT INTO products (product_id, product_name, supplier_id, category_id, quantity_per_unit, unit_price, units_in_stock, units_on_order, reorder_level, discontinued)
VALUES (78, 'Café de Lyon', 30, 1, '12 - 250 g bags', 14.5, 40, 0, 10, 0);

-- Staff: territory reassignment (composite key), a manager change, a long note.
INSERT INTO employee_territories (employee_id, territory_id) VALUES (9, '01581');
DELETE FROM employee_territories WHERE employee_id = 9 AND territory_id = '03049';
UPDATE employees SET reports_to = 5, notes = notes || ' Transferred to the Boston office.' WHERE employee_id = 9;

-- Reference data.
UPDATE shippers SET phone = '(503) 555-9999' WHERE shipper_id = 3;
INSERT INTO region (region_id, region_description) VALUES (5, 'Central');
INSERT INTO territories (territory_id, territory_description, region_id) VALUES ('60699', 'Chicago Loop', 5);
UPDATE us_states SET state_region = 'midwest' WHERE state_abbr = 'IL';

-- A cancelled order.
BEGIN;
DELETE FROM order_details WHERE order_id = 11077;
DELETE FROM orders WHERE order_id = 11077;
COMMIT;
