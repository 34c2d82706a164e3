/** An application that keeps writing, for the demo, the tests and the benchmarks: inserts, updates (keys, TOAST-untouched), deletes, truncates. */
import pg from 'pg';

export interface Writer {
  stop(): Promise<{ transactions: number; errors: string[] }>;
}

/**
 * Writes to the sample tables plus `docs` (TOAST) and `measurements` (partitioned) until stopped.
 * Errors caused by the switchover fence (read-only, terminated sessions) end the writer quietly.
 */
export function startWriter(url: string, opts: { truncate?: boolean } = {}): Writer {
  let stopping = false;
  let transactions = 0;
  const errors: string[] = [];
  const loop = (async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => undefined);
    await c.connect();
    let i = 0;
    // Distinct keys per writer, so several writers over one database never collide.
    const base = Math.floor(Math.random() * 1_000_000) * 1000;
    try {
      while (!stopping) {
        i++;
        await c.query('BEGIN');
        await c.query(`INSERT INTO customers (email, name) VALUES ($1, $2)`, [
          `w${i}-${Date.now()}@example.com`,
          `Writer ${i}`,
        ]);
        await c.query(
          `UPDATE products SET price = price + 1, attributes = attributes || jsonb_build_object('v', $1::int) WHERE id = 1 + ($1::int % 300)`,
          [i],
        );
        await c.query(`INSERT INTO orders (customer_id, status, note) VALUES (1 + ($1::int % 2000), 'paid', NULL)`, [
          i,
        ]);
        if (i % 3 === 0)
          await c.query(`DELETE FROM order_items WHERE order_id = (SELECT min(order_id) FROM order_items)`);
        if (i % 5 === 0)
          await c.query(
            `UPDATE order_items SET line = line + 100 WHERE order_id = (SELECT max(order_id) FROM order_items) AND line < 100`,
          ); // key update
        await c.query(`UPDATE docs SET title = title || '.' WHERE id = 1 + ($1::int % 20)`, [i]); // body (TOAST) untouched
        await c.query(
          `INSERT INTO measurements (at, sensor, value) VALUES (timestamp '2026-01-01' + ($1::int % 300) * interval '1 day', $2::int, $1::int * 0.25)`,
          [i, base + i],
        );
        if (opts.truncate && i % 50 === 0) await c.query(`TRUNCATE scratch`);
        await c.query(`INSERT INTO scratch (v) VALUES ($1)`, [i]);
        // A table without a key (REPLICA IDENTITY FULL): rows are found by all their old values.
        await c.query(`INSERT INTO notes (n, body) VALUES ($1::int, 'note ' || $1::int)`, [i]);
        if (i > 1) await c.query(`UPDATE notes SET body = body || ' (edited)' WHERE n = $1::int`, [i - 1]);
        if (i > 5) await c.query(`DELETE FROM notes WHERE n = $1::int`, [i - 5]);
        await c.query('COMMIT');
        transactions++;
        await new Promise((r) => setTimeout(r, 5));
      }
    } catch (e) {
      const msg = (e as Error).message;
      if (!/read-only|terminat|Connection terminated|connection/i.test(msg)) errors.push(msg);
    } finally {
      await c.end().catch(() => undefined);
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      return { transactions, errors };
    },
  };
}
