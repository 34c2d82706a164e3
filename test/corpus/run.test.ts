/**
 * The corpus runner (`npm run test:corpus`): every case of test/corpus loaded into a fresh
 * source database, assessed (refused cases must be refused, then fixed with fix.sql),
 * migrated with change capture while its workload runs, switched over, and compared with
 * the target row by row by test/corpus/compare.ts, which shares no code with pgtransit's
 * own verification.
 *
 *   CORPUS_CASES=pagila,chinook   these cases only
 *   CORPUS_SUBSET=fast            the small CI subset (cases.ts FAST_SUBSET)
 *   CORPUS_STALL_SECONDS=180      a case that makes no progress this long fails with its status
 *
 * One stack for all cases (PostgreSQL 15 -> 17, one Temporal dev server, one worker); each case
 * drops its databases on both sides at the end, whatever happened. A case fails as soon as the
 * database workflow reports it (phase failed, an error, a stalled change stream), not at the
 * test timeout.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { migrationWorkflow, precheckWorkflow } from '../../workflows';
import { databaseStatusQuery, statusQuery, switchoverUpdate } from '../../src/model/messages';
import { workflowIds } from '../../src/model/names';
import { compareLsn } from '../../src/model/lsn';
import type { DatabaseStatus, MigrationStatus } from '../../src/model/status';
import type { MigrationResult } from '../../src/model/workflows';
import type { PrecheckReport } from '../../src/model/report';
import type { Plan, PlanInput } from '../../src/plan/plan';
import { planFor, type PgServer } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { sleep } from '../helpers/wait';
import {
  caseDatabase,
  deepMerge,
  expectedRefusedTables,
  itemNames,
  runPsql,
  selectedCases,
  type CorpusCase,
} from './cases';
import { compareDatabases, differences, displayName, listRelations, summary, type DatabaseComparison } from './compare';
import pg from 'pg';

/** No change in the database workflow's progress for this long: the case is stuck. */
const STALL_MS = Number(process.env.CORPUS_STALL_SECONDS ?? 180) * 1000;
/** Any single wait (load, catch-up, switchover) longer than this fails the case even while it progresses. */
const WAIT_CAP_MS = 20 * 60_000;
const POLL_MS = 1000;

/**
 * What every case's plan starts from; case.json's "plan" is merged over it. Short rounds so
 * that lag is reported often; a drain that cannot reach the fence fails in two minutes, not ten.
 */
const PLAN_DEFAULTS: Partial<PlanInput> = {
  mode: 'full+cdc',
  fullLoad: { parallelism: 2 },
  cdc: { roundSeconds: 2 },
  switchover: { drainTimeoutSeconds: 120 },
};

interface CaseResult {
  name: string;
  outcome: string;
  comparison?: string;
  seconds: number;
}

/** A case that failed at a phase, with the database workflow's status when it did. */
class CaseFailure extends Error {
  constructor(
    readonly phase: string,
    message: string,
    readonly status?: DatabaseStatus | null,
  ) {
    super(message);
  }
}

/** Every message down a failure's cause chain (WorkflowFailedError -> ChildWorkflowFailure -> ApplicationFailure ...). */
function messages(e: unknown): string {
  const out: string[] = [];
  for (let x = e as { message?: string; cause?: unknown } | undefined; x && out.length < 6; x = x.cause as typeof x) {
    const m = x.message?.trim();
    if (m && !out.some((o) => o.includes(m))) out.push(m);
  }
  return out.join(' <- ') || String(e);
}

/** The parts of a database status that say why it is where it is. */
function statusDigest(s: DatabaseStatus | null | undefined): string {
  if (!s) return 'no database status (the database workflow has not started)';
  const steps = s.steps
    .slice(-5)
    .map((x) => `${x.step}${x.endedAt ? '' : ' (running)'}${x.detail ? `: ${x.detail}` : ''}`);
  const retrying = Object.values(s.retrying ?? {}).map(
    (r) => `${r.activity} attempt ${r.attempt} ${r.type}: ${r.error}`,
  );
  const cdc = s.cdc && {
    lagBytes: s.cdc.lagBytes,
    appliedLsn: s.cdc.appliedLsn,
    sourceLsn: s.cdc.sourceLsn,
    transactions: s.cdc.transactions,
    rounds: s.cdc.rounds,
    paused: s.cdc.paused,
    stalled: s.cdc.stalled,
  };
  return JSON.stringify({
    phase: s.phase,
    error: s.error,
    steps,
    retrying: retrying.length ? retrying : undefined,
    totals: s.totals,
    cdc,
    warnings: s.warnings.slice(-3),
  });
}

