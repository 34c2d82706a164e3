/**
 * A commit pgtransit was told of survives a crash of a server that runs with
 * synchronous_commit = off (the harness's servers do): pgtransit's sessions raise it to
 * local, and the schema restore's pg_restore sessions get the same through PGOPTIONS.
 * Without it, a target that crashed right after lost applied changes the source had been
 * told were committed, and tables the load had "restored".
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { connect, durableToolOptions, resolveEndpoint, type Endpoint } from '../../src/postgres/connect';
import { pgProgram, runTool } from '../../src/postgres/ddl/run-tool';
import { envRef, startPostgres, type PgServer } from '../helpers/postgres';
import { sleep } from '../helpers/wait';

describe('durable commits on a server with synchronous_commit = off', () => {
  let server: PgServer;
  let target: Endpoint;
  before(async () => {
    server = await startPostgres({ major: 17 });
    await server.query('CREATE DATABASE app');
    // The WAL writer flushes an asynchronous commit at most every 10 s: a crash in between loses it.
    await server.query(`ALTER SYSTEM SET wal_writer_delay = '10s'`);
    await server.query('SELECT pg_reload_conf()');
    await server.query('CREATE TABLE marks (id int PRIMARY KEY, who text)', [], 'app');
    // Without it the first crash loses the table itself.
    await server.query('CHECKPOINT');
    target = { side: 'target', ref: envRef(server.url({ database: 'app' })) };
  });
  after(() => server?.stop());

  /** Commits row `id` in `session`, right after another commit (so the WAL writer has just flushed), then crashes the server. */
  async function commitThenCrash(id: number, session: pg.Client): Promise<boolean> {
    await server.query(`INSERT INTO marks VALUES (${id + 1000}, 'before')`, [], 'app');
    await sleep(200);
    await session.query(`INSERT INTO marks VALUES ($1, 'test')`, [id]);
    await session.end();
    await server.halt({ immediate: true });
    await server.resume();
    const { rows } = await server.query('SELECT 1 FROM marks WHERE id = $1', [id], 'app');
    return rows.length === 1;
  }

  it('loses an acknowledged commit of a plain session (what the test guards against)', async () => {
    const plain = new pg.Client({ connectionString: server.url({ database: 'app' }) });
    await plain.connect();
    assert.equal((await plain.query('SHOW synchronous_commit')).rows[0].synchronous_commit, 'off');
    assert.equal(await commitThenCrash(1, plain), false, 'the server lost the commit it had acknowledged');
  });

  it("keeps an acknowledged commit of pgtransit's own session", async () => {
    const c = await connect(target);
    assert.equal(c.raisedSynchronousCommit, true);
    assert.equal((await c.client.query('SHOW synchronous_commit')).rows[0].synchronous_commit, 'local');
    assert.equal(await commitThenCrash(2, c.client), true, 'the commit survived the crash');
  });

  it("gives a libpq tool's sessions the same setting, and leaves a server's own durable setting alone", async () => {
    const { libpqEnv } = resolveEndpoint(target);
    const psql = pgProgram('psql', 0);
    const shown = await runTool(
      psql,
      ['-XAtc', 'SHOW synchronous_commit'],
      { ...libpqEnv, ...durableToolOptions(true, { PGOPTIONS: '-c work_mem=8MB' }) },
      'psql',
    );
    assert.equal(shown.trim(), 'local');
    await server.query('ALTER DATABASE app SET synchronous_commit = remote_write');
    try {
      const c = await connect(target);
      assert.equal(c.raisedSynchronousCommit, false);
      assert.equal((await c.client.query('SHOW synchronous_commit')).rows[0].synchronous_commit, 'remote_write');
      await c.client.end();
      assert.deepEqual(durableToolOptions(false), {});
    } finally {
      await server.query('ALTER DATABASE app RESET synchronous_commit');
    }
  });
});
