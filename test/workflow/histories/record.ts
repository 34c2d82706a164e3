/**
 * Records workflow histories from real runs (real Temporal dev server, real worker, real
 * PostgreSQL) into test/workflow/histories/*.json, for the replay test. A history
 * recorded before a change to workflow code must still replay after it: that is what
 * keeps running migrations alive across upgrades. Record new histories when a workflow
 * gains a branch (behind patched()); never re-record old ones to make a change pass.
 *
 *   npx tsx test/workflow/histories/record.ts scenario ...
 *
 * A history already recorded is not overwritten (pass --force to do it on purpose).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ensureTemporalCli } from '../../../src/dev/temporal-cli';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../../src/dev/sample-data';
import { startWriter } from '../../../src/dev/writer';
import { planFor, startPair, type PgServer } from '../../helpers/postgres';
import { startTemporal, type TemporalHarness } from '../../helpers/temporal';
import { sleep, waitFor } from '../../helpers/wait';
import { startWebhook } from '../../helpers/webhook';
import { migrationWorkflow, verifyWorkflow } from '../../../workflows';
import {
  databaseStatusQuery,
  pauseSignal,
  resumeSignal,
  switchoverRequestSignal,
  switchoverUpdate,
} from '../../../src/model/messages';
import { childIds, workflowIds } from '../../../src/model/names';

const here = __dirname;
const force = process.argv.includes('--force');
const exec = promisify(execFile);

interface Ctx {
  temporal: TemporalHarness;
  taskQueue: string;
  source: PgServer;
  target: PgServer;
}

/** The history as `temporal workflow show --output json` prints it: the JSON that historyFromJSON reads. */
async function save(ctx: Ctx, name: string, handle: WorkflowHandle, runId?: string): Promise<void> {
  const args = [
    'workflow',
    'show',
    '--workflow-id',
    handle.workflowId,
    '--address',
    ctx.temporal.env.address,
    '--output',
    'json',
    ...(runId ? ['--run-id', runId] : []),
  ];
  const file = join(here, `${name}.json`);
  if (existsSync(file) && !force) throw new Error(`${file} exists: a recorded history is kept (--force to replace it)`);
  const { stdout } = await exec(ensureTemporalCli(), args, { maxBuffer: 1 << 28 });
  const json = JSON.parse(stdout) as { events: unknown[] };
  writeFileSync(file, JSON.stringify({ workflowId: handle.workflowId, history: json }) + '\n');
  console.log(`saved ${file} (${json.events.length} events)`);
}

async function startMigration(ctx: Ctx, plan: ReturnType<typeof planFor>) {
  const workflowId = workflowIds(plan.name).migration;
  const handle = await ctx.temporal.env.client.workflow.start(migrationWorkflow, {
    args: [plan],
    taskQueue: ctx.taskQueue,
    workflowId,
  });
  const child = ctx.temporal.env.client.workflow.getHandle(childIds(workflowId).database('app'));
  const status = () => child.query(databaseStatusQuery).catch(() => null);
  const caughtUp = () =>
    waitFor(
      'incremental with small lag',
      async () => {
        const s = await status();
        return s?.phase === 'incremental' &&
          s.cdc &&
          (s.cdc.lagBytes ?? Infinity) <= plan.switchover.maxLagBytes &&
          !s.cdc.stalled
          ? s
          : null;
      },
      240_000,
      status,
    );
  return {
    handle,
    child,
    status,
    caughtUp,
    precheck: ctx.temporal.env.client.workflow.getHandle(childIds(workflowId).migrationPrecheck),
  };
}

const unfence = (ctx: Ctx) => ctx.source.query(`ALTER DATABASE app RESET default_transaction_read_only`);

