/**
 * `pgtransit verify NAME --rows`: after a migration, rows changed, deleted and added on the
 * target are each named by their key (a composite key too), a keyless table's surplus or
 * missing copies of a row are counted as such, --table narrows the comparison, and any
 * difference exits 2. A table of 30,000 rows makes the bucket search find 3 rows among them.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { migrationWorkflow } from '../../workflows';
import { workflowIds } from '../../src/model/names';
import { runCli } from '../helpers/cli';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';

const SQL = `
  CREATE TABLE items (id int PRIMARY KEY, v text);
  INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 30000) g;
  CREATE TABLE pairs (a int, b text, v int, PRIMARY KEY (a, b));
  INSERT INTO pairs SELECT g % 10, 'k' || (g / 10), g FROM generate_series(1, 200) g;
  CREATE TABLE bag (x int, y text);
  ALTER TABLE bag REPLICA IDENTITY FULL;
  INSERT INTO bag VALUES (1, 'one'), (1, 'one'), (2, 'two'), (3, 'three');
  CREATE TABLE untouched (id int PRIMARY KEY);
  INSERT INTO untouched SELECT generate_series(1, 10);`;

describe('verify --rows', () => {
  const stack = useStack({ sourceSql: SQL });

  it('names the rows changed, deleted and added on the target, and exits 2', async () => {
    const { temporal, source, target, taskQueue } = stack;
    const plan = planFor(source, target, { mode: 'full' });
    const workflowId = workflowIds(plan.name).migration;
    await temporal.env.client.workflow.execute(migrationWorkflow, { args: [plan], taskQueue, workflowId });

    const same = await runCli(stack, 'verify', plan.name, '--rows');
    assert.equal(same.code, 0, same.stderr + same.stdout);
    assert.doesNotMatch(same.stdout, /DIFF/);

    await target.query(
      `UPDATE items SET v = 'changed' WHERE id = 4242;
       DELETE FROM items WHERE id = 17;
       INSERT INTO items VALUES (30001, 'extra');
       UPDATE pairs SET v = -1 WHERE a = 3 AND b = 'k5';
       DELETE FROM pairs WHERE a = 1 AND b = 'k0';
       DELETE FROM bag WHERE ctid = (SELECT min(ctid) FROM bag WHERE x = 1);
       INSERT INTO bag VALUES (3, 'three'), (3, 'three');`,
      [],
      'app',
    );
    const r = await runCli(stack, 'verify', plan.name, '--rows', '--json');
    assert.equal(r.code, 2, r.stderr);
    const report = JSON.parse(r.stdout) as {
      report: { databases: { tables: { table: string; equal: boolean; rows?: Record<string, unknown> }[] }[] };
    };
    const tables = new Map(report.report.databases[0]!.tables.map((t) => [t.table, t]));
    const items = tables.get('public.items')!.rows as {
      missing: number;
      extra: number;
      different: number;
      samples: { kind: string; key: string }[];
      exact: boolean;
    };
    assert.deepEqual(
      { missing: items.missing, extra: items.extra, different: items.different, exact: items.exact },
      { missing: 1, extra: 1, different: 1, exact: true },
    );
    assert.deepEqual(items.samples.map((s) => `${s.kind} ${s.key}`).sort(), [
      'different 4242',
      'extra 30001',
      'missing 17',
    ]);
    const pairs = tables.get('public.pairs')!.rows as typeof items & { key: string[] };
    assert.deepEqual(pairs.key, ['a', 'b']);
    assert.deepEqual(pairs.samples.map((s) => `${s.kind} ${s.key}`).sort(), ['different (3,k5)', 'missing (1,k0)']);
    const bag = tables.get('public.bag')!.rows as typeof items & { key: string };
    assert.equal(bag.key, 'the whole row');
    assert.deepEqual(
      { missing: bag.missing, extra: bag.extra, different: bag.different },
      { missing: 1, extra: 2, different: 0 },
    );
    assert.deepEqual(bag.samples.map((s) => `${s.kind} ${s.key}`).sort(), ['extra (3,three)', 'missing (1,one)']);
    assert.equal(tables.get('public.untouched')!.equal, true);
    assert.equal(tables.get('public.untouched')!.rows, undefined);

    // The text report, narrowed to one table, bounded by --limit.
    const one = await runCli(stack, 'verify', plan.name, '--rows', '--table', 'public.items', '--limit', '2');
    assert.equal(one.code, 2, one.stderr);
    assert.match(one.stdout, /DIFF {2}public\.items: 30000 \/ 30000 rows/);
    assert.match(one.stdout, /1 missing on the target, 1 extra on the target, 1 different \(key \(id\)\)/);
    assert.match(one.stdout, /\.\.\. 1 more \(--limit\)/);
    assert.doesNotMatch(one.stdout, /public\.pairs|public\.bag/);

    const refused = await runCli(stack, 'verify', plan.name, '--limit', '2');
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--table and --limit go with --rows/);
  });
});
