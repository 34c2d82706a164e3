/**
 * Least privilege (issue 10): a source role and a target role with exactly the rights the
 * README's "Rights" section lists, no superuser on either side, migrate full+cdc with the
 * application writing through incremental into the switchover (whose fence ends the
 * application's sessions), and the target equals the source. Then each listed right is taken
 * away in turn and the assessment names it: none of them is superfluous to the precheck.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE_SCHEMA_SQL, WRITER_TABLES_SQL } from '../../src/dev/sample-data';
import { startWriter } from '../../src/dev/writer';
import { switchoverUpdate } from '../../src/model/messages';
import { workflowIds } from '../../src/model/names';
import type { CheckItem, PrecheckReport } from '../../src/model/report';
import type { Plan } from '../../src/plan/plan';
import { assessDatabase, assessServers } from '../../src/postgres/assess';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import { precheckWorkflow } from '../../workflows';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { sleep } from '../helpers/wait';
import { startLive } from '../helpers/live';

const MIGRATOR = { user: 'migrator', password: 'migrator-pw-4a1c' };
const LOADER = { user: 'loader', password: 'loader-pw-93de' };
const APP = { user: 'shop_app', password: 'shop-app-pw-77b0' };

/**
 * The source: the application's tables owned by `shop_owner` (no login) and written by
 * `shop_app`; `migrator` gets the README's source rights for full+cdc and nothing else.
 */
const SOURCE_SQL = `
CREATE ROLE shop_owner NOLOGIN;
CREATE ROLE ${APP.user} LOGIN PASSWORD '${APP.password}';
GRANT CREATE ON SCHEMA public TO shop_owner;
SET ROLE shop_owner;
${SAMPLE_SCHEMA_SQL}
${WRITER_TABLES_SQL}
CREATE MATERIALIZED VIEW product_colours AS SELECT attributes->>'colour' AS colour, count(*) AS n FROM products GROUP BY 1;
SELECT lo_from_bytea(0, convert_to(repeat('large object ', 1000), 'UTF8'));
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO ${APP.user};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${APP.user};
RESET ROLE;

-- The README's source rights (full+cdc):
CREATE ROLE ${MIGRATOR.user} LOGIN REPLICATION PASSWORD '${MIGRATOR.password}';
ALTER DATABASE app OWNER TO ${MIGRATOR.user};
GRANT shop_owner TO ${MIGRATOR.user};
GRANT pg_signal_backend TO ${MIGRATOR.user};
`;

/** The README's target rights (full+cdc, an existing target database, roles: false). */
const TARGET_SQL = `
CREATE ROLE ${LOADER.user} LOGIN PASSWORD '${LOADER.password}';
GRANT CREATE ON DATABASE app TO ${LOADER.user};
GRANT SET ON PARAMETER session_replication_role TO ${LOADER.user};
`;
const TARGET_APP_SQL = `GRANT CREATE ON SCHEMA public TO ${LOADER.user};`;

