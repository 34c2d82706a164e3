/** WAL positions: parsing, printing, ordering, and the exactly-once rules that use them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bigIntToLsn, compareLsn, formatLsn, lsnToBigInt } from '../../src/model/lsn';
import { ackPosition, alreadyApplied } from '../../src/postgres/cdc/position';
import { replayedIdempotently } from '../../src/postgres/snapshot';

describe('LSN arithmetic', () => {
  it('reads and writes X/Y in hex, upper case, without leading zeros', () => {
    assert.equal(formatLsn(0, 0), '0/0');
    assert.equal(formatLsn(0x1a, 0xbc), '1A/BC');
    assert.equal(lsnToBigInt('1/0'), 1n << 32n);
    assert.equal(lsnToBigInt('0/FFFFFFFF'), 0xffffffffn);
    assert.equal(bigIntToLsn((5n << 32n) + 0x1234n), '5/1234');
    for (const l of ['0/0', '0/16B3748', '1A/FFFFFFFF', 'FFFFFFFF/FFFFFFFF'])
      assert.equal(bigIntToLsn(lsnToBigInt(l)), l);
  });

  it('orders positions numerically, not as text', () => {
    assert.equal(compareLsn('0/9', '0/10'), -1);
    assert.equal(compareLsn('1/0', '0/FFFFFFFF'), 1);
    assert.equal(compareLsn('a/b', 'A/B'), 0);
    assert.equal(compareLsn('FFFFFFFF/FFFFFFFF', 'FFFFFFFF/FFFFFFFE'), 1);
  });

  it('orders any two positions as their 64-bit values do', () => {
    const half = () => Math.floor(Math.random() * 2 ** 32) >>> (Math.random() < 0.5 ? 0 : 28);
    for (let n = 0; n < 10000; n++) {
      const a = formatLsn(half(), half());
      const b = n % 7 === 0 ? a : formatLsn(Math.random() < 0.3 ? Number(lsnToBigInt(a) >> 32n) : half(), half());
      const x = lsnToBigInt(a);
      const y = lsnToBigInt(b);
      assert.equal(compareLsn(a, b), x < y ? -1 : x > y ? 1 : 0, `${a} against ${b}`);
    }
  });

  it('refuses text that is not a position', () => {
    for (const bad of ['', '0', '0/', '/0', 'x/0', '0/123456789', '0/0/0'])
      assert.throws(() => compareLsn(bad, '0/1'), SyntaxError, bad);
    assert.throws(() => compareLsn('x', 'x'), SyntaxError);
  });
});

describe('exactly-once position', () => {
  it('skips a transaction whose commit is at or below the applied position', () => {
    assert.equal(alreadyApplied('0/100', null), false);
    assert.equal(alreadyApplied('0/100', '0/100'), true);
    assert.equal(alreadyApplied('0/FF', '0/100'), true);
    assert.equal(alreadyApplied('0/101', '0/100'), false);
  });

  it('acknowledges exactly the commit end, and never 0/0', () => {
    assert.equal(ackPosition('0/1000'), '0/1000');
    assert.equal(ackPosition('1/0'), '1/0');
    assert.equal(ackPosition(null), null);
    assert.equal(ackPosition('0/0'), null);
  });

  it('applies a late-copied table idempotently up to the horizon, then strictly', () => {
    assert.equal(replayedIdempotently('0/500', null), false);
    assert.equal(replayedIdempotently('0/500', '0/500'), true);
    assert.equal(replayedIdempotently('0/501', '0/500'), false);
  });
});
