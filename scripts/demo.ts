/**
 * The demo: an embedded PostgreSQL 15 source with a sample shop and an application
 * that keeps writing, an empty embedded PostgreSQL 17 target, a local Temporal dev
 * server and a worker. It runs the assessment, the migration (schema, full load,
 * change capture), the switchover through the Update, and a checksum verification.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../src/dev/embedded-postgres';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../src/dev/sample-data';
import { portOpen, startDevServer, type DevServer } from '../src/dev/temporal-cli';
import { startWriter } from '../src/dev/writer';
import { loadPlanFile } from '../src/plan/load';
import { connectClient } from '../src/temporal/client';
import { temporalConfig } from '../src/temporal/config';
import { createWorker } from '../src/temporal/worker';
import { renderFailure, renderReport, runPrecheck } from '../src/cli/precheck';
import {
  migrationStatus,
  renderStatus,
  renderSwitchover,
  renderVerify,
  startMigration,
  switchover,
  verifyMigration,
} from '../src/cli/migration';

const step = (s: string) => console.log(`\n== ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  step('starting PostgreSQL 15 (source) and 17 (target)');
  const [source, target] = await Promise.all([startPostgres({ major: 15 }), startPostgres({ major: 17 })]);
  let server: DevServer | undefined;
  try {
    await source.query('CREATE DATABASE shop');
    await source.query(SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL, [], 'shop');
    console.log(`source ${source.url({ password: '***' })}\ntarget ${target.url({ password: '***' })}`);
    // The plan names the connections by reference; the worker resolves them from its environment.
    process.env.SOURCE_DATABASE_URL = source.url({ database: 'shop' });
    process.env.TARGET_DATABASE_URL = target.url({ database: 'shop' });

    let config = temporalConfig();
    const [host, port] = config.address.split(':');
    if (await portOpen(host!, Number(port))) {
      step(`using the Temporal server already at ${config.address}`);
    } else {
      step('starting the Temporal dev server');
      server = await startDevServer({
        dbFile: join(mkdtempSync(join(tmpdir(), 'pgtransit-demo-')), 'temporal.sqlite'),
        quiet: true,
      });
      console.log(`Temporal ${server.address}, Web UI ${server.uiAddress}`);
    }
    // A task queue of its own, so that no other worker (without these env vars) picks the work up.
    config = { ...config, address: server?.address ?? config.address, taskQueue: `pgtransit-demo-${process.pid}` };
    const { worker, connection } = await createWorker({ config });
    const client = await connectClient(config);

    const name = `shop-move-${process.pid}`;
    const planPath = join(mkdtempSync(join(tmpdir(), 'pgtransit-plan-')), 'plan.yaml');
    writeFileSync(
      planPath,
      `name: ${name}
source: { url: env:SOURCE_DATABASE_URL }
target: { url: env:TARGET_DATABASE_URL }
exclude: { tables: [public.audit_log] }
mode: full+cdc
fullLoad: { parallelism: 2, chunkSizeMB: 1 }
switchover: { maxLagBytes: 1048576, verify: checksum }
`,
    );
    const plan = loadPlanFile(planPath);
    const outcome = await worker.runUntil(async () => {
      step(`assessment (precheckWorkflow) of plan ${planPath}`);
      const pre = await runPrecheck(client, plan, config.taskQueue);
      console.log(pre.report ? renderReport(pre.report) : renderFailure(pre.failure));
      if (!pre.report?.ok) return 2;

      step('the application starts writing to the source');
      const writer = startWriter(source.url({ database: 'shop' }), { truncate: true });
      await sleep(1000);

      step(`migration ${plan.name}: schema, full load, change capture`);
      const started = await startMigration(client, plan, config.taskQueue);
      console.log(`started ${started.workflowId}`);
      for (let i = 0; ; i++) {
        await sleep(1000);
        const s = await migrationStatus(client, plan.name).catch(() => null);
        const d = s?.databases[0];
        if (d)
          console.log(
            `  ${d.phase.padEnd(12)} ${d.totals.chunksDone}/${d.totals.chunksTotal} chunks, ${d.totals.rows} ` +
              `rows copied${d.cdc ? `, ${d.cdc.transactions} transactions applied, lag ${d.cdc.lagBytes ?? '?'} bytes` : ''}`,
          );
        if (d?.phase === 'incremental' && (d.cdc?.rounds ?? 0) >= 1) break;
        if (s && ['FAILED', 'CANCELLED', 'TERMINATED'].includes(s.execution)) {
          console.log(renderStatus(s));
          return 1;
        }
        if (i > 300) throw new Error('the migration did not reach incremental within 5 minutes');
      }
      await sleep(3000);

      step('switchover (the application is still writing: it is fenced, its sessions end)');
      const report = await switchover(client, plan.name);
      console.log(renderSwitchover(report));
      const writes = await writer.stop();
      console.log(`the application wrote ${writes.transactions} transactions before the fence`);

      step('status');
      console.log(renderStatus(await migrationStatus(client, plan.name)));

      step('verification: row counts and checksums of every table, source against target');
      const v = await verifyMigration(client, plan.name, config.taskQueue, true);
      console.log(renderVerify(v));
      return v.report.equal ? 0 : 2;
    });
    await client.connection.close();
    await connection.close();
    return outcome;
  } finally {
    await server?.stop();
    await Promise.all([source.stop(), target.stop()]);
  }
}

main().then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
