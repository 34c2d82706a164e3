/** The `pgtransit` command. */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { PgTransitError } from '../errors';
import { loadPlanFile, planJsonSchema } from '../plan/load';
import { temporalConfig } from '../temporal/config';
import { connectClient } from '../temporal/client';
import { CODEC_KEY_VARIABLE, codecFromEnvironment } from '../temporal/codec';
import { DEFAULT_CODEC_PORT, DEV_UI_ORIGINS, startCodecServer, type CodecServer } from '../temporal/codec-server';
import { runWorkerUntilSignal } from '../temporal/worker';
import { workerCommand } from './worker';
import { startDevServer, defaultStateDir } from '../dev/temporal-cli';
import { exitCode, renderFailure, renderReport, runPrecheck } from './precheck';
import {
  CommandRefused,
  abortMigration,
  migrationStatus,
  parseStartTime,
  renderAbortedBeforeStart,
  renderScheduled,
  renderStatus,
  renderRollback,
  scheduledStart,
  renderSwitchover,
  renderVerify,
  reverseCommand,
  runningMigration,
  startMigration,
  switchover,
  verifyMigration,
} from './migration';
import { migrate } from './standalone';
import { planDiffExitCode, renderPlanDiff, runPlanDiff } from './plan-diff';
import { pauseSignal, resumeSignal } from '../model/messages';
import { formatSeconds } from '../model/format';
import { workflowIds } from '../model/names';
import { Connection, type Client } from '@temporalio/client';
import { registerSearchAttributes } from '../temporal/search-attributes';
import { join } from 'node:path';

