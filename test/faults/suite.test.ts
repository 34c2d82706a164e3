/**
 * The fault suite: one full+cdc migration of a pgbench database plus the sample schema
 * (partitions, TOAST, a keyless table with REPLICA IDENTITY FULL, sequences, identities),
 * with pgbench and the sample writer on the source throughout, while the harness injects
 * faults at seeded random points of every phase:
 *   - kill -9 of a worker (two worker processes; the other carries on), each restarted;
 *   - the source and the target restarted with an immediate shutdown, during the full load
 *     and during incremental;
 *   - the Temporal dev server killed and started again on its SQLite state;
 *   - the walsender of the change stream terminated from the source;
 *   - the network to the target cut (a proxy on loopback every target connection goes through).
 * Then the switchover (a worker killed during it too) and a row-by-row comparison of every
 * table and sequence. It prints the faults injected by kind and phase, the rows lost,
 * duplicated and different, and the outcome; anything but 0/0/0 and completed fails it.
 *
 *   FAULT_SEED (random, printed)  FAULT_PROFILE (full: 20+ kills, 30 s cut; ci: a bounded run)
 *   FAULT_KEEP_HISTORY=PATH keeps the Temporal server's SQLite state there (for `temporal workflow show`)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../src/dev/embedded-postgres';
import { startDevServer, type DevServer } from '../../src/dev/temporal-cli';
import { parsePlan, type Plan } from '../../src/plan/plan';
import type { DatabaseStatus, MigrationPhase } from '../../src/model/status';
import { databaseStatusQuery, switchoverUpdate } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';
import { migrationWorkflow } from '../../workflows';
import { envRef, startPair, uniqueName, type PgServer } from '../helpers/postgres';
import { prepareSource, Workload } from '../helpers/pgbench';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { sleep, waitFor } from '../helpers/wait';
import { diffDatabases, diffSequences } from './diff';
import { startProxy, type Proxy } from './proxy';

const SEED = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const PROFILE = (process.env.FAULT_PROFILE ?? 'full') as 'full' | 'ci';
const FULL = PROFILE === 'full';
const SCALE = FULL ? 8 : 3;
const CUT_SECONDS = FULL ? 30 : 10;
/** Worker kills wanted per phase (best effort where a phase is short: the printed counts are what happened). */
const KILLS: Partial<Record<MigrationPhase | 'switchover', number>> = FULL
  ? { schema: 2, full_load: 7, post_data: 2, catch_up: 2, incremental: 6, switchover: 2 }
  : { schema: 1, full_load: 2, incremental: 2, switchover: 1 };