describe('least privilege: roles with only the rights the README lists migrate full+cdc', () => {
  const stack = useStack({ sourceSql: SOURCE_SQL });

  const planOf = (): Plan =>
    planFor(stack.source, stack.target, {
      sourceUser: MIGRATOR,
      targetUser: LOADER,
      // DDL capture's event triggers need a superuser: a least-privilege source role runs without them.
      cdc: { ddl: 'stop' },
      exclude: { tables: ['public.audit_log'] },
      fullLoad: { parallelism: 2, chunkSizeMB: 1 },
      switchover: { verify: 'checksum' },
    });

  const item = (items: CheckItem[], id: string): CheckItem => {
    const found = items.find((i) => i.id === id);
    assert.ok(found, `no item ${id} in ${JSON.stringify(items.map((i) => i.id))}`);
    return found;
  };

  it('passes the precheck, migrates under writes, switches over, and the target equals the source', async () => {
    const { temporal, source, target, taskQueue } = stack;
    await target.query(TARGET_SQL);
    await target.query(TARGET_APP_SQL, [], 'app');
    const roles = await source.query<{ rolname: string; rolsuper: boolean }>(
      `SELECT rolname, rolsuper FROM pg_roles WHERE rolname = $1`,
      [MIGRATOR.user],
    );
    assert.deepEqual(roles.rows, [{ rolname: MIGRATOR.user, rolsuper: false }]);
    assert.equal(
      (await target.query(`SELECT rolsuper FROM pg_roles WHERE rolname = $1`, [LOADER.user])).rows[0]?.rolsuper,
      false,
    );

    const plan = planOf();
    const report: PrecheckReport = await temporal.env.client.workflow.execute(precheckWorkflow, {
      args: [plan],
      taskQueue,
      workflowId: workflowIds(plan.name).precheck,
    });
    assert.deepEqual(
      report.items.filter((i) => i.status === 'fail'),
      [],
    );
    for (const id of [
      'source.replication_privilege',
      'source.select_privilege',
      'source.publication_privilege',
      'source.fence_rights',
      'target.create_privilege',
      'target.replication_role',
    ])
      assert.equal(item(report.items, id).status, 'pass', JSON.stringify(item(report.items, id)));

    const writer = startWriter(stack.source.url({ ...APP, database: 'app' }), { truncate: true });
    await sleep(500);
    const { handle, status, incremental, caughtUp } = await startLive(temporal.env.client, taskQueue, plan);
    await incremental();
    await sleep(3000); // writes while in incremental
    // A large object the application creates meanwhile, as its tables' owner: the switchover copies it.
    await source.query(`SET ROLE shop_owner; SELECT lo_from_bytea(0, 'created during incremental')`, [], 'app');
    await caughtUp(120_000);

    // The application still writes: the fence must end shop_app's sessions (pg_signal_backend).
    const { reports } = await handle.executeUpdate(switchoverUpdate).catch(async (e: Error) => {
      throw new Error(
        `switchover failed: ${(e.cause as Error | undefined)?.message ?? e.message}; steps: ${JSON.stringify((await status())?.steps.slice(-6))}`,
      );
    });
    const writes = await writer.stop();
    assert.deepEqual(writes.errors, []);
    assert.ok(writes.transactions > 20, `the writer wrote ${writes.transactions} transactions`);
    assert.equal(reports.length, 1);
    assert.ok(reports[0]!.sequencesCopied >= 6);
    assert.ok(reports[0]!.terminatedSessions >= 1, "the fence ended the application's session");
    assert.equal(((await handle.result()) as { phase: string }).phase, 'completed');
    const st = (await status())!;
    assert.ok(st.cdc!.transactions > 0, 'the stream applied changes');
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', 'app', true);
    assert.ok(cmp.length >= 8, `compared ${cmp.length} tables`);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
    const los = await target.query(`SELECT count(*)::int AS n FROM pg_largeobject_metadata`, [], 'app');
    assert.equal(los.rows[0]!.n, 2, 'the large object of the full load and the one of incremental');
    // The target's objects belong to the target role; no superuser was needed anywhere.
    const foreign = await target.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm', 'S') AND pg_get_userbyid(c.relowner) <> $1`,
      [LOADER.user],
      'app',
    );
    assert.deepEqual(foreign.rows, []);
    assert.equal((await source.query(`SELECT 1 FROM pg_replication_slots`)).rowCount, 0, 'the slot was dropped');
  });

  it('names each listed right in the assessment when it is taken away', async () => {
    const { source, target } = stack;
    await source.query(`ALTER DATABASE app RESET default_transaction_read_only`);
    // A fresh target database: the first test filled app.
    await target.query(`CREATE DATABASE app_rights`);
    await target.query(`GRANT CREATE ON DATABASE app_rights TO ${LOADER.user}`);
    await target.query(TARGET_APP_SQL, [], 'app_rights');
    const plan = planFor(source, target, {
      sourceUser: MIGRATOR,
      targetUser: LOADER,
      // DDL capture's event triggers need a superuser: a least-privilege source role runs without them.
      cdc: { ddl: 'stop' },
      targetDatabase: 'app_rights',
      exclude: { tables: ['public.audit_log'] },
    });
    const assess = async () => [
      ...(await assessDatabase(plan, 'app', 'app_rights')).items,
      ...(await assessServers(plan, ['app'], 0)),
    ];
    const all = await assess();
    assert.deepEqual(
      all.filter((i) => i.status === 'fail'),
      [],
    );
    const cases: { right: string; revoke: string; grant: string; server: typeof source; db?: string; id: string }[] = [
      {
        right: 'REPLICATION',
        revoke: `ALTER ROLE ${MIGRATOR.user} NOREPLICATION`,
        grant: `ALTER ROLE ${MIGRATOR.user} REPLICATION`,
        server: source,
        id: 'source.replication_privilege',
      },
      {
        right: 'ownership of the selected tables (membership of their owner)',
        revoke: `REVOKE shop_owner FROM ${MIGRATOR.user}`,
        grant: `GRANT shop_owner TO ${MIGRATOR.user}`,
        server: source,
        id: 'source.publication_privilege',
      },
      {
        right: 'ownership of the database',
        revoke: `ALTER DATABASE app OWNER TO postgres`,
        grant: `ALTER DATABASE app OWNER TO ${MIGRATOR.user}`,
        server: source,
        id: 'source.fence_rights',
      },
      {
        right: 'CREATE on the target database',
        revoke: `REVOKE CREATE ON DATABASE app_rights FROM ${LOADER.user}`,
        grant: `GRANT CREATE ON DATABASE app_rights TO ${LOADER.user}`,
        server: target,
        id: 'target.create_privilege',
      },
      {
        right: 'CREATE on the existing target schema',
        revoke: `REVOKE CREATE ON SCHEMA public FROM ${LOADER.user}`,
        grant: TARGET_APP_SQL,
        server: target,
        db: 'app_rights',
        id: 'target.create_privilege',
      },
      {
        right: 'SET on session_replication_role',
        revoke: `REVOKE SET ON PARAMETER session_replication_role FROM ${LOADER.user}`,
        grant: `GRANT SET ON PARAMETER session_replication_role TO ${LOADER.user}`,
        server: target,
        id: 'target.replication_role',
      },
    ];
    for (const c of cases) {
      await c.server.query(c.revoke, [], c.db);
      try {
        const got = item(await assess(), c.id);
        assert.equal(got.status, 'fail', `without ${c.right}: ${JSON.stringify(got)}`);
        assert.ok(got.fix, `without ${c.right}: a fix`);
      } finally {
        await c.server.query(c.grant, [], c.db);
      }
    }
    // Large objects of a role the source role is no member of (large objects have no default privileges).
    await source.query(`SET ROLE ${APP.user}; SELECT lo_from_bytea(0, 'the application''s')`, [], 'app');
    const lo = (
      await source.query<{ oid: number }>(
        `SELECT oid FROM pg_largeobject_metadata WHERE lomowner = '${APP.user}'::regrole`,
        [],
        'app',
      )
    ).rows[0]!.oid;
    try {
      const got = item(await assess(), 'source.select_privilege');
      assert.equal(got.status, 'fail');
      assert.match(got.observed, new RegExp(`^${MIGRATOR.user}: no SELECT on large objects: 1 owned by ${APP.user}$`));
      assert.match(got.fix ?? '', new RegExp(`^GRANT ${APP.user} TO ${MIGRATOR.user};`));
    } finally {
      await source.query(`SELECT lo_unlink($1)`, [lo], 'app');
    }
    // pg_signal_backend: without it the fence cannot end the application's sessions; the item warns, naming it.
    await source.query(`REVOKE pg_signal_backend FROM ${MIGRATOR.user}`);
    try {
      const got = item(await assess(), 'source.fence_rights');
      assert.equal(got.status, 'warn');
      assert.match(got.fix ?? '', /GRANT pg_signal_backend TO/);
    } finally {
      await source.query(`GRANT pg_signal_backend TO ${MIGRATOR.user}`);
    }
  });
});
