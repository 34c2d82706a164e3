/** How tables are cut into chunks: bounds cover every key and block once, first and last ranges open. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Chunk } from '../../src/model/activities';
import { blockRanges, chunkCount, chunkPredicate, keyBounds } from '../../src/postgres/chunks';
import { MAX_CHUNKS_PER_TABLE } from '../../src/postgres/limits';

const q = (s: string) => `"${s}"`;
const chunk = (c: Partial<Chunk>): Chunk => ({
  id: 'public.t/0',
  schema: 'public',
  name: 't',
  part: 0,
  parts: 1,
  kind: 'all',
  lo: null,
  hi: null,
  estBytes: 0,
  estRows: 0,
  ...c,
});

/** Which range a key falls in, under `bounds` (range i = [bound i-1, bound i)). */
const rangeOf = (bounds: string[], k: bigint) => bounds.filter((b) => BigInt(b) <= k).length;

describe('chunk bounds', () => {
  it('splits a key span into ascending ranges that hold every key exactly once', () => {
    const bounds = keyBounds(1n, 1000n, 4);
    assert.deepEqual(bounds, ['251', '501', '751']);
    const counts = [0, 0, 0, 0];
    for (let k = 1n; k <= 1000n; k++) counts[rangeOf(bounds, k)]!++;
    assert.deepEqual(counts, [250, 250, 250, 250]);
  });

  it('never makes more ranges than there are keys, and handles negative and 64-bit keys', () => {
    assert.deepEqual(keyBounds(5n, 7n, 10), ['6', '7']);
    assert.deepEqual(keyBounds(42n, 42n, 8), []);
    const big = keyBounds(-(2n ** 63n), 2n ** 63n - 1n, 2);
    assert.deepEqual(big, ['0']);
  });

  it('splits heap blocks into contiguous ranges, the first and last open-ended', () => {
    const r = blockRanges(100, 4);
    assert.deepEqual(r, [
      { lo: null, hi: '25' },
      { lo: '25', hi: '50' },
      { lo: '50', hi: '75' },
      { lo: '75', hi: null },
    ]);
    // An empty heap still gets ranges (rows may arrive before the copy): the open ends catch them.
    assert.equal(blockRanges(0, 3)[0]!.lo, null);
    assert.equal(blockRanges(0, 3)[2]!.hi, null);
  });

  it('sizes chunks by bytes, at least one and at most the cap', () => {
    assert.equal(chunkCount(0, 1 << 20), 1);
    assert.equal(chunkCount(10 << 20, 1 << 20), 10);
    assert.equal(chunkCount(10 << 20, 3 << 20), 4);
    assert.equal(chunkCount(1e15, 1 << 20), MAX_CHUNKS_PER_TABLE);
  });

  it('writes the WHERE clause of each kind, with open ends and quoted columns', () => {
    assert.equal(chunkPredicate(chunk({ kind: 'all' }), q), '');
    assert.equal(chunkPredicate(chunk({ kind: 'key', column: 'id', lo: null, hi: '100' }), q), 'WHERE "id" < 100');
    assert.equal(
      chunkPredicate(chunk({ kind: 'key', column: 'id', lo: '100', hi: '200' }), q),
      'WHERE "id" >= 100 AND "id" < 200',
    );
    assert.equal(chunkPredicate(chunk({ kind: 'key', column: 'id', lo: '-5', hi: null }), q), 'WHERE "id" >= -5');
    assert.equal(
      chunkPredicate(chunk({ kind: 'ctid', lo: '25', hi: '50' }), q),
      "WHERE ctid >= '(25,0)'::tid AND ctid < '(50,0)'::tid",
    );
  });

  it('refuses bounds that are not numbers (they are ours, never user text)', () => {
    assert.throws(() => chunkPredicate(chunk({ kind: 'key', column: 'id', lo: '1; DROP TABLE t', hi: null }), q));
  });
});
