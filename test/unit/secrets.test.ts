import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSecretRef } from '../../src/plan/secrets';
import { connectionError, resolveEndpoint } from '../../src/postgres/connect';
import { ErrorType, NON_RETRYABLE_ERROR_TYPES, PgTransitError } from '../../src/errors';
import { sortItems } from '../../src/model/report';

describe('secret references', () => {
  it('resolves env: and file: on the worker', () => {
    assert.equal(resolveSecretRef('env:DB', 'source url', { DB: 'postgres://a:b@h/d\n' }), 'postgres://a:b@h/d');
    const file = join(mkdtempSync(join(tmpdir(), 'pgt-')), 'url');
    writeFileSync(file, 'postgres://x@h/d\n');
    assert.equal(resolveSecretRef(`file:${file}`, 'target url'), 'postgres://x@h/d');
  });
  it('names the missing variable and the fix, never a value', () => {
    assert.throws(
      () => resolveSecretRef('env:NOPE', 'source url', {}),
      (e: PgTransitError) => {
        assert.equal(e.type, ErrorType.SecretUnresolved);
        assert.match(e.message, /source url: environment variable NOPE is not set on the worker/);
        return true;
      },
    );
    assert.throws(
      () => resolveSecretRef('file:/nonexistent/x', 'target url'),
      /cannot read \/nonexistent\/x on the worker \(ENOENT\)/,
    );
  });
  it('is not retried', () => {
    assert.ok(NON_RETRYABLE_ERROR_TYPES.includes(ErrorType.SecretUnresolved));
    assert.ok(!NON_RETRYABLE_ERROR_TYPES.includes(ErrorType.Transient));
  });
});

describe('connection settings', () => {
  const resolve = (url: string) => {
    process.env.PGT_UNIT_URL = url;
    return resolveEndpoint({ side: 'source', ref: 'env:PGT_UNIT_URL' });
  };
  it('honours libpq sslmode semantics', () => {
    assert.equal(resolve('postgres://u:p@h/db?sslmode=disable').config.ssl, false);
    assert.deepEqual(resolve('postgres://u:p@h/db?sslmode=require').config.ssl, { rejectUnauthorized: false });
    // No sslmode: libpq's default, prefer (TLS when offered, unverified), for pgtransit's sessions as for pg_dump's.
    assert.deepEqual(resolve('postgres://u:p@h/db').config.ssl, { rejectUnauthorized: false });
    assert.equal(resolve('postgres://u:p@h/db').libpqEnv.PGSSLMODE, 'prefer');
    const home = mkdtempSync(join(tmpdir(), 'pgtransit-unit-home-'));
    const before = process.env.HOME;
    process.env.HOME = home;
    try {
      // Without sslrootcert, libpq reads ~/.postgresql/root.crt; without that file the URL is refused.
      for (const mode of ['verify-full', 'verify-ca'])
        assert.throws(
          () => resolve(`postgres://u:p@h/db?sslmode=${mode}`),
          new RegExp(`has sslmode=${mode} but no sslrootcert.*add sslrootcert=`),
        );
      mkdirSync(join(home, '.postgresql'));
      writeFileSync(join(home, '.postgresql', 'root.crt'), 'CA');
      const r = resolve('postgres://u:p@h/db?sslmode=verify-full');
      const full = r.config.ssl as Record<string, unknown>;
      assert.equal(full.rejectUnauthorized, undefined, 'verify-full verifies the certificate and the host');
      assert.equal(full.ca, 'CA', "the driver trusts libpq's CA file, as pg_dump does");
      assert.equal(r.libpqEnv.PGSSLROOTCERT, join(home, '.postgresql', 'root.crt'));
    } finally {
      process.env.HOME = before;
      rmSync(home, { recursive: true, force: true });
    }
  });
  it('reports host, port, database and user, not the password', () => {
    const { facts } = resolve('postgres://app:secret@db.internal:6543/shop');
    assert.deepEqual(facts, { host: 'db.internal', port: 6543, database: 'shop', user: 'app', sslmode: 'prefer' });
  });
  it('classifies connection failures', () => {
    const facts = { host: 'h', port: 5432, database: 'd', user: 'u', sslmode: 'disable' };
    const ep = { side: 'target' as const, ref: 'env:TGT' };
    const auth = connectionError(ep, facts, { code: '28P01', message: 'password authentication failed for user "u"' });
    assert.equal(auth.type, ErrorType.AuthenticationFailed);
    assert.equal(auth.retryable, false);
    assert.match(
      auth.message,
      /^target server h:5432 \(database d, user u\): password authentication failed.*environment variable TGT/,
    );
    assert.equal(
      connectionError(ep, facts, { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }).type,
      ErrorType.ServerUnreachable,
    );
    assert.equal(
      connectionError(ep, facts, { code: '3D000', message: 'database "d" does not exist' }).type,
      ErrorType.DatabaseNotFound,
    );
    assert.equal(
      connectionError(ep, facts, { code: '57P03', message: 'the database system is starting up' }).retryable,
      true,
    );
    assert.equal(
      connectionError(ep, facts, {
        message: 'self-signed certificate in certificate chain',
        code: 'SELF_SIGNED_CERT_IN_CHAIN',
      }).type,
      ErrorType.TlsFailed,
    );
  });
});

describe('report order', () => {
  it('puts failures first, then warnings, then passes', () => {
    const items = sortItems([
      { id: 'a.pass', scope: 'source', status: 'pass', observed: '' },
      { id: 'b.warn', scope: 'source', status: 'warn', observed: '' },
      { id: 'c.fail', scope: 'target', status: 'fail', observed: '' },
    ]);
    assert.deepEqual(
      items.map((i) => i.status),
      ['fail', 'warn', 'pass'],
    );
  });
});