const USAGE = `pgtransit: live migration of PostgreSQL databases, run by Temporal

Usage:
  pgtransit dev [--port 7233] [--ui-port 8233] [--db-file FILE] [--codec-port 8888]
                                   local Temporal dev server (SQLite state) and a worker, in the foreground;
                                   with PGTRANSIT_CODEC_KEY set, also the codec server for its Web UI
  pgtransit migrate -f PLAN [--switchover ask|auto|manual] [--db-file FILE] [--ui-port 8233]
                                   everything on this machine: the dev server (started unless one listens at
                                   TEMPORAL_ADDRESS), a worker, the migration (resumed when running) with live
                                   progress, the switchover (ask: y/N here; auto; manual: pgtransit switchover)
  pgtransit worker [--metrics-port PORT] [--log-json]
                                   a worker on TEMPORAL_ADDRESS / PGTRANSIT_TASK_QUEUE; Prometheus metrics on
                                   PORT (or host:port), JSON log lines on stdout
  pgtransit plan check -f PLAN     validate a plan file (JSON or YAML)
  pgtransit plan diff -f PLAN [--json]
                                   dry run, changing nothing: what would be created on the target (after
                                   mapping), copied (rows, bytes, chunks), left out and by which pattern,
                                   renamed, roles, what the source gets; the assessment's failing items;
                                   exit 0 the plan would run, 2 it would not
  pgtransit plan schema [-o FILE]  print the plan's JSON Schema
  pgtransit precheck -f PLAN [--json]
                                   run the assessment; exit 0 ready, 2 some check failed, 1 other error
  pgtransit start -f PLAN [--at TIME]
                                   start the migration (workflow migration-<name>) and print its id; --at
                                   2026-12-24T02:00:00Z starts it then (status shows it scheduled, abort cancels)
  pgtransit status NAME [--json] [--watch]
                                   phase, per-table progress, throughput, ETA, warnings
  pgtransit abort NAME             cancel: copies stop, slot and publication dropped, target left as is
  pgtransit switchover NAME [--json]
                                   fence the source, drain, copy sequences, verify, finish; prints the report
  pgtransit rollback NAME [--json]
                                   switchover.reverse: fence the target, drain the reverse stream, sequences
                                   back, the source writable again; prints the report
  pgtransit finish NAME            switchover.reverse: end the reverse stream without rollback (slot and
                                   publication on the target dropped; the source stays read-only)
  pgtransit verify NAME [--json] [--checksum] [--rows [--table T]... [--limit N]]
                                   compare source and target per table; exit 2 on any difference;
                                   --rows names the rows that differ (missing, extra, different)
  pgtransit pause NAME | resume NAME
                                   stop / restart applying changes (resume also retries after a conflict)
  pgtransit codec-server [--port 8888] [--host 127.0.0.1] [--cors-origin URL]... [--namespace NS]...
                                   decrypt for the Temporal CLI (--codec-endpoint) and Web UI (Codec Server)

A command that cannot be done (an unknown or finished migration, a start of a name already
running, a switchover that is not possible now) does nothing, says why, and exits 2.

Environment:
  TEMPORAL_ADDRESS      default 127.0.0.1:7233
  TEMPORAL_NAMESPACE    default default
  PGTRANSIT_TASK_QUEUE  default pgtransit
  PGTRANSIT_PG_BIN      folder holding pg_dump/pg_restore (else Debian's folders and PATH)
  PGTRANSIT_CODEC_KEY   file:PATH or env:NAME of a 32-byte key (base64 or hex): encrypts every payload
                        the workers and the CLI store in Temporal (unset: no encryption)
  PGTRANSIT_CODEC_PREVIOUS_KEYS
                        comma-separated keys in the same forms that only decrypt (after a rotation)
  PGTRANSIT_METRICS_PORT
                        port or host:port of the worker's Prometheus endpoint (SDK and migration metrics)
  PGTRANSIT_LOG_FORMAT  json: one JSON object per log line (migration, database, phase, table); default text
  PGTRANSIT_LOG_LEVEL   TRACE, DEBUG, INFO, WARN, ERROR (default WARN; INFO with json)`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'dev':
      return dev(rest);
    case 'migrate':
      return migrate(rest);
    case 'worker':
      return workerCommand(rest);
    case 'plan':
      return plan(rest);
    case 'precheck':
      return precheck(rest);
    case 'start':
      return start(rest);
    case 'status':
      return status(rest);
    case 'abort':
      return abort(rest);
    case 'switchover':
      return switchoverCmd(rest);
    case 'rollback':
    case 'finish':
      return reverseCmd(command, rest);
    case 'verify':
      return verifyCmd(rest);
    case 'pause':
    case 'resume':
      return signalCmd(command, rest);
    case 'codec-server':
      return codecServerCmd(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    default:
      console.error(`unknown command "${command}"\n\n${USAGE}`);
      return 1;
  }
}

async function dev(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      'ui-port': { type: 'string' },
      'db-file': { type: 'string' },
      'codec-port': { type: 'string' },
    },
  });
  const uiPort = values['ui-port'] ? portOption(values['ui-port'], '--ui-port') : 8233;
  // With the key set, the dev Web UI decodes through a codec server of its own, so it shows plaintext.
  const codec = codecFromEnvironment();
  const codecServer = codec
    ? await startCodecServer({
        codec,
        port: values['codec-port'] ? portOption(values['codec-port'], '--codec-port') : DEFAULT_CODEC_PORT,
        corsOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
        log: (line) => console.error(`codec server: ${line}`),
      })
    : undefined;
  let server: Awaited<ReturnType<typeof startDevServer>>;
  try {
    server = await startDevServer({
      port: values.port ? portOption(values.port, '--port') : undefined,
      uiPort,
      dbFile: values['db-file'] ?? join(defaultStateDir(), 'temporal.sqlite'),
      uiCodecEndpoint: codecServer?.url,
    });
  } catch (e) {
    await codecServer?.close();
    throw e;
  }
  const config = { ...temporalConfig(), address: server.address };
  console.log(
    `Temporal dev server on ${server.address}, Web UI ${server.uiAddress}; worker on task queue ${config.taskQueue}. Ctrl-C stops both.`,
  );
  // A state file from before the search attributes lacks them: the worker would refuse the namespace.
  const connection = await Connection.connect({ address: server.address });
  try {
    const added = await registerSearchAttributes(connection, config.namespace);
    if (added.length)
      console.log(`registered the search attributes ${added.join(', ')} in namespace ${config.namespace}`);
  } finally {
    await connection.close();
  }
  if (codecServer) {
    console.log(
      `Payloads are encrypted (key ${codec!.keyId}); the Web UI decodes them through the codec server on ${codecServer.url}, ` +
        `the Temporal CLI with --codec-endpoint ${codecServer.url}.`,
    );
  }
  try {
    await runWorkerUntilSignal({ config });
  } finally {
    await server.stop();
    await codecServer?.close();
  }
  return 0;
}

