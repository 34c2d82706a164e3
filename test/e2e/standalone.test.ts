/**
 * `pgtransit migrate -f PLAN` as an operator runs it, in a child process: the dev server it
 * starts (or the one it finds), its own worker, live progress on stdout, the switchover
 * by `--switchover auto`, by `pgtransit switchover` from another process, and by the y/N
 * question on stdin; and Ctrl-C followed by the same command, which resumes the same run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import { freePort } from '../../src/dev/embedded-postgres';
import { ensureTemporalCli, portOpen, startDevServer } from '../../src/dev/temporal-cli';
import { startWriter, type Writer } from '../../src/dev/writer';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../src/dev/sample-data';
import { databaseStatusQuery, statusQuery } from '../../src/model/messages';
import { replicationNames, workflowIds } from '../../src/model/names';
import type { Plan } from '../../src/plan/plan';
import { planFor, startPair, uniqueName, type PgServer } from '../helpers/postgres';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';
import { sleep, waitFor } from '../helpers/wait';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'pgtransit.js');
const dir = mkdtempSync(join(tmpdir(), 'pgt-standalone-'));

interface Run {
  child: ChildProcess;
  stdout(): string;
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  waitFor(what: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  answer(line: string): void;
}

function migrate(args: string[], env: NodeJS.ProcessEnv, command = 'migrate'): Run {
  const child = spawn(process.execPath, [bin, command, ...args], {
    env: { ...process.env, PGTRANSIT_LOG_LEVEL: 'ERROR', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let all = '';
  child.stdout!.on('data', (d) => ((out += d), (all += d)));
  child.stderr!.on('data', (d) => (all += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    output: () => all,
    exited,
    async waitFor(what, timeoutMs = 240_000) {
      return waitFor(
        `${what} in the output of pgtransit migrate`,
        async () => {
          if (child.exitCode !== null) throw new Error(`pgtransit migrate exited ${child.exitCode}:\n${all}`);
          return out.match(what);
        },
        timeoutMs,
        async () => all.slice(-4000),
      );
    },
    answer: (line) => void child.stdin!.write(`${line}\n`),
  };
}

/** Stops a run that is still going: SIGTERM first, so that it stops the dev server it started (detached from it). */
async function stop(run: Run): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  run.child.kill('SIGTERM');
  const killer = setTimeout(() => run.child.kill('SIGKILL'), 30_000);
  await run.exited;
  clearTimeout(killer);
}

async function exitCode(run: Run, timeoutMs = 240_000): Promise<number | null> {
  let timedOut = false;
  const timer = setTimeout(() => ((timedOut = true), void stop(run)), timeoutMs);
  try {
    const code = await run.exited;
    if (timedOut) throw new Error(`pgtransit migrate did not end within ${timeoutMs / 1000} s:\n${run.output()}`);
    return code;
  } finally {
    clearTimeout(timer);
  }
}

/** A state file as an older pgtransit left it: written by a dev server started without pgtransit's search attributes. */
async function stateFileWithoutSearchAttributes(stateDir: string): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  const port = await freePort();
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless'];
  const child = spawn(ensureTemporalCli(), [...args, '--db-filename', join(stateDir, 'temporal.sqlite')], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor('the dev server of an older pgtransit', () => portOpen('127.0.0.1', port), 60_000);
  child.kill('SIGTERM');
  await exited;
}

