/**
 * What the workflows show outside their status query, with fake activities and the real notify
 * activity: the search attributes that `temporal workflow list` filters on, and the webhook's
 * notifications (received on a local HTTP server) for phase changes, a lag crossing, a repeating
 * retry, a stall and the switchover. A failing webhook never fails or slows the migration.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { heartbeating } from '../../activities/failures';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import { ErrorType } from '../../src/errors';
import { resumeSignal, switchoverUpdate } from '../../src/model/messages';
import type { Notification } from '../../src/model/notify';
import {
  PgtransitLagBucket,
  PgtransitPhase,
  PgtransitSourceDatabase,
  PgtransitSourceHost,
  PgtransitTargetDatabase,
  PgtransitTargetHost,
} from '../../src/model/search-attributes';
import { createFakes, failure } from '../helpers/fake-activities';
import { answered, makePlan, migrate } from '../helpers/fake-migration';
import { startTemporal, workflowBundle, type TemporalHarness } from '../helpers/temporal';
import { startWebhook, type Webhook } from '../helpers/webhook';

const run = promisify(execFile);

/** The Temporal CLI against the test's server. */
const temporalCli = async (address: string, args: string[]): Promise<string> =>
  (await run(ensureTemporalCli(), [...args, '--address', address], { maxBuffer: 1 << 26 })).stdout;

