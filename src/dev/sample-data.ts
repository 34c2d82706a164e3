/** A small shop schema for the demo and the tests: keys, FKs, an identity column, an enum, JSONB, TOASTed text. */
export const SAMPLE_SCHEMA_SQL = `
CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
CREATE TABLE customers (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE products (
  id serial PRIMARY KEY,
  sku text NOT NULL UNIQUE,
  title text NOT NULL,
  price numeric(12,2) NOT NULL,
  attributes jsonb NOT NULL DEFAULT '{}'
);
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers(id),
  status order_status NOT NULL DEFAULT 'new',
  placed_at timestamptz NOT NULL DEFAULT now(),
  note text
);
CREATE TABLE order_items (
  order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  line int NOT NULL,
  product_id int NOT NULL REFERENCES products(id),
  quantity int NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, line)
);
CREATE INDEX order_items_product ON order_items(product_id);
CREATE TABLE audit_log (at timestamptz NOT NULL DEFAULT now(), message text);

INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 2000) g;
INSERT INTO products (sku, title, price, attributes)
  SELECT 'SKU-' || g, 'Product ' || g, (g % 500) + 0.99, jsonb_build_object('colour', (ARRAY['red','green','blue'])[1 + g % 3]) FROM generate_series(1, 300) g;
INSERT INTO orders (customer_id, status, note)
  SELECT 1 + g % 2000, (ARRAY['new','paid','shipped']::order_status[])[1 + g % 3], CASE WHEN g % 100 = 0 THEN repeat(md5(g::text), 400) END
  FROM generate_series(1, 10000) g;
INSERT INTO order_items SELECT o, l, 1 + (o * l) % 300, 1 + l FROM generate_series(1, 10000) o, generate_series(1, 3) l;
INSERT INTO audit_log (message) SELECT 'event ' || g FROM generate_series(1, 500) g;
`;

/** Tables the writer needs besides the shop: TOASTed documents, a partitioned table, a truncated one, an unowned sequence. */
export const WRITER_TABLES_SQL = `
CREATE TABLE docs (id int PRIMARY KEY, title text NOT NULL, body text NOT NULL);
INSERT INTO docs SELECT g, 'doc ' || g, (SELECT string_agg(md5(g::text || x::text), '') FROM generate_series(1, 5000) x) FROM generate_series(1, 20) g;
CREATE TABLE measurements (at timestamp NOT NULL, sensor int NOT NULL, value numeric, PRIMARY KEY (at, sensor)) PARTITION BY RANGE (at);
CREATE TABLE measurements_h1 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
CREATE TABLE measurements_h2 PARTITION OF measurements FOR VALUES FROM ('2026-07-01') TO ('2027-01-01');
ALTER TABLE measurements ADD COLUMN id bigserial;
CREATE TABLE scratch (id bigserial PRIMARY KEY, v int);
CREATE TABLE notes (n int, body text);
ALTER TABLE notes REPLICA IDENTITY FULL;
CREATE SEQUENCE invoice_numbers START 1000;
SELECT nextval('invoice_numbers') FROM generate_series(1, 5);
`;
