import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forTarget, identityParts, pickStatement, splitStatements } from '../../src/postgres/cdc/ddl-apply';

describe('DDL replay: the statement of a firing', () => {
  it('splits a query at top-level semicolons only', () => {
    assert.deepEqual(
      splitStatements(
        `CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $x$ SELECT 1; $x$; -- a; comment\n` +
          `INSERT INTO t VALUES ('a;b', E'c\\';d'); /* x; /* nested; */ y */ ALTER TABLE "a;b" ADD c int;` +
          `CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; ;`,
      ),
      [
        `CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $x$ SELECT 1; $x$`,
        `-- a; comment\nINSERT INTO t VALUES ('a;b', E'c\\';d')`,
        `/* x; /* nested; */ y */ ALTER TABLE "a;b" ADD c int`,
        `CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END`,
      ],
    );
  });

  it('picks the n-th DDL statement of the query when it is of the firing kind, and says why not otherwise', () => {
    const query = `BEGIN; ALTER TABLE t ADD a int; INSERT INTO t VALUES (1); CREATE UNIQUE INDEX CONCURRENTLY i ON t (a); COMMIT`;
    assert.deepEqual(pickStatement({ query, ordinal: 1, tag: 'ALTER TABLE' }), { sql: 'ALTER TABLE t ADD a int' });
    assert.deepEqual(pickStatement({ query, ordinal: 2, tag: 'CREATE INDEX' }), {
      sql: 'CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)',
    });
    assert.match(
      (pickStatement({ query, ordinal: 2, tag: 'ALTER TABLE' }) as { problem: string }).problem,
      /not a ALTER TABLE/,
    );
    assert.match(
      (
        pickStatement({
          query: `DO $$ BEGIN EXECUTE 'CREATE TABLE x ()'; END $$`,
          ordinal: 1,
          tag: 'CREATE TABLE',
        }) as {
          problem: string;
        }
      ).problem,
      /function, procedure or DO block/,
    );
    assert.deepEqual(pickStatement({ query: `CREATE OR REPLACE VIEW v AS SELECT 1`, ordinal: 1, tag: 'CREATE VIEW' }), {
      sql: 'CREATE OR REPLACE VIEW v AS SELECT 1',
    });
  });

  it('runs CONCURRENTLY statements without it in the apply transaction', () => {
    assert.equal(forTarget('CREATE UNIQUE INDEX CONCURRENTLY i ON t (a)'), 'CREATE UNIQUE INDEX i ON t (a)');
    assert.equal(forTarget('DROP INDEX CONCURRENTLY i'), 'DROP INDEX i');
    assert.equal(
      forTarget('ALTER TABLE p DETACH PARTITION "P 1" CONCURRENTLY'),
      'ALTER TABLE p DETACH PARTITION "P 1"',
    );
  });

  it('reads object identities', () => {
    assert.deepEqual(identityParts('public."My ""T"".x".col'), ['public', 'My "T".x', 'col']);
    assert.deepEqual(identityParts('s.f(integer)'), ['s', 'f']);
  });
});