/** mulberry32: a small seeded generator, so a run can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const between = (lo: number, hi: number) => lo + random() * (hi - lo);

const ORDER: MigrationPhase[] = ['precheck', 'prepare', 'schema', 'full_load', 'post_data', 'catch_up', 'incremental'];

type FaultKind =
  | 'worker kill'
  | 'source restart'
  | 'target restart'
  | 'temporal restart'
  | 'walsender terminated'
  | 'target network cut';

describe(`fault suite (seed ${SEED}, profile ${PROFILE})`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'pgtransit-faults-'));
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;
  let temporal: DevServer;
  let temporalPort: number;
  let client: Client;
  let proxy: Proxy;
  const workers: (WorkerProcess | null)[] = [null, null];
  const injected: { kind: FaultKind; phase: string; at: number }[] = [];
  const t0 = Date.now();
  let load: Workload | null = null;

  before(async () => {
    process.stdout.write(
      `fault suite: seed ${SEED}, profile ${PROFILE}; replay with FAULT_SEED=${SEED} FAULT_PROFILE=${PROFILE} npm run test:faults\n`,
    );
    const pair = await startPair();
    ({ source, target, stop: stopPair } = pair);
    temporalPort = await freePort();
    temporal = await startDevServer({
      port: temporalPort,
      uiPort: await freePort(),
      dbFile: join(scratch, 'temporal.db'),
      quiet: true,
    });
    client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    proxy = await startProxy(target.host, target.port);
    await prepareSource(source, SCALE);
  });

  after(async () => {
    // Nothing is started again from here on, whether the test passed or threw.
    finished = true;
    if (supervisor) clearInterval(supervisor);
    await load?.kill();
    await Promise.all(workers.map((w) => w?.kill()));
    await client?.connection.close().catch(() => undefined);
    await proxy?.close();
    await temporal?.stop();
    await stopPair?.();
    if (process.env.FAULT_KEEP_HISTORY) copyFileSync(join(scratch, 'temporal.db'), process.env.FAULT_KEEP_HISTORY);
    rmSync(scratch, { recursive: true, force: true });
  });

  let phase: string = 'precheck';
  const note = (kind: FaultKind) => {
    injected.push({ kind, phase, at: Math.round((Date.now() - t0) / 100) / 10 });
    process.stdout.write(`  [${((Date.now() - t0) / 1000).toFixed(1)} s, ${phase}] ${kind}\n`);
  };

  async function killWorker(which?: number): Promise<void> {
    const alive = workers.map((w, i) => (w ? i : -1)).filter((i) => i >= 0);
    if (alive.length === 0) return;
    const i = which ?? alive[Math.floor(random() * alive.length)]!;
    const w = workers[i];
    if (!w) return;
    workers[i] = null;
    note('worker kill');
    await w.kill('SIGKILL');
    const delay = between(300, 2500);
    setTimeout(() => {
      if (workers[i] === null && !finished) workers[i] = spawnWorker(temporal.address, taskQueue);
    }, delay);
  }
  async function restartServer(server: PgServer, kind: 'source restart' | 'target restart'): Promise<void> {
    note(kind);
    await server.halt({ immediate: true });
    await sleep(between(500, 2000));
    await server.resume();
    if (kind === 'source restart') await load?.restartWriter();
  }
  async function restartTemporal(): Promise<void> {
    note('temporal restart');
    temporal.process.kill('SIGKILL');
    await new Promise((r) => (temporal.process.exitCode !== null ? r(null) : temporal.process.once('exit', r)));
    await sleep(between(500, 2000));
    temporal = await startDevServer({
      port: temporalPort,
      uiPort: await freePort(),
      dbFile: join(scratch, 'temporal.db'),
      quiet: true,
    });
  }
  async function terminateWalsender(): Promise<void> {
    note('walsender terminated');
    await source.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_replication WHERE application_name LIKE 'pgtransit%'`,
    );
  }
  async function cutNetwork(): Promise<void> {
    note('target network cut');
    proxy.cut();
    await sleep(CUT_SECONDS * 1000);
    proxy.restore();
  }

  let finished = false;
  let taskQueue = '';
  let supervisor: NodeJS.Timeout | undefined;

  it('loses, duplicates and changes no row, and completes', async () => {
    taskQueue = uniqueName('faults');
    const sourceUrl = source.url({ database: 'app' });
    const targetUrl = target.url({ database: 'app' }).replace(`:${target.port}/`, `:${proxy.port}/`);
    const parsed = parsePlan({
      name: uniqueName('faults'),
      source: { url: envRef(sourceUrl) },
      target: { url: envRef(targetUrl) },
      mode: 'full+cdc',
      fullLoad: { parallelism: 2, chunkSizeMB: 2 },
      switchover: { verify: 'checksum' },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const plan: Plan = parsed.plan;
    workers[0] = spawnWorker(temporal.address, taskQueue);
    workers[1] = spawnWorker(temporal.address, taskQueue);
    // A worker that exits by itself (it could not reach Temporal while the server was down) is started again.
    supervisor = setInterval(() => {
      for (let i = 0; i < workers.length; i++) {
        const w = workers[i];
        if (w && (w.child.exitCode !== null || w.child.signalCode !== null) && !finished)
          workers[i] = spawnWorker(temporal.address, taskQueue);
      }
    }, 500);
    load = new Workload(source);
    await sleep(1000);

    const workflowId = workflowIds(plan.name).migration;
    await client.workflow.start(migrationWorkflow, { args: [plan], taskQueue, workflowId });
    const child = () => client.workflow.getHandle(childIds(workflowId).database('app'));
    const status = async (): Promise<DatabaseStatus | null> =>
      child()
        .query(databaseStatusQuery)
        .catch(() => null);

    // The other faults, each at its phase, in a seeded order and at seeded delays.
    const once: { phase: MigrationPhase; fault: () => Promise<void> }[] = [
      { phase: 'full_load', fault: () => restartServer(source, 'source restart') },
      { phase: 'full_load', fault: () => restartServer(target, 'target restart') },
      { phase: 'incremental', fault: () => restartServer(source, 'source restart') },
      { phase: 'incremental', fault: () => restartServer(target, 'target restart') },
      { phase: 'incremental', fault: restartTemporal },
      { phase: 'incremental', fault: terminateWalsender },
      { phase: 'incremental', fault: cutNetwork },
    ];
    if (FULL)
      once.push({ phase: 'catch_up', fault: terminateWalsender }, { phase: 'incremental', fault: terminateWalsender });
    once.sort(() => random() - 0.5);
    const kills: Record<string, number> = { ...KILLS };

    // Drive: watch the phase, inject what that phase still owes, until incremental owes nothing.
    let nextAt = Date.now() + between(200, 800);
    let describeAt = 0;
    for (const deadline = Date.now() + 1_500_000; ;) {
      if (Date.now() > deadline) throw new Error(`the migration did not get through the faults; last phase ${phase}`);
      const s = await status();
      // A new phase gets its first fault at once: the schema step lasts well under a second.
      if (s && s.phase !== phase) nextAt = Date.now();
      if (s) phase = s.phase;
      if (Date.now() >= describeAt) {
        describeAt = Date.now() + 2000;
        const d = await client.workflow
          .getHandle(workflowId)
          .describe()
          .catch(() => null);
        if (d && d.status.name !== 'RUNNING') {
          const outcome = await client.workflow
            .getHandle(workflowId)
            .result()
            .then(
              (r) => JSON.stringify(r),
              (e: Error) => (e.cause as Error | undefined)?.message ?? e.message,
            );
          throw new Error(`the migration ended (${d.status.name}) in phase ${phase}: ${outcome}`);
        }
      }
      // What a phase that went by too fast still owed is injected during incremental.
      const at = ORDER.indexOf(phase as MigrationPhase);
      for (const p of ORDER.slice(0, Math.max(0, at))) {
        if (p === 'incremental') continue;
        kills.incremental = (kills.incremental ?? 0) + (kills[p] ?? 0);
        kills[p] = 0;
        for (const f of once) if (f.phase === p) f.phase = 'incremental';
      }
      if (phase === 'failed') throw new Error(`the migration failed: ${JSON.stringify(s?.error ?? s)}`);
      if (Date.now() >= nextAt) {
        const pendingOnce = once.findIndex((f) => f.phase === phase);
        if ((kills[phase] ?? 0) > 0 && (pendingOnce < 0 || random() < 0.6)) {
          kills[phase]!--;
          await killWorker();
        } else if (pendingOnce >= 0) {
          const [f] = once.splice(pendingOnce, 1);
          await f!.fault();
        }
        nextAt = Date.now() + between(phase === 'incremental' ? 2000 : 600, phase === 'incremental' ? 5000 : 2000);
      }
      const owed = once.some((f) => f.phase === 'incremental') || (kills.incremental ?? 0) > 0;
      if (phase === 'incremental' && !owed) break;
      await sleep(150);
    }

    // Recovered: lag under the switchover's bound with both workers back.
    await waitFor('both workers back', async () => workers.every((w) => w !== null), 30_000);
    // Recovered: the stream reported after the last fault (a status from before it is stale), with lag under the bound.
    const caughtUp = (since: number) =>
      waitFor(
        'lag under the bound, reported after the last fault',
        async () => {
          const s = await status();
          const fresh = s?.cdc?.reportedAt !== undefined && Date.parse(s.cdc.reportedAt) > since;
          return fresh && s?.phase === 'incremental' && (s.cdc?.lagBytes ?? Infinity) <= plan.switchover.maxLagBytes;
        },
        600_000,
        status,
      );
    await caughtUp(Date.now());

    // The switchover, with workers killed while it runs; asked again if a fault made it refuse.
    const pgbenchEnded = load.endPgbench();
    phase = 'switchover';
    let reports: unknown = null;
    for (let attempt = 1; !reports; attempt++) {
      const update = client.workflow.getHandle(workflowId).executeUpdate(switchoverUpdate);
      for (let k = kills.switchover ?? 0; k > 0; k--) {
        await sleep(between(100, 1500));
        await killWorker();
        kills.switchover = k - 1;
      }
      reports = await update.catch(async (e: Error) => {
        if (attempt >= 5) throw e;
        process.stdout.write(
          `  switchover attempt ${attempt} refused or failed: ${(e.cause as Error)?.message ?? e.message}\n`,
        );
        await caughtUp(Date.now());
        return null;
      });
    }
    finished = true;
    clearInterval(supervisor);
    const result = (await client.workflow.getHandle(workflowId).result()) as { phase: string };
    await pgbenchEnded;
    await load.stopWriter();

    const diffs = await diffDatabases(sourceUrl, target.url({ database: 'app' }));
    const sequences = await diffSequences(sourceUrl, target.url({ database: 'app' }));
    const total = (k: 'lost' | 'duplicated' | 'different') => diffs.reduce((n, d) => n + d[k], 0);
    const byKind = new Map<string, string[]>();
    for (const f of injected) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f.phase]);
    const lines = [
      `fault suite, seed ${SEED}, profile ${PROFILE}: ${injected.length} faults injected`,
      ...[...byKind].map(([kind, phases]) => {
        const per = new Map<string, number>();
        for (const p of phases) per.set(p, (per.get(p) ?? 0) + 1);
        return `  ${kind.padEnd(22)} ${String(phases.length).padStart(3)}  (${[...per].map(([p, n]) => `${p} ${n}`).join(', ')})`;
      }),
      `  tables compared ${diffs.length}, source rows ${diffs.reduce((n, d) => n + d.sourceRows, 0)}, ` +
        `target rows ${diffs.reduce((n, d) => n + d.targetRows, 0)}`,
      `  rows lost ${total('lost')}, duplicated ${total('duplicated')}, different ${total('different')}; sequences differing ${sequences.length}`,
      `  outcome ${result.phase}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    assert.equal(result.phase, 'completed');
    assert.deepEqual(
      diffs.filter((d) => d.lost || d.duplicated || d.different),
      [],
    );
    assert.deepEqual(sequences, []);
    assert.ok(injected.filter((f) => f.kind === 'worker kill').length >= (FULL ? 20 : 5), 'enough worker kills');
    for (const kind of [
      'source restart',
      'target restart',
      'temporal restart',
      'walsender terminated',
      'target network cut',
    ] as const)
      assert.ok(
        injected.some((f) => f.kind === kind),
        `${kind} was injected`,
      );
  });
});
