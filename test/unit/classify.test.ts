/** The one failure classifier: which errors an operator must fix (fail at once) and which a retry may cure. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorType, PgTransitError, isRetryable } from '../../src/errors';
import { classify, errorTypeOf } from '../../src/postgres/classify';

const pg = (code: string, message = 'boom', extra: Record<string, string> = {}) =>
  Object.assign(new Error(message), { code, ...extra });

describe('failure classifier', () => {
  it('maps connection failures to what the operator has to fix', () => {
    assert.equal(errorTypeOf(pg('28P01'), 'connect'), ErrorType.AuthenticationFailed);
    assert.equal(errorTypeOf(pg('28000'), 'connect'), ErrorType.AuthenticationFailed);
    assert.equal(errorTypeOf(pg('3D000'), 'connect'), ErrorType.DatabaseNotFound);
    assert.equal(errorTypeOf(pg('ECONNREFUSED'), 'connect'), ErrorType.ServerUnreachable);
    assert.equal(
      errorTypeOf(new Error('Connection terminated due to connection timeout'), 'connect'),
      ErrorType.ServerUnreachable,
    );
    assert.equal(
      errorTypeOf(new Error('self-signed certificate in certificate chain'), 'connect'),
      ErrorType.TlsFailed,
    );
    assert.equal(errorTypeOf(pg('57P03', 'the database system is starting up'), 'connect'), ErrorType.Transient);
    assert.equal(errorTypeOf(pg('53300', 'too many clients'), 'connect'), ErrorType.Transient);
  });

  it('stops a copy at once on a value or row the target refuses, but not on a missing privilege', () => {
    assert.equal(errorTypeOf(pg('22P02'), 'copy'), ErrorType.SchemaFailed);
    assert.equal(errorTypeOf(pg('23505'), 'copy'), ErrorType.SchemaFailed);
    assert.equal(errorTypeOf(pg('42P01'), 'copy'), ErrorType.SchemaFailed);
    assert.equal(errorTypeOf(pg('42501'), 'copy'), ErrorType.PrivilegeMissing);
    assert.equal(errorTypeOf(pg('57P01'), 'copy'), ErrorType.Transient);
    const e = classify('copy', 'copying chunk public.t/0', pg('22P02', 'invalid input syntax'));
    assert.match(
      e.message,
      /^copying chunk public\.t\/0: invalid input syntax \(SQLSTATE 22P02\); .*a retry would not change that/,
    );
    assert.equal(e.retryable, false);
  });

  it('stalls the apply on a constraint (conflict) or a type or object problem (failed), retries the rest', () => {
    const conflict = classify(
      'apply',
      '',
      pg('23505', 'duplicate key', { constraint: 'orders_pkey', table: 'orders' }),
    );
    assert.equal(conflict.type, ErrorType.ApplyConflict);
    assert.match(
      conflict.message,
      /the target refused a change: duplicate key \(constraint orders_pkey\); fix the target, then resume/,
    );
    assert.deepEqual(conflict.details, { code: '23505', table: 'orders' });
    assert.equal(classify('apply', '', pg('42703', 'column does not exist')).type, ErrorType.ApplyFailed);
    const lost = classify('apply', '', new Error('Connection terminated unexpectedly'));
    assert.equal(lost.type, ErrorType.Transient);
    assert.equal(lost.message, 'Connection terminated unexpectedly');
  });

  it('names privilege and missing-database problems on a query; everything else is worth a retry', () => {
    assert.equal(classify('query', 'reading', pg('42501')).type, ErrorType.PrivilegeMissing);
    assert.equal(classify('query', 'reading', pg('3D000')).type, ErrorType.DatabaseNotFound);
    assert.equal(classify('query', 'reading', pg('40001')).type, ErrorType.Transient);
    assert.equal(
      classify('query', 'reading', pg('40001', 'could not serialize')).message,
      'reading: could not serialize',
    );
    assert.equal(isRetryable(classify('any', '', new Error('x')).type), true);
  });

  it('passes a classified error through unchanged', () => {
    const e = new PgTransitError(ErrorType.SlotLost, 'slot gone');
    assert.equal(classify('query', 'ctx', e), e);
    assert.equal(errorTypeOf(e, 'apply'), ErrorType.SlotLost);
  });
});
