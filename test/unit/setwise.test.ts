/** The text[] literals set-wise apply sends: the same text the driver builds from an array, built in one pass. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { textArray } from '../../src/postgres/cdc/setwise';

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