/** Changes whenever the migration does something: a step, rows or chunks copied, changes applied. */
function progress(s: DatabaseStatus | null): string {
  if (!s) return 'none';
  const last = s.steps.at(-1);
  return JSON.stringify([
    s.phase,
    s.steps.length,
    last?.endedAt,
    s.totals.rows,
    s.totals.bytes,
    s.totals.chunksDone,
    s.cdc?.appliedLsn,
    s.cdc?.transactions,
    s.switchover?.doneAt,
  ]);
}

/** Watches one migration: its database workflow's status, and the migration workflow's end. */
class Watch {
  private settled?: { ok: true; phase: string } | { ok: false; error: unknown };
  /** The migration workflow's result, asked for once: its settling and the watch's see the same promise. */
  readonly result: Promise<MigrationResult>;
  /** The last phase seen before failed/cancelled: where the case failed. */
  phase = 'precheck';
  last: DatabaseStatus | null = null;

  constructor(
    readonly handle: WorkflowHandle<typeof migrationWorkflow>,
    readonly child: WorkflowHandle,
  ) {
    this.result = handle.result();
    this.result.then(
      (r) => (this.settled = { ok: true, phase: r.phase }),
      (error: unknown) => (this.settled = { ok: false, error }),
    );
  }

  get ended(): boolean {
    return this.settled !== undefined;
  }

  status(): Promise<DatabaseStatus | null> {
    return this.child.query(databaseStatusQuery).catch(() => null);
  }

  parent(): Promise<MigrationStatus | null> {
    return this.handle.query(statusQuery).catch(() => null);
  }

  /**
   * Polls until `done` holds. Fails at once on a failed database workflow, an error in its
   * status, a stalled change stream or a migration workflow that ended; fails after STALL_MS
   * without progress, reporting the status.
   */
  async until(
    what: string,
    done: (s: DatabaseStatus | null) => boolean | Promise<boolean>,
    label?: (phase: string) => string,
  ): Promise<DatabaseStatus | null> {
    const started = Date.now();
    let mark = '';
    let markAt = Date.now();
    const at = () => (label ? label(this.phase) : this.phase);
    for (;;) {
      const s = await this.status();
      if (s) {
        this.last = s;
        if (s.phase !== 'failed' && s.phase !== 'cancelled') this.phase = s.phase;
      }
      if (s?.phase === 'failed' || s?.phase === 'cancelled') {
        const step = [...s.steps].reverse().find((x) => !x.endedAt) ?? s.steps.at(-1);
        throw new CaseFailure(
          `${at()}${step ? ` (step ${step.step})` : ''}`,
          `database workflow ${s.phase}: ${s.error ?? 'no error in status'}`,
          s,
        );
      }
      if (s?.cdc?.stalled) {
        const st = s.cdc.stalled;
        const details = st.details === undefined ? '' : ` ${JSON.stringify(st.details)}`;
        throw new CaseFailure(at(), `change capture stalled (${st.type}): ${st.reason}${details}`, s);
      }
      if (s?.error) throw new CaseFailure(at(), `status error: ${s.error}`, s);
      if (await done(s)) return s;
      const settled = this.settled;
      if (settled && !settled.ok) throw new CaseFailure(at(), messages(settled.error), this.last);
      if (settled?.ok)
        throw new CaseFailure(at(), `the migration ended in ${settled.phase} while waiting for ${what}`, this.last);
      const p = progress(s);
      if (p !== mark) {
        mark = p;
        markAt = Date.now();
      } else if (Date.now() - markAt > STALL_MS) {
        throw new CaseFailure(
          at(),
          `no progress for ${Math.round(STALL_MS / 1000)} s while waiting for ${what}; status: ${statusDigest(s)}`,
          s,
        );
      }
      if (Date.now() - started > WAIT_CAP_MS)
        throw new CaseFailure(at(), `still waiting for ${what} after ${WAIT_CAP_MS / 60_000} min`, s);
      await sleep(POLL_MS);
    }
  }

