/**
 * `pgtransit migrate -f PLAN`: the whole migration on one machine. A local Temporal dev
 * server (started here with its SQLite state, or the one already listening), a worker in
 * this process, the migration started or, when one of the plan's name is running,
 * attached to; live progress; the switchover as `--switchover` says; the report.
 *
 * Ctrl-C stops the worker and the dev server this command started, in that order; the
 * migration stays in the server's state file, and the same command resumes it.
 */
import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { WorkflowNotFoundError, type Client, type Connection } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { workflowIds } from '../model/names';
import { registerSearchAttributes } from '../temporal/search-attributes';
import type { SwitchoverReport } from '../model/status';
import type { Plan } from '../plan/plan';
import { loadPlanFile } from '../plan/load';
import { connectClient } from '../temporal/client';
import { temporalConfig, type TemporalConfig } from '../temporal/config';
import { createWorker } from '../temporal/worker';
import { defaultStateDir, portOpen, startDevServer, type DevServer } from '../dev/temporal-cli';
import {
  CommandRefused,
  migrationStatus,
  renderSwitchover,
  startMigration,
  switchover,
  type FullStatus,
} from './migration';
import { progressLines, progressView, type ProgressView } from './progress';

export const MIGRATE_USAGE =
  'usage: pgtransit migrate -f PLAN [--switchover ask|auto|manual] [--db-file FILE] [--ui-port PORT]';

const SWITCHOVER_POLICIES = ['ask', 'auto', 'manual'] as const;
type SwitchoverPolicy = (typeof SWITCHOVER_POLICIES)[number];

export interface MigrateOptions {
  file: string;
  switchover: SwitchoverPolicy;
  /** The dev server's SQLite state (when this command starts the server). */
  dbFile: string;
  uiPort: number;
}

/** Exit code after Ctrl-C (128 + SIGINT): the migration was left to be resumed. */
export const INTERRUPTED = 130;

/** How often the status is read. */
const POLL_MS = 1000;
/** A status that cannot be read for this long (worker and server both up) ends the command. */
const STATUS_PATIENCE_MS = 120_000;
/** After a refused switchover request, the next one waits this long. */
const RETRY_REFUSED_MS = 5000;
/** `--switchover auto` tries this many switchovers before it leaves the next one to the operator. */
const AUTO_ATTEMPTS = 3;
/** After a failed switchover (the source un-fenced), the next attempt waits at least this long. */
const RETRY_FAILED_MS = 10_000;

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);
const CLOSED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'TIMED_OUT']);

/** Reads the flags; anything wrong is refused before anything starts. */
export function migrateOptions(args: string[]): MigrateOptions {
  let values: { file?: string; switchover?: string; 'db-file'?: string; 'ui-port'?: string };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        file: { type: 'string', short: 'f' },
        switchover: { type: 'string' },
        'db-file': { type: 'string' },
        'ui-port': { type: 'string' },
      },
    }));
  } catch (e) {
    throw new CommandRefused(`pgtransit migrate: ${(e as Error).message}\n${MIGRATE_USAGE}`);
  }
  if (!values.file) throw new CommandRefused(`pgtransit migrate needs the plan: -f PLAN\n${MIGRATE_USAGE}`);
  const policy = values.switchover ?? 'ask';
  if (!(SWITCHOVER_POLICIES as readonly string[]).includes(policy)) {
    throw new CommandRefused(
      `--switchover ${policy}: must be ask (the default: asks y/N here once the migration is ready), ` +
        'auto (switches over as soon as it is ready) or manual (waits for pgtransit switchover NAME from another shell)',
    );
  }
  const uiPort = values['ui-port'] === undefined ? 8233 : Number(values['ui-port']);
  if (!Number.isInteger(uiPort) || uiPort < 1 || uiPort > 65535) {
    throw new CommandRefused(`--ui-port ${values['ui-port']}: not a port number; give one from 1 to 65535`);
  }
  return {
    file: values.file,
    switchover: policy as SwitchoverPolicy,
    dbFile: values['db-file'] ?? join(defaultStateDir(), 'temporal.sqlite'),
    uiPort,
  };
}

function splitAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CommandRefused(`TEMPORAL_ADDRESS ${address}: not HOST:PORT; set it like 127.0.0.1:7233, or unset it`);
  }
  return { host, port };
}

/** SIGINT and SIGTERM: the first asks to stop in order, the second stops at once. */
class Interrupt {
  fired = false;
  private wake: (() => void) | undefined;
  readonly promise = new Promise<void>((resolve) => (this.wake = resolve));
  /** Called on a second signal, before exiting. */
  onForce: () => void = () => undefined;
  private readonly handler = () => this.fire();