const scenarios: Record<string, (ctx: Ctx) => Promise<void>> = {
  async 'full-cdc-switchover'(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_a',
      exclude: { tables: ['public.audit_log'] },
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
      switchover: { verify: 'checksum' },
    });
    const writer = startWriter(ctx.source.url({ database: 'app' }), { truncate: true });
    const m = await startMigration(ctx, plan);
    await waitFor('child', m.status);
    await m.handle.executeUpdate(switchoverUpdate).catch(() => undefined); // refused: not incremental yet
    await m.caughtUp();
    await sleep(2000);
    await writer.stop();
    await m.caughtUp();
    await m.handle.executeUpdate(switchoverUpdate);
    await m.handle.result();
    await save(ctx, 'full-cdc-switchover.parent', m.handle);
    await save(ctx, 'full-cdc-switchover.precheck', m.precheck);
    await save(ctx, 'full-cdc-switchover.database', m.child);
    await unfence(ctx);
  },

  // One stream open across batches, reporting progress (cdcProgress signals), paused, resumed, switched over.
  async 'long-stream'(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_long',
      exclude: { tables: ['public.audit_log'] },
      cdc: { roundSeconds: 1, streamSeconds: 600 },
    });
    const m = await startMigration(ctx, plan);
    await m.caughtUp();
    const writer = startWriter(ctx.source.url({ database: 'app' }));
    await sleep(3000);
    await writer.stop();
    await m.caughtUp();
    await sleep(2000);
    await m.handle.signal(pauseSignal);
    await waitFor('paused', async () => (await m.status())?.cdc?.streaming === false);
    await m.handle.signal(resumeSignal);
    await waitFor('streaming again', async () => (await m.status())?.cdc?.streaming === true);
    await m.caughtUp();
    await m.handle.executeUpdate(switchoverUpdate);
    await m.handle.result();
    await save(ctx, 'long-stream.parent', m.handle);
    await save(ctx, 'long-stream.database', m.child);
    await unfence(ctx);
  },

  async full(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      mode: 'full',
      targetDatabase: 'app_full',
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
      roles: true,
    });
    const m = await startMigration(ctx, plan);
    await m.handle.result();
    await save(ctx, 'full.parent', m.handle);
    await save(ctx, 'full.database', m.child);
  },

  /** mode full with tables in several chunks: their indexes built during the load (patched indexes-during-load). */
  async 'full-indexes-during-load'(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      mode: 'full',
      targetDatabase: 'app_full_idx',
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
    });
    const m = await startMigration(ctx, plan);
    await m.handle.result();
    await save(ctx, 'full-indexes-during-load.parent', m.handle);
    await save(ctx, 'full-indexes-during-load.database', m.child);
  },

  async 'switchover-failed'(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_fail',
      exclude: { tables: ['public.audit_log'] },
    });
    const m = await startMigration(ctx, plan);
    await m.caughtUp();
    await ctx.target.query(`DROP SEQUENCE invoice_numbers`, [], 'app_fail');
    await m.handle.executeUpdate(switchoverUpdate).catch(() => undefined);
    await ctx.target.query(`CREATE SEQUENCE invoice_numbers START 1000`, [], 'app_fail');
    await m.caughtUp();
    await m.handle.executeUpdate(switchoverUpdate);
    await m.handle.result();
    await save(ctx, 'switchover-failed.parent', m.handle);
    await save(ctx, 'switchover-failed.database', m.child);
    await unfence(ctx);
  },

  async 'stall-resume-abort'(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_stall',
      exclude: { tables: ['public.audit_log'] },
    });
    const m = await startMigration(ctx, plan);
    await m.caughtUp();
    await ctx.target.query(
      `INSERT INTO products (id, sku, title, price) VALUES (200000, 'TARGET', 'target row', 1)`,
      [],
      'app_stall',
    );
    await ctx.source.query(
      `INSERT INTO products (id, sku, title, price) VALUES (200000, 'SOURCE', 'source row', 2)`,
      [],
      'app',
    );
    await waitFor('stall', async () => (await m.status())?.cdc?.stalled, 60_000, m.status);
    await ctx.target.query(`DELETE FROM products WHERE id = 200000`, [], 'app_stall');
    await m.handle.signal(resumeSignal);
    await waitFor(
      'applied after resume',
      async () => (await ctx.target.query(`SELECT 1 FROM products WHERE id = 200000`, [], 'app_stall')).rowCount === 1,
      60_000,
      m.status,
    );
    await m.handle.signal(pauseSignal);
    await waitFor(
      'paused',
      async () => (await m.status())?.cdc?.paused && !(await m.status())?.cdc?.streaming,
      30_000,
      m.status,
    );
    await m.handle.signal(resumeSignal);
    await sleep(1500);
    await m.handle.cancel();
    await m.handle.result().catch(() => undefined);
    await save(ctx, 'stall-resume-abort.parent', m.handle);
    await save(ctx, 'stall-resume-abort.database', m.child);
    await ctx.source.query(`DELETE FROM products WHERE id = 200000`, [], 'app');
  },

  async 'continue-as-new'(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_can',
      exclude: { tables: ['public.audit_log'] },
      cdc: { roundSeconds: 1, streamSeconds: 1, roundsPerRun: 2 },
    });
    const m = await startMigration(ctx, plan);
    await m.caughtUp();
    const first = (await m.child.describe()).runId;
    const writer = startWriter(ctx.source.url({ database: 'app' }));
    await waitFor('continued as new', async () => (await m.child.describe()).runId !== first, 120_000);
    await sleep(2500);
    await writer.stop();
    await m.caughtUp();
    // fire and forget: the signal form of the switchover
    await m.handle.signal(switchoverRequestSignal);
    await m.handle.result();
    await save(ctx, 'continue-as-new.database-first-run', m.child, first);
    await save(ctx, 'continue-as-new.database-last-run', m.child);
    await save(ctx, 'continue-as-new.parent', m.handle);
    await unfence(ctx);
  },

  async 'snapshot-lost'(ctx) {
    await ctx.source.query(
      `CREATE TABLE IF NOT EXISTS bulk (id bigint PRIMARY KEY, payload text NOT NULL);
       INSERT INTO bulk SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 300000) g ON CONFLICT DO NOTHING; ANALYZE bulk;`,
      [],
      'app',
    );
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_lost',
      exclude: { tables: ['public.audit_log', 'public.notes'] },
      fullLoad: { parallelism: 1, chunkSizeMB: 2 },
    });
    const m = await startMigration(ctx, plan);
    await waitFor('a few chunks', async () => ((await m.status())?.totals.chunksDone ?? 0) >= 2, 120_000, m.status);
    // The snapshot's session ends: the remaining chunks are copied late.
    await ctx.source.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'pgtransit snapshot%'`,
    );
    await m.caughtUp();
    await m.handle.executeUpdate(switchoverUpdate);
    await m.handle.result();
    await save(ctx, 'snapshot-lost.parent', m.handle);
    await save(ctx, 'snapshot-lost.database', m.child);
    await unfence(ctx);
    await ctx.source.query(`DROP TABLE bulk`, [], 'app');
  },

  async 'precheck-failed'(ctx) {
    await ctx.source.query(`CREATE TABLE keyless (v int)`, [], 'app');
    const plan = planFor(ctx.source, ctx.target, { targetDatabase: 'app_nope' });
    const m = await startMigration(ctx, plan);
    await m.handle.result().catch(() => undefined);
    await save(ctx, 'precheck-failed.parent', m.handle);
    await save(ctx, 'precheck-failed.precheck', m.precheck);
    await ctx.source.query(`DROP TABLE keyless`, [], 'app');
  },

  // Recorded with the two-phase switchover (patched 'two-phase-switchover'): the database
  // children report prepared, the parent sends the verdict, a failed verify un-fences.
  async 'two-phase-switchover'(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_2p',
      exclude: { tables: ['public.audit_log'] },
      switchover: { verify: 'checksum' },
    });
    const writer = startWriter(ctx.source.url({ database: 'app' }), { truncate: true });
    const m = await startMigration(ctx, plan);
    await m.caughtUp();
    await sleep(2000);
    await writer.stop();
    await m.caughtUp();
    await m.handle.executeUpdate(switchoverUpdate);
    await m.handle.result();
    await save(ctx, 'two-phase-switchover.parent', m.handle);
    await save(ctx, 'two-phase-switchover.database', m.child);
    await unfence(ctx);
  },

  async 'two-phase-switchover-failed'(ctx) {
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_2p_fail',
      exclude: { tables: ['public.audit_log'] },
    });
    const m = await startMigration(ctx, plan);
    await m.caughtUp();
    // A row only on the target: the verify fails, the source is un-fenced, change capture goes on.
    await ctx.target.query(
      `INSERT INTO products (id, sku, title, price) VALUES (900001, 'TARGET-ONLY', 'target only', 1)`,
      [],
      'app_2p_fail',
    );
    await m.handle.executeUpdate(switchoverUpdate).catch(() => undefined);
    await ctx.target.query(`DELETE FROM products WHERE id = 900001`, [], 'app_2p_fail');
    await m.caughtUp();
    await m.handle.executeUpdate(switchoverUpdate);
    await m.handle.result();
    await save(ctx, 'two-phase-switchover-failed.parent', m.handle);
    await save(ctx, 'two-phase-switchover-failed.database', m.child);
    await unfence(ctx);
  },

  // Search attributes kept current and notify.webhook called: phases, a lag crossing, the switchover.
  async observed(ctx) {
    const hook = await startWebhook('record');
    process.env.PGT_RECORD_WEBHOOK = hook.url;
    try {
      const plan = planFor(ctx.source, ctx.target, {
        targetDatabase: 'app_obs',
        exclude: { tables: ['public.audit_log'] },
        cdc: { roundSeconds: 1, streamSeconds: 5 },
        notify: { webhook: 'env:PGT_RECORD_WEBHOOK', lagBytes: 1 },
      });
      const m = await startMigration(ctx, plan);
      await m.caughtUp();
      const writer = startWriter(ctx.source.url({ database: 'app' }));
      await waitFor('a lag notification', async () => hook.received.some((n) => n.kind === 'lag'), 60_000);
      await writer.stop();
      await m.caughtUp();
      await m.handle.executeUpdate(switchoverUpdate);
      await m.handle.result();
      await save(ctx, 'observed.parent', m.handle);
      await save(ctx, 'observed.database', m.child);
      await unfence(ctx);
    } finally {
      delete process.env.PGT_RECORD_WEBHOOK;
      await hook.close();
    }
  },

  async verify(ctx) {
    // Runs after full-cdc-switchover, whose target it compares with.
    const plan = planFor(ctx.source, ctx.target, {
      targetDatabase: 'app_a',
      exclude: { tables: ['public.audit_log'] },
    });
    const handle = await ctx.temporal.env.client.workflow.start(verifyWorkflow, {
      taskQueue: ctx.taskQueue,
      workflowId: workflowIds(plan.name).verify(0),
      args: [{ plan, databases: [{ database: 'app', targetDatabase: 'app_a' }], checksum: true }],
    });
    await handle.result();
    await save(ctx, 'verify', handle);
  },
};

async function main() {
  const names = process.argv.slice(2).filter((a) => a !== '--force');
  const unknown = names.filter((n) => !scenarios[n]);
  if (names.length === 0 || unknown.length)
    throw new Error(
      `name the scenarios to record (unknown: ${unknown.join(', ') || 'none given'}): ${Object.keys(scenarios).join(', ')}`,
    );
  const [temporal, pair] = await Promise.all([startTemporal(), startPair()]);
  await pair.source.query(SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL, [], 'app');
  const { worker, taskQueue } = await temporal.worker();
  const ctx: Ctx = { temporal, taskQueue, source: pair.source, target: pair.target };
  try {
    await worker.runUntil(async () => {
      for (const name of names) {
        console.log(`== ${name}`);
        await scenarios[name]!(ctx);
      }
    });
  } finally {
    await Promise.all([temporal.stop(), pair.stop()]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
