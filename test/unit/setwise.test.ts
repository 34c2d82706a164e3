/** The text[] literals set-wise apply sends: the same text the driver builds from an array, built in one pass. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { SetBatch, textArray, type SetTable } from '../../src/postgres/cdc/setwise';
import type { RowChange } from '../../src/postgres/cdc/apply';
import type { Relation } from '../../src/postgres/cdc/pgoutput';

// The driver's own conversion of a JavaScript array to a parameter (not in its typings).
const { prepareValue } = createRequire(__filename)('pg/lib/utils') as { prepareValue(v: unknown): unknown };

describe('textArray', () => {
  it('quotes and escapes every element as node-postgres does, NULL left bare', () => {
    const values = [
      'plain',
      '',
      'NULL',
      null,
      ' spaced ',
      'a,b',
      '{braces}',
      'quote " inside',
      'back \\ slash',
      '\\"',
      'é ü 漢',
    ];
    assert.equal(textArray(values), prepareValue(values));
    assert.equal(textArray([]), '{}');
    assert.equal(textArray([null]), '{NULL}');
  });
});

describe('SetBatch folding', () => {
  const relation: Relation = {
    oid: 1,
    schema: 'public',
    name: 'acc',
    replicaIdentity: 'd',
    columns: [
      { name: 'id', key: true, typeOid: 23 },
      { name: 'bal', key: false, typeOid: 23 },
      { name: 'note', key: false, typeOid: 25 },
    ],
  };
  const table: SetTable = {
    display: 'public.acc',
    sql: '"public"."acc"',
    only: 'ONLY "public"."acc"',
    keyIdx: [0],
    columns: [
      { name: 'id', type: 'integer' },
      { name: 'bal', type: 'integer' },
      { name: 'note', type: 'text' },
    ],
    mode: 'keyed',
  };
  /** The statement's parameters, from a client that answers every count with -1 (so the write reports a refusal). */
  const written = async (batch: SetBatch): Promise<string[]> => {
    const params: string[] = [];
    const client = {
      escapeIdentifier: (s: string) => `"${s}"`,
      query: async (q: string | { values?: string[] }) => {
        if (typeof q !== 'string') params.push(...(q.values ?? []));
        return { rows: [{ n: ['-1', '-1', '-1', '-1'] }] };
      },
    };
    assert.equal(await batch.write(client as never, () => undefined), false);
    return params;
  };

  it('merges later changes of a key into its row and leaves the received changes as they came, for the fall back', async () => {
    const insert: RowChange = { tag: 'insert', relation, new: ['1', '10', 'a'] };
    const update: RowChange = { tag: 'update', relation, key: null, old: null, new: ['1', '11', undefined] };
    const update2: RowChange = { tag: 'update', relation, key: null, old: null, new: ['2', '20', undefined] };
    const update3: RowChange = { tag: 'update', relation, key: null, old: null, new: ['2', '21', 'b'] };
    const plain: RowChange = { tag: 'update', relation, key: null, old: null, new: ['3', '30', 'c'] };
    const batch = new SetBatch();
    for (const c of [insert, update, update2, update3, plain]) assert.equal(batch.add(table, c), true);
    assert.deepEqual(
      batch.received.map((c) => (c as { new: unknown[] }).new),
      [
        ['1', '10', 'a'],
        ['1', '11', undefined],
        ['2', '20', undefined],
        ['2', '21', 'b'],
        ['3', '30', 'c'],
      ],
    );
    // Keys 2 and 3 know every column after the batch (one UPDATE); key 1 is inserted with the merged row.
    assert.deepEqual(await written(batch), ['{"2","3"}', '{"21","30"}', '{"b","c"}', '{"1"}', '{"11"}', '{"a"}']);
  });

  it('updates rows that miss an unchanged TOAST value apart, without that column', async () => {
    const batch = new SetBatch();
    batch.add(table, { tag: 'update', relation, key: null, old: null, new: ['4', '40', undefined] });
    batch.add(table, { tag: 'update', relation, key: null, old: null, new: ['5', '50', 'e'] });
    assert.deepEqual(await written(batch), ['{"5"}', '{"50"}', '{"e"}', '{"4"}', '{"40"}']);
  });
});
