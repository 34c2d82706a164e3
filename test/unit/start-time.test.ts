import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommandRefused, parseStartTime } from '../../src/cli/migration';

const now = new Date('2026-12-02T12:00:00Z');

describe('start --at', () => {
  it('reads ISO 8601 with Z or an offset', () => {
    assert.equal(parseStartTime('2026-12-24T02:00:00Z', now).toISOString(), '2026-12-24T02:00:00.000Z');
    assert.equal(parseStartTime('2026-12-24T03:00:00+01:00', now).toISOString(), '2026-12-24T02:00:00.000Z');
    assert.equal(parseStartTime('2026-12-02T12:00:01.5Z', now).toISOString(), '2026-12-02T12:00:01.500Z');
  });
  it('refuses a time not ahead of now, one without a zone, and one it cannot read, naming the form', () => {
    for (const [value, problem] of [
      ['2026-12-02T12:00:00Z', /is in the past \(now is 2026-12-02T12:00:00\.000Z\)/],
      ['2026-12-02T11:00:00Z', /is in the past/],
      ['2026-12-24T02:00:00', /no time zone/],
      ['2026-12-24', /not a time/],
      ['next tuesday', /not a time/],
      ['2026-13-45T02:00:00Z', /not a time/],
    ] as const) {
      assert.throws(
        () => parseStartTime(value, now),
        (e: unknown) =>
          e instanceof CommandRefused && problem.test(e.message) && /e\.g\. --at 2026-12-24T02:00:00Z/.test(e.message),
        value,
      );
    }
  });
});
