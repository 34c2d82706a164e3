/**
 * pipeCopy (src/postgres/copy-pipe.ts) between real servers: the source's CopyData
 * messages forwarded unparsed arrive as the same rows, whatever their size against the
 * socket's buffers (headers and rows split across reads, a row of 24 MB across hundreds);
 * a failure on either side rolls the target's COPY back, is reported, and leaves both
 * sessions usable.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pipeCopy } from '../../src/postgres/copy-pipe';
import { startPair, type PgServer } from '../helpers/postgres';

let source: PgServer;
let target: PgServer;
let stopPair: () => Promise<void>;
let s: pg.Client;
let t: pg.Client;

const DDL = `CREATE TABLE r (id int PRIMARY KEY, a text, b bytea, c numeric, d jsonb, e int[], f timestamptz)`;
const sum = `SELECT count(*)::int AS n, coalesce(sum(hashtext(r::text)), 0)::text AS h FROM r`;

describe('copy pipe', () => {
  before(async () => {
    ({ source, target, stop: stopPair } = await startPair());
    await source.query(DDL, [], 'app');
    await target.query(DDL, [], 'app');
    // Narrow rows, rows of every size up to 300 kB (messages spanning many reads), NULLs, empty values.
    await source.query(
      `INSERT INTO r SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE repeat('x', (i * 37) % 50) END,
              CASE WHEN i % 1000 = 3 THEN decode(repeat(md5(i::text), 9000), 'hex') ELSE '\\x'::bytea END,
              i / 7.0, jsonb_build_object('i', i), ARRAY[i, -i], '2026-01-01'::timestamptz + i * interval '1 second'
         FROM generate_series(1, 200000) i`,
      [],
      'app',
    );
    // One row of 24 MB: cut across hundreds of reads, forwarded in parts as they arrive.
    await source.query(`UPDATE r SET b = decode(repeat(md5('big'), 1500000), 'hex') WHERE id = 100000`, [], 'app');
    s = new pg.Client({ connectionString: source.url({ database: 'app' }) });
    t = new pg.Client({ connectionString: target.url({ database: 'app' }) });
    await Promise.all([s.connect(), t.connect()]);
  });
  after(async () => {
    await Promise.all([s?.end(), t?.end()]);
    await stopPair?.();
  });

  for (const format of ['(FORMAT binary)', '']) {
    it(`copies every row as it is ${format || '(FORMAT text)'}`, async () => {
      await t.query('TRUNCATE r');
      const seen: number[] = [];
      const got = await pipeCopy(s, `COPY r TO STDOUT ${format}`, t, `COPY r FROM STDIN ${format}`, (n) =>
        seen.push(n),
      );
      assert.equal(got.rows, 200000);
      assert.ok(got.bytes > 20_000_000, `bytes of the rows counted: ${got.bytes}`);
      assert.ok(seen.length > 10 && seen.every((n, i) => i === 0 || n >= seen[i - 1]!), 'progress heard, growing');
      const [a, b] = await Promise.all([s.query(sum), t.query(sum)]);
      assert.deepEqual(b.rows[0], a.rows[0]);
    });
  }

  it('a query whose COPY has no row copies none', async () => {
    await t.query('TRUNCATE r');
    const got = await pipeCopy(s, `COPY (SELECT * FROM r WHERE false) TO STDOUT`, t, `COPY r FROM STDIN`);
    assert.deepEqual(got, { rows: 0, bytes: 0 });
  });

  it('a row the target refuses fails the copy, rolls it back, and both sessions go on', async () => {
    await t.query('TRUNCATE r');
    await t.query(`INSERT INTO r (id) VALUES (150000)`);
    await assert.rejects(
      pipeCopy(s, `COPY r TO STDOUT (FORMAT binary)`, t, `COPY r FROM STDIN (FORMAT binary)`),
      /duplicate key value/,
    );
    assert.equal((await t.query(sum)).rows[0].n, 1);
    assert.equal((await s.query('SELECT count(*)::int AS n FROM r')).rows[0].n, 200000);
  });

  it('a source that fails midway leaves the target without any of its rows, and both sessions go on', async () => {
    await t.query('TRUNCATE r');
    await assert.rejects(
      pipeCopy(
        s,
        `COPY (SELECT id, a, b, c / (150000 - id), d, e, f FROM r ORDER BY id) TO STDOUT`,
        t,
        `COPY r FROM STDIN`,
      ),
      /division by zero/,
    );
    assert.equal((await t.query(sum)).rows[0].n, 0);
    assert.equal((await s.query('SELECT 1 AS one')).rows[0].one, 1);
    assert.equal((await t.query('SELECT 1 AS one')).rows[0].one, 1);
  });

  it('a COPY the source refuses at once fails the copy and sends nothing', async () => {
    await assert.rejects(
      pipeCopy(s, `COPY no_such_table TO STDOUT`, t, `COPY r FROM STDIN`),
      /relation "no_such_table" does not exist/,
    );
    assert.equal((await t.query('SELECT 1 AS one')).rows[0].one, 1);
    assert.equal((await s.query('SELECT 1 AS one')).rows[0].one, 1);
  });
});
