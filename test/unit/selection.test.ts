import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { displayName, exclusionOf, selectTables, targetName } from '../../src/plan/selection';

const t = (schema: string, name: string) => ({ schema, name });
const all = [
  t('public', 'users'),
  t('public', 'orders'),
  t('public', 'audit_log'),
  t('sales', 'order_1'),
  t('sales', 'order_22'),
  t('pgtransit', 'state'),
  t('pg_catalog', 'pg_class'),
];
const names = (r: { selected: { schema: string; name: string }[] }) => r.selected.map((x) => `${x.schema}.${x.name}`);

describe('table selection', () => {
  it('selects every non-system table by default', () => {
    assert.deepEqual(names(selectTables({}, all)), [
      'public.users',
      'public.orders',
      'public.audit_log',
      'sales.order_1',
      'sales.order_22',
    ]);
  });
  it('includes by schema and by table glob, and excludes', () => {
    const r = selectTables(
      { include: { schemas: ['public'], tables: ['sales.order_?'] }, exclude: { tables: ['public.audit_log'] } },
      all,
    );
    assert.deepEqual(names(r), ['public.users', 'public.orders', 'sales.order_1']);
    assert.deepEqual(r.unmatched, []);
  });
  it('reports patterns that match nothing, with their plan path', () => {
    const r = selectTables({ include: { schemas: ['pubic'] }, exclude: { tables: ['public.nope*'] } }, all);
    assert.deepEqual(r.selected, []);
    assert.deepEqual(r.unmatched, [
      { path: 'include.schemas.0', pattern: 'pubic' },
      { path: 'exclude.tables.0', pattern: 'public.nope*' },
    ]);
  });
  it('never selects the state schema or catalogs, even when asked', () => {
    assert.deepEqual(names(selectTables({ include: { schemas: ['pg*'] } }, all)), []);
  });
  it('treats regex characters in names literally', () => {
    assert.deepEqual(names(selectTables({ include: { tables: ['a.b+c'] } }, [t('a', 'b+c'), t('a', 'bbc')])), [
      'a.b+c',
    ]);
  });
});

describe('name mapping', () => {
  const plan = { mapping: { schemas: { public: 'app' }, tables: { 'public.users': 'crm.customers' } } };
  it('a table mapping wins over its schema mapping', () => {
    assert.deepEqual(targetName(plan, t('public', 'users')), t('crm', 'customers'));
    assert.deepEqual(targetName(plan, t('public', 'orders')), t('app', 'orders'));
    assert.deepEqual(targetName(plan, t('sales', 'x')), t('sales', 'x'));
  });
  it('quotes names that need it in messages', () => {
    assert.equal(displayName(t('public', 'Order Items')), 'public."Order Items"');
  });
});

describe('exclusionOf', () => {
  const plan = {
    include: { schemas: ['public', 'sales'] },
    exclude: { schemas: ['sales_*'], tables: ['public.audit_*', 'sales.scratch'] },
  };
  it('names the first exclude pattern that matches, schemas before tables', () => {
    assert.deepEqual(exclusionOf(plan, { schema: 'public', name: 'audit_log' }), {
      by: 'exclude.tables.0',
      pattern: 'public.audit_*',
    });
    assert.deepEqual(exclusionOf(plan, { schema: 'sales', name: 'scratch' }), {
      by: 'exclude.tables.1',
      pattern: 'sales.scratch',
    });
    assert.deepEqual(exclusionOf(plan, { schema: 'sales_2020', name: 'orders' }), {
      by: 'exclude.schemas.0',
      pattern: 'sales_*',
    });
  });
  it('says include when no exclude pattern matches', () => {
    assert.deepEqual(exclusionOf(plan, { schema: 'staging', name: 'raw' }), { by: 'include', pattern: null });
  });
});
