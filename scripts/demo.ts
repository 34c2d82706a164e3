/**
 * The demo: an embedded PostgreSQL 15 source with a sample shop database, an empty
 * embedded PostgreSQL 17 target, a local Temporal dev server and a worker, and the
 * migration assessment of the pair.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../src/dev/embedded-postgres';
import { SAMPLE_SCHEMA_SQL } from '../src/dev/sample-data';
import { portOpen, startDevServer, type DevServer } from '../src/dev/temporal-cli';
import { loadPlanFile } from '../src/plan/load';
import { connectClient } from '../src/temporal/client';
import { temporalConfig } from '../src/temporal/config';
import { createWorker } from '../src/temporal/worker';
import { renderFailure, renderReport, runPrecheck } from '../src/cli/precheck';

const step = (s: string) => console.log(`\n== ${s}`);

async function main(): Promise<number> {
  step('starting PostgreSQL 15 (source) and 17 (target)');
  const [source, target] = await Promise.all([startPostgres({ major: 15 }), startPostgres({ major: 17 })]);
  let server: DevServer | undefined;
  try {
    await source.query('CREATE DATABASE shop');
    await source.query(SAMPLE_SCHEMA_SQL, [], 'shop');
    await target.query('CREATE DATABASE shop');
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
      server = await startDevServer({ dbFile: join(mkdtempSync(join(tmpdir(), 'pgtransit-demo-')), 'temporal.sqlite'), quiet: true });
      console.log(`Temporal ${server.address}, Web UI ${server.uiAddress}`);
    }
    // A task queue of its own, so that no other worker (without these env vars) picks the work up.
    config = { ...config, address: server?.address ?? config.address, taskQueue: `pgtransit-demo-${process.pid}` };
    const { worker, connection } = await createWorker({ config });

    const planPath = join(mkdtempSync(join(tmpdir(), 'pgtransit-plan-')), 'plan.yaml');
    writeFileSync(
      planPath,
      `name: shop-move
source: { url: env:SOURCE_DATABASE_URL }
target: { url: env:TARGET_DATABASE_URL }
include: { schemas: [public] }
exclude: { tables: [public.audit_log] }
mode: full+cdc
fullLoad: { parallelism: 4 }
`,
    );
    step(`assessment (precheckWorkflow) of plan ${planPath}`);
    const plan = loadPlanFile(planPath);
    const client = await connectClient(config);
    const outcome = await worker.runUntil(runPrecheck(client, plan, config.taskQueue));
    console.log(outcome.report ? renderReport(outcome.report) : renderFailure(outcome.failure));
    await client.connection.close();
    await connection.close();
    return outcome.report?.ok ? 0 : 2;
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
