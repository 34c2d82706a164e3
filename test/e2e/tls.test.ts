/**
 * TLS to both databases (issue 10): servers that refuse every TCP connection without TLS, a
 * full+cdc migration with sslmode=require and another with sslmode=verify-full and the CA in
 * sslrootcert. Every session pgtransit opens must run over TLS to get in at all: the driver's,
 * the replication connection's and pg_dump's and pg_restore's (libpq, through PGSSLMODE and
 * PGSSLROOTCERT). pg_stat_ssl shows the change stream's walsender encrypted while it streams.
 * A wrong CA and a plan without TLS are refused at the precheck, naming the fix.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import { ErrorType, PgTransitError } from '../../src/errors';
import { switchoverUpdate } from '../../src/model/messages';
import { APPLICATION_NAME, workflowIds } from '../../src/model/names';
import type { Plan } from '../../src/plan/plan';
import { compareTables } from '../../src/postgres/compare';
import { connect, endpoints, resolveEndpoint } from '../../src/postgres/connect';
import { pgProgram, runTool } from '../../src/postgres/ddl/run-tool';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../src/dev/sample-data';
import { startWriter } from '../../src/dev/writer';
import { migrationWorkflow, precheckWorkflow } from '../../workflows';
import { envRef, planFor, startPair, type PgServer } from '../helpers/postgres';
import { startTemporal, type TemporalHarness } from '../helpers/temporal';
import { sleep, waitFor } from '../helpers/wait';
import { startLive } from '../helpers/live';

interface Certificates {
  dir: string;
  /** The CA that signed both servers' certificate (PEM file). */
  caFile: string;
  /** A CA that signed nothing the servers present. */
  otherCaFile: string;
  cert: string;
  key: string;
}

