/** PgBouncer's entry repointed at the target and back (switchover.pooler), against a real PgBouncer. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { endpoints } from '../../src/postgres/connect';
import { describeEntry, pause, repoint, resume, type Pooler } from '../../src/postgres/pooler';
import { envRef, planFor, startPair, type PgServer } from '../helpers/postgres';
import { startPgbouncer, type Bouncer } from '../helpers/pgbouncer';

describe('the PgBouncer entry', () => {
  let source: PgServer;
  let target: PgServer;
  let stop: () => Promise<void>;
  let bouncer: Bouncer;
  let pooler: Pooler;

  before(async () => {
    ({ source, target, stop } = await startPair());
    bouncer = await startPgbouncer(source, ['app']);
    pooler = { admin: envRef(bouncer.adminUrl), configFile: bouncer.databasesFile };
  });
  after(async () => {
    await bouncer?.stop();
    await stop?.();
  });

  it('is repointed at the target keeping its own options, once however often asked, and back byte for byte', async () => {
    const original = readFileSync(bouncer.databasesFile, 'utf8');
    const to = { endpoint: endpoints(planFor(source, target)).target, database: 'app' };
    const first = await repoint(pooler, 'app', 'target', to);
    assert.equal(first.changed, true);
    assert.match(first.now, new RegExp(`host=${target.host} port=${target.port} dbname=app user=postgres password=…$`));
    assert.doesNotMatch(first.now, new RegExp(target.password), 'the password is not shown');
    assert.deepEqual(await describeEntry(pooler, 'app'), {
      host: target.host,
      port: target.port,
      database: 'app',
      paused: false,
    });
    const again = await repoint(pooler, 'app', 'target', to);
    assert.equal(again.changed, false);
    const back = await repoint(pooler, 'app', 'source', to);
    assert.equal(back.changed, true);
    assert.equal(readFileSync(bouncer.databasesFile, 'utf8'), original);
    assert.equal((await describeEntry(pooler, 'app'))?.port, source.port);
    assert.equal((await repoint(pooler, 'app', 'source', to)).changed, false);
  });

  it('pauses and resumes, each twice without error (a retried attempt)', async () => {
    await pause(pooler, 'app');
    await pause(pooler, 'app');
    assert.equal((await describeEntry(pooler, 'app'))?.paused, true);
    await resume(pooler, 'app');
    await resume(pooler, 'app');
    assert.equal((await describeEntry(pooler, 'app'))?.paused, false);
  });

  it('names the missing entry and the file', async () => {
    const to = { endpoint: endpoints(planFor(source, target)).target, database: 'app' };
    await assert.rejects(
      repoint({ ...pooler, databases: { app: 'shop' } }, 'app', 'target', to),
      new RegExp(`${bouncer.databasesFile} has no line for the database shop in its \\[databases\\] section`),
    );
  });
});
