/** Reading `pg_restore -l` lines, whose names may hold spaces. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseToc, readings, toolErrorDetail } from '../../src/postgres/ddl';

describe('archive table of contents', () => {
  const toc = [
    ';',
    '; Archive created at 2026-11-21 15:22:01 UTC',
    ';     dbname: app',
    '215; 1259 16390 TABLE public orders app',
    '216; 1259 16391 TABLE public order items app',
    '3201; 2606 16400 CONSTRAINT public orders orders_pkey app',
    '3300; 2606 16410 FK CONSTRAINT public order items order items_order_fk app',
    '12; 2615 2200 SCHEMA - public pg_database_owner',
    '3400; 0 0 MATERIALIZED VIEW DATA public totals app',
    '3500; 1259 16500 SEQUENCE OWNED BY public orders_id_seq app',
  ].join('\n');

  it('keeps entry lines only, with the multi-word desc recognised', () => {
    const entries = parseToc(toc);
    assert.equal(entries.length, 7);
    assert.deepEqual(
      entries.map((e) => e.desc),
      ['TABLE', 'TABLE', 'CONSTRAINT', 'FK CONSTRAINT', 'SCHEMA', 'MATERIALIZED VIEW DATA', 'SEQUENCE OWNED BY'],
    );
    assert.deepEqual(entries[3]!.words, ['public', 'order', 'items', 'order', 'items_order_fk', 'app']);
    assert.equal(entries[0]!.line, '215; 1259 16390 TABLE public orders app');
  });

  it('gives every way to cut the words into names, the last word being the owner', () => {
    assert.deepEqual(readings(['public', 'orders', 'app'], 2), [['public', 'orders']]);
    assert.deepEqual(readings(['public', 'order', 'items', 'app'], 2), [
      ['public', 'order items'],
      ['public order', 'items'],
    ]);
    assert.deepEqual(readings(['a', 'b', 'c', 'd', 'owner'], 3), [
      ['a', 'b', 'c d'],
      ['a', 'b c', 'd'],
      ['a b', 'c', 'd'],
    ]);
    assert.deepEqual(readings(['orders', 'app'], 3), [], 'too few words: no reading');
    assert.deepEqual(readings(['x', 'app'], 0), []);
  });

  it('picks the error lines and the failing command out of what pg_restore printed', () => {
    const stderr = [
      'pg_restore: connecting to database for restore',
      'pg_restore: error: could not execute query: ERROR:  relation "orders" already exists',
      'Command was: CREATE TABLE public.orders (',
      '    id bigint NOT NULL,',
      '    note text',
      ');',
    ].join('\n');
    const detail = toolErrorDetail(stderr);
    assert.match(detail, /relation "orders" already exists/);
    assert.match(detail, /Command was: CREATE TABLE public\.orders \( id bigint NOT NULL, note text\)?/);
    assert.doesNotMatch(detail, /connecting to database/);
  });
});
