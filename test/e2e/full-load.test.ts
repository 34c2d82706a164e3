/** migrationWorkflow, mode full, end to end: real servers, real Temporal, real worker. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SAMPLE_SCHEMA_SQL } from '../../src/dev/sample-data';
import { compareTables } from '../../src/postgres/compare';
import { endpoints } from '../../src/postgres/connect';
import { planFor } from '../helpers/postgres';
import { useStack } from '../helpers/stack';
import { migrationWorkflow } from '../../workflows';
import { databaseStatusQuery } from '../../src/model/messages';
import { childIds, workflowIds } from '../../src/model/names';

describe('migrationWorkflow mode full', () => {
  const stack = useStack({ sourceSql: SAMPLE_SCHEMA_SQL });

  it('copies schema and data so that every table is equal', async () => {
    const { temporal, source, target, taskQueue } = stack;
    const plan = planFor(source, target, {
      mode: 'full',
      exclude: { tables: ['public.audit_log'] },
      fullLoad: { parallelism: 3, chunkSizeMB: 1 },
    });
    const workflowId = workflowIds(plan.name).migration;
    const result = await temporal.env.client.workflow.execute(migrationWorkflow, {
      args: [plan],
      taskQueue,
      workflowId,
    });
    assert.equal((result as { phase: string }).phase, 'completed');
    const st = await temporal.env.client.workflow
      .getHandle(childIds(workflowId).database('app'))
      .query(databaseStatusQuery);
    assert.equal(st.phase, 'completed');
    assert.ok(st.totals.chunksTotal > st.tables.length, 'large tables were split into chunks');
    assert.equal(st.totals.lateChunks, 0);
    const cmp = await compareTables(plan, endpoints(plan).source, endpoints(plan).target, 'app', 'app', true);
    assert.deepEqual(
      cmp.filter((c) => !c.equal),
      [],
    );
    assert.deepEqual(cmp.map((c) => c.table).sort(), [
      'public.customers',
      'public.order_items',
      'public.orders',
      'public.products',
    ]);
    const audit = await target.query(`SELECT to_regclass('public.audit_log') AS r`, [], 'app');
    assert.equal(audit.rows[0]!.r, null, 'excluded table absent');
    const idx = await target.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = 'public'`, [], 'app');
    assert.ok(idx.rows[0]!.n >= 7, 'post-data built the indexes');
    const fks = await target.query(`SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f'`, [], 'app');
    assert.equal(fks.rows[0]!.n, 3);
    const state = await target.query(`SELECT to_regnamespace('pgtransit') AS r`, [], 'app');
    assert.equal(state.rows[0]!.r, null, 'state schema removed at completion');
  });
});
