/**
 * pgtransit on a real Temporal cluster (test/helpers/cluster.ts: PostgreSQL persistence, the
 * four services as separate processes, all from temporal-config/): one full+cdc migration of a
 * pgbench database plus the sample schema, with pgbench and the sample writer on the source
 * throughout and two pgtransit worker processes on one task queue.
 *   - Both workers copy chunks of the same full load (shown from the workflow history).
 *   - One worker is killed with SIGKILL mid-load and started again.
 *   - The history service is killed during incremental and started again.
 *   - The switchover completes and the target equals the source row by row.
 *
 *   CLUSTER_SCALE (pgbench scale, default 4: ~50 chunks of 1 MB in pgbench_accounts)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { parsePlan, type Plan } from '../../src/plan/plan';
import type { DatabaseStatus } from '../../src/model/status';
import { databaseStatusQuery, switchoverUpdate } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';
import { migrationWorkflow } from '../../workflows';
import { envRef, startPair, uniqueName, type PgServer } from '../helpers/postgres';
import { prepareSource, Workload } from '../helpers/pgbench';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';
import { startCluster, type Cluster } from '../helpers/cluster';
import { sleep, waitFor } from '../helpers/wait';
import { diffDatabases, diffSequences } from '../faults/diff';

const SCALE = Number(process.env.CLUSTER_SCALE ?? 4);

/** What a database workflow's history says about its copyChunk activities, over all its runs. */
interface ChunkCompletions {
  /** Completed copyChunk activities per worker identity. */
  byIdentity: Map<string, number>;
  scheduled: number;
}

async function chunkCompletions(client: Client, workflowId: string, firstRunId: string): Promise<ChunkCompletions> {
  const out: ChunkCompletions = { byIdentity: new Map(), scheduled: 0 };
  for (let runId: string | undefined = firstRunId; runId;) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const copyChunks = new Set<string>();
    runId = undefined;
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes?.activityType?.name === 'copyChunk') {
        copyChunks.add(String(e.eventId));
        out.scheduled++;
      }
      const done = e.activityTaskCompletedEventAttributes;
      if (done && copyChunks.has(String(done.scheduledEventId))) {
        const who = done.identity ?? '';
        out.byIdentity.set(who, (out.byIdentity.get(who) ?? 0) + 1);
      }
      runId = e.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? runId;
    }
  }
  return out;
}

/** The run of a child as its parent's history started it. */
async function childRun(client: Client, parentId: string, parentRunId: string, childId: string): Promise<string> {
  const history = await client.workflow.getHandle(parentId, parentRunId).fetchHistory();
  for (const e of history.events ?? []) {
    const started = e.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
    if (started?.workflowId === childId && started.runId) return started.runId;
  }
  throw new Error(`${parentId} started no ${childId}`);
}

/** The worker's identity as the SDK makes it by default: `<pid>@<hostname>`. */
const pidOf = (identity: string) => Number(identity.split('@')[0]);