describe('pgtransit migrate: the whole migration on one machine', () => {
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;
  let temporal: TemporalHarness;
  const writers: Writer[] = [];
  const runs: Run[] = [];

  before(async () => {
    const [t, pair] = await Promise.all([startTemporal(), startPair()]);
    temporal = t;
    ({ source, target, stop: stopPair } = pair);
  });

  after(async () => {
    await Promise.all(runs.map(stop));
    await Promise.all(writers.map((w) => w.stop()));
    await Promise.all([temporal?.stop(), stopPair?.()]);
  });

  /** A source database of its own (the switchover leaves a source read-only) and a plan into its namesake on the target. */
  async function prepare(database: string): Promise<{ plan: Plan; file: string }> {
    await source.query(`CREATE DATABASE ${database}`);
    await source.query(SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL, [], database);
    const plan = planFor(source, target, {
      database,
      exclude: { tables: ['public.audit_log'] },
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
      cdc: { roundSeconds: 1, streamSeconds: 30 },
    });
    const file = join(dir, `${plan.name}.json`);
    writeFileSync(file, JSON.stringify(plan));
    return { plan, file };
  }

  function write(database: string): Writer {
    const w = startWriter(source.url({ database }), { truncate: true });
    writers.push(w);
    return w;
  }

  async function assertTargetEqualsSource(plan: Plan, database: string): Promise<void> {
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, database, database, true);
    assert.ok(cmp.length >= 8, `compared ${cmp.length} tables`);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
      'every table equal',
    );
  }

  /** An environment where migrate finds no Temporal server and starts its own, with its state under `stateDir`. */
  async function ownServer(stateDir: string) {
    const port = await freePort();
    return {
      port,
      uiPort: String(await freePort()),
      env: {
        TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
        PGTRANSIT_TASK_QUEUE: uniqueName('q'),
        PGTRANSIT_STATE_DIR: stateDir,
      },
    };
  }

  it('--switchover auto: starts its dev server on an older state file, shows per-table progress and the lag, switches over, exits 0', async () => {
    const database = 'solo_auto';
    const { plan, file } = await prepare(database);
    const server = await ownServer(join(dir, 'auto'));
    await stateFileWithoutSearchAttributes(join(dir, 'auto'));
    const writer = write(database);
    const run = migrate(['-f', file, '--switchover', 'auto', '--ui-port', server.uiPort], server.env);
    runs.push(run);
    const code = await exitCode(run);
    const out = run.stdout();
    assert.equal(code, 0, run.output());
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    assert.ok(writes.transactions > 10, `the writer wrote ${writes.transactions} transactions`);

    assert.match(out, /starting the Temporal dev server on 127\.0\.0\.1:\d+ \(state .*auto\/temporal\.sqlite/);
    assert.match(out, /registered the search attributes PgtransitPhase, .*PgtransitLagBucket in namespace default/);
    assert.match(out, new RegExp(`started migration ${plan.name}: workflow ${workflowIds(plan.name).migration}, run `));
    // Not a terminal: plain lines, each stamped, one per change (of what the polls saw: a small load may pass between two).
    assert.match(out, /^\d\d:\d\d:\d\d solo_auto: (schema|full_load|post_data), step /m);
    const orders = out.match(
      /^\d\d:\d\d:\d\d solo_auto: public\.orders +\[#+\] 100% (\d+)(\/~\d+)? rows, [\d.]+ [kM]B\/~[\d.]+ [kM]B, chunks (\d+)\/\3$/m,
    );
    assert.ok(orders && Number(orders[1]) >= 10000, 'public.orders copied whole, with its rows, bytes and chunks');
    assert.match(
      out,
      /^\d\d:\d\d:\d\d solo_auto: public\.docs +\[[#.]+\] +\d+% \d+(\/~\d+)? rows, .*chunks \d+\/\d+$/m,
    );
    assert.match(
      out,
      /^\d\d:\d\d:\d\d solo_auto: change capture: lag \d+ bytes \/ [\d.?]+ s, \d+ transactions applied/m,
    );
    assert.match(out, /solo_auto: incremental, .*ready for switchover/);
    assert.match(out, /switching over/);
    assert.match(out, new RegExp(`migration ${plan.name} completed\\n\\nswitchover of solo_auto completed\\n`));
    assert.match(out, /write downtime +\d+ ms/);
    await assertTargetEqualsSource(plan, database);
    // It stopped the server it started.
    assert.equal(await portOpen('127.0.0.1', server.port), false, 'the dev server it started is stopped');
  });

  it('Ctrl-C during change capture keeps the migration; the same command resumes the same run without a second load', async () => {
    const database = 'solo_resume';
    const { plan, file } = await prepare(database);
    const stateDir = join(dir, 'resume');
    const server = await ownServer(stateDir);
    const writer = write(database);
    const first = migrate(['-f', file, '--switchover', 'manual', '--ui-port', server.uiPort], server.env);
    runs.push(first);
    const [, runId] = await first.waitFor(/started migration \S+: workflow \S+, run (\S+)/);
    await first.waitFor(/change capture: lag \d+ bytes/);
    first.child.kill('SIGINT');
    assert.equal(await exitCode(first, 60_000), 130, first.output());
    assert.match(first.stdout(), /interrupted: .*the migration is kept in .*resume\/temporal\.sqlite/);
    assert.equal(await portOpen('127.0.0.1', server.port), false, 'the dev server it started is stopped');
    const { slot } = replicationNames(plan.name, database);
    const slots = await source.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    assert.equal(slots.rowCount, 1, 'the slot is still there, keeping the changes written meanwhile');
    await sleep(1500); // the application writes while nothing runs

    const second = migrate(['-f', file, '--switchover', 'auto', '--ui-port', server.uiPort], server.env);
    runs.push(second);
    assert.equal(await exitCode(second), 0, second.output());
    const out = second.stdout();
    assert.match(
      out,
      new RegExp(
        `resuming migration ${plan.name}: workflow ${workflowIds(plan.name).migration}, run ${runId}, started `,
      ),
    );
    assert.doesNotMatch(out, /started migration/);
    assert.doesNotMatch(out, /differs from this file/, 'the same plan');
    assert.match(out, /switchover of solo_resume completed/);
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    await assertTargetEqualsSource(plan, database);

    // The history (in the state file both runs shared): one run, every chunk copied once, one load plan.
    const dev = await startDevServer({
      port: server.port,
      uiPort: Number(server.uiPort),
      dbFile: join(stateDir, 'temporal.sqlite'),
      quiet: true,
    });
    const connection = await Connection.connect({ address: dev.address });
    try {
      const client = new Client({ connection });
      const parent = await client.workflow.getHandle(workflowIds(plan.name).migration).describe();
      assert.equal(parent.runId, runId);
      assert.equal(parent.status.name, 'COMPLETED');
      const childId = workflowIds(plan.name).database(database);
      const scheduled: { type: string; input: unknown }[] = [];
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${childId}'` })) {
        const history = await client.workflow.getHandle(childId, execution.runId).fetchHistory();
        for (const e of history.events ?? []) {
          const a = e.activityTaskScheduledEventAttributes;
          if (a)
            scheduled.push({
              type: a.activityType?.name ?? '?',
              input: defaultPayloadConverter.fromPayload(a.input!.payloads![0]!),
            });
        }
      }
      const count = (type: string) => scheduled.filter((s) => s.type === type).length;
      assert.equal(count('planChunks'), 1, 'the load was planned once');
      const restores = scheduled
        .filter((s) => s.type === 'restoreSchema')
        .map((s) => s.input as { section: string; table?: { schema: string; name: string } });
      assert.deepEqual(
        restores.filter((r) => !r.table).map((r) => r.section),
        ['pre-data', 'post-data'],
        'each section of the schema was restored once',
      );
      // A table copied in chunks gets its indexes during the load, once.
      const tables = restores.filter((r) => r.table).map((r) => `${r.table!.schema}.${r.table!.name}`);
      assert.equal(new Set(tables).size, tables.length, `indexes built once per table: ${tables.join()}`);
      const chunks = scheduled
        .filter((s) => s.type === 'copyChunk')
        .map((s) => JSON.stringify((s.input as { chunk: unknown }).chunk));
      assert.ok(chunks.length >= 8, `${chunks.length} chunks copied`);
      assert.equal(new Set(chunks).size, chunks.length, 'no chunk was copied twice');
    } finally {
      await connection.close();
      await dev.stop();
    }
  });

  it('--switchover manual: uses the running server and waits until pgtransit switchover is run from another process', async () => {
    const database = 'solo_manual';
    const { plan, file } = await prepare(database);
    const env = { TEMPORAL_ADDRESS: temporal.env.address, PGTRANSIT_TASK_QUEUE: uniqueName('q') };
    const run = migrate(['-f', file, '--switchover', 'manual'], env);
    runs.push(run);
    await run.waitFor(new RegExp(`ready for switchover .*run pgtransit switchover ${plan.name} from another shell`));
    assert.match(run.stdout(), new RegExp(`using the Temporal server at ${temporal.env.address}`));
    assert.doesNotMatch(run.stdout(), /starting the Temporal dev server/);
    await sleep(4000);
    assert.equal(run.child.exitCode, null, 'still waiting');
    const handle = temporal.env.client.workflow.getHandle(workflowIds(plan.name).migration);
    const waiting = await handle.query(statusQuery);
    assert.equal(waiting.phase, 'incremental');
    assert.equal(waiting.switchover, undefined, 'no switchover was requested');

    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'switchover', plan.name], {
      env: { ...process.env, ...env },
    });
    assert.match(stdout, /switchover of solo_manual completed/);
    assert.equal(await exitCode(run), 0, run.output());
    assert.match(run.stdout(), /switchover of solo_manual completed\n {2}fenced at/);
    const [host, port] = temporal.env.address.split(':');
    assert.equal(await portOpen(host!, Number(port)), true, 'the server it found keeps running');
    await assertTargetEqualsSource(plan, database);
  });

  it('asks y/N when ready: n keeps the migration replicating, a later y switches over', async () => {
    const database = 'solo_ask';
    const { plan, file } = await prepare(database);
    const env = { TEMPORAL_ADDRESS: temporal.env.address, PGTRANSIT_TASK_QUEUE: uniqueName('q') };
    const writer = write(database);
    const run = migrate(['-f', file], env);
    runs.push(run);
    await run.waitFor(/ready for switchover .*\n.*switch over now\? \[y\/N\]/);
    run.answer('n');
    await run.waitFor(/not switching over: the migration keeps applying changes/);
    const child = temporal.env.client.workflow.getHandle(workflowIds(plan.name).database(database));
    const parent = temporal.env.client.workflow.getHandle(workflowIds(plan.name).migration);
    const applied = async () => (await child.query(databaseStatusQuery)).cdc?.transactions ?? 0;
    const afterNo = await applied();
    await waitFor('more changes applied after the answer n', async () => (await applied()) > afterNo);
    await sleep(2000);
    assert.equal(run.child.exitCode, null, 'still running after n');
    assert.equal((await child.query(databaseStatusQuery)).phase, 'incremental');
    assert.equal((await parent.query(statusQuery)).switchover, undefined, 'no switchover was requested');

    run.answer('y');
    assert.equal(await exitCode(run), 0, run.output());
    assert.match(run.stdout(), /switchover of solo_ask completed/);
    assert.equal((await parent.describe()).status.name, 'COMPLETED');
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    await assertTargetEqualsSource(plan, database);
  });

  it('pgtransit dev on an older state file registers the search attributes, so its worker starts', async () => {
    const stateDir = join(dir, uniqueName('dev'));
    await stateFileWithoutSearchAttributes(stateDir);
    const [port, uiPort] = [await freePort(), await freePort()];
    const args = ['--port', String(port), '--ui-port', String(uiPort), '--db-file', join(stateDir, 'temporal.sqlite')];
    const run = migrate(args, {}, 'dev');
    try {
      await run.waitFor(
        /registered the search attributes PgtransitPhase, .*PgtransitLagBucket in namespace default/,
        120_000,
      );
      await run.waitFor(/Ctrl-C stops both/);
      await sleep(3000);
      assert.equal(run.child.exitCode, null, `the worker refused the namespace:\n${run.output()}`);
    } finally {
      await stop(run);
    }
  });

  it('a migration that fails exits 1 with its error', async () => {
    const database = 'solo_fail';
    await target.query(`CREATE DATABASE ${database}`);
    await target.query('CREATE TABLE customers (id int)', [], database);
    const { plan, file } = await prepare(database);
    const env = { TEMPORAL_ADDRESS: temporal.env.address, PGTRANSIT_TASK_QUEUE: uniqueName('q') };
    const run = migrate(['-f', file, '--switchover', 'auto'], env);
    runs.push(run);
    assert.equal(await exitCode(run), 1, run.output());
    assert.match(run.stdout(), new RegExp(`started migration ${plan.name}`));
    assert.match(
      run.output(),
      new RegExp(
        `migration ${plan.name} ended FAILED in failed: the precheck failed; nothing was created.*\\n.*target\\.empty`,
      ),
    );
    const { slot } = replicationNames(plan.name, database);
    assert.equal((await source.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [slot])).rowCount, 0);
  });
});