function portOption(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name} ${value}: not a port number; give one from 1 to 65535 (0 picks a free one)`);
  }
  return port;
}

async function codecServerCmd(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'cors-origin': { type: 'string', multiple: true },
      namespace: { type: 'string', multiple: true },
    },
  });
  const codec = codecFromEnvironment();
  if (!codec) {
    throw new Error(
      `the codec server needs the key the workers encrypt with: set ${CODEC_KEY_VARIABLE}=file:PATH (or env:NAME) as on the workers`,
    );
  }
  const corsOrigins = values['cors-origin']?.length ? values['cors-origin'] : DEV_UI_ORIGINS;
  const server: CodecServer = await startCodecServer({
    codec,
    host: values.host,
    port: values.port ? portOption(values.port, '--port') : DEFAULT_CODEC_PORT,
    corsOrigins,
    namespaces: values.namespace,
    log: (line) => console.error(line),
  });
  console.log(`codec server on ${server.url} (key ${codec.keyId}); Web UI origins allowed: ${corsOrigins.join(', ')}`);
  console.log(`  Temporal CLI: temporal workflow show --workflow-id ID --codec-endpoint ${server.url}`);
  console.log(
    `  Web UI: Codec Server settings (navigation bar) > ${server.url}, or TEMPORAL_CODEC_ENDPOINT=${server.url}`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  return 0;
}

async function plan(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'check') {
    const { values } = parseArgs({ args: rest, options: { file: { type: 'string', short: 'f' } } });
    if (!values.file) throw new PgTransitError('InvalidPlan', 'plan check needs -f PLAN');
    const p = loadPlanFile(values.file);
    console.log(
      `${values.file}: plan ${p.name} is valid (mode ${p.mode}, databases ` +
        `${p.databases?.join(', ') ?? "the source URL's"}, parallelism ${p.fullLoad.parallelism})`,
    );
    return 0;
  }
  if (sub === 'schema') {
    const { values } = parseArgs({ args: rest, options: { output: { type: 'string', short: 'o' } } });
    const text = JSON.stringify(planJsonSchema(), null, 2) + '\n';
    if (values.output) writeFileSync(values.output, text);
    else process.stdout.write(text);
    return 0;
  }
  if (sub === 'diff') {
    const { values } = parseArgs({
      args: rest,
      options: { file: { type: 'string', short: 'f' }, json: { type: 'boolean' } },
    });
    if (!values.file) throw new PgTransitError('InvalidPlan', 'plan diff needs -f PLAN');
    const p = loadPlanFile(values.file);
    return withClient(async (client, config) => {
      const outcome = await runPlanDiff(client, p, config.taskQueue);
      if (values.json) console.log(JSON.stringify(outcome.diff ?? { ok: false, failure: outcome.failure }, null, 2));
      else console.log(outcome.diff ? renderPlanDiff(outcome.diff) : renderFailure(outcome.failure));
      return planDiffExitCode(outcome);
    });
  }
  console.error(
    'usage: pgtransit plan check -f PLAN | pgtransit plan diff -f PLAN [--json] | pgtransit plan schema [-o FILE]',
  );
  return 1;
}

async function precheck(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: 'string', short: 'f' }, json: { type: 'boolean' } } });
  if (!values.file) throw new PgTransitError('InvalidPlan', 'precheck needs -f PLAN');
  const p = loadPlanFile(values.file);
  const config = temporalConfig();
  const client = await connectClient(config);
  try {
    const outcome = await runPrecheck(client, p, config.taskQueue);
    if (values.json) console.log(JSON.stringify(outcome.report ?? { ok: false, failure: outcome.failure }, null, 2));
    else console.log(outcome.report ? renderReport(outcome.report) : renderFailure(outcome.failure));
    return exitCode(outcome);
  } finally {
    await client.connection.close();
  }
}

async function withClient<T>(
  fn: (client: Client, config: ReturnType<typeof temporalConfig>) => Promise<T>,
): Promise<T> {
  const config = temporalConfig();
  const client = await connectClient(config);
  try {
    return await fn(client, config);
  } finally {
    await client.connection.close();
  }
}

async function start(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { file: { type: 'string', short: 'f' }, at: { type: 'string' } } });
  if (!values.file) throw new PgTransitError('InvalidPlan', 'start needs -f PLAN');
  const startAt = values.at === undefined ? undefined : parseStartTime(values.at, new Date());
  const p = loadPlanFile(values.file);
  return withClient(async (client, config) => {
    const r = await startMigration(client, p, config.taskQueue, { startAt });
    if (r.existing)
      throw new CommandRefused(
        `migration ${p.name} is already running (workflow ${r.workflowId}, run ${r.runId}, started ${r.startedAt}): ` +
          `nothing was started, and ${values.file} was not applied. Follow it with pgtransit status ${p.name} ` +
          `--watch; to start it over, stop it first with pgtransit abort ${p.name}`,
      );
    if (startAt) {
      const wait = formatSeconds(Math.max(0, Math.round((startAt.getTime() - Date.now()) / 1000)));
      console.log(
        `scheduled ${r.workflowId} to start at ${startAt.toISOString()} (in ${wait}; run ${r.runId}); ` +
          `nothing runs before then, and pgtransit abort ${p.name} cancels it`,
      );
    } else console.log(`started ${r.workflowId} (run ${r.runId})`);
    console.log(
      `follow it: pgtransit status ${p.name} --watch   (or the Web UI, or temporal workflow describe --workflow-id ${r.workflowId})`,
    );
    return 0;
  });
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);

async function status(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, watch: { type: 'boolean' } },
  });
  const name = positionals[0];
  if (!name) throw new Error('usage: pgtransit status NAME [--json] [--watch]');
  return withClient(async (client) => {
    for (;;) {
      // Not started yet: no worker has run it, so there is no status to query.
      const scheduled = await scheduledStart(client, name);
      if (scheduled) {
        if (values.json) console.log(JSON.stringify({ execution: 'RUNNING', scheduled }, null, 2));
        else {
          if (values.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          console.log(renderScheduled(name, scheduled));
        }
        if (!values.watch) return 0;
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      const s = await migrationStatus(client, name);
      if (values.json) console.log(JSON.stringify(s, null, 2));
      else {
        if (values.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
        console.log(renderStatus(s));
      }
      if (!values.watch || TERMINAL.has(s.execution)) return s.execution === 'FAILED' ? 2 : 0;
      await new Promise((r) => setTimeout(r, 2000));
    }
  });
}

async function abort(args: string[]): Promise<number> {
  const name = args[0];
  if (!name) throw new Error('usage: pgtransit abort NAME');
  return withClient(async (client) => {
    const s = await abortMigration(client, name);
    console.log('scheduled' in s ? renderAbortedBeforeStart(name, s.scheduled, s.ended) : renderStatus(s));
    return 0;
  });
}

async function switchoverCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const name = positionals[0];
  if (!name) throw new Error('usage: pgtransit switchover NAME [--json]');
  return withClient(async (client) => {
    try {
      const r = await switchover(client, name);
      console.log(values.json ? JSON.stringify(r, null, 2) : renderSwitchover(r));
      return 0;
    } catch (e) {
      const cause = (e as { cause?: Error }).cause;
      const message = cause?.message ?? (e as Error).message;
      console.error(
        values.json ? JSON.stringify({ ok: false, error: message }) : `switchover refused or failed: ${message}`,
      );
      return 2;
    }
  });
}

async function reverseCmd(which: 'rollback' | 'finish', args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } });
  const name = positionals[0];
  if (!name) throw new CommandRefused(`usage: pgtransit ${which} NAME [--json]`);
  return withClient(async (client) => {
    try {
      if (which === 'rollback') {
        const r = await reverseCommand(client, name, 'rollback');
        console.log(values.json ? JSON.stringify(r, null, 2) : renderRollback(r));
      } else {
        const r = await reverseCommand(client, name, 'finish');
        console.log(
          values.json
            ? JSON.stringify(r, null, 2)
            : `reverse stream of ${r.databases.join(', ')} finished: its slot and publication on the target and the ` +
                "source's state schema are dropped; the source stays read-only (the application lives on the target)",
        );
      }
      return 0;
    } catch (e) {
      if (e instanceof CommandRefused) throw e;
      const cause = (e as { cause?: Error }).cause;
      const message = cause?.message ?? (e as Error).message;
      console.error(values.json ? JSON.stringify({ ok: false, error: message }) : `${which} failed: ${message}`);
      return 2;
    }
  });
}

const VERIFY_USAGE = 'pgtransit verify NAME [--json] [--checksum] [--rows [--table T]... [--limit N]]';

async function verifyCmd(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      checksum: { type: 'boolean' },
      rows: { type: 'boolean' },
      table: { type: 'string', multiple: true },
      limit: { type: 'string' },
    },
  });
  const name = positionals[0];
  if (!name) throw new CommandRefused(`usage: ${VERIFY_USAGE}`);
  const limit = values.limit === undefined ? 10 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new CommandRefused(`--limit must be a whole number of rows, 1 or more (got ${values.limit})`);
  if ((values.table || values.limit !== undefined) && !values.rows)
    throw new CommandRefused(`--table and --limit go with --rows: ${VERIFY_USAGE}`);
  const rows = values.rows ? { limit, ...(values.table ? { tables: values.table } : {}) } : undefined;
  return withClient(async (client, config) => {
    const v = await verifyMigration(client, name, config.taskQueue, Boolean(values.checksum), rows);
    console.log(values.json ? JSON.stringify(v, null, 2) : renderVerify(v));
    return v.report.equal ? 0 : 2;
  });
}

async function signalCmd(which: 'pause' | 'resume', args: string[]): Promise<number> {
  const name = args[0];
  if (!name) throw new Error(`usage: pgtransit ${which} NAME`);
  return withClient(async (client) => {
    const handle = await runningMigration(client, name, which);
    await handle.signal(which === 'pause' ? pauseSignal : resumeSignal);
    console.log(`${which} sent to ${workflowIds(name).migration}`);
    return 0;
  });
}

/** An error and what caused it (a failed workflow's message is only "Workflow execution failed"). */
function withCauses(e: Error): string {
  const messages = [e.message];
  for (let c = e.cause; c instanceof Error && messages.length < 5; c = c.cause) messages.push(c.message);
  return messages.filter((m, i) => m && m !== messages[i - 1]).join(': ');
}

/** Entry point of bin/pgtransit.js. */
export function cli(): void {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e) => {
      // An invalid plan is a failed check (2), a refused command too; anything else, Temporal unreachable included, is 1.
      console.error(e instanceof Error ? withCauses(e) : e);
      process.exitCode =
        (e instanceof PgTransitError && e.type === 'InvalidPlan') || e instanceof CommandRefused ? 2 : 1;
    },
  );
}
