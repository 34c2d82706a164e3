/**
 * No secret anywhere: a full+cdc migration run as an operator runs it (a worker process,
 * the CLI's start, status, switchover and verify), with the source's connection string
 * in an environment variable and the target's in a file. Then every place a secret could
 * land is searched for both passwords (as typed and URL-encoded) and both connection
 * strings: the history of every workflow run of the namespace (children and
 * continued-as-new runs too, in text and JSON, every payload decoded), the worker's and
 * the CLI's output, and both servers' logs written with log_statement = all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureTemporalCli } from '../../src/dev/temporal-cli';
import { migrationStatus } from '../../src/cli/migration';
import { startPair, uniqueName, type PgServer } from '../helpers/postgres';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { waitFor } from '../helpers/wait';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** Text and JSON of one run's history, with every payload's base64 data decoded. */
async function historyOf(address: string, workflowId: string, runId: string): Promise<string> {
  const show = (output: string[]) =>
    run(
      ensureTemporalCli(),
      ['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId, '--address', address, ...output],
      { maxBuffer: 1 << 26 },
    );
  const [text, json] = await Promise.all([show([]), show(['--output', 'json'])]);
  const decoded: string[] = [];
  JSON.parse(json.stdout, (key, value) => {
    if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return [text.stdout, json.stdout, ...decoded].join('\n');
}

/** Every run in the namespace, closed ones (continued-as-new, completed) included. */
async function allRuns(address: string): Promise<{ workflowId: string; runId: string; status: string }[]> {
  const { stdout } = await run(
    ensureTemporalCli(),
    ['workflow', 'list', '--address', address, '--output', 'json', '--limit', '1000'],
    { maxBuffer: 1 << 26 },
  );
  const parsed = JSON.parse(stdout) as
    | { execution: { workflowId: string; runId: string }; status: string }[]
    | { executions?: { execution: { workflowId: string; runId: string }; status: string }[] };
  const list = Array.isArray(parsed) ? parsed : (parsed.executions ?? []);
  return list.map((x) => ({ workflowId: x.execution.workflowId, runId: x.execution.runId, status: String(x.status) }));
}

describe('no secret anywhere', () => {
  let temporal: TemporalHarness;
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;
  let worker: WorkerProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'pgtransit-secrets-'));
  // Characters a URL must encode, so the encoded form is searched for too.
  const sourcePassword = `src-${uniqueName('pw')}-p@ss:w/rd`;
  const targetPassword = `tgt-${uniqueName('pw')}-p@ss:w/rd`;
  const logStart = { source: 0, target: 0 };

  before(async () => {
    const [t, pair] = await Promise.all([startTemporal(), startPair()]);
    temporal = t;
    ({ source, target, stop: stopPair } = pair);
    for (const [server, password] of [
      [source, sourcePassword],
      [target, targetPassword],
    ] as const) {
      await server.query(`CREATE ROLE migrator SUPERUSER LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
      // From here on every statement is logged; the CREATE ROLE above is not part of what is searched.
      await server.query(`ALTER SYSTEM SET log_statement = 'all'`);
      await server.query(`ALTER SYSTEM SET log_connections = 'on'`);
      await server.query(`SELECT pg_reload_conf()`);
    }
    await source.query(
      `CREATE TABLE items (id bigserial PRIMARY KEY, note text NOT NULL);
       INSERT INTO items (note) SELECT md5(g::text) FROM generate_series(1, 1000) g;`,
      [],
      'app',
    );
    logStart.source = source.log().length;
    logStart.target = target.log().length;
  });
  after(async () => {
    await worker?.kill();
    await Promise.all([temporal?.stop(), stopPair?.()]);
  });

  it('keeps the passwords and connection strings out of history, output and server logs', async () => {
    const name = uniqueName('secret');
    const taskQueue = uniqueName('q');
    const sourceUrl = source.url({ user: 'migrator', password: sourcePassword, database: 'app' });
    const targetUrl = target.url({ user: 'migrator', password: targetPassword, database: 'app' });
    const urlVar = `PGT_SECRET_SOURCE_${name.replace(/[^a-z0-9]/gi, '_').toUpperCase()}`;
    process.env[urlVar] = sourceUrl;
    const targetFile = join(dir, 'target-url');
    writeFileSync(targetFile, targetUrl, { mode: 0o600 });
    const planFile = join(dir, 'plan.yaml');
    writeFileSync(
      planFile,
      [
        `name: ${name}`,
        `source: { url: "env:${urlVar}" }`,
        `target: { url: "file:${targetFile}" }`,
        `mode: full+cdc`,
      ].join('\n') + '\n',
    );
    const address = temporal.env.address;
    // The worker logs at INFO here: more of what it writes is searched.
    const level = process.env.PGTRANSIT_WORKER_LOG_LEVEL;
    process.env.PGTRANSIT_WORKER_LOG_LEVEL = 'INFO';
    worker = spawnWorker(address, taskQueue);
    if (level === undefined) delete process.env.PGTRANSIT_WORKER_LOG_LEVEL;
    else process.env.PGTRANSIT_WORKER_LOG_LEVEL = level;
    const env = { ...process.env, TEMPORAL_ADDRESS: address, PGTRANSIT_TASK_QUEUE: taskQueue };
    const outputs: string[] = [];
    const cli = async (...args: string[]) => {
      const r = await run(process.execPath, [join(root, 'bin', 'pgtransit.js'), ...args], {
        env,
        maxBuffer: 1 << 24,
      }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
        outputs.push(e.stdout ?? '', e.stderr ?? '', e.message);
        throw e;
      });
      outputs.push(r.stdout, r.stderr);
      return r.stdout;
    };

    await cli('plan', 'check', '-f', planFile);
    await cli('precheck', '-f', planFile);
    await cli('start', '-f', planFile);
    const client = temporal.env.client;
    await waitFor('the migration in incremental', async () => {
      const s = await migrationStatus(client, name).catch(() => null);
      return !!s && s.databases.length > 0 && s.databases.every((d) => d.phase === 'incremental');
    });
    await source.query(`INSERT INTO items (note) SELECT md5(g::text) FROM generate_series(1, 100) g`, [], 'app');
    await cli('status', name);
    await cli('status', name, '--json');
    await cli('switchover', name);
    await cli('verify', name, '--checksum');
    await cli('status', name);
    assert.equal(
      Number((await target.query<{ n: string }>(`SELECT count(*) AS n FROM items`, [], 'app')).rows[0]!.n),
      1100,
      'the migration ran through: what is searched is a real run',
    );

    const runs = await allRuns(address);
    assert.ok(runs.length >= 3, `the parent, the precheck and the database workflow at least: ${JSON.stringify(runs)}`);
    const histories = await Promise.all(runs.map((r) => historyOf(address, r.workflowId, r.runId)));
    await worker.kill('SIGTERM');
    const places: Record<string, string> = {
      history: histories.join('\n'),
      'worker output': worker.output(),
      'CLI output': outputs.join('\n'),
      'source server log': source.log().slice(logStart.source),
      'target server log': target.log().slice(logStart.target),
    };
    assert.match(places['target server log']!, /statement: /, 'log_statement = all took effect on the target');
    assert.match(places.history!, /"observed":/, 'decoded payloads are part of what was searched');
    const secrets = [
      sourcePassword,
      targetPassword,
      encodeURIComponent(sourcePassword),
      encodeURIComponent(targetPassword),
      sourceUrl,
      targetUrl,
    ];
    const found = Object.entries(places).flatMap(([place, text]) =>
      secrets
        .filter((s) => text.includes(s))
        .map((s) => `${place} holds ${s.startsWith('postgres') ? 'a URL' : 'a password'}`),
    );
    assert.deepEqual(found, []);
    delete process.env[urlVar];
  });
});
