/**
 * Set-wise apply (src/postgres/cdc/setwise.ts) against real servers: a seeded random
 * workload of every kind of change, folded per key, ends with the target equal to the
 * source; batches the target refuses fall back to one-by-one apply with the same result;
 * conflicts are reported as exactly as before.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorType, PgTransitError } from '../../src/errors';
import { pairMaker, type Pair } from '../helpers/cdc-pair';
import { startPair, type PgServer } from '../helpers/postgres';

let source: PgServer;
let target: PgServer;
let stopPair: () => Promise<void>;
const pair = pairMaker(() => ({ source, target }));

const DDL = `
  CREATE TABLE item (id int PRIMARY KEY, sku text UNIQUE, qty int NOT NULL, note text, blob text);
  ALTER TABLE item ALTER COLUMN blob SET STORAGE EXTERNAL;
  CREATE TABLE pair_key (a int, b text, v numeric, PRIMARY KEY (a, b));
  CREATE TABLE log (at int, msg text);
  CREATE TABLE full_t (x int, y text);
  ALTER TABLE full_t REPLICA IDENTITY FULL;
  CREATE TABLE ident (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text);`;

/** A small seeded generator (mulberry32): the same seed, the same workload. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One source transaction of 1–8 statements, chosen at random among every kind of change. */
function transaction(r: () => number, n: number): string {
  const id = () => 1 + Math.floor(r() * 40);
  const stmts: string[] = [];
  for (let k = 0, len = 1 + Math.floor(r() * 8); k < len; k++) {
    const i = id();
    const pick = Math.floor(r() * 12);
    const big = `repeat(md5('${n}-${k}'), 400)`;
    switch (pick) {
      case 0:
      case 1:
        stmts.push(
          // The note holds what an array literal must escape or keep: quotes, a backslash, braces, a comma, spaces.
          `INSERT INTO item VALUES (${i}, 'sku-${i}-${n}', ${k}, ' n${n} "q" \\ {x, y} ', ${big}) ON CONFLICT (id) DO UPDATE SET qty = item.qty + 1`,
        );
        break;
      case 2:
        stmts.push(`UPDATE item SET qty = qty + ${k + 1} WHERE id = ${i}`); // blob unchanged: not sent
        break;
      case 3:
        stmts.push(`UPDATE item SET blob = ${big}, note = NULL WHERE id = ${i}`);
        break;
      case 4:
        stmts.push(`DELETE FROM item WHERE id = ${i}`);
        break;
      case 5:
        // A key that changes (applied alone), unless it collides.
        stmts.push(
          `UPDATE item SET id = id + 1000 WHERE id = ${i} AND NOT EXISTS (SELECT 1 FROM item WHERE id = ${i + 1000})`,
        );
        break;
      case 6:
        stmts.push(
          `DELETE FROM item WHERE id = ${i}; INSERT INTO item VALUES (${i}, 'again-${i}-${n}', 0, NULL, 'short')`,
        );
        break;
      case 7:
        stmts.push(
          `INSERT INTO pair_key VALUES (${i % 5}, 'b${i % 3}', ${r().toFixed(3)}) ON CONFLICT (a, b) DO UPDATE SET v = excluded.v`,
        );
        break;
      case 8:
        stmts.push(`DELETE FROM pair_key WHERE a = ${i % 5} AND b = 'b${i % 3}'`);
        break;
      case 9:
        stmts.push(`INSERT INTO log VALUES (${n}, 'm${k}'), (${n}, NULL), (${n}, 'NULL'), (${n}, ''), (${n}, '"\\')`);
        break;
      case 10:
        stmts.push(
          r() < 0.7
            ? `INSERT INTO full_t VALUES (${i}, 'y${n}')`
            : `DELETE FROM full_t WHERE ctid = (SELECT min(ctid) FROM full_t)`,
        );
        break;
      default:
        stmts.push(
          r() < 0.6 ? `INSERT INTO ident (v) VALUES ('v${n}')` : `UPDATE ident SET v = 'u${n}' WHERE id % 3 = ${i % 3}`,
        );
    }
  }
  return `BEGIN; ${stmts.join('; ')}; COMMIT`;
}

const dump = async (run: (sql: string) => Promise<{ rows: unknown[] }>) => {
  const out: Record<string, unknown[]> = {};
  for (const t of ['item', 'pair_key', 'log', 'full_t', 'ident']) {
    out[t] = (await run(`SELECT * FROM ${t} ORDER BY (${t}.*)::text`)).rows;
  }
  return out;
};

async function assertEqual(p: Pair): Promise<void> {
  assert.deepEqual(await dump((s) => p.tgt(s)), await dump((s) => p.src(s)));
}