/** A CA, and a server certificate it signs for 127.0.0.1 and localhost. */
function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'pgtransit-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string) =>
    ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
    );
  ca('pgtransit-test-ca');
  ca('pgtransit-other-ca');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'pgtransit-test-ca.crt',
    '-CAkey',
    'pgtransit-test-ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'server.ext',
    '-out',
    'server.crt',
  );
  return {
    dir,
    caFile: join(dir, 'pgtransit-test-ca.crt'),
    otherCaFile: join(dir, 'pgtransit-other-ca.crt'),
    cert: readFileSync(join(dir, 'server.crt'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
  };
}

/** TCP only with TLS: a connection without it is rejected before authentication. */
const TLS_ONLY_HBA = [
  'hostssl all all 127.0.0.1/32 scram-sha-256',
  'hostssl replication all 127.0.0.1/32 scram-sha-256',
  'hostnossl all all 0.0.0.0/0 reject',
  'hostnossl replication all 0.0.0.0/0 reject',
];

/** The first ApplicationFailure down the cause chain. */
function applicationFailure(e: unknown): ApplicationFailure {
  for (let c: unknown = e; c instanceof Error; c = c.cause) if (c instanceof ApplicationFailure) return c;
  assert.fail(`no ApplicationFailure in the chain of ${String(e)}`);
}

interface TlsSession {
  application_name: string;
  backend_type: string;
  ssl: boolean;
  version: string | null;
}

/** pgtransit's sessions on a server, with whether each runs over TLS. */
async function pgtransitSessions(server: PgServer): Promise<TlsSession[]> {
  const { rows } = await server.query<TlsSession>(
    `SELECT a.application_name, a.backend_type, s.ssl, s.version
       FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
      WHERE a.application_name LIKE 'pgtransit%'`,
  );
  return rows;
}

describe('TLS to both databases, the replication connection and pg_dump/pg_restore included', () => {
  let certs: Certificates;
  let temporal: TemporalHarness;
  let source: PgServer;
  let target: PgServer;
  let stopPair: () => Promise<void>;
  let worker: Worker;
  let running: Promise<void>;
  let taskQueue: string;

  before(async () => {
    certs = makeCertificates();
    const server = { tls: { cert: certs.cert, key: certs.key }, hba: TLS_ONLY_HBA };
    const [t, pair] = await Promise.all([startTemporal(), startPair(server, server)]);
    temporal = t;
    ({ source, target, stop: stopPair } = pair);
    await source.query(SAMPLE_SCHEMA_SQL + WRITER_TABLES_SQL, [], 'app');
    const w = await temporal.worker();
    worker = w.worker;
    taskQueue = w.taskQueue;
    running = worker.run();
  });
  after(async () => {
    try {
      worker?.shutdown();
      await running;
    } finally {
      await Promise.all([temporal?.stop(), stopPair?.()]);
      if (certs) rmSync(certs.dir, { recursive: true, force: true });
    }
  });

  /** A plan whose two URLs carry `query` (sslmode and its files). */
  const planWith = (query: string, targetDatabase: string, sourceQuery = query): Plan => {
    const plan = planFor(source, target, {
      targetDatabase,
      exclude: { tables: ['public.audit_log'] },
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
      switchover: { verify: 'checksum' },
    });
    return {
      ...plan,
      source: { url: envRef(`${source.url({ database: 'app' })}?${sourceQuery}`) },
      target: { url: envRef(`${target.url({ database: targetDatabase })}?${query}`) },
    };
  };

  /** Runs `plan` through incremental (a TLS writer on the source meanwhile) and the switchover. */
  async function migrateOverTls(plan: Plan, targetDatabase: string): Promise<void> {
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`); // the previous switchover's fence
    const writer = startWriter(
      `${source.url({ database: 'app' })}?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caFile)}`,
    );
    const { handle, status, incremental, caughtUp } = await startLive(temporal.env.client, taskQueue, plan);
    await incremental();

    // The stream is open: its walsender, like every other pgtransit session, is encrypted.
    const onSource = await waitFor(
      'the change stream on the source',
      async () => {
        const sessions = await pgtransitSessions(source);
        return sessions.some((s) => s.application_name === APPLICATION_NAME.stream) && sessions;
      },
      60_000,
    );
    const walsender = onSource.find((s) => s.application_name === APPLICATION_NAME.stream)!;
    assert.equal(walsender.backend_type, 'walsender');
    assert.equal(walsender.ssl, true, 'the replication connection runs over TLS');
    assert.match(walsender.version ?? '', /^TLSv1\.[23]$/);
    assert.deepEqual(
      onSource.filter((s) => !s.ssl),
      [],
      'every pgtransit session on the source runs over TLS',
    );
    const onTarget = await pgtransitSessions(target);
    assert.ok(onTarget.length > 0, 'the apply holds a session on the target');
    assert.deepEqual(
      onTarget.filter((s) => !s.ssl),
      [],
      'every pgtransit session on the target runs over TLS',
    );

    await sleep(3000); // writes while in incremental
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    assert.ok(writes.transactions > 20, `the writer wrote ${writes.transactions} transactions`);
    await caughtUp(120_000);
    const { reports } = await handle.executeUpdate(switchoverUpdate);
    assert.equal(reports.length, 1);
    assert.equal(((await handle.result()) as { phase: string }).phase, 'completed');
    const st = (await status())!;
    assert.ok(st.cdc!.transactions > 0, 'the stream applied changes');
    assert.ok(Object.values(st.cdc!.tables).some((t) => t.update > 0 && t.insert > 0));
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', targetDatabase, true);
    assert.ok(cmp.length >= 8, `compared ${cmp.length} tables`);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
  }

  it('hands pg_dump and pg_restore the TLS settings of the URL, so libpq verifies the server too', async () => {
    // libpq's own default (prefer) would also get through the hostssl lines, without verifying anything.
    const dump = (caFile: string) => {
      const query = `sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`;
      const ref = envRef(`${source.url({ database: 'app' })}?${query}`);
      const { libpqEnv } = resolveEndpoint({ side: 'source', ref });
      assert.equal(libpqEnv.PGSSLMODE, 'verify-full');
      assert.equal(libpqEnv.PGSSLROOTCERT, caFile);
      return runTool(pgProgram('pg_dump', 15), ['--schema-only', '-t', 'public.customers'], libpqEnv, 'pg_dump');
    };
    assert.match(await dump(certs.caFile), /CREATE TABLE public\.customers/);
    await assert.rejects(dump(certs.otherCaFile), /pg_dump failed:[\s\S]*certificate verify failed/);
  });

  it("uses TLS without sslmode in the URL when the server offers it, in the driver's sessions as in pg_dump's (libpq's prefer)", async () => {
    const endpoint = { side: 'source' as const, ref: envRef(source.url({ database: 'app' })) };
    const { libpqEnv, facts } = resolveEndpoint(endpoint);
    assert.equal(facts.sslmode, 'prefer');
    assert.equal(libpqEnv.PGSSLMODE, 'prefer', "the worker's own PGSSLMODE does not decide for pg_dump");
    const c = await connect(endpoint);
    try {
      assert.equal(c.tls, true);
      const { rows } = await c.client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      assert.equal(rows[0].ssl, true);
    } finally {
      await c.client.end();
    }
    const dumped = await runTool(
      pgProgram('pg_dump', 15),
      ['--schema-only', '-t', 'public.customers'],
      libpqEnv,
      'pg_dump',
    );
    assert.match(dumped, /CREATE TABLE public\.customers/);
  });

  it("refuses sslmode=verify-full without sslrootcert at once, unless the worker has libpq's ~/.postgresql/root.crt, which both then use", async () => {
    const home = mkdtempSync(join(tmpdir(), 'pgtransit-home-'));
    const before = process.env.HOME;
    process.env.HOME = home;
    try {
      const endpoint = {
        side: 'target' as const,
        ref: envRef(`${target.url({ database: 'app' })}?sslmode=verify-full`),
      };
      await assert.rejects(connect(endpoint), (e: unknown) => {
        assert.ok(e instanceof PgTransitError);
        assert.equal(e.type, ErrorType.InvalidPlan);
        assert.match(
          e.message,
          /target url \(environment variable PGT_TEST_URL_\w+\) has sslmode=verify-full but no sslrootcert/,
        );
        assert.match(e.message, /add sslrootcert=/);
        return true;
      });
      mkdirSync(join(home, '.postgresql'));
      const crt = join(home, '.postgresql', 'root.crt');
      writeFileSync(crt, readFileSync(certs.caFile));
      const { libpqEnv } = resolveEndpoint(endpoint);
      assert.equal(libpqEnv.PGSSLROOTCERT, crt);
      const c = await connect(endpoint);
      assert.equal(c.tls, true);
      await c.client.end();
      await runTool(pgProgram('psql', 0), ['-XAtc', 'SELECT 1'], libpqEnv, 'psql');
      // A CA that signed nothing the server presents is refused by both.
      writeFileSync(crt, readFileSync(certs.otherCaFile));
      await assert.rejects(connect(endpoint), /certificate/);
      await assert.rejects(
        runTool(pgProgram('psql', 0), ['-XAtc', 'SELECT 1'], resolveEndpoint(endpoint).libpqEnv, 'psql'),
        /certificate verify failed/,
      );
    } finally {
      process.env.HOME = before;
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('migrates with sslmode=require on both sides: full load, change stream, switchover', async () => {
    await migrateOverTls(planWith('sslmode=require', 'app_require'), 'app_require');
  });

  it('migrates with sslmode=verify-full and the CA in sslrootcert on both sides; the precheck reports TLS on', async () => {
    const query = `sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caFile)}`;
    const plan = planWith(query, 'app_verify');
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    const report = await temporal.env.client.workflow.execute(precheckWorkflow, {
      args: [plan],
      taskQueue,
      workflowId: `${workflowIds(plan.name).precheck}-tls`,
    });
    assert.equal(report.source.tls, true);
    assert.equal(report.target.tls, true);
    for (const id of ['source.connection', 'target.connection'])
      assert.match(report.items.find((i) => i.id === id)?.observed ?? '', /TLS on \(sslmode verify-full\)/);
    await migrateOverTls(plan, 'app_verify');
  });

  /** Starts the migration and returns its failure, asserting nothing was created on the source. */
  async function refused(plan: Plan): Promise<ApplicationFailure> {
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    const slots = async () => (await source.query(`SELECT slot_name FROM pg_replication_slots`)).rows;
    const before = await slots();
    const workflowId = workflowIds(plan.name).migration;
    const handle = await temporal.env.client.workflow.start(migrationWorkflow, { args: [plan], taskQueue, workflowId });
    const error = await handle.result().then(
      () => assert.fail('the migration must fail'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof WorkflowFailedError, `expected WorkflowFailedError, got ${String(error)}`);
    assert.deepEqual(await slots(), before, 'nothing was created on the source');
    const failure = applicationFailure(error);
    assert.equal(failure.nonRetryable, true, `${failure.type}: ${failure.message}`);
    return failure;
  }

  it('refuses a CA that did not sign the server certificate at the precheck, non-retryably, naming the fix', async () => {
    const plan = planWith(
      `sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.caFile)}`,
      'app_wrong_ca',
      `sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.otherCaFile)}`,
    );
    const failure = await refused(plan);
    assert.equal(failure.type, ErrorType.TlsFailed);
    assert.match(failure.message, /^source server 127\.0\.0\.1:\d+ \(database app, user postgres\): TLS failed/);
    assert.match(failure.message, /\(unable to verify the first certificate\)/);
    assert.match(failure.message, /the server's certificate is not signed by a CA the worker trusts/);
    assert.match(
      failure.message,
      /set sslrootcert=<file of the CA that signed the server's certificate> in the URL in environment variable PGT_TEST_URL_\w+/,
    );
    assert.ok(!failure.message.includes(source.password), 'no password in the message');
  });

  it('refuses a URL without TLS to a server that requires it, naming sslmode as the fix', async () => {
    const plan = planWith('sslmode=require', 'app_no_tls', 'sslmode=disable');
    const failure = await refused(plan);
    assert.equal(failure.type, ErrorType.AuthenticationFailed);
    assert.match(failure.message, /^source server 127\.0\.0\.1:\d+ \(database app, user postgres\): .*no encryption/);
    assert.match(
      failure.message,
      /requires TLS.*sslmode=verify-full.*sslrootcert.*environment variable PGT_TEST_URL_\w+/,
    );
    assert.ok(!failure.message.includes(source.password), 'no password in the message');
  });
});
