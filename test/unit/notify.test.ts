/**
 * Notifications and search attribute values: the plan's notify section takes a reference only,
 * the webhook's errors never name the URL, and the lag buckets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lagBucket } from '../../src/model/search-attributes';
import { postNotification } from '../../src/notify/webhook';
import { parsePlan } from '../../src/plan/plan';

const plan = { name: 'shop-move', source: { url: 'env:S' }, target: { url: 'env:T' } };

describe('notify', () => {
  it('lag buckets', () => {
    assert.deepEqual([0, 1, 1024 * 1024 - 1, 1024 * 1024, 300 * 1024 * 1024].map(lagBucket), [
      'none',
      '<1MB',
      '<1MB',
      '<16MB',
      '>=256MB',
    ]);
  });
  it('the plan takes a reference, never the URL itself', () => {
    const ok = parsePlan({ ...plan, notify: { webhook: 'file:/run/secrets/hook', lagBytes: 1024 } });
    assert.ok(ok.ok);
    assert.deepEqual(ok.plan.notify, { webhook: 'file:/run/secrets/hook', lagBytes: 1024 });
    const bad = parsePlan({ ...plan, notify: { webhook: 'https://hooks.slack.com/services/T0/B0/secret' } });
    assert.ok(!bad.ok);
    assert.equal(bad.issues[0]!.path, 'notify.webhook');
    assert.match(bad.issues[0]!.message, /env:NAME or file:PATH/);
    assert.ok(!bad.issues[0]!.message.includes('hooks.slack.com'), 'the URL is not echoed');
  });

  it("the webhook's refusals and silences are errors that do not name the URL", async () => {
    const server = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tok3n`;
    const n = { kind: 'phase', migration: 'm', phase: 'prepare', message: 'x', at: '' } as const;
    try {
      await assert.rejects(postNotification(url, n, new AbortController().signal), (e: Error) => {
        assert.equal(e.message, 'the webhook answered HTTP 503');
        return true;
      });
    } finally {
      await new Promise((r) => server.close(r));
    }
    await assert.rejects(postNotification(url, n, new AbortController().signal), (e: Error) => {
      assert.match(e.message, /^the webhook did not answer \(/);
      assert.ok(!e.message.includes('tok3n'));
      return true;
    });
  });
});