describe('set-wise apply', () => {
  before(async () => {
    ({ source, target, stop: stopPair } = await startPair());
  });
  after(() => stopPair());

  it('a seeded random workload of every kind of change leaves the target equal to the source', async () => {
    const seed = Number(process.env.SETWISE_SEED ?? 20261202);
    console.log(`# set-wise workload seed ${seed} (SETWISE_SEED=${seed} to replay)`);
    const p = await pair('setwise', DDL);
    await p.round();
    const r = random(seed);
    let writes = 0;
    for (let burst = 0; burst < 4; burst++) {
      for (let n = 0; n < 150; n++) await p.src(transaction(r, burst * 1000 + n));
      const result = await p.round({ maxSeconds: 3 });
      writes += result.setwise.writes;
      await assertEqual(p);
    }
    assert.ok(writes > 0, 'changes were applied set-wise');
  });

  it('many changes of one row in a batch become one statement, and the row is right', async () => {
    const p = await pair('fold', `CREATE TABLE acct (id int PRIMARY KEY, balance bigint)`);
    await p.src(`INSERT INTO acct VALUES (1, 0), (2, 0)`);
    await p.round();
    for (let n = 1; n <= 500; n++) await p.src(`UPDATE acct SET balance = balance + ${n} WHERE id = ${1 + (n % 2)}`);
    const result = await p.round({ maxSeconds: 3 });
    assert.deepEqual((await p.tgt(`SELECT id, balance::int FROM acct ORDER BY id`)).rows, [
      { id: 1, balance: 62750 },
      { id: 2, balance: 62500 },
    ]);
    assert.equal(result.setwise.fallbacks, 0);
    assert.equal(result.counts['public.acct']?.update, 500, 'every source change is counted');
  });

  it('a batch the target refuses set-wise (a unique value passed between rows) falls back and applies in order', async () => {
    const p = await pair('swap', `CREATE TABLE u (id int PRIMARY KEY, code text UNIQUE)`);
    await p.src(`INSERT INTO u VALUES (1, 'a'), (2, 'b')`);
    await p.round();
    // One by one each statement is valid; as one UPDATE of the final values, 'b' is held twice midway.
    await p.src(
      `BEGIN; UPDATE u SET code = 'tmp' WHERE id = 1; UPDATE u SET code = 'a' WHERE id = 2; UPDATE u SET code = 'b' WHERE id = 1; COMMIT`,
    );
    await p.src(`INSERT INTO u VALUES (3, 'c')`);
    const result = await p.round({ maxSeconds: 3 });
    assert.deepEqual((await p.tgt(`SELECT id, code FROM u ORDER BY id`)).rows, [
      { id: 1, code: 'b' },
      { id: 2, code: 'a' },
      { id: 3, code: 'c' },
    ]);
    assert.ok(result.setwise.fallbacks >= 1, 'the refused batch was applied one by one');
  });

  it('a conflict inside a set-wise batch is reported with its key, as one-by-one apply reports it', async () => {
    const p = await pair('conflict', `CREATE TABLE c (id int PRIMARY KEY, v text)`);
    await p.round();
    await p.tgt(`INSERT INTO c VALUES (7, 'target only')`);
    await p.src(`INSERT INTO c SELECT g, 'v' FROM generate_series(1, 20) g`);
    const e = await p.round({ maxSeconds: 3 }).then(
      () => null,
      (x: unknown) => x as Error,
    );
    assert.ok(e instanceof PgTransitError && e.type === ErrorType.ApplyConflict, `a conflict, got ${e?.message}`);
    assert.match(e.message, /id=7/);
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM c`)).rows[0]!.n, 1, 'nothing of the batch was kept');
  });

  it('with conflictPolicy ignore, the other rows of the batch are applied and the conflict counted', async () => {
    const ddl = `CREATE TABLE c (id int PRIMARY KEY, v text)`;
    const p = await pair('ignore', ddl, ddl, { cdc: { conflictPolicy: 'ignore' } });
    await p.round();
    await p.tgt(`INSERT INTO c VALUES (7, 'target only')`);
    await p.src(`INSERT INTO c SELECT g, 'v' FROM generate_series(1, 20) g`);
    await p.src(`DELETE FROM c WHERE id = 3`);
    const result = await p.round({ maxSeconds: 3 });
    assert.equal((await p.tgt(`SELECT count(*)::int AS n FROM c`)).rows[0]!.n, 19);
    assert.equal((await p.tgt(`SELECT v FROM c WHERE id = 7`)).rows[0]!.v, 'target only');
    assert.equal(result.counts['public.c']?.conflicts, 1);
  });
});
