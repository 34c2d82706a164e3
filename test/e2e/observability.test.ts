/**
 * Observability of a real full+cdc migration under writes, run by a `pgtransit worker` process
 * started with --metrics-port and --log-json: its Prometheus endpoint is scraped during the full
 * load, during change capture and after the switchover (the counters move, the SDK's metrics are
 * there too); every log line is JSON with the migration, database, phase and table; the webhook
 * receives the phase changes and the switchover's outcome; a list query by phase finds the
 * migration. The webhook's URL (its token) appears in no log line.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/dev/embedded-postgres';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../src/dev/sample-data';
import { startWriter } from '../../src/dev/writer';
import { databaseStatusQuery, switchoverUpdate } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';
import { migrationWorkflow } from '../../workflows';
import { planFor, uniqueName } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { sleep, waitFor } from '../helpers/wait';
import { startWebhook, type Webhook } from '../helpers/webhook';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

const root = join(__dirname, '..', '..');

/** The value of one series (labels matched as given), 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) total += Number(m[3]);
  }
  return total;
}

describe('metrics, JSON logs, notifications and search attributes of a real migration', () => {
  const stack = useStack({ sourceSql: SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL });
  let worker: WorkerProcess | undefined;
  let hook: Webhook | undefined;
  after(async () => {
    await worker?.kill('SIGTERM');
    await hook?.close();
  });

  it('scrapes moving counters, logs JSON lines with their context, and calls the webhook', async () => {
    const { temporal, source, target } = stack;
    hook = await startWebhook(randomBytes(12).toString('hex'));
    const variable = `PGT_TEST_WEBHOOK_${randomBytes(4).toString('hex')}`;
    process.env[variable] = hook.url;
    // The plan first: the worker inherits the environment variables its references name.
    const plan = planFor(source, target, {
      mode: 'full+cdc',
      exclude: { tables: ['public.audit_log'] },
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
      // Streams that end every few seconds: the slot's retained WAL is measured when one ends.
      cdc: { roundSeconds: 1, streamSeconds: 3 },
      notify: { webhook: `env:${variable}` },
    });
    const port = await freePort();
    const taskQueue = uniqueName('obs');
    worker = spawnWorker(temporal.env.address, taskQueue, {
      args: ['--metrics-port', `127.0.0.1:${port}`, '--log-json'],
      env: { PGTRANSIT_LOG_LEVEL: 'INFO' },
    });
    const scrape = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      return r.ok ? r.text() : null;
    };
    await waitFor('the metrics endpoint', () => scrape().catch(() => null), 60_000);

    const labels = { migration: plan.name, database: 'app' };
    const workflowId = workflowIds(plan.name).migration;
    const writer = startWriter(source.url({ database: 'app' }), { truncate: true });
    await sleep(500);
    const handle = await temporal.env.client.workflow.start(migrationWorkflow, { args: [plan], taskQueue, workflowId });
    const child = temporal.env.client.workflow.getHandle(childIds(workflowId).database('app'));
    const status = () => child.query(databaseStatusQuery).catch(() => null);

    // The full load: rows, bytes and chunks counted per table as chunks commit.
    const state = async () => ({ status: await status(), worker: worker!.output().slice(-3000) });
    const loading = await waitFor(
      'rows copied in the metrics',
      async () => {
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING') throw new Error(`the migration ended: ${JSON.stringify(await state())}`);
        const text = await scrape();
        return text && sample(text, 'pgtransit_rows_copied', labels) > 0 && text;
      },
      120_000,
      state,
    );
    assert.ok(sample(loading, 'pgtransit_bytes_copied', labels) > 0);
    assert.ok(sample(loading, 'pgtransit_chunks_copied', labels) >= 1);
    assert.ok(sample(loading, 'pgtransit_rows_copied', { ...labels, table: 'public.customers' }) >= 0);
    assert.match(loading, /^temporal_[a-z_]+/m, "the SDK's own metrics are on the same endpoint");

    await waitFor(
      'incremental',
      async () => (await status())?.phase === 'incremental',
      300_000,
      async () => {
        const s = await status();
        return { phase: s?.phase, steps: s?.steps.slice(-4), retrying: s?.retrying, error: s?.error, cdc: s?.cdc };
      },
    );
    const listed: string[] = [];
    await waitFor('the list query by phase', async () => {
      listed.length = 0;
      const query = `PgtransitPhase='incremental' AND PgtransitSourceDatabase='app' AND WorkflowId='${workflowId}'`;
      for await (const w of temporal.env.client.workflow.list({ query })) listed.push(w.workflowId);
      return listed.length > 0;
    });
    assert.deepEqual(listed, [workflowId]);

    // Change capture: applied changes by kind move between two scrapes while the writer writes.
    const applied = (text: string) => sample(text, 'pgtransit_changes_applied', labels);
    const before = await waitFor('applied changes in the metrics', async () => {
      const text = await scrape();
      return text && applied(text) > 0 && text;
    });
    const moved = await waitFor('the counters to move', async () => {
      const text = await scrape();
      return text && applied(text) > applied(before) && text;
    });
    assert.ok(sample(moved, 'pgtransit_changes_applied', { ...labels, kind: 'insert' }) > 0);
    // Counted as they commit (a report may come mid-batch, its changes counted and its transactions not yet).
    await waitFor('transactions applied in the metrics', async () => {
      const text = await scrape();
      return text && sample(text, 'pgtransit_transactions_applied', labels) > 0;
    });
    assert.match(moved, new RegExp(`^pgtransit_lag_bytes\\{[^}]*migration="${plan.name}"`, 'm'));
    assert.match(moved, new RegExp(`^pgtransit_lag_seconds\\{[^}]*migration="${plan.name}"`, 'm'));
    // Measured when a stream ends (every streamSeconds).
    await waitFor('the retained WAL gauge', async () => {
      const text = await scrape();
      return text && new RegExp(`^pgtransit_retained_wal_bytes\\{[^}]*migration="${plan.name}"`, 'm').test(text);
    });
    assert.equal(sample(moved, 'pgtransit_database_phase', { ...labels, phase: 'incremental' }), 1);
    assert.equal(sample(moved, 'pgtransit_database_phase', { ...labels, phase: 'full_load' }), 0);

    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    await waitFor('lag under the bound', async () => {
      const s = await status();
      return s?.cdc && (s.cdc.lagBytes ?? Infinity) <= plan.switchover.maxLagBytes;
    });
    const { reports } = await handle.executeUpdate(switchoverUpdate);
    assert.equal((await handle.result()).phase, 'completed');

    const done = await waitFor('the switchover in the metrics', async () => {
      const text = await scrape();
      return (
        text && sample(text, 'pgtransit_switchovers', { migration: plan.name, outcome: 'completed' }) === 1 && text
      );
    });
    const downtime = sample(done, 'pgtransit_switchover_downtime_seconds', labels);
    assert.ok(Math.abs(downtime - reports[0]!.writeDowntimeMs / 1000) < 0.01, `downtime ${downtime}`);
    assert.equal(sample(done, 'pgtransit_database_phase', { ...labels, phase: 'completed' }), 1);
    // What the dashboard and the alerts query is there (conflicts and retries only once they happen).
    const ops =
      readFileSync(join(root, 'ops/prometheus/alerts.yml'), 'utf8') +
      readFileSync(join(root, 'ops/grafana/pgtransit.json'), 'utf8');
    for (const m of new Set(ops.match(/pgtransit_[a-z_]+/g)))
      if (m !== 'pgtransit_conflicts' && m !== 'pgtransit_activity_retries')
        assert.match(done, new RegExp(`^${m}\\{`, 'm'), `${m} is scraped`);

    // The webhook heard the phases and the outcome.
    const mine = hook.received.filter((n) => n.migration === plan.name);
    const phases = mine.filter((n) => n.kind === 'phase').map((n) => n.phase);
    for (const p of ['prepare', 'incremental', 'completed']) assert.ok(phases.includes(p), `${p} in ${phases}`);
    const outcome = mine.find((n) => n.kind === 'switchover');
    assert.equal(outcome?.outcome, 'completed');
    assert.equal(outcome?.reports?.[0]?.writeDowntimeMs, reports[0]!.writeDowntimeMs);

    // Every line the worker wrote is a JSON object with the four fields; activities fill them in.
    const lines = worker
      .output()
      .split('\n')
      .filter((l) => l.trim());
    assert.ok(lines.length > 0);
    const entries = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return assert.fail(`not a JSON line: ${l}`);
      }
    });
    for (const e of entries)
      for (const k of ['migration', 'database', 'phase', 'table']) assert.ok(k in e, `${k}: ${JSON.stringify(e)}`);
    const chunk = entries.find((e) => e.message === 'chunk copied' && e.migration === plan.name);
    assert.ok(chunk, 'a chunk copied line');
    assert.equal(chunk.database, 'app');
    assert.equal(chunk.phase, 'full_load');
    assert.match(String(chunk.table), /^public\./);
    const round = entries.find((e) => e.message === 'change stream round ended' && e.migration === plan.name);
    assert.equal(round?.phase, 'incremental');
    assert.equal(round?.database, 'app');
    assert.ok(entries.some((e) => e.message === 'notification delivered' && e.migration === plan.name));
    assert.ok(!worker.output().includes(hook.token), "the webhook's URL is in the worker's output");
  });
});
