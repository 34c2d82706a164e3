import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { replicationNames, workflowIds } from '../../src/model/names';
import { parsePlan, type PlanIssue } from '../../src/plan/plan';

const base = {
  name: 'shop-move',
  source: { url: 'env:SOURCE_DATABASE_URL' },
  target: { url: 'env:TARGET_DATABASE_URL' },
};

function issues(input: unknown): PlanIssue[] {
  const r = parsePlan(input);
  assert.equal(r.ok, false, 'expected the plan to be rejected');
  return r.ok ? [] : r.issues;
}

function issueAt(input: unknown, path: string): PlanIssue {
  const found = issues(input).find((i) => i.path === path);
  assert.ok(found, `expected an issue at ${path}, got ${JSON.stringify(issues(input))}`);
  return found;
}

describe('plan validation', () => {
  it('accepts the minimal plan and fills the defaults', () => {
    const r = parsePlan(base);
    assert.ok(r.ok);
    assert.equal(r.plan.mode, 'full+cdc');
    assert.equal(r.plan.fullLoad.parallelism, 4);
    assert.equal(r.plan.cdc.conflictPolicy, 'error');
    assert.equal(r.plan.switchover.maxLagBytes, 1048576);
    assert.equal(r.plan.roles, false);
  });

  it('accepts the full example of the reference', () => {
    const r = parsePlan({
      ...base,
      databases: ['shop'],
      include: { schemas: ['public'], tables: ['public.*'] },
      exclude: { tables: ['public.audit_log'] },
      mapping: { schemas: { public: 'app' }, tables: { 'public.users': 'app.customers' } },
      mode: 'full',
      fullLoad: { parallelism: 8 },
      cdc: { conflictPolicy: 'overwrite' },
      switchover: { maxLagBytes: 0, verify: 'checksum', keepSlot: true },
      roles: true,
    });
    assert.ok(r.ok, JSON.stringify(!r.ok && r.issues));
  });

  it('requires name, source and target', () => {
    const paths = issues({})
      .map((i) => i.path)
      .sort();
    assert.deepEqual(paths, ['name', 'source', 'target']);
  });

  it('rejects a name that cannot become a workflow id', () => {
    assert.match(issueAt({ ...base, name: 'Shop Move' }, 'name').message, /lowercase letters, digits and hyphens/);
  });

  it('refuses a literal password in a URL and says to use env: or file:', () => {
    const i = issueAt({ ...base, source: { url: 'postgres://app:s3cret@db:5432/shop' } }, 'source.url');
    assert.match(i.message, /literal password/);
    assert.match(i.message, /env:NAME or file:PATH/);
    assert.doesNotMatch(i.message, /s3cret/);
  });

  it('refuses a password in the query string', () => {
    issueAt({ ...base, target: { url: 'postgresql://db/shop?user=app&password=x' } }, 'target.url');
  });

  it('accepts a URL without a password, env: and file: references', () => {
    assert.ok(
      parsePlan({
        ...base,
        source: { url: 'postgres://app@db:5432/shop?sslmode=require' },
        target: { url: 'file:/run/secrets/target' },
      }).ok,
    );
  });

  it('rejects something that is no reference at all', () => {
    assert.match(issueAt({ ...base, source: { url: 'db.example.com' } }, 'source.url').message, /env:NAME, file:PATH/);
  });

  it('names unknown fields by path', () => {
    assert.match(
      issueAt({ ...base, fullLoad: { parallelism: 2, chunks: 3 } }, 'fullLoad').message,
      /unknown field\(s\) "chunks"/,
    );
    assert.match(issueAt({ ...base, sources: {} }, '(plan)').message, /"sources"/);
  });

  it('lists the allowed values of an enum', () => {
    assert.match(issueAt({ ...base, mode: 'cdc' }, 'mode').message, /"full", "full\+cdc"/);
    assert.match(
      issueAt({ ...base, cdc: { conflictPolicy: 'skip' } }, 'cdc.conflictPolicy').message,
      /"error", "ignore", "overwrite"/,
    );
  });

  it('bounds parallelism', () => {
    issueAt({ ...base, fullLoad: { parallelism: 0 } }, 'fullLoad.parallelism');
    issueAt({ ...base, fullLoad: { parallelism: 2.5 } }, 'fullLoad.parallelism');
  });

  it('wants schema.table patterns in include/exclude tables', () => {
    assert.match(issueAt({ ...base, exclude: { tables: ['audit_log'] } }, 'exclude.tables.0').message, /schema\.table/);
  });

  it('wants a schema pattern without a dot', () => {
    issueAt({ ...base, include: { schemas: ['public.x'] } }, 'include.schemas.0');
  });

  it('rejects globs and unqualified names in mappings', () => {
    issueAt({ ...base, mapping: { tables: { 'public.*': 'app.x' } } }, 'mapping.tables.public.*');
    issueAt({ ...base, mapping: { tables: { 'public.users': 'customers' } } }, 'mapping.tables.public.users');
  });

  it('rejects two tables mapped to one name', () => {
    const i = issueAt(
      { ...base, mapping: { tables: { 'public.a': 'app.x', 'public.b': 'app.x' } } },
      'mapping.tables.public.b',
    );
    assert.match(i.message, /both become "app.x"/);
  });

  it('rejects a database listed twice and an empty list', () => {
    issueAt({ ...base, databases: ['shop', 'shop'] }, 'databases.1');
    issueAt({ ...base, databases: [] }, 'databases');
  });

  it('refuses switchover.reverse with a name mapping or mode full, and leaves plans without it unchanged', () => {
    const base = { name: 'shop', source: { url: 'env:S' }, target: { url: 'env:T' } };
    const mapped = parsePlan({ ...base, mapping: { schemas: { public: 'app' } }, switchover: { reverse: true } });
    assert.equal(mapped.ok, false);
    assert.match(JSON.stringify(!mapped.ok && mapped.issues), /switchover\.reverse.*does not map names back/);
    const full = parsePlan({ ...base, mode: 'full', switchover: { reverse: true } });
    assert.equal(full.ok, false);
    assert.match(JSON.stringify(!full.ok && full.issues), /mode full has no switchover to reverse/);
    const plain = parsePlan(base);
    assert.ok(plain.ok);
    assert.equal('reverse' in plain.plan.switchover, false, 'no default: the plan in history stays as it was');
    assert.ok(parsePlan({ ...base, switchover: { reverse: true } }).ok);
  });

  it('rejects a negative lag bound', () => {
    issueAt({ ...base, switchover: { maxLagBytes: -1 } }, 'switchover.maxLagBytes');
  });
});

describe('names derived from the plan', () => {
  it('gives workflow ids from the business key', () => {
    const ids = workflowIds('shop-move');
    assert.deepEqual(
      { migration: ids.migration, precheck: ids.precheck },
      { migration: 'migration-shop-move', precheck: 'precheck-shop-move' },
    );
    assert.equal(ids.database('shop'), 'migration-shop-move/shop');
    assert.equal(ids.migrationPrecheck, 'migration-shop-move/precheck');
    assert.equal(ids.verify(1700000000000), 'verify-shop-move-1700000000000');
  });
  it('gives slot names PostgreSQL accepts', () => {
    const { slot } = replicationNames('shop-move', 'Shop-DB');
    assert.equal(slot, 'pgtransit_shop_move_shop_db');
    assert.match(replicationNames('a'.repeat(48), 'b'.repeat(63)).slot, /^[a-z0-9_]{1,63}$/);
  });
});
