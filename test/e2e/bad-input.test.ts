/**
 * A catalogue of bad input, one case per test: a broken plan file, a reference the worker
 * cannot resolve, a server that refuses, a precheck item that fails, an operator command
 * that cannot be done. Each case asserts what the operator sees names the problem and the
 * fix, that it is final where a retry cannot help (InvalidPlan, a non-retryable failure
 * whose activity ran once, exit code 2), that it arrives within seconds (a bound against
 * retry loops, not a performance figure), and that the source was left untouched.
 *
 * One stack for the file (PostgreSQL 15 -> 17, Temporal, a worker); a second source with
 * wal_level = replica, a standby and a PostgreSQL 13 only for the cases that need them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startMigration, switchover } from '../../src/cli/migration';
import { freePort } from '../../src/dev/embedded-postgres';
import { ErrorType, PgTransitError } from '../../src/errors';
import { pauseSignal, resumeSignal, statusQuery } from '../../src/model/messages';
import { childIds, replicationNames, workflowIds } from '../../src/model/names';
import type { PrecheckReport } from '../../src/model/report';
import { loadPlanFile } from '../../src/plan/load';
import type { Plan } from '../../src/plan/plan';
import { envRef, planFor, startPostgres, uniqueName, type PgServer } from '../helpers/postgres';
import { runCli } from '../helpers/cli';
import { useStack } from '../helpers/stack';
import { assertUntouched, snapshotSource } from '../helpers/untouched';
import { waitFor } from '../helpers/wait';

const dir = mkdtempSync(join(tmpdir(), 'pgtransit-bad-input-'));

/** A refusal arrives within this: far above any honest answer, far below a retry loop's backoff. */
const WITHIN_MS = 30_000;
const SECRET = 'hunter2-not-for-history';

const APP_SQL =
  'CREATE TABLE items (id int PRIMARY KEY, v text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 50) g';