  /** Runs `p` (an Update, the result) while watching: a failure in status fails at once instead of hanging. */
  async during<T>(what: string, p: Promise<T>, label: (phase: string) => string): Promise<T> {
    let over = false;
    const guarded = p.finally(() => (over = true));
    guarded.catch(() => undefined);
    await this.until(what, () => over, label);
    return guarded;
  }
}

/** `p`, or a rejection with `message` after `ms`. */
function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Cancels what is still running (the migration drops its slot), then terminates what does not stop. */
async function stopMigration(handle: WorkflowHandle, child: WorkflowHandle): Promise<string[]> {
  const notes: string[] = [];
  const running = async (h: WorkflowHandle) => {
    try {
      return (await h.describe()).status.name === 'RUNNING';
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) return false;
      throw e;
    }
  };
  if (await running(handle)) {
    await handle.cancel().catch(() => undefined);
    const stopped = await withTimeout(handle.result(), 60_000, 'timeout').then(
      () => true,
      (e: Error) => e.message !== 'timeout',
    );
    if (!stopped) {
      notes.push('the migration did not stop within 60 s of cancellation: terminated');
      await handle.terminate('corpus runner cleanup').catch(() => undefined);
    }
  }
  if (await running(child)) {
    notes.push('the database workflow was still running: terminated');
    await child.terminate('corpus runner cleanup').catch(() => undefined);
  }
  return notes;
}

