/**
 * pgtransit's search attributes on the servers it starts (the test servers register them as
 * `pgtransit dev` does), and a worker that refuses a namespace without them: an attribute the
 * namespace lacks would fail every workflow task that sets it, a migration that looks stuck.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { msToTs } from '@temporalio/common/lib/time';
import { temporalConfig } from '../../src/temporal/config';
import { missingSearchAttributes, registerCommand, SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes';
import { createWorker } from '../../src/temporal/worker';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';
import { waitFor } from '../helpers/wait';

const until = <T>(what: string, fn: () => Promise<T | null>) => waitFor(what, () => fn().catch(() => null), 30_000);

describe('search attributes on the server', () => {
  let temporal: TemporalHarness;
  before(async () => {
    temporal = await startTemporal();
  });
  after(async () => {
    await temporal?.stop();
  });

  it('a worker refuses a namespace without the search attributes, naming the command that registers them', async () => {
    const { nativeConnection, connection } = temporal.env;
    assert.deepEqual(await missingSearchAttributes(nativeConnection, 'default'), []);
    const namespace = `bare-${randomBytes(4).toString('hex')}`;
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    const refused = await until('the namespace to be known', async () => {
      const missing = await missingSearchAttributes(nativeConnection, namespace);
      return missing?.length ? missing : null;
    });
    assert.deepEqual(
      refused,
      SEARCH_ATTRIBUTES.map((k) => k.name),
    );
    const config = { ...temporalConfig(), namespace };
    await assert.rejects(createWorker({ connection: nativeConnection, config }), (e: Error) => {
      assert.match(
        e.message,
        new RegExp(`namespace ${namespace} lacks pgtransit's search attributes PgtransitPhase, `),
      );
      assert.ok(e.message.includes(registerCommand(namespace, refused)), e.message);
      return true;
    });
  });
});