/** A history as JSON with every payload decoded, so a test can look for a secret in what Temporal stores. */
async function historyText(address: string, workflowId: string): Promise<string> {
  const json = await temporalCli(address, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json']);
  const decoded: string[] = [];
  JSON.parse(json, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return [json, ...decoded].join('\n');
}

describe('search attributes and notifications', () => {
  let temporal: TemporalHarness;
  let hook: Webhook;
  const variable = `PGT_TEST_WEBHOOK_${randomBytes(4).toString('hex')}`;

  before(async () => {
    [temporal, hook] = await Promise.all([
      startTemporal(),
      startWebhook(randomBytes(12).toString('hex')),
      workflowBundle(),
    ]);
    process.env[variable] = hook.url;
  });
  after(async () => {
    delete process.env[variable];
    await Promise.all([temporal?.stop(), hook?.close()]);
  });

  it('keeps the search attributes current and notifies each event once', async () => {
    const fakes = createFakes();
    const plan = makePlan('notify', { notify: { webhook: `env:${variable}`, lagBytes: 4096 } });
    const of = (kind: Notification['kind']) =>
      hook.received.filter((n) => n.migration === plan.name && n.kind === kind);
    let lag = 0;
    await migrate(temporal, fakes, plan, async ({ handle, child, status, db, until }) => {
      await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);

      // The migration is found by its phase, as `temporal workflow list --query` finds it.
      const query = `PgtransitPhase='incremental' AND WorkflowId='${handle.workflowId}'`;
      const listed = await until('the list query to find it', async () => {
        const found: string[] = [];
        for await (const w of temporal.env.client.workflow.list({ query })) found.push(w.workflowId);
        return found.length > 0 && found;
      });
      assert.deepEqual(listed, [handle.workflowId]);
      const cli = await temporalCli(temporal.env.address, ['workflow', 'list', '--query', query, '--output', 'json']);
      assert.match(
        cli,
        new RegExp(`"workflowId":\\s*"${handle.workflowId}"`),
        'temporal workflow list --query finds it',
      );
      for (const h of [handle, child]) {
        const attrs = (await h.describe()).typedSearchAttributes;
        assert.equal(attrs.get(PgtransitPhase), 'incremental', h.workflowId);
        assert.equal(attrs.get(PgtransitSourceHost), '127.0.0.1');
        assert.equal(attrs.get(PgtransitTargetHost), '127.0.0.1');
        assert.equal(attrs.get(PgtransitSourceDatabase), 'app');
        assert.equal(attrs.get(PgtransitTargetDatabase), 'app');
      }
      assert.equal((await child.describe()).typedSearchAttributes.get(PgtransitLagBucket), 'none');

      // Lag above notify.lagBytes: told once while it stays above, again after it fell and rose.
      fakes.on.applyChanges = async (input) => ({ ...(await fakes.defaults.applyChanges(input)), lagBytes: lag });
      lag = 50_000;
      await until('the lag notification', async () => of('lag').length === 1);
      await until('the lag bucket', async () =>
        (await child.describe()).typedSearchAttributes.get(PgtransitLagBucket) === '<1MB' ? true : null,
      );
      const rounds = fakes.callsOf('applyChanges').length;
      await until('three more rounds above the bound', async () => fakes.callsOf('applyChanges').length >= rounds + 3);
      assert.equal(of('lag').length, 1);
      lag = 0;
      await until('the lag to fall', async () => (await db()).cdc?.lagBytes === 0);
      lag = 60_000;
      await until('the second crossing', async () => of('lag').length === 2);
      const [first, second] = of('lag');
      assert.deepEqual(
        [first!.lagBytes, first!.thresholdBytes, first!.database, second!.lagBytes],
        [50_000, 4096, 'app', 60_000],
      );
      lag = 0;

      // A retry that repeats (the real retry reporting): told at its third attempt.
      let attempts = 0;
      fakes.on.applyChanges = async (input) => {
        if (++attempts <= 3)
          return heartbeating(async () => {
            throw failure(ErrorType.Transient, 'connection to the target lost (57P01)');
          });
        return fakes.defaults.applyChanges(input);
      };
      const retry = await until('the retry notification', async () => of('retrying')[0], 30_000);
      assert.equal(retry.activity, 'applyChanges');
      assert.equal(retry.attempt, 3);
      assert.match(retry.error ?? '', /connection to the target lost/);

      // A stall: told once, with the reason.
      const conflict = 'conflict on public.customers: UPDATE of (id)=(42) found no row on the target';
      fakes.on.applyChanges = async () => {
        throw failure(ErrorType.ApplyConflict, conflict);
      };
      const stall = await until('the stall notification', async () => of('stalled')[0]);
      assert.equal(stall.error, conflict);
      fakes.on.applyChanges = undefined;
      await handle.signal(resumeSignal);
      await until('ready again', async () => (await status()).databases[0]?.ready === true);

      const r = await answered(handle.executeUpdate(switchoverUpdate), 60_000);
      assert.equal((await handle.result()).phase, 'completed');
      const [done] = of('switchover');
      assert.equal(done?.outcome, 'completed');
      assert.deepEqual(done?.reports, r.reports);
      assert.equal(of('stalled').length, 1);

      // Phase changes of the migration, each told once, in order, ending with completed.
      const phases = of('phase');
      assert.ok(phases.length >= 3, JSON.stringify(phases));
      phases.forEach((n, i) => assert.equal(n.previousPhase, i === 0 ? 'precheck' : phases[i - 1]!.phase));
      assert.deepEqual(
        ['prepare', 'incremental', 'completed'].filter((p) => phases.some((n) => n.phase === p)),
        ['prepare', 'incremental', 'completed'],
      );
      assert.equal(phases.at(-1)!.phase, 'completed');
      const final = (await handle.describe()).typedSearchAttributes.get(PgtransitPhase);
      assert.equal(final, 'completed');

      // Only the reference travels: the URL (its token) is in no history.
      for (const h of [handle, child]) {
        const text = await historyText(temporal.env.address, h.workflowId);
        assert.ok(text.includes(`env:${variable}`), 'the reference is in the history');
        assert.ok(!text.includes(hook.token), `the webhook's token is in the history of ${h.workflowId}`);
      }
    });
  });

  it('a webhook that refuses every call neither fails nor holds up the migration: a warning says so', async () => {
    const fakes = createFakes();
    hook.status = 500;
    try {
      const plan = makePlan('notify-down', { notify: { webhook: `env:${variable}` } });
      await migrate(temporal, fakes, plan, async ({ handle, status, until }) => {
        await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);
        const r = await answered(handle.executeUpdate(switchoverUpdate), 60_000);
        assert.equal(r.reports.length, 1);
        assert.equal((await handle.result()).phase, 'completed');
        const s = await status();
        const warning = s.warnings?.find((w) => w.startsWith('notifications: '));
        assert.match(warning ?? '', /not delivered to notify\.webhook.*HTTP 500/);
        assert.ok(!warning!.includes(hook.token));
        const failed = fakes.callsOf('notify').filter((c) => c.outcome === 'failed');
        assert.ok(failed.length >= 5, `the notify activity retried: ${failed.length} attempts failed`);
        assert.equal(hook.received.filter((n) => n.migration === plan.name).length, 0);
      });
    } finally {
      hook.status = 204;
    }
  });
});
