/**
 * With PGTRANSIT_CODEC_KEY set, what the workflows store is ciphertext: a real precheck
 * (worker and client built by pgtransit's own createWorker and connectClient) leaves a history
 * in which neither the plan, nor the report, nor a failure's message can be read, even
 * after base64-decoding every payload; the same history shown by the Temporal CLI through
 * the codec server (`--codec-endpoint`) is the plaintext. The CLI's /encode is used too:
 * a workflow started by `temporal workflow start --codec-endpoint` is read by the worker.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import { runPrecheck } from '../../src/cli/precheck';
import { workflowIds } from '../../src/model/names';
import type { PrecheckReport } from '../../src/model/report';
import type { Plan } from '../../src/plan/plan';
import { connectClient } from '../../src/temporal/client';
import { CODEC_KEY_VARIABLE, ENCRYPTED_ENCODING, codecFromEnvironment } from '../../src/temporal/codec';
import { startCodecServer, type CodecServer } from '../../src/temporal/codec-server';
import { createWorker } from '../../src/temporal/worker';
import { planFor, startPair, uniqueName, type PgServer } from '../helpers/postgres';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';

const run = promisify(execFile);

interface Shown {
  /** `workflow show` as text, as JSON, and every payload's data base64-decoded: all one could read. */
  readable: string;
  json: unknown;
}

