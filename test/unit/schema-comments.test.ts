/** Which schema a COMMENT entry of `pg_restore -l` is about (tags quote the name, owners follow it). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commentedSchema, parseToc } from '../../src/postgres/ddl/toc';

describe('COMMENT entries on schemas', () => {
  it('reads the quoted schema name, spaces and quotes included', () => {
    const entries = parseToc(
      [
        '3265; 0 0 COMMENT - SCHEMA "public" pg_database_owner',
        '3264; 0 0 COMMENT - SCHEMA "odd name" postgres',
        '3263; 0 0 COMMENT - SCHEMA "say ""hi""" app owner',
        '3266; 0 0 COMMENT public TABLE "t" postgres',
        '4; 2615 2200 SCHEMA - public pg_database_owner',
      ].join('\n'),
    );
    assert.deepEqual(entries.map(commentedSchema), ['public', 'odd name', 'say "hi"', null, null]);
  });
});