/** Slots of the case's database (a stopped migration may leave one), the read-only fence, both databases. */
async function dropCaseDatabases(source: PgServer, target: PgServer, db: string): Promise<void> {
  await source.query(
    `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`,
    [db],
  );
  for (let i = 0; ; i++) {
    try {
      await source.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [
        db,
      ]);
      break;
    } catch (e) {
      if (i >= 10) throw e; // still active: its walsender takes a moment to exit
      await sleep(500);
    }
  }
  const ident = pg.Client.prototype.escapeIdentifier(db);
  const exists = await source.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [db]);
  if (exists.rowCount) await source.query(`ALTER DATABASE ${ident} RESET default_transaction_read_only`);
  await source.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
  await target.query(`DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
}

/** The precheck of a refused case: it must fail, with source.primary_keys naming a table the note names. */
async function assertRefused(c: CorpusCase, report: PrecheckReport, source: PgServer, db: string): Promise<string> {
  const failing = report.items.filter((i) => i.status === 'fail');
  const list = failing.map((i) => `${i.id}: ${i.observed}`).join('\n  ');
  if (report.ok) throw new CaseFailure('precheck', `expected a refusal, but the precheck passed (${c.meta.expect})`);
  const keys = failing.find((i) => i.id === 'source.primary_keys');
  if (!keys) throw new CaseFailure('precheck', `refused, but source.primary_keys did not fail; failing:\n  ${list}`);
  const c1 = new pg.Client({ connectionString: source.url({ database: db }) });
  await c1.connect();
  const tables = await listRelations(c1)
    .then((rs) => rs.filter((r) => r.kind === 'r' || r.kind === 'p'))
    .finally(() => c1.end());
  const expected = expectedRefusedTables(c, tables);
  const text = `${keys.observed} ${keys.fix ?? ''}`;
  const named = expected.filter((t) => itemNames(text, t));
  if (named.length === 0) {
    // The item lists ten names and counts the rest: accept any fix.sql table among those shown.
    const truncated = /and \d+ more/.test(keys.observed);
    const fixedShown = expectedRefusedTables({ ...c, meta: { ...c.meta, expect: '' } }, tables).filter((t) =>
      itemNames(text, t),
    );
    if (!truncated || fixedShown.length === 0)
      throw new CaseFailure(
        'precheck',
        `source.primary_keys names none of the tables the note names (${expected.map(displayName).join(', ') || 'none found'}): ${keys.observed}`,
      );
  }
  const others = failing.filter((i) => i !== keys).map((i) => i.id);
  return `refused: ${failing.length} failing (${failing.map((i) => i.id).join(', ')}), source.primary_keys names ${
    named.map(displayName).join(', ') || 'fix.sql tables (list truncated)'
  }${others.length ? `; also failing: ${others.join(', ')}` : ''}`;
}

describe('migration corpus', () => {
  const cases = selectedCases();
  const results: CaseResult[] = [];
  // Registered before useStack's hook, so the table is printed before the stack stops.
  after(() => {
    const width = Math.max(4, ...results.map((r) => r.name.length));
    const ok = results.filter((r) => !r.outcome.startsWith('FAILED')).length;
    const cut = (t: string) => (t.length > 150 ? `${t.slice(0, 147)}...` : t);
    const lines = results.map(
      (r) => `${r.name.padEnd(width)} | ${cut(r.outcome)} | ${r.comparison ?? 'not compared'} | ${r.seconds} s`,
    );
    console.log(
      [
        '',
        `corpus: ${results.length} of ${cases.length} cases run, ${ok} migrated, ${results.length - ok} failed`,
        ...lines,
        '',
      ].join('\n'),
    );
  });
  const stack = useStack();

  for (const c of cases) {
    it(c.name, async () => {
      const { temporal, source, target, taskQueue } = stack;
      const client = temporal.env.client;
      const db = caseDatabase(c);
      const started = Date.now();
      const notes: string[] = [];
      let outcome = '';
      let comparison: DatabaseComparison | undefined;
      let failure: Error | undefined;
      let watch: Watch | undefined;
      let plan: Plan;
      try {
        plan = planFor(source, target, {
          ...deepMerge(PLAN_DEFAULTS, c.meta.plan),
          name: c.name,
          database: db,
          targetDatabase: db,
        });
      } catch (e) {
        const outcome = `FAILED at plan: ${(e as Error).message}`;
        results.push({ name: c.name, outcome, seconds: 0 });
        console.log(`${c.name} | ${outcome} | not compared | 0 s`);
        throw e;
      }
      const ids = workflowIds(plan.name);
      const handle = client.workflow.getHandle<typeof migrationWorkflow>(ids.migration);
      const child = client.workflow.getHandle(ids.database(db));
      try {
        await dropCaseDatabases(source, target, db);
        const ident = pg.Client.prototype.escapeIdentifier(db);
        await source.query(`CREATE DATABASE ${ident}`);
        await runPsql(source, db, c, 'schema.sql').catch((e: Error) => {
          throw new CaseFailure('schema.sql', e.message);
        });

        if (c.refused) {
          const precheck = client.workflow.execute(precheckWorkflow, {
            args: [plan],
            taskQueue,
            workflowId: ids.precheck,
          });
          const report = await withTimeout(
            precheck,
            STALL_MS,
            `the precheck did not finish in ${STALL_MS / 1000} s`,
          ).catch(async (e: unknown) => {
            await client.workflow
              .getHandle(ids.precheck)
              .terminate('corpus runner: precheck timed out')
              .catch(() => undefined);
            throw new CaseFailure('precheck', messages(e));
          });
          notes.push(await assertRefused(c, report, source, db));
          await runPsql(source, db, c, 'fix.sql').catch((e: Error) => {
            throw new CaseFailure('fix.sql', e.message);
          });
        }

        await client.workflow.start(migrationWorkflow, { args: [plan], taskQueue, workflowId: ids.migration });
        watch = new Watch(handle, child);
        const w = watch;
        const maxLag = plan.switchover.maxLagBytes;
        const caughtUp = (s: DatabaseStatus | null) =>
          s?.phase === 'incremental' && !!s.cdc && (s.cdc.lagBytes ?? Infinity) <= maxLag;
        await w.until('incremental with lag under the bound', caughtUp);

        await runPsql(source, db, c, 'workload.sql').catch((e: Error) => {
          throw new CaseFailure('workload.sql', e.message, w.last);
        });
        const walEnd = (await source.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`)).rows[0]!.lsn;
        const workloadEnd = Date.now();
        // The lag must be one measured after the workload, and the migration must agree the database is ready.
        await w.until(
          'the workload to be applied (lag under the bound, measured after it)',
          async (s) => {
            if (!caughtUp(s)) return false;
            const after = s!.cdc!.sourceLsn
              ? compareLsn(s!.cdc!.sourceLsn, walEnd) >= 0
              : Date.parse(s!.cdc!.lastRoundAt ?? '') > workloadEnd;
            return after && !!(await w.parent())?.databases.every((d) => d.ready);
          },
          (p) => `${p} (after the workload)`,
        );

        const switchover = async () => {
          for (let attempt = 0; ; attempt++) {
            try {
              return await handle.executeUpdate(switchoverUpdate);
            } catch (e) {
              // Readiness reaches the migration workflow by signal: a rejection may be a moment early.
              if (attempt < 5 && /not possible now/.test(messages(e))) {
                await sleep(2000);
                continue;
              }
              throw e;
            }
          }
        };
        const { reports } = await w
          .during('the switchover', switchover(), (p) => `switchover (${p})`)
          .catch((e: unknown) => {
            if (e instanceof CaseFailure) throw e;
            throw new CaseFailure(`switchover (${w.phase})`, messages(e), w.last);
          });
        const r = reports[0];
        if (r)
          notes.push(
            `switchover: write downtime ${r.writeDowntimeMs} ms, ${r.tablesVerified} tables verified, ${r.sequencesCopied} sequences copied`,
          );
        const result = await w.during('the workflow result', w.result, () => 'result');
        if (result.phase !== 'completed')
          throw new CaseFailure('result', `the migration ended in ${result.phase}, not completed`, w.last);

        comparison = await compareDatabases(source, target, db, db, plan).catch((e: Error) => {
          throw new CaseFailure('compare', e.message);
        });
        const diffs = differences(comparison);
        if (diffs.length) throw new CaseFailure('compare', `${diffs.length} difference(s): ${diffs.join('; ')}`);
        outcome = c.refused ? 'refused then migrated' : 'migrated';
      } catch (e) {
        failure = e as Error;
        const phase = e instanceof CaseFailure ? e.phase : (watch?.phase ?? 'setup');
        outcome = `FAILED at ${phase}: ${(e as Error).message.split('\n')[0]}`;
      } finally {
        try {
          if (
            watch ||
            (await handle.describe().then(
              () => true,
              () => false,
            ))
          )
            notes.push(...(await stopMigration(handle, child)));
          // A failure after the full load: what differs so far says where the changes went wrong.
          const loaded = ['catch_up', 'incremental', 'fencing', 'draining', 'finalizing'];
          if (failure && !comparison && watch && loaded.includes(watch.phase)) {
            comparison = await compareDatabases(source, target, db, db, plan).catch((e: Error) => {
              notes.push(`comparison after the failure: ${e.message}`);
              return undefined;
            });
            if (comparison) notes.push(...differences(comparison).map((d) => `after the failure: ${d}`));
          }
          await dropCaseDatabases(source, target, db);
        } catch (e) {
          notes.push(`cleanup: ${(e as Error).message}`);
          if (!failure) {
            failure = new CaseFailure('cleanup', (e as Error).message);
            outcome = `FAILED at cleanup: ${(e as Error).message}`;
          }
        }
        const seconds = Math.round((Date.now() - started) / 1000);
        const compared = comparison ? summary(comparison) : undefined;
        results.push({ name: c.name, outcome, comparison: compared, seconds });
        console.log(`${c.name} | ${outcome} | ${compared ?? 'not compared'} | ${seconds} s`);
        for (const n of notes) console.log(`  ${n}`);
      }
      if (failure) {
        const status =
          failure instanceof CaseFailure && failure.status !== undefined
            ? `\nstatus: ${statusDigest(failure.status)}`
            : '';
        // The outcome holds the message's first line; the rest (and the status) follow it.
        const rest = failure.message.split('\n').slice(1).join('\n');
        assert.fail([`${c.name}: ${outcome}`, rest, status.trim(), ...notes].filter(Boolean).join('\n'));
      }
    });
  }
});