describe('payload encryption', () => {
  let temporal: TemporalHarness;
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;
  let worker: Worker;
  let running: Promise<void>;
  let client: Client;
  let codecServer: CodecServer;
  let taskQueue: string;
  const keyVar = `PGT_TEST_CODEC_KEY_${process.pid}`;
  const env = { ...process.env, [CODEC_KEY_VARIABLE]: `env:${keyVar}`, [keyVar]: randomBytes(32).toString('base64') };
  const database = `ledger_${randomBytes(4).toString('hex')}`;

  async function show(workflowId: string, codecEndpoint?: string): Promise<Shown> {
    const codec = codecEndpoint ? ['--codec-endpoint', codecEndpoint] : [];
    const args = ['workflow', 'show', '--workflow-id', workflowId, '--address', temporal.env.address, ...codec];
    const [text, json] = await Promise.all([
      run(ensureTemporalCli(), args, { maxBuffer: 1 << 26 }),
      run(ensureTemporalCli(), [...args, '--output', 'json'], { maxBuffer: 1 << 26 }),
    ]);
    const decoded: string[] = [];
    const parsed = JSON.parse(json.stdout, (key, value) => {
      if ((key === 'data' || key === 'encoding') && typeof value === 'string') {
        decoded.push(Buffer.from(value, 'base64').toString('utf8'));
      }
      return value;
    });
    return { readable: [text.stdout, json.stdout, ...decoded].join('\n'), json: parsed };
  }

  /** Every payload of the history that is still in {metadata, data} form, with its encoding. */
  function encodings(history: unknown): string[] {
    const found: string[] = [];
    JSON.stringify(history, (_key, value) => {
      if (value && typeof value === 'object' && typeof value.metadata?.encoding === 'string') {
        found.push(Buffer.from(value.metadata.encoding, 'base64').toString('utf8'));
      }
      return value;
    });
    return found;
  }

  function secretsIn(plan: Plan): string[] {
    // The plan's references (env var names) and words only the decrypted report or input holds.
    return [plan.source.url.slice(4), plan.target.url.slice(4), 'observed', 'source.wal_level'];
  }

  before(async () => {
    const [t, pair] = await Promise.all([startTemporal(), startPair()]);
    temporal = t;
    ({ source, target, stop: stopPair } = pair);
    await Promise.all([source.query(`CREATE DATABASE ${database}`), target.query(`CREATE DATABASE ${database}`)]);
    taskQueue = uniqueName('q');
    const config = { address: temporal.env.address, namespace: 'default', taskQueue };
    ({ worker } = await createWorker({ config, connection: temporal.env.nativeConnection, env }));
    running = worker.run();
    client = await connectClient(config, env);
    codecServer = await startCodecServer({ codec: codecFromEnvironment(env)!, port: 0, namespaces: ['default'] });
  });

  after(async () => {
    worker?.shutdown();
    await running;
    await client?.connection.close();
    await codecServer?.close();
    await stopPair?.();
    await temporal?.stop();
  });

  it('stores the precheck as ciphertext; the codec server shows the report', async () => {
    const plan = planFor(source, target, { database, mode: 'full' });
    const outcome = await runPrecheck(client, plan, taskQueue);
    assert.ok(outcome.report, `the precheck ran: ${JSON.stringify(outcome.failure)}`);
    const report: PrecheckReport = outcome.report;
    const plaintext = [...secretsIn(plan), database];
    assert.ok(JSON.stringify(report).includes(database), 'the report names the database');

    const stored = await show(workflowIds(plan.name).precheck);
    for (const s of plaintext) assert.ok(!stored.readable.includes(s), `${s} is readable in the stored history`);
    const seen = encodings(stored.json);
    assert.ok(seen.length >= 3, `payloads in the history: ${seen.length}`);
    assert.deepEqual(new Set(seen), new Set([ENCRYPTED_ENCODING]), 'every payload is encrypted');

    const decoded = await show(workflowIds(plan.name).precheck, codecServer.url);
    for (const s of plaintext) assert.ok(decoded.readable.includes(s), `${s} is shown through the codec server`);
    assert.ok(!encodings(decoded.json).includes(ENCRYPTED_ENCODING), 'nothing is left encrypted');
    for (const item of report.items) assert.ok(decoded.readable.includes(item.id), `item ${item.id} shown`);
  });

  it("encrypts a failure's message too; the client and the codec server read it", async () => {
    const missing = `missing_${randomBytes(4).toString('hex')}`;
    const plan = planFor(source, target, { database: missing, mode: 'full' });
    const outcome = await runPrecheck(client, plan, taskQueue);
    assert.ok(outcome.failure, 'the precheck of a missing database fails');
    assert.match(outcome.failure.message, new RegExp(missing), 'the client decrypts the message');

    const stored = await show(workflowIds(plan.name).precheck);
    assert.ok(!stored.readable.includes(missing), 'the missing database is named in the stored history');
    assert.match(stored.readable, /Encoded failure/);
    const decoded = await show(workflowIds(plan.name).precheck, codecServer.url);
    assert.ok(decoded.readable.includes(missing), 'the failure is shown through the codec server');
  });

  it('the Temporal CLI starts a workflow through /encode, and the worker reads its input', async () => {
    const plan = planFor(source, target, { database, mode: 'full' });
    const input = join(mkdtempSync(join(tmpdir(), 'pgt-codec-')), 'plan.json');
    writeFileSync(input, JSON.stringify(plan));
    const workflowId = workflowIds(plan.name).precheck;
    await run(ensureTemporalCli(), [
      'workflow',
      'start',
      '--type',
      'precheckWorkflow',
      '--task-queue',
      taskQueue,
      '--workflow-id',
      workflowId,
      '--input-file',
      input,
      '--address',
      temporal.env.address,
      '--codec-endpoint',
      codecServer.url,
    ]);
    const report = (await client.workflow.getHandle(workflowId).result()) as PrecheckReport;
    assert.ok(report.items.length > 0);
    const stored = await show(workflowId);
    for (const s of secretsIn(plan)) assert.ok(!stored.readable.includes(s), `${s} is readable in the stored history`);
  });

  it('the codec server returns 4xx for a bad body and serves what the CLI sends', async () => {
    const post = (body: string) =>
      fetch(`${codecServer.url}/decode`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default' },
        body,
      });
    for (const bad of ['not json', '{"payloads": {}}', '{"payloads": [{"data": "%%%"}]}']) {
      const r = await post(bad);
      assert.ok(r.status >= 400 && r.status < 500, `${bad}: ${r.status}`);
    }
    const empty = await post('{}');
    assert.equal(empty.status, 200);
    assert.deepEqual(await empty.json(), { payloads: [] });
  });
});
