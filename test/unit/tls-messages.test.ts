/** A TLS failure names what went wrong and the change that fixes it, never the URL. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorType } from '../../src/errors';
import { connectionError } from '../../src/postgres/connect';

const ep = { side: 'source' as const, ref: 'env:SRC' };
const facts = (sslmode: string) => ({ host: 'db.internal', port: 5432, database: 'shop', user: 'app', sslmode });
const at = /^source server db\.internal:5432 \(database shop, user app\): /;

describe('TLS failures', () => {
  it('a certificate signed by a CA the worker does not trust: sslrootcert', () => {
    for (const code of [
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'DEPTH_ZERO_SELF_SIGNED_CERT',
    ]) {
      const e = connectionError(ep, facts('verify-full'), { code, message: 'unable to verify the first certificate' });
      assert.equal(e.type, ErrorType.TlsFailed);
      assert.equal(e.retryable, false);
      assert.match(e.message, at);
      assert.match(
        e.message,
        /TLS failed \(unable to verify the first certificate\); the server's certificate is not signed by a CA the worker trusts: /,
      );
      assert.match(
        e.message,
        /set sslrootcert=<file of the CA that signed the server's certificate> in the URL in environment variable SRC/,
      );
    }
  });

  it("a certificate for another name: the certificate's names, or verify-ca", () => {
    const e = connectionError(ep, facts('verify-full'), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      message:
        "Hostname/IP does not match certificate's altnames: Host: db.internal. is not in the cert's altnames: DNS:localhost",
    });
    assert.equal(e.type, ErrorType.TlsFailed);
    assert.match(e.message, /the server's certificate is not for db\.internal: connect by a name or address/);
    assert.match(e.message, /sslmode=verify-ca/);
  });

  it('an expired certificate: renew it', () => {
    const e = connectionError(ep, facts('verify-full'), {
      code: 'CERT_HAS_EXPIRED',
      message: 'certificate has expired',
    });
    assert.equal(e.type, ErrorType.TlsFailed);
    assert.match(
      e.message,
      /TLS failed \(certificate has expired\); the server's certificate is not valid now: renew it/,
    );
  });

  it('a server with ssl off', () => {
    const e = connectionError(ep, facts('require'), { message: 'The server does not support SSL connections' });
    assert.equal(e.type, ErrorType.TlsFailed);
    assert.match(e.message, /the server has ssl off: turn it on in the server's configuration/);
  });

  it('a server that requires TLS from a URL without it: sslmode', () => {
    const message = 'pg_hba.conf rejects connection for host "10.0.0.5", user "app", database "shop", no encryption';
    const e = connectionError(ep, facts('disable'), { code: '28000', message });
    assert.equal(e.type, ErrorType.AuthenticationFailed);
    assert.equal(e.retryable, false);
    assert.match(e.message, /no encryption; the server requires TLS from the worker: /);
    assert.match(
      e.message,
      /add sslmode=verify-full&sslrootcert=<CA file> \(or sslmode=require\) to the URL in environment variable SRC$/,
    );
    // Over TLS the same refusal is about pg_hba.conf and the credentials, not sslmode.
    const overTls = connectionError(ep, facts('require'), {
      code: '28000',
      message: 'no pg_hba.conf entry for host "10.0.0.5", user "app", database "shop", SSL encryption',
    });
    assert.match(overTls.message, /fix the credentials in environment variable SRC \(or the server's pg_hba\.conf\)/);
  });
});