describe(`a migration on a Temporal cluster with two workers (pgbench scale ${SCALE})`, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'pgtransit-cluster-'));
  let cluster: Cluster;
  let client: Client;
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;
  const workers: (WorkerProcess | null)[] = [null, null];
  /** Every pid each worker slot ran as. */
  const pids: number[][] = [[], []];
  let taskQueue = '';
  let finished = false;
  let supervisor: NodeJS.Timeout | undefined;
  let load: Workload | null = null;
  const t0 = Date.now();
  const note = (line: string) => process.stdout.write(`  [${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}\n`);

  before(async () => {
    // Whichever started is stopped by after(), even when the other failed.
    const [c, pair] = await Promise.allSettled([startCluster({ scratch }), startPair()]);
    if (c.status === 'fulfilled') cluster = c.value;
    if (pair.status === 'fulfilled') ({ source, target, stop: stopPair } = pair.value);
    if (c.status === 'rejected') throw c.reason;
    if (pair.status === 'rejected') throw pair.reason;
    note(`cluster up: frontend ${cluster.address}, Temporal's PostgreSQL on port ${cluster.db.port}`);
    client = new Client({ connection: await Connection.connect({ address: cluster.address }) });
    assert.equal(await prepareSource(source, SCALE), 0, 'pgbench -i');
  });

  after(async () => {
    finished = true;
    if (supervisor) clearInterval(supervisor);
    await load?.kill();
    await Promise.all(workers.map((w) => w?.kill()));
    await client?.connection.close().catch(() => undefined);
    await cluster?.stop();
    await stopPair?.();
    rmSync(scratch, { recursive: true, force: true });
  });

  function startWorkerIn(slot: number): void {
    const w = spawnWorker(cluster.address, taskQueue);
    workers[slot] = w;
    pids[slot]!.push(w.pid);
  }

  it('shares the full load between the workers, survives a worker kill and a history restart, and completes', async () => {
    taskQueue = uniqueName('cluster');
    const sourceUrl = source.url({ database: 'app' });
    const targetUrl = target.url({ database: 'app' });
    const parsed = parsePlan({
      name: uniqueName('cluster'),
      source: { url: envRef(sourceUrl) },
      target: { url: envRef(targetUrl) },
      mode: 'full+cdc',
      fullLoad: { parallelism: 4, chunkSizeMB: 1 },
      // A drain that cannot reach the fence fails the switchover in two minutes, not the default ten.
      switchover: { verify: 'checksum', drainTimeoutSeconds: 120 },
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const plan: Plan = parsed.plan;
    startWorkerIn(0);
    startWorkerIn(1);
    // A worker that exits by itself is started again (a killed one is restarted by the test).
    supervisor = setInterval(() => {
      workers.forEach((w, slot) => {
        if (w && (w.child.exitCode !== null || w.child.signalCode !== null) && !finished) {
          note(`worker ${slot} exited by itself: ${w.output().slice(-500)}`);
          startWorkerIn(slot);
        }
      });
    }, 500);
    load = new Workload(source);
    await sleep(1000);

    const workflowId = workflowIds(plan.name).migration;
    const handle = await client.workflow.start(migrationWorkflow, { args: [plan], taskQueue, workflowId });
    const databaseId = childIds(workflowId).database('app');
    const status = async (): Promise<DatabaseStatus | null> =>
      client.workflow
        .getHandle(databaseId)
        .query(databaseStatusQuery)
        .catch(() => null);
    const ended = async () => {
      const d = await handle.describe().catch(() => null);
      if (d && d.status.name !== 'RUNNING') {
        const outcome = await handle.result().then(
          (r) => JSON.stringify(r),
          (e: Error) => (e.cause as Error | undefined)?.message ?? e.message,
        );
        throw new Error(`the migration ended (${d.status.name}): ${outcome}`);
      }
    };

    // Mid-load: a fifth of the chunks copied, most still to come.
    const midLoad = await waitFor(
      'a fifth of the full load',
      async () => {
        await ended();
        const s = await status();
        if (s?.phase === 'failed') throw new Error(`the migration failed: ${s.error}`);
        return s?.phase === 'full_load' && s.totals.chunksTotal > 0 && s.totals.chunksDone * 5 >= s.totals.chunksTotal
          ? s
          : null;
      },
      600_000,
      status,
    );
    note(`full load at ${midLoad.totals.chunksDone}/${midLoad.totals.chunksTotal} chunks: kill -9 of worker 0`);
    const killed = workers[0]!;
    workers[0] = null;
    await killed.kill('SIGKILL');
    const afterKill = await waitFor('the status after the kill', status, 60_000);
    await sleep(1500);
    startWorkerIn(0);
    assert.ok(
      midLoad.totals.chunksTotal >= 8,
      `the load is split into enough chunks to share (${midLoad.totals.chunksTotal})`,
    );

    await waitFor(
      'incremental',
      async () => {
        await ended();
        const s = await status();
        if (s?.phase === 'failed') throw new Error(`the migration failed: ${s.error}`);
        return s?.phase === 'incremental';
      },
      900_000,
      status,
    );
    const loaded = await status();
    note(`incremental after a load of ${loaded?.totals.chunksTotal} chunks: restarting the history service`);
    await sleep(2000);
    const restartedAt = Date.now();
    await cluster.restart('history', { signal: 'SIGKILL', downMs: 2000 });
    note('history service back');

    // Recovered: a change-stream report made after the restart, with lag under the switchover's bound.
    await waitFor(
      'lag under the bound, reported after the history restart',
      async () => {
        await ended();
        const s = await status();
        const fresh = s?.cdc?.reportedAt !== undefined && Date.parse(s.cdc.reportedAt) > restartedAt;
        return fresh && s?.phase === 'incremental' && (s.cdc?.lagBytes ?? Infinity) <= plan.switchover.maxLagBytes;
      },
      600_000,
      async () => ({ status: await status(), history: cluster.logTail('history', 10) }),
    );

    await load.endPgbench();
    await load.stopWriter();
    note('switchover');
    const reports = await handle.executeUpdate(switchoverUpdate);
    assert.ok(reports, 'the switchover update answered');
    finished = true;
    clearInterval(supervisor);
    const result = (await handle.result()) as { phase: string };
    note(`migration ${result.phase}`);

    // From history: which worker processes completed the load's copyChunk activities.
    const runId = await childRun(client, workflowId, handle.firstExecutionRunId, databaseId);
    const chunks = await chunkCompletions(client, databaseId, runId);
    const bySlot = [0, 1].map((slot) =>
      [...chunks.byIdentity].filter(([who]) => pids[slot]!.includes(pidOf(who))).reduce((n, [, k]) => n + k, 0),
    );
    note(
      `copyChunk: ${chunks.scheduled} scheduled; completed by worker 0 ${bySlot[0]} (pids ${pids[0]!.join(', ')}), ` +
        `worker 1 ${bySlot[1]} (pid ${pids[1]!.join(', ')}); identities ${[...chunks.byIdentity.keys()].join(', ')}`,
    );

    const diffs = await diffDatabases(sourceUrl, targetUrl);
    const sequences = await diffSequences(sourceUrl, targetUrl);
    const total = (k: 'lost' | 'duplicated' | 'different') => diffs.reduce((n, d) => n + d[k], 0);
    note(
      `compared ${diffs.length} tables, ${diffs.reduce((n, d) => n + d.sourceRows, 0)} source rows: ` +
        `lost ${total('lost')}, duplicated ${total('duplicated')}, different ${total('different')}; sequences differing ${sequences.length}`,
    );

    assert.equal(result.phase, 'completed');
    assert.equal(afterKill.phase, 'full_load', 'the worker was killed during the full load');
    assert.ok(afterKill.totals.chunksDone < afterKill.totals.chunksTotal, 'chunks were left to copy after the kill');
    assert.ok(bySlot[0]! > 0, 'worker 0 completed copyChunk activities of the load');
    assert.ok(bySlot[1]! > 0, 'worker 1 completed copyChunk activities of the load');
    assert.ok(
      bySlot[0]! + bySlot[1]! >= midLoad.totals.chunksTotal,
      'every chunk was completed by one of the two workers',
    );
    assert.ok(diffs.length >= 4, 'the pgbench tables and the sample tables were compared');
    assert.deepEqual(
      diffs.filter((d) => d.lost || d.duplicated || d.different),
      [],
    );
    assert.deepEqual(sequences, []);
  });
});