/** What the operator saw, and where the source is that must not have changed. */
interface Expect {
  /** Names what is wrong. */
  problem: RegExp;
  /** Names what to do about it. */
  fix: RegExp;
  /** Must not appear in anything the operator sees. */
  secret?: string;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

function assertSoon(ms: number): void {
  assert.ok(ms < WITHIN_MS, `the refusal took ${ms} ms: a retry loop?`);
}

function assertText(text: string, e: Expect): void {
  assert.match(text, e.problem, 'the message names the problem');
  assert.match(text, e.fix, 'the message names the fix');
  if (e.secret) assert.ok(!text.includes(e.secret), `the message must not echo the secret: ${text}`);
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected a failure');
}

/** The first ApplicationFailure down the cause chain (a child's failure carries its own as cause). */
function applicationFailure(e: unknown): ApplicationFailure {
  for (let c: unknown = e; c instanceof Error; c = c.cause) if (c instanceof ApplicationFailure) return c;
  assert.fail(`no ApplicationFailure in the chain of ${String(e)}`);
}

describe('bad input is refused at once, naming the problem and the fix, the source untouched', () => {
  const stack = useStack({ sourceSql: APP_SQL });
  /** PostgreSQL 15 with wal_level = replica. */
  let replica: PgServer;
  /** PostgreSQL 17 in recovery. */
  let standby: PgServer;
  /** PostgreSQL 13: older than the 17 source of the version case. */
  let old: PgServer;
  const role = (prefix: string) => ({
    user: `${prefix}_${uniqueName('r').slice(2)}`,
    password: `pw-${uniqueName('p')}`,
  });
  /** Source roles: one without REPLICATION, one with it but no SELECT on public.secrets. */
  const plain = role('plain');
  const replicator = role('replicator');
  /** Target roles: a superuser whose sessions are read-only by default, one that may not create databases. */
  const readOnlyAdmin = role('ro_admin');
  const noCreateDb = role('nocreatedb');

  before(async () => {
    const { source, target } = stack;
    [replica, standby, old] = await Promise.all([
      startPostgres({ major: 15, settings: { wal_level: 'replica' } }),
      startPostgres({ major: 17, standby: true }),
      startPostgres({ major: 13 }),
    ]);
    await replica.query('CREATE DATABASE app');
    await replica.query(APP_SQL, [], 'app');
    for (const db of ['shop', 'grants', 'clash', 'keyless', 'unlogged', 'same', 'leftover', 'deps', 'live', 'done'])
      await source.query(`CREATE DATABASE ${db}`);
    const shopSql =
      'CREATE TABLE customers (id int PRIMARY KEY, email text); CREATE TABLE orders (id int PRIMARY KEY, customer int, total numeric);' +
      "INSERT INTO customers SELECT g, g || '@example.com' FROM generate_series(1, 20) g; INSERT INTO orders SELECT g, g, g FROM generate_series(1, 20) g";
    await Promise.all([
      source.query(shopSql, [], 'shop'),
      source.query(shopSql, [], 'clash'),
      source.query(shopSql, [], 'same'),
      source.query(shopSql, [], 'leftover'),
      source.query(APP_SQL, [], 'live'),
      source.query(APP_SQL, [], 'done'),
      source.query(
        `CREATE TABLE open_data (id int PRIMARY KEY); CREATE TABLE secrets (id int PRIMARY KEY);
         CREATE ROLE ${plain.user} LOGIN PASSWORD '${plain.password}';
         CREATE ROLE ${replicator.user} LOGIN REPLICATION PASSWORD '${replicator.password}';
         GRANT SELECT ON open_data TO ${plain.user}, ${replicator.user};`,
        [],
        'grants',
      ),
      source.query('CREATE TABLE logs (at timestamptz, message text)', [], 'keyless'),
      source.query('CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY)', [], 'unlogged'),
      source.query(
        'CREATE TABLE base (id int PRIMARY KEY); CREATE TABLE kept (id int PRIMARY KEY); CREATE VIEW base_view AS SELECT id FROM base',
        [],
        'deps',
      ),
      stack.target.query('CREATE DATABASE v17'),
    ]);
    await stack.target.query('CREATE TABLE readings (id int PRIMARY KEY, value float8)', [], 'v17');
    for (const db of ['clash', 'ro_db', 'ro_role_db', 'legacy']) await target.query(`CREATE DATABASE ${db}`);
    await Promise.all([
      target.query('CREATE TABLE orders (id int PRIMARY KEY)', [], 'clash'),
      target.query('CREATE TABLE legacy_orders (id int PRIMARY KEY)', [], 'legacy'),
      target.query('ALTER DATABASE ro_db SET default_transaction_read_only = on'),
      target.query(
        `CREATE ROLE ${readOnlyAdmin.user} LOGIN SUPERUSER PASSWORD '${readOnlyAdmin.password}';
         ALTER ROLE ${readOnlyAdmin.user} SET default_transaction_read_only = on;
         CREATE ROLE ${noCreateDb.user} LOGIN PASSWORD '${noCreateDb.password}';`,
      ),
    ]);
  });
  after(() => Promise.all([replica?.stop(), standby?.stop(), old?.stop()]));

  describe('a plan file pgtransit refuses to load (PgTransitError InvalidPlan)', () => {
    const base = { name: 'bad-input', source: { url: 'env:SOURCE_URL' }, target: { url: 'env:TARGET_URL' } };
    const cases: (Expect & { name: string; file: string; text?: string; plan?: unknown })[] = [
      {
        name: 'malformed YAML',
        file: 'plan.yaml',
        text: 'name: bad-input\nsource: { url: env:SOURCE_URL\ntarget: { url: env:TARGET_URL }\n',
        problem: /plan\.yaml is not valid YAML: .+ at line \d+, column \d+/,
        fix: /correct the syntax there, then check the file with pgtransit plan check -f /,
      },
      {
        name: 'malformed YAML around a literal password: the place is named, the text is not echoed',
        file: 'plan.yaml',
        text: `name: bad-input\nsource:\n  url: postgres://app:${SECRET}@db/shop\n bad: 1\n`,
        problem: /plan\.yaml is not valid YAML: .+ at line 4, column 1/,
        fix: /correct the syntax there/,
        secret: SECRET,
      },
      {
        name: 'malformed JSON',
        file: 'plan.json',
        text: '{"name": "bad-input", "source": {"url": "env:SOURCE_URL"},}',
        problem: /plan\.json is not valid JSON: .+ at line 1, column \d+/,
        fix: /correct the syntax there, then check the file with pgtransit plan check -f /,
      },
      {
        name: 'malformed JSON around a literal password: the text is not echoed',
        file: 'plan.json',
        text: `{"name": "bad-input", "source": {"url": postgres://app:${SECRET}@db/shop}}`,
        problem: /plan\.json is not valid JSON: Unexpected token/,
        fix: /correct the syntax there/,
        secret: SECRET,
      },
      {
        name: 'a plan file that does not exist',
        file: 'missing/plan.yaml',
        problem: /cannot read plan file .*missing\/plan\.yaml: ENOENT/,
        fix: /check the path given with -f/,
      },
      {
        name: 'a list where the plan should be',
        file: 'plan.yaml',
        text: '- name: bad-input\n',
        problem: /^\(plan\): expected an object \(a YAML mapping\), got a list/m,
        fix: /write an object \(a YAML mapping\) here/,
      },
      {
        name: 'an unknown top-level field',
        file: 'plan.json',
        plan: { ...base, parallelism: 4 },
        problem: /^\(plan\): unknown field\(s\) "parallelism"/m,
        fix: /see schema\/plan\.schema\.json for the allowed fields/,
      },
      {
        name: 'an unknown nested field',
        file: 'plan.yaml',
        plan: { ...base, fullLoad: { paralelism: 4 } },
        problem: /^fullLoad: unknown field\(s\) "paralelism"/m,
        fix: /see schema\/plan\.schema\.json for the allowed fields/,
      },
      {
        name: 'a string where a number belongs',
        file: 'plan.yaml',
        plan: { ...base, fullLoad: { parallelism: '4' } },
        problem: /^fullLoad\.parallelism: expected a number, got a string/m,
        fix: /write the number without quotes/,
      },
      {
        name: 'a string where true or false belongs',
        file: 'plan.json',
        plan: { ...base, roles: 'yes' },
        problem: /^roles: expected true or false, got a string/m,
        fix: /write true or false without quotes/,
      },
      {
        name: 'a fraction where a whole number belongs',
        file: 'plan.json',
        plan: { ...base, cdc: { roundSeconds: 2.5 } },
        problem: /^cdc\.roundSeconds: expected a whole number, got a number/m,
        fix: /write a whole number here/,
      },
      {
        name: 'a missing source',
        file: 'plan.yaml',
        plan: { name: 'bad-input', target: base.target },
        problem: /^source: missing/m,
        fix: /add it, e\.g\. source: \{ url: env:SOURCE_DATABASE_URL \}/,
      },
      {
        name: 'a missing target',
        file: 'plan.yaml',
        plan: { name: 'bad-input', source: base.source },
        problem: /^target: missing/m,
        fix: /add it, e\.g\. target: \{ url: env:TARGET_DATABASE_URL \}/,
      },
      {
        name: 'a missing name',
        file: 'plan.json',
        plan: { source: base.source, target: base.target },
        problem: /^name: missing/m,
        fix: /add it, e\.g\. name: shop-move/,
      },
      {
        name: 'a literal password in a URL',
        file: 'plan.yaml',
        plan: { ...base, source: { url: `postgres://app:${SECRET}@db.example.com/shop` } },
        problem: /^source\.url: a literal password in a connection URL would be stored in the workflow history/m,
        fix: /put the URL in an environment variable or a file on the worker and write env:NAME or file:PATH here/,
        secret: SECRET,
      },
      {
        name: 'a literal password in the query string of a URL',
        file: 'plan.json',
        plan: { ...base, target: { url: `postgresql://app@db.example.com/shop?password=${SECRET}` } },
        problem: /^target\.url: a literal password in a connection URL/m,
        fix: /write env:NAME or file:PATH here/,
        secret: SECRET,
      },
      {
        name: 'a URL that is neither a reference nor postgres://',
        file: 'plan.yaml',
        plan: { ...base, source: { url: 'mysql://db.example.com/shop' } },
        problem: /^source\.url: not a connection reference/m,
        fix: /write env:NAME, file:PATH \(both resolved on the worker\) or a postgres:\/\/ URL without a password/,
      },
      {
        name: 'the same reference for source and target',
        file: 'plan.yaml',
        plan: { ...base, target: base.source },
        problem: /^target\.url: the same as source\.url: the migration would copy each database onto itself/m,
        fix: /point target\.url at the target server/,
      },
      {
        name: 'a bad name',
        file: 'plan.yaml',
        plan: { ...base, name: 'Shop Move' },
        problem: /^name: not a valid name/m,
        fix: /use lowercase letters, digits and hyphens, 2 to 48 characters/,
      },
      {
        name: 'a name too long for the slot it names',
        file: 'plan.json',
        plan: { ...base, name: `m${'x'.repeat(48)}` },
        problem: /^name: not a valid name/m,
        fix: /2 to 48 characters/,
      },
      {
        name: 'a negative switchover.maxLagBytes',
        file: 'plan.yaml',
        plan: { ...base, switchover: { maxLagBytes: -1 } },
        problem: /^switchover\.maxLagBytes: too small/m,
        fix: /write a number of at least 0/,
      },
      {
        name: 'a parallelism of 0',
        file: 'plan.yaml',
        plan: { ...base, fullLoad: { parallelism: 0 } },
        problem: /^fullLoad\.parallelism: too small/m,
        fix: /write a number of at least 1/,
      },
      {
        name: 'a chunk size above its maximum',
        file: 'plan.json',
        plan: { ...base, fullLoad: { chunkSizeMB: 100000 } },
        problem: /^fullLoad\.chunkSizeMB: too large/m,
        fix: /write a number of at most 65536/,
      },
      {
        name: 'a drain timeout below its minimum',
        file: 'plan.yaml',
        plan: { ...base, switchover: { drainTimeoutSeconds: 5 } },
        problem: /^switchover\.drainTimeoutSeconds: too small/m,
        fix: /write a number of at least 10/,
      },
      {
        name: 'a database listed twice',
        file: 'plan.yaml',
        plan: { ...base, databases: ['shop', 'shop'] },
        problem: /^databases\.1: database "shop" is listed twice/m,
        fix: /list each database once/,
      },
      {
        name: 'an empty list of databases',
        file: 'plan.json',
        plan: { ...base, databases: [] },
        problem: /^databases: an empty list migrates nothing/m,
        fix: /list at least one database, or leave databases out to migrate the one in the source URL/,
      },
      {
        name: 'an unknown mode',
        file: 'plan.yaml',
        plan: { ...base, mode: 'fast' },
        problem: /^mode: /m,
        fix: /must be one of "full", "full\+cdc"/,
      },
      {
        name: 'an unknown conflict policy',
        file: 'plan.json',
        plan: { ...base, cdc: { conflictPolicy: 'upsert' } },
        problem: /^cdc\.conflictPolicy: /m,
        fix: /must be one of "error", "ignore", "overwrite"/,
      },
      {
        name: 'a table pattern without its schema',
        file: 'plan.yaml',
        plan: { ...base, include: { tables: ['orders'] } },
        problem: /^include\.tables\.0: /m,
        fix: /expected schema\.table \(globs allowed: public\.\*, sales\.order_\?\)/,
      },
      {
        name: 'a mapping onto a glob',
        file: 'plan.yaml',
        plan: { ...base, mapping: { tables: { 'public.orders': 'archive.*' } } },
        problem: /^mapping\.tables\.public\.orders: /m,
        fix: /a mapping names one table: no \* or \?/,
      },
      {
        name: 'a table mapped onto itself',
        file: 'plan.yaml',
        plan: { ...base, mapping: { tables: { 'public.orders': 'public.orders' } } },
        problem: /^mapping\.tables\.public\.orders: maps public\.orders onto itself/m,
        fix: /remove the entry \(a table keeps its name unless mapped\)/,
      },
      {
        name: 'a schema mapped onto itself',
        file: 'plan.json',
        plan: { ...base, mapping: { schemas: { public: 'public' } } },
        problem: /^mapping\.schemas\.public: maps public onto itself/m,
        fix: /remove the entry \(a schema keeps its name unless mapped\)/,
      },
      {
        name: 'two tables mapped to one',
        file: 'plan.yaml',
        plan: { ...base, mapping: { tables: { 'public.orders': 'archive.t', 'public.customers': 'archive.t' } } },
        problem: /"public\.customers" and "public\.orders" would both become "archive\.t"/,
        fix: /map each table to its own name/,
      },
    ];

    for (const c of cases) {
      it(c.name, async () => {
        const path = join(mkdtempSync(join(dir, 'plan-')), c.file);
        if (c.text !== undefined || c.plan !== undefined)
          writeFileSync(path, c.text ?? (c.file.endsWith('.json') ? JSON.stringify(c.plan) : toYaml(c.plan)));
        const before = await snapshotSource(stack.source, 'app');
        const { value: e, ms } = await timed(() => rejection(Promise.resolve().then(() => loadPlanFile(path))));
        assert.ok(e instanceof PgTransitError, `expected a PgTransitError, got ${String(e)}`);
        assert.equal(e.type, ErrorType.InvalidPlan);
        assert.equal(e.retryable, false);
        assertText(e.message, c);
        assertSoon(ms);
        await assertUntouched(stack.source, 'app', before);
      });
    }
  });

  /** Starts the migration as `pgtransit start` does and waits for its failure. */
  async function failedStart(plan: Plan): Promise<{ error: WorkflowFailedError; workflowId: string; ms: number }> {
    const client = stack.temporal.env.client;
    const { value, ms } = await timed(async () => {
      const { workflowId } = await startMigration(client, plan, stack.taskQueue);
      return { workflowId, error: await rejection(client.workflow.getHandle(workflowId).result()) };
    });
    assert.ok(value.error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(value.error)}`);
    return { error: value.error, workflowId: value.workflowId, ms };
  }

  describe('a server or a reference the worker cannot use (a non-retryable failure, its activity run once)', () => {
    const good = () => planFor(stack.source, stack.target);
    const withUrl = (side: 'source' | 'target', url: string): Plan => ({ ...good(), [side]: { url } });
    const urlOf = (server: () => PgServer, o: Parameters<PgServer['url']>[0]) => () => server().url(o);
    const cases: (Expect & { name: string; type: ErrorType; plan: () => Plan | Promise<Plan> })[] = [
      {
        name: 'an env: reference that is not set on the worker',
        type: ErrorType.SecretUnresolved,
        plan: () => withUrl('source', 'env:PGT_UNSET_SOURCE_URL'),
        problem: /source url: environment variable PGT_UNSET_SOURCE_URL is not set on the worker/,
        fix: /export PGT_UNSET_SOURCE_URL=postgres:\/\/\.\.\. in the worker's environment/,
      },
      {
        name: 'a file: reference the worker cannot read',
        type: ErrorType.SecretUnresolved,
        plan: () => withUrl('target', 'file:/nonexistent/pgtransit/target-url'),
        problem: /target url: cannot read \/nonexistent\/pgtransit\/target-url on the worker \(ENOENT\)/,
        fix: /create it readable by the worker's user/,
      },
      {
        name: 'a host that does not resolve',
        type: ErrorType.ServerUnreachable,
        plan: () => withUrl('source', envRef('postgresql://postgres@no-such-host.invalid:5432/app')),
        problem: /source server no-such-host\.invalid:5432 \(database app, user postgres\): unreachable \(ENOTFOUND/,
        fix: /check the host and port in environment variable PGT_TEST_URL_\w+, and that the worker can reach it/,
      },
      {
        name: 'a port nothing listens on',
        type: ErrorType.ServerUnreachable,
        plan: async () => withUrl('target', envRef(`postgresql://postgres@127.0.0.1:${await freePort()}/app`)),
        problem: /target server 127\.0\.0\.1:\d+ \(database app, user postgres\): unreachable \(ECONNREFUSED/,
        fix: /check the host and port in environment variable PGT_TEST_URL_\w+/,
      },
      {
        name: 'a wrong password on the source',
        type: ErrorType.AuthenticationFailed,
        plan: () =>
          withUrl(
            'source',
            envRef(urlOf(() => stack.source, { user: 'postgres', password: SECRET, database: 'app' })()),
          ),
        problem: /source server 127\.0\.0\.1:\d+ \(database app, user postgres\): password authentication failed/,
        fix: /fix the credentials in environment variable PGT_TEST_URL_\w+ \(or the server's pg_hba\.conf\)/,
        secret: SECRET,
      },
      {
        name: 'a wrong password on the target',
        type: ErrorType.AuthenticationFailed,
        plan: () =>
          withUrl(
            'target',
            envRef(urlOf(() => stack.target, { user: 'postgres', password: SECRET, database: 'app' })()),
          ),
        problem: /target server 127\.0\.0\.1:\d+ \(database app, user postgres\): password authentication failed/,
        fix: /fix the credentials in environment variable PGT_TEST_URL_\w+/,
        secret: SECRET,
      },
      {
        name: 'a source database that does not exist',
        type: ErrorType.DatabaseNotFound,
        plan: () => withUrl('source', envRef(stack.source.url({ database: 'no_such_db' }))),
        problem:
          /source server 127\.0\.0\.1:\d+ \(database no_such_db, user postgres\): database "no_such_db" does not exist/,
        fix: /create it or name an existing database in environment variable PGT_TEST_URL_\w+ or in the plan's databases/,
      },
      {
        name: "a database in the plan's list that the source lacks",
        type: ErrorType.DatabaseNotFound,
        plan: () => planFor(stack.source, stack.target, { databases: ['app', 'ghost_db'] }),
        problem:
          /source server 127\.0\.0\.1:\d+ \(database ghost_db, user postgres\): database "ghost_db" does not exist/,
        fix: /create it or name an existing database in .* or in the plan's databases/,
      },
      {
        name: 'sslmode=verify-ca without a CA',
        type: ErrorType.InvalidPlan,
        plan: () => withUrl('source', envRef(`${stack.source.url({ database: 'app' })}?sslmode=verify-ca`)),
        problem:
          /source url \(environment variable PGT_TEST_URL_\w+\) has sslmode=verify-ca but no sslrootcert, and the worker has no \S+root\.crt/,
        fix: /add sslrootcert=<file of the CA that signed the server's certificate> to the URL/,
        secret: 'postgres-test-password',
      },
      {
        name: 'sslmode=require on a server without TLS',
        type: ErrorType.TlsFailed,
        plan: () => withUrl('target', envRef(`${stack.target.url({ database: 'app' })}?sslmode=require`)),
        problem:
          /target server 127\.0\.0\.1:\d+ \(database app, user postgres\): TLS failed \(The server does not support SSL connections\)/,
        fix: /check sslmode and sslrootcert in environment variable PGT_TEST_URL_\w+/,
        secret: 'postgres-test-password',
      },
    ];

    for (const c of cases) {
      it(c.name, async () => {
        const plan = await c.plan();
        const before = await snapshotSource(stack.source, 'app');
        const { error, workflowId, ms } = await failedStart(plan);
        const failure = applicationFailure(error);
        assert.equal(failure.type, c.type);
        assert.equal(failure.nonRetryable, true);
        assertText(failure.message, c);
        // The activity that met the problem ran once: no attempt was retried.
        const history = await stack.temporal.env.client.workflow
          .getHandle(childIds(workflowId).migrationPrecheck)
          .fetchHistory();
        const attempts = (history.events ?? []).flatMap((e) =>
          e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt] : [],
        );
        assert.ok(attempts.length > 0 && attempts.every((a) => a === 1), `attempts ${attempts}`);
        assert.ok(
          history.events?.some((e) => e.activityTaskFailedEventAttributes),
          'an activity failed',
        );
        assertSoon(ms);
        await assertUntouched(stack.source, 'app', before);
      });
    }
  });

