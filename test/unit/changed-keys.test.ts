/** The keys the apply notes after a verification point (src/postgres/cdc/changed-keys.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangedKeys, WHOLE_TABLE, changedTable } from '../../src/postgres/cdc/changed-keys';
import type { Relation } from '../../src/postgres/cdc/pgoutput';

const rel = (replicaIdentity: Relation['replicaIdentity'], keys: boolean[]): Relation => ({
  oid: 1,
  schema: 'public',
  name: 't',
  replicaIdentity,
  columns: keys.map((key, i) => ({ name: `c${i}`, key, typeOid: 25 })),
});

/** What `ChangedKeys.write` would send: table and key pairs. */
function noted(k: ChangedKeys): string[][] {
  const out: string[][] = [];
  const client = {
    query: async (_sql: string, params: unknown[]) => {
      const [, , tables, keys] = params as [string, string, string[], string[]];
      tables.forEach((t, i) => out.push([t, keys[i]!]));
    },
  };
  void k.write(client as never, 'm', 'db');
  return out;
}

describe('changed keys', () => {
  const T = changedTable({ schema: 'public', name: 't' });

  it('notes the key columns in column order, the old and the new key of an update that changed it', () => {
    const k = new ChangedKeys();
    k.note(rel('d', [false, true, true]), ['x', 'a', '1']);
    k.note(rel('d', [false, true, true]), [null, 'a', '1'], ['y', 'b', '2']);
    assert.deepEqual(noted(k), [
      [T, '["a","1"]'],
      [T, '["b","2"]'],
    ]);
  });

  it('notes the whole table for REPLICA IDENTITY FULL or NOTHING, no key, a key value not sent', () => {
    for (const [r, tuple] of [
      [rel('f', [true, true]), ['1', '2']],
      [rel('n', [false, false]), ['1', '2']],
      [rel('d', [false, false]), ['1', '2']],
      [rel('d', [true, false]), [undefined, '2']],
    ] as const) {
      const k = new ChangedKeys();
      k.note(r, ['0', '0']);
      k.note(r, [...tuple]);
      assert.deepEqual(noted(k), [[T, WHOLE_TABLE]], JSON.stringify(r));
    }
  });

  it('notes the whole table for an 8-bit key of a SQL_ASCII source, whose bytes the key text would not carry', () => {
    const k = new ChangedKeys(true);
    k.note(rel('d', [true]), ['caf\u00e9']);
    assert.deepEqual(noted(k), [[T, WHOLE_TABLE]]);
    const plain = new ChangedKeys(true);
    plain.note(rel('d', [true]), ['cafe']);
    assert.deepEqual(noted(plain), [[T, '["cafe"]']]);
  });
});