  constructor() {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  fire(): void {
    if (this.fired) {
      this.onForce();
      process.exit(INTERRUPTED);
    }
    this.fired = true;
    this.wake?.();
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}

export async function migrate(args: string[]): Promise<number> {
  const options = migrateOptions(args);
  const plan = loadPlanFile(options.file);
  const config = temporalConfig();
  const { host, port } = splitAddress(config.address);
  const view = progressView();
  const interrupt = new Interrupt();
  let server: DevServer | undefined;
  let client: Client | undefined;
  let worker: { worker: Worker; connection: NativeConnection; running: Promise<void> } | undefined;
  let answers: Answers | undefined;
  interrupt.onForce = () => {
    server?.process.kill('SIGTERM');
  };
  // A crash of this process must not leave the server it started behind.
  const killServer = () => server?.process.kill('SIGTERM');
  process.once('exit', killServer);
  try {
    if (await listening(host, port)) {
      view.note(`using the Temporal server at ${config.address} (this command leaves it running)`);
    } else {
      if (!LOCAL_HOSTS.has(host)) {
        throw new Error(
          `cannot reach Temporal at ${config.address}, and pgtransit migrate starts a Temporal dev server only on ` +
            'this machine (127.0.0.1, localhost): start that server, or unset TEMPORAL_ADDRESS',
        );
      }
      const logFile = join(dirname(options.dbFile), 'temporal.log');
      view.note(`starting the Temporal dev server on ${config.address} (state ${options.dbFile}, log ${logFile})`);
      server = await startDevServer({
        ip: host,
        port,
        uiPort: options.uiPort,
        dbFile: options.dbFile,
        detached: true,
        logFile,
      }).catch((e: Error) => {
        throw new Error(`${e.message}; its output is in ${logFile}`);
      });
      view.note(`Temporal dev server on ${server.address}, Web UI ${server.uiAddress}`);
    }
    if (interrupt.fired) return stopped(view, plan, options, server);
    const address = server?.address ?? config.address;
    client = await connectClient({ ...config, address });
    if (server) {
      const added = await registerSearchAttributes(client.connection as Connection, config.namespace);
      if (added.length)
        view.note(`registered the search attributes ${added.join(', ')} in namespace ${config.namespace}`);
    }
    const previous = await describeLatest(client, plan.name);
    if (previous?.status === 'COMPLETED') {
      throw new CommandRefused(
        `migration ${plan.name} already completed (workflow ${workflowIds(plan.name).migration}, at ` +
          `${previous.closeTime}): nothing was started. pgtransit status ${plan.name} shows its report; to migrate ` +
          'again, give the plan another name',
      );
    }
    // A migration already running is served on its own task queue, whatever this environment says.
    const taskQueue = previous?.status === 'RUNNING' ? previous.taskQueue : config.taskQueue;
    const workerConfig: TemporalConfig = { ...config, address, taskQueue };
    view.note(`starting a worker on task queue ${taskQueue}`);
    const created = await createWorker({ config: workerConfig });
    worker = { ...created, running: created.worker.run() };
    if (interrupt.fired) return stopped(view, plan, options, server);

    const started = await startMigration(client, plan, taskQueue);
    if (started.existing) {
      view.note(
        `resuming migration ${plan.name}: workflow ${started.workflowId}, run ${started.runId}, started ${started.startedAt}`,
      );
    } else {
      view.note(`started migration ${plan.name}: workflow ${started.workflowId}, run ${started.runId}`);
    }
    answers = options.switchover === 'ask' ? new Answers(view, interrupt) : undefined;
    const follow = new Follow(client, plan, options.switchover, view, interrupt, answers);
    const failedWorker = worker.running.then(
      () => {
        if (!interrupt.fired) throw new Error('the worker stopped');
      },
      (e: Error) => {
        throw new Error(`the worker failed: ${e.message}`);
      },
    );
    const code = await Promise.race([follow.run(), failedWorker.then(() => INTERRUPTED)]);
    if (code === INTERRUPTED) return stopped(view, plan, options, server);
    return code;
  } finally {
    answers?.close();
    view.close();
    interrupt.dispose();
    if (worker) {
      if (worker.worker.getState() === 'RUNNING') worker.worker.shutdown();
      await worker.running.catch(() => undefined);
      await worker.connection.close().catch(() => undefined);
    }
    await client?.connection.close().catch(() => undefined);
    await server?.stop();
    process.off('exit', killServer);
  }
}

/** Whether something accepts connections there; an address that does not answer within a few seconds does not. */
function listening(host: string, port: number): Promise<boolean> {
  return Promise.race([portOpen(host, port), new Promise<boolean>((r) => setTimeout(() => r(false), 3000).unref())]);
}

async function describeLatest(client: Client, name: string) {
  try {
    const d = await client.workflow.getHandle(workflowIds(name).migration).describe();
    return { status: d.status.name, taskQueue: d.taskQueue, closeTime: d.closeTime?.toISOString() };
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return undefined;
    throw e;
  }
}

function stopped(view: ProgressView, plan: Plan, options: MigrateOptions, server: DevServer | undefined): number {
  view.close();
  const where = server
    ? `the Temporal dev server this command started is stopping; the migration is kept in ${options.dbFile}`
    : 'the Temporal server keeps running and keeps the migration';
  console.log(
    `interrupted: the worker is stopping (activities get up to 10 s to end) and ${where}. ` +
      `Run pgtransit migrate -f ${options.file} again to resume migration ${plan.name} where it is; meanwhile ` +
      `nothing is applied and the source's replication slot keeps its WAL. To cancel it instead, abort it ` +
      `(pgtransit abort ${plan.name}) while this command or pgtransit dev runs.`,
  );
  return INTERRUPTED;
}

/** The switchover question on stdin: y switches over now (or as soon as possible), anything else keeps waiting. */
class Answers {
  private rl: Interface | undefined;
  private asked = false;
  private readonly tty = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  /** Set by the follower: what a y, a n, or the end of stdin means. */
  onAnswer: (yes: boolean) => void = () => undefined;
  onClosed: () => void = () => undefined;

  constructor(
    private readonly view: ProgressView,
    private readonly interrupt: Interrupt,
  ) {}

  static readonly PROMPT = 'switch over now? [y/N] ';

  ask(question: string): void {
    if (!this.rl) {
      this.rl = createInterface({
        input: process.stdin,
        output: this.tty ? process.stdout : undefined,
        terminal: this.tty,
      });
      this.rl.setPrompt(Answers.PROMPT);
      // On a terminal readline reads keys raw: Ctrl-C arrives here, not as a signal.
      this.rl.on('SIGINT', () => this.interrupt.fire());
      this.rl.on('line', (line) => this.line(line));
      this.rl.on('close', () => {
        this.rl = undefined;
        this.view.setFooter(undefined);
        if (!this.interrupt.fired) this.onClosed();
      });
    }
    this.asked = true;
    this.view.note(question);
    this.showPrompt();
  }

  private showPrompt(): void {
    if (this.tty) this.view.setFooter(() => this.rl?.prompt(true));
    else this.view.note(Answers.PROMPT.trim());
  }

  private line(raw: string): void {
    if (this.tty) this.view.answered();
    const answer = raw.trim().toLowerCase();
    if (!this.asked) return;
    if (answer === 'y' || answer === 'yes') {
      this.view.setFooter(undefined);
      this.onAnswer(true);
    } else if (answer === '' || answer === 'n' || answer === 'no') {
      this.onAnswer(false);
      this.showPrompt();
    } else {
      this.view.note(`"${raw.trim()}": answer y to switch over now, or n to keep replicating`);
      this.showPrompt();
    }
  }

  close(): void {
    const rl = this.rl;
    this.rl = undefined;
    rl?.removeAllListeners('close');
    rl?.close();
    process.stdin.pause();
  }
}

/** Follows the migration to its end, drawing progress and switching over as the policy says. */
class Follow {
  private asked = false;
  private announced = false;
  private switching = false;
  private notBefore = 0;
  private failures = 0;
  private compared = false;
  /** Readiness counts only from stream reports after this time. */
  private since = Date.now();

  constructor(
    private readonly client: Client,
    private readonly plan: Plan,
    private policy: SwitchoverPolicy,
    private readonly view: ProgressView,
    private readonly interrupt: Interrupt,
    private readonly answers: Answers | undefined,
  ) {
    if (answers) {
      answers.onAnswer = (yes) => {
        if (yes) {
          this.view.note('switching over as soon as every database is ready');
          this.policy = 'auto';
        } else {
          this.view.note(
            `not switching over: the migration keeps applying changes. Answer y here when ready, or run ` +
              `pgtransit switchover ${plan.name} from another shell; Ctrl-C stops this command and keeps the migration`,
          );
        }
      };
      answers.onClosed = () => {
        if (this.policy !== 'ask') return;
        this.policy = 'manual';
        this.view.note(
          `no answer can come (stdin is closed): not switching over. Run pgtransit switchover ${plan.name} ` +
            'from another shell when ready',
        );
      };
    }
  }

  async run(): Promise<number> {
    const name = this.plan.name;
    let lastRead = Date.now();
    for (;;) {
      if (this.interrupt.fired) return INTERRUPTED;
      let s: FullStatus | undefined;
      try {
        s = await migrationStatus(this.client, name);
        lastRead = Date.now();
      } catch (e) {
        if (e instanceof CommandRefused || Date.now() - lastRead > STATUS_PATIENCE_MS) throw e;
      }
      if (this.interrupt.fired) return INTERRUPTED;
      if (s) {
        if (!this.compared && s.migration.plan) {
          this.compared = true;
          if (JSON.stringify(s.migration.plan) !== JSON.stringify(this.plan))
            this.view.note(
              `note: migration ${name} runs with the plan it was started with, which differs from this file; ` +
                `it carries on with its own (to apply this one: pgtransit abort ${name}, then start again)`,
            );
        }
        this.view.show(progressLines(s));
        if (CLOSED.has(s.execution)) return this.finish(s);
        this.maybeSwitchOver(s);
      }
      await Promise.race([new Promise((r) => setTimeout(r, POLL_MS)), this.interrupt.promise]);
    }
  }

  /**
   * Every database ready, by the migration's word and by a lag its stream reported since `since`:
   * after a resume the readiness recorded before the interruption may be stale (a backlog built up).
   */
  private ready(s: FullStatus): boolean {
    const m = s.migration;
    const maxLag = m.plan?.switchover.maxLagBytes ?? this.plan.switchover.maxLagBytes;
    const reported = (at: string | undefined) => at !== undefined && Date.parse(at) >= this.since;
    return (
      m.mode === 'full+cdc' &&
      m.databases.length > 0 &&
      m.databases.every((d) => d.ready) &&
      m.switchover?.state !== 'running' &&
      s.databases.every(
        (d) =>
          d.phase === 'incremental' &&
          d.cdc !== undefined &&
          (d.cdc.lagBytes ?? Infinity) <= maxLag &&
          reported(d.cdc.reportedAt ?? d.cdc.lastRoundAt),
      )
    );
  }

  private maybeSwitchOver(s: FullStatus): void {
    if (this.switching || Date.now() < this.notBefore || !this.ready(s)) return;
    const lag = s.databases.map((d) => `${d.database} lag ${d.cdc?.lagBytes ?? '?'} bytes`).join(', ');
    if (this.policy === 'auto') return this.switchOver();
    if (this.policy === 'ask' && !this.asked && this.answers) {
      this.asked = true;
      this.answers.ask(`ready for switchover (${lag}): the switchover fences the source, drains, verifies, finishes`);
    }
    if (this.policy === 'manual' && !this.announced) {
      this.announced = true;
      this.view.note(`ready for switchover (${lag}): run pgtransit switchover ${this.plan.name} from another shell`);
    }
  }

  private switchOver(): void {
    this.switching = true;
    this.view.note(`switching over ${this.plan.name}: fencing the source, draining, verifying`);
    switchover(this.client, this.plan.name).then(
      () => {
        this.switching = false;
      },
      (e: Error) => {
        this.switching = false;
        if (e instanceof CommandRefused) {
          // The readiness changed between the status and the request: try again shortly.
          this.view.note(`switchover not possible yet: ${e.message}`);
          this.notBefore = Date.now() + RETRY_REFUSED_MS;
          return;
        }
        const cause = (e as { cause?: Error }).cause?.message ?? e.message;
        this.failures++;
        if (this.failures < AUTO_ATTEMPTS) {
          // The source is un-fenced and back in incremental; a lag that grew is the usual cause.
          this.view.note(
            `switchover failed (attempt ${this.failures} of ${AUTO_ATTEMPTS}): ${cause}. Trying again once ready`,
          );
          this.since = Date.now();
          this.notBefore = this.since + RETRY_FAILED_MS;
          return;
        }
        this.policy = 'manual';
        this.announced = true;
        this.view.note(
          `switchover failed (attempt ${this.failures} of ${AUTO_ATTEMPTS}): ${cause}. Fix the cause, then run ` +
            `pgtransit switchover ${this.plan.name} from another shell; this command keeps following the migration`,
        );
      },
    );
  }

  private finish(s: FullStatus): number {
    const m = s.migration;
    this.view.close();
    if (s.execution !== 'COMPLETED') {
      const why = m.error ?? s.databases.find((d) => d.error)?.error ?? 'no reason recorded';
      console.error(`migration ${m.name} ended ${s.execution} in ${m.phase}: ${why}`);
      return 1;
    }
    if (m.mode === 'full') {
      const rows = s.databases.reduce((n, d) => n + d.totals.rows, 0);
      const tables = s.databases.reduce((n, d) => n + d.tables.length, 0);
      console.log(`migration ${m.name} completed: ${tables} tables, ${rows} rows copied (mode full: no switchover)`);
      return 0;
    }
    const reports: SwitchoverReport[] =
      m.switchover?.reports ?? s.databases.flatMap((d) => (d.switchover ? [d.switchover] : []));
    console.log(`migration ${m.name} completed\n\n${renderSwitchover({ reports })}`);
    return 0;
  }
}