  describe('a precheck item that fails (PrecheckFailed, non-retryable; nothing created)', () => {
    interface PrecheckCase extends Expect {
      name: string;
      /** The item that must fail, and (for a database's item) its database. */
      item: string;
      database?: string;
      /** The plan, and the source server and database whose state must not change. */
      setup(): Promise<{ plan: Plan; source: PgServer; database: string; cleanup?: () => Promise<void> }>;
      /** More about the report. */
      report?(report: PrecheckReport): void;
    }
    const on = (database: string, overrides: Parameters<typeof planFor>[2] = {}) => ({
      plan: planFor(stack.source, stack.target, { database, ...overrides }),
      source: stack.source,
      database,
    });
    const cases: PrecheckCase[] = [
      {
        name: 'a source with wal_level = replica',
        item: 'source.wal_level',
        setup: async () => ({ plan: planFor(replica, stack.target), source: replica, database: 'app' }),
        problem: /wal_level = replica/,
        fix: /ALTER SYSTEM SET wal_level = 'logical'; then restart the source/,
      },
      {
        name: 'a source role without REPLICATION',
        item: 'source.replication_privilege',
        setup: async () => on('grants', { sourceUser: plain, include: { tables: ['public.open_data'] } }),
        problem: /neither REPLICATION nor superuser/,
        fix: new RegExp(`ALTER ROLE ${plain.user} REPLICATION;`),
        secret: plain.password,
      },
      {
        name: 'no SELECT on a selected table',
        item: 'source.select_privilege',
        database: 'grants',
        setup: async () => on('grants', { sourceUser: replicator }),
        problem: /no SELECT on tables public\.secrets/,
        fix: new RegExp(`GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO ${replicator.user}`),
        secret: replicator.password,
      },
      {
        name: 'a target that already holds a selected table',
        item: 'target.empty',
        database: 'clash',
        setup: async () => on('clash'),
        problem: /1 of the selected tables already exist on the target: public\.orders/,
        fix: /drop those tables on the target, or map them to other names \(mapping\.tables\)/,
      },
      {
        name: 'a mapping onto a name the target already has',
        item: 'target.empty',
        database: 'shop',
        setup: async () =>
          on('shop', { targetDatabase: 'legacy', mapping: { tables: { 'public.orders': 'public.legacy_orders' } } }),
        problem: /already exist on the target: public\.legacy_orders/,
        fix: /or map them to other names \(mapping\.tables\)/,
      },
      {
        name: 'a mapping onto the name of another selected table',
        item: 'plan.mapping',
        database: 'shop',
        setup: async () => on('shop', { mapping: { tables: { 'public.orders': 'public.customers' } } }),
        problem: /public\.customers and public\.orders would both be public\.customers on the target/,
        fix: /map them to names no other selected table has \(mapping\.tables\), or exclude one of them/,
      },
      {
        name: 'a target database that is read-only by default',
        item: 'target.writable',
        database: 'shop',
        setup: async () => on('shop', { targetDatabase: 'ro_db' }),
        problem: /default_transaction_read_only = on for database ro_db on the target \(set on the database\)/,
        fix: /ALTER DATABASE ro_db RESET default_transaction_read_only;/,
      },
      {
        name: 'a target role that is read-only by default',
        item: 'target.writable',
        database: 'shop',
        setup: async () => on('shop', { targetDatabase: 'ro_role_db', targetUser: readOnlyAdmin }),
        problem: new RegExp(
          `default_transaction_read_only = on for .* on the target \\(set on role ${readOnlyAdmin.user}\\)`,
        ),
        fix: new RegExp(`ALTER ROLE ${readOnlyAdmin.user} RESET default_transaction_read_only;`),
        secret: readOnlyAdmin.password,
      },
      {
        name: 'a target role that is read-only by default, the target database still to be created',
        item: 'target.writable',
        database: 'shop',
        setup: async () => on('shop', { targetDatabase: 'to_create', targetUser: readOnlyAdmin }),
        problem: new RegExp(`set on role ${readOnlyAdmin.user}`),
        fix: new RegExp(`ALTER ROLE ${readOnlyAdmin.user} RESET default_transaction_read_only;`),
        secret: readOnlyAdmin.password,
      },
      {
        name: 'a target in recovery (a standby)',
        item: 'target.primary',
        setup: async () => ({
          plan: planFor(stack.source, standby, { database: 'shop', targetDatabase: 'postgres' }),
          source: stack.source,
          database: 'shop',
        }),
        problem: /the target is a standby \(in recovery\): it cannot be written/,
        fix: /point target\.url at the primary, or promote the standby/,
      },
      {
        name: 'an unsupported version pair (17 -> 13)',
        item: 'pair.versions',
        setup: async () => ({
          plan: planFor(stack.target, old, { database: 'v17' }),
          source: stack.target,
          database: 'v17',
        }),
        problem: /source 17, target 13: moving to an older major is not supported/,
        fix: /use a target of PostgreSQL 17 or later/,
      },
      {
        name: 'include patterns that match nothing',
        item: 'plan.selection',
        database: 'shop',
        setup: async () => on('shop', { include: { tables: ['public.nope', 'sales.*'] } }),
        problem: /patterns that match nothing: include\.tables\.0 = "public\.nope", include\.tables\.1 = "sales\.\*"/,
        fix: /correct or remove the patterns that match nothing/,
      },
      {
        name: 'a keyless table in full+cdc',
        item: 'source.primary_keys',
        database: 'keyless',
        setup: async () => on('keyless'),
        problem: /1 selected tables have no primary key or replica identity index: public\.logs/,
        fix: /ALTER TABLE public\.logs REPLICA IDENTITY FULL;.* Or add a primary key, or exclude the tables from the plan/,
      },
      {
        name: 'an unlogged table in full+cdc',
        item: 'source.unlogged_tables',
        database: 'unlogged',
        setup: async () => on('unlogged'),
        problem: /unlogged tables: public\.scratch \(their changes are not written to the WAL/,
        fix: /ALTER TABLE <table> SET LOGGED; or exclude them/,
      },
      {
        name: 'a view kept over a table left out',
        item: 'plan.dependencies',
        database: 'deps',
        setup: async () => on('deps', { exclude: { tables: ['public.base'] } }),
        problem: /objects that would be migrated depend on objects the plan leaves out: .*base_view/,
        fix: /exclude the dependent objects too .*, or include what they need/,
      },
      {
        name: "a leftover publication of the migration's name",
        item: 'source.replication_names',
        database: 'leftover',
        setup: async () => {
          const s = on('leftover');
          const { publication } = replicationNames(s.plan.name, 'leftover');
          await stack.source.query(`CREATE PUBLICATION ${publication}`, [], 'leftover');
          return {
            ...s,
            cleanup: () => stack.source.query(`DROP PUBLICATION ${publication}`, [], 'leftover').then(() => undefined),
          };
        },
        problem: /publication pgtransit_\w+_leftover already exists/,
        fix: /DROP PUBLICATION pgtransit_\w+_leftover; or give the plan another name/,
      },
      {
        name: 'a target database missing that the role may not create',
        item: 'target.database',
        database: 'shop',
        setup: async () => on('shop', { targetDatabase: 'absent_db', targetUser: noCreateDb }),
        problem: new RegExp(`database absent_db does not exist on the target; ${noCreateDb.user} may not create it`),
        fix: new RegExp(`CREATE DATABASE absent_db .*; or ALTER ROLE ${noCreateDb.user} CREATEDB`),
        secret: noCreateDb.password,
      },
      {
        name: 'source and target the same database under two references',
        item: 'pair.distinct',
        database: 'same',
        setup: async () => ({
          plan: planFor(stack.source, stack.source, { database: 'same' }),
          source: stack.source,
          database: 'same',
        }),
        problem: /the source and the target are the same database: same on 127\.0\.0\.1:\d+/,
        fix: /point target\.url at the server and database to migrate to/,
        report: (r) =>
          assert.ok(
            !r.items.some((i) => i.id === 'target.empty'),
            'no "drop those tables on the target" advice when the target is the source',
          ),
      },
    ];

    for (const c of cases) {
      it(c.name, async () => {
        const { plan, source, database, cleanup } = await c.setup();
        try {
          const before = await snapshotSource(source, database);
          const { error, workflowId, ms } = await failedStart(plan);
          assert.ok(
            error.cause instanceof ApplicationFailure,
            `expected an ApplicationFailure, got ${String(error.cause)}`,
          );
          assert.equal(error.cause.type, ErrorType.PrecheckFailed);
          assert.equal(error.cause.nonRetryable, true);
          assert.match(
            error.cause.message,
            /^the precheck failed; nothing was created\. Fix these items and start again:/,
          );
          // What status shows: the failing item and what was observed.
          const line = `${c.item}${c.database ? ` [${c.database}]` : ''}: `;
          const shown = error.cause.message.split('\n').find((l) => l.startsWith(line));
          assert.ok(shown, `the failure names ${line}: ${error.cause.message}`);
          assert.match(shown, c.problem);
          // The fix, from the precheck's report (what `pgtransit precheck` prints).
          const report = (await stack.temporal.env.client.workflow
            .getHandle(childIds(workflowId).migrationPrecheck)
            .result()) as PrecheckReport;
          const item = report.items.find((i) => i.id === c.item && i.status === 'fail');
          assert.ok(item, `${c.item} fails: ${JSON.stringify(report.items.filter((i) => i.status === 'fail'))}`);
          assertText(`${item.observed}\nfix: ${item.fix ?? ''}`, c);
          if (c.secret) assert.ok(!error.cause.message.includes(c.secret));
          c.report?.(report);
          assertSoon(ms);
          await assertUntouched(source, database, before);
        } finally {
          await cleanup?.();
        }
      });
    }
  });

  describe('an operator command that cannot be done (exit 2, nothing done)', () => {
    const cli = (...args: string[]) => runCli(stack, ...args);
    /** A full+cdc migration in incremental (switched over by one case), and a mode full one that completed. */
    let live: Plan;
    let done: Plan;
    let liveFile: string;
    const client = () => stack.temporal.env.client;
    const liveStatus = () => client().workflow.getHandle(workflowIds(live.name).migration).query(statusQuery);

    before(async () => {
      live = planFor(stack.source, stack.target, { database: 'live', cdc: { roundSeconds: 1 } });
      done = planFor(stack.source, stack.target, { database: 'done', mode: 'full' });
      liveFile = join(dir, 'live.json');
      writeFileSync(liveFile, JSON.stringify(live));
      await Promise.all([
        startMigration(client(), live, stack.taskQueue),
        startMigration(client(), done, stack.taskQueue),
      ]);
      await client().workflow.getHandle(workflowIds(done.name).migration).result();
      await waitFor(
        'the live migration to be ready to switch over',
        async () => (await liveStatus().catch(() => null))?.databases[0]?.ready,
      );
    });

    const unknown = `no-such-${uniqueName('m')}`;
    const cases: (Expect & {
      name: string;
      args(): string[];
      source(): { server: PgServer; database: string };
      setup?(): Promise<void>;
    })[] = [
      {
        name: 'verify of an unknown migration',
        args: () => ['verify', unknown],
        source: () => ({ server: stack.source, database: 'app' }),
        problem: new RegExp(`no migration named ${unknown} \\(workflow migration-${unknown}\\)`),
        fix: /check the name, or start one with pgtransit start -f PLAN/,
      },
      {
        name: 'status of an unknown migration',
        args: () => ['status', unknown],
        source: () => ({ server: stack.source, database: 'app' }),
        problem: new RegExp(`no migration named ${unknown}`),
        fix: /start one with pgtransit start -f PLAN/,
      },
      {
        name: 'abort of an unknown migration',
        args: () => ['abort', unknown],
        source: () => ({ server: stack.source, database: 'app' }),
        problem: new RegExp(`no migration named ${unknown}`),
        fix: /check the name/,
      },
      {
        name: 'start without a plan file',
        args: () => ['start'],
        source: () => ({ server: stack.source, database: 'app' }),
        problem: /start needs/,
        fix: /-f PLAN/,
      },
      {
        name: 'start of a name already running',
        args: () => ['start', '-f', liveFile],
        source: () => ({ server: stack.source, database: 'live' }),
        problem:
          /^migration t-\w+ is already running \(workflow migration-t-\w+, run [\w-]+, started .*\): nothing was started/m,
        fix: /pgtransit status t-\w+ --watch; to start it over, stop it first with pgtransit abort t-\w+/,
      },
      {
        name: 'switchover when not ready (paused)',
        setup: async () => {
          await client().workflow.getHandle(workflowIds(live.name).migration).signal(pauseSignal);
          await waitFor(
            'the migration to be paused',
            async () => (await liveStatus()).databases[0]?.reason === 'paused',
          );
        },
        args: () => ['switchover', live.name],
        source: () => ({ server: stack.source, database: 'live' }),
        problem: /switchover not possible now: live: paused/,
        fix: /pgtransit resume t-\w+ restarts a paused one\), run pgtransit switchover t-\w+ again\. Nothing was done/,
      },
      {
        name: 'switchover twice',
        setup: async () => {
          const handle = client().workflow.getHandle(workflowIds(live.name).migration);
          await handle.signal(resumeSignal);
          await waitFor('the migration to be ready again', async () => (await liveStatus()).databases[0]?.ready);
          const { reports } = await switchover(client(), live.name);
          assert.equal(reports.length, 1);
          await handle.result();
        },
        args: () => ['switchover', live.name],
        source: () => ({ server: stack.source, database: 'live' }),
        problem: /the switchover of migration t-\w+ already completed at \S+, and the migration has finished/,
        fix: /the target is the database to use now\. Nothing was done; pgtransit status t-\w+ shows the switchover's report/,
      },
      {
        name: 'abort of a finished migration',
        args: () => ['abort', live.name],
        source: () => ({ server: stack.source, database: 'live' }),
        problem: /migration t-\w+ has already finished \(COMPLETED at \S+\): there is nothing to abort/,
        fix: /nothing was done; pgtransit status t-\w+ shows how it ended/,
      },
      {
        name: 'switchover of a finished migration (mode full)',
        args: () => ['switchover', done.name],
        source: () => ({ server: stack.source, database: 'done' }),
        problem:
          /migration t-\w+ has finished \(COMPLETED at \S+\): mode full completes after the full load, with no switchover/,
        fix: /Nothing was done; to migrate again, start a new migration with pgtransit start -f PLAN/,
      },
      {
        name: 'pause of a finished migration',
        args: () => ['pause', done.name],
        source: () => ({ server: stack.source, database: 'done' }),
        problem: /migration t-\w+ has already finished \(COMPLETED at \S+\): there is nothing to pause/,
        fix: /nothing was done; pgtransit status t-\w+ shows how it ended/,
      },
    ];

    for (const c of cases) {
      it(c.name, async () => {
        await c.setup?.();
        const { server, database } = c.source();
        const before = await snapshotSource(server, database);
        const { value: r, ms } = await timed(() => cli(...c.args()));
        assert.equal(r.code, 2, `exit code 2 expected; stdout: ${r.stdout} stderr: ${r.stderr}`);
        assertText(r.stderr, c);
        assertSoon(ms);
        await assertUntouched(server, database, before);
      });
    }
  });
});
