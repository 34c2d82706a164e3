import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { METADATA_ENCODING_KEY, defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  AesGcmCodec,
  CODEC_KEY_VARIABLE,
  CODEC_PREVIOUS_KEYS_VARIABLE,
  CodecError,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  codecFromEnvironment,
  codecKeys,
  keyId,
} from '../../src/temporal/codec';
import { startCodecServer, type CodecServer } from '../../src/temporal/codec-server';
import { ErrorType, PgTransitError } from '../../src/errors';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const newKey = () => randomBytes(32);
const codecOf = (key: Buffer, previous: Buffer[] = []) =>
  new AesGcmCodec(
    { id: keyId(key), key },
    previous.map((k) => ({ id: keyId(k), key: k })),
  );
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const SECRET = { database: 'payroll_eu', observed: 'wal_level = replica', rows: [1, 2, 3] };

describe('payload codec', () => {
  it('round-trips payloads, metadata included, and stores none of their text', async () => {
    const codec = codecOf(newKey());
    const plain: Payload[] = [
      defaultPayloadConverter.toPayload(SECRET),
      defaultPayloadConverter.toPayload(undefined),
      defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 255])),
      { metadata: { [METADATA_ENCODING_KEY]: Buffer.from('json/plain'), extra: new Uint8Array() }, data: undefined },
    ];
    const encoded = await codec.encode(plain);
    assert.equal(encoded.length, plain.length);
    for (const p of encoded) {
      assert.equal(text(p.metadata?.[METADATA_ENCODING_KEY]), ENCRYPTED_ENCODING);
      assert.equal(text(p.metadata?.[KEY_ID_METADATA]), codec.keyId);
      assert.deepEqual(Object.keys(p.metadata ?? {}).sort(), [KEY_ID_METADATA, METADATA_ENCODING_KEY].sort());
      assert.ok(!text(p.data).includes('payroll') && !text(p.data).includes('json/plain'));
    }
    const decoded = await codec.decode(encoded);
    assert.deepEqual(defaultPayloadConverter.fromPayload(decoded[0]!), SECRET);
    assert.equal(defaultPayloadConverter.fromPayload(decoded[1]!), undefined);
    assert.deepEqual(
      Buffer.from(defaultPayloadConverter.fromPayload<Uint8Array>(decoded[2]!)),
      Buffer.from([0, 1, 2, 255]),
    );
    assert.deepEqual(Object.fromEntries(Object.entries(decoded[3]!.metadata ?? {}).map(([k, v]) => [k, text(v)])), {
      [METADATA_ENCODING_KEY]: 'json/plain',
      extra: '',
    });
    assert.equal(decoded[3]!.data?.length, 0);
  });

  it('uses a fresh IV each time: the same payload never encrypts the same', async () => {
    const codec = codecOf(newKey());
    const p = defaultPayloadConverter.toPayload(SECRET);
    const [a, b] = await codec.encode([p, p]);
    assert.notDeepEqual(Buffer.from(a!.data!), Buffer.from(b!.data!));
  });

  it('passes payloads it did not encrypt through decode (histories from before the codec)', async () => {
    const p = defaultPayloadConverter.toPayload(SECRET);
    const [out] = await codecOf(newKey()).decode([p]);
    assert.equal(out, p);
  });

  it('refuses a payload of another key, naming both key ids and the fix', async () => {
    const [encoded] = await codecOf(newKey()).encode([defaultPayloadConverter.toPayload(SECRET)]);
    const other = codecOf(newKey());
    await assert.rejects(other.decode([encoded!]), (e: Error) => {
      assert.ok(e instanceof CodecError);
      assert.match(e.message, new RegExp(`encrypted with key ${text(encoded!.metadata![KEY_ID_METADATA])}`));
      assert.match(e.message, new RegExp(`it has ${other.keyId}`));
      assert.match(e.message, /set PGTRANSIT_CODEC_KEY to the key the workers encrypt with/);
      return true;
    });
  });

  it('refuses a key id moved onto another key: authentication fails, nothing is decrypted', async () => {
    const a = newKey();
    const b = newKey();
    const [encoded] = await codecOf(a).encode([defaultPayloadConverter.toPayload(SECRET)]);
    // The attacker relabels a's ciphertext with b's id: b's codec tries b and the tag does not match.
    const relabelled = { ...encoded!, metadata: { ...encoded!.metadata, [KEY_ID_METADATA]: Buffer.from(keyId(b)) } };
    await assert.rejects(codecOf(b).decode([relabelled]), /failed authentication/);
  });

  it('refuses tampered ciphertext, IV, tag or truncation', async () => {
    const codec = codecOf(newKey());
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(SECRET)]);
    const data = Buffer.from(encoded!.data!);
    for (const at of [1, 5, 13, Math.floor(data.length / 2), data.length - 1]) {
      const bad = Buffer.from(data);
      bad[at]! ^= 0x01;
      await assert.rejects(codec.decode([{ ...encoded!, data: bad }]), /failed authentication: it was altered/);
    }
    await assert.rejects(codec.decode([{ ...encoded!, data: data.subarray(0, 20) }]), /not in a format/);
    const future = Buffer.from(data);
    future[0] = 9;
    await assert.rejects(codec.decode([{ ...encoded!, data: future }]), /written by a newer version/);
  });

  it('decrypts with a previous key after a rotation, and encrypts with the current one', async () => {
    const old = newKey();
    const [byOld] = await codecOf(old).encode([defaultPayloadConverter.toPayload(SECRET)]);
    const rotated = codecOf(newKey(), [old]);
    assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([byOld!]))[0]!), SECRET);
    const [byNew] = await rotated.encode([defaultPayloadConverter.toPayload(SECRET)]);
    assert.equal(text(byNew!.metadata![KEY_ID_METADATA]), rotated.keyId);
  });
});

describe('codec key from the environment', () => {
  const key = newKey();
  const dir = mkdtempSync(join(tmpdir(), 'pgt-codec-'));
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('is off when PGTRANSIT_CODEC_KEY is unset or empty', () => {
    assert.equal(codecFromEnvironment({}), undefined);
    assert.equal(codecFromEnvironment({ [CODEC_KEY_VARIABLE]: '  ' }), undefined);
  });

  it('reads file:PATH, env:NAME and the key itself, in base64, base64url, hex or 32 raw bytes', () => {
    const id = keyId(key);
    const forms: Record<string, string> = {
      [`file:${file('b64', key.toString('base64') + '\n')}`]: 'base64 file',
      [`file:${file('hex', key.toString('hex'))}`]: 'hex file',
      [`file:${file('raw', key)}`]: 'raw file',
      'env:PGT_CODEC_KEY_B64URL': 'base64url variable',
      [key.toString('base64')]: 'the key itself',
    };
    for (const [ref, form] of Object.entries(forms)) {
      const codec = codecFromEnvironment({
        [CODEC_KEY_VARIABLE]: ref,
        PGT_CODEC_KEY_B64URL: key.toString('base64url'),
      });
      assert.equal(codec?.keyId, id, form);
    }
  });

  it('reads previous keys, comma-separated', () => {
    const old = newKey();
    const keys = codecKeys({
      [CODEC_KEY_VARIABLE]: key.toString('hex'),
      [CODEC_PREVIOUS_KEYS_VARIABLE]: ` file:${file('old', old.toString('base64'))} , `,
    });
    assert.deepEqual(
      keys?.previous.map((k) => k.id),
      [keyId(old)],
    );
  });

  it('names the variable, the reference and the fix for a malformed key, never the key', () => {
    const malformed = [
      { env: { [CODEC_KEY_VARIABLE]: 'c2hvcnQta2V5' }, where: /^PGTRANSIT_CODEC_KEY: not a 32-byte AES key/ },
      {
        env: { [CODEC_KEY_VARIABLE]: `file:${file('short', 'c2hvcnQta2V5\n')}` },
        where: /^PGTRANSIT_CODEC_KEY \(file .*short\): not a 32-byte AES key \(12 characters/,
      },
      {
        env: { [CODEC_KEY_VARIABLE]: 'env:PGT_KEY', PGT_KEY: key.toString('hex').slice(2) },
        where: /^PGTRANSIT_CODEC_KEY \(environment variable PGT_KEY\): not a 32-byte AES key/,
      },
      {
        env: { [CODEC_KEY_VARIABLE]: key.toString('hex'), [CODEC_PREVIOUS_KEYS_VARIABLE]: 'c2hvcnQta2V5' },
        where: /^PGTRANSIT_CODEC_PREVIOUS_KEYS \(entry 1\): not a 32-byte AES key/,
      },
    ];
    for (const { env, where } of malformed) {
      assert.throws(
        () => codecFromEnvironment(env),
        (e: PgTransitError) => {
          assert.equal(e.type, ErrorType.SecretUnresolved);
          assert.match(e.message, where);
          assert.match(e.message, /openssl rand -base64 32/);
          assert.ok(!e.message.includes('c2hvcnQta2V5') && !e.message.includes(key.toString('hex').slice(2, 20)));
          return true;
        },
      );
    }
  });

  it('names the unset variable or the unreadable file and the fix', () => {
    assert.throws(
      () => codecFromEnvironment({ [CODEC_KEY_VARIABLE]: 'env:NOPE' }),
      /PGTRANSIT_CODEC_KEY names environment variable NOPE, which is not set; export NOPE with the key/,
    );
    assert.throws(
      () => codecFromEnvironment({ [CODEC_KEY_VARIABLE]: 'file:/nonexistent/key' }),
      /PGTRANSIT_CODEC_KEY names file \/nonexistent\/key, which cannot be read \(ENOENT\); create it readable/,
    );
    assert.throws(
      () => codecFromEnvironment({ [CODEC_PREVIOUS_KEYS_VARIABLE]: key.toString('hex') }),
      /PGTRANSIT_CODEC_PREVIOUS_KEYS is set but PGTRANSIT_CODEC_KEY is not/,
    );
  });

  it('pgtransit codec-server says what is missing, and a worker with a malformed key does not start', async () => {
    const bin = join(root, 'bin', 'pgtransit.js');
    const env = { ...process.env, [CODEC_KEY_VARIABLE]: '' };
    const none = await run(process.execPath, [bin, 'codec-server'], { env }).catch((e) => e);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /the codec server needs the key the workers encrypt with: set PGTRANSIT_CODEC_KEY=file:PATH/,
    );
    const bad = await run(process.execPath, [bin, 'worker'], {
      env: { ...env, [CODEC_KEY_VARIABLE]: 'not-a-key-at-all', TEMPORAL_ADDRESS: '127.0.0.1:1' },
    }).catch((e) => e);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /PGTRANSIT_CODEC_KEY: not a 32-byte AES key/);
    assert.ok(!bad.stderr.includes('not-a-key-at-all'));
  });
});

describe('codec server', () => {
  const codec = codecOf(newKey());
  let server: CodecServer;
  const logged: string[] = [];
  before(async () => {
    server = await startCodecServer({
      codec,
      port: 0,
      corsOrigins: ['http://ui.example:8080'],
      namespaces: ['default'],
      log: (l) => logged.push(l),
    });
  });
  after(() => server.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const json = (v: unknown) => ({ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: v });
  const payloadJson = json(Buffer.from(JSON.stringify(SECRET)).toString('base64'));

  it('encodes and decodes the protobuf JSON of Payloads, under any prefix', async () => {
    const enc = await post('/default/encode', { payloads: [payloadJson] }, { 'X-Namespace': 'default' });
    assert.equal(enc.status, 200);
    assert.match(enc.headers.get('content-type') ?? '', /application\/json/);
    const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    assert.equal(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString(), ENCRYPTED_ENCODING);
    assert.ok(!Buffer.from(encoded.payloads[0]!.data, 'base64').toString().includes('payroll'));
    const dec = await post('/decode', encoded);
    assert.equal(dec.status, 200);
    assert.deepEqual(await dec.json(), { payloads: [payloadJson] });
  });

  it('returns unencrypted payloads as they came, unknown fields and empty messages included', async () => {
    const odd = { metadata: { encoding: 'YmluYXJ5L251bGw=' }, externalPayloads: [{ sizeBytes: '3' }] };
    const r = await post('/decode', { payloads: [odd, payloadJson] });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { payloads: [odd, payloadJson] });
    assert.deepEqual(await (await post('/decode', {})).json(), { payloads: [] });
    assert.deepEqual(await (await post('/encode', { payloads: [] })).json(), { payloads: [] });
  });

  it('answers the Web UI: preflight, and CORS headers for its origin only', async () => {
    const pre = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://ui.example:8080',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
        'Access-Control-Request-Private-Network': 'true',
      },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://ui.example:8080');
    assert.equal(pre.headers.get('access-control-allow-credentials'), 'true');
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /x-namespace/);
    assert.equal(pre.headers.get('access-control-allow-private-network'), 'true');
    const ok = await post('/decode', { payloads: [payloadJson] }, { Origin: 'http://ui.example:8080' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'http://ui.example:8080');
    const other = await post('/decode', { payloads: [payloadJson] }, { Origin: 'http://evil.example' });
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    assert.match(
      await other.text(),
      /origin http:\/\/evil\.example is not allowed; start the codec server with --cors-origin/,
    );
  });

  it('refuses bad bodies, paths, methods, namespaces and ciphertext with 4xx and says why', async () => {
    const [encoded] = await codec.encode([{ metadata: {}, data: Buffer.from('x') }]);
    const tampered = Buffer.from(encoded!.data!);
    tampered[20]! ^= 1;
    const cases: [Promise<Response>, number, RegExp][] = [
      [post('/decode', '{"payloads": ['), 400, /the body is not JSON/],
      [post('/decode', '[1]'), 400, /must be a JSON object/],
      [post('/decode', { payloads: 'x' }), 400, /payloads: expected an array/],
      [post('/decode', { payloads: [7] }), 400, /payloads\[0\]: expected an object/],
      [
        post('/decode', { payloads: [{ metadata: { encoding: 'not base64!' } }] }),
        400,
        /payloads\[0\]\.metadata\.encoding/,
      ],
      [post('/decode', { payloads: [{ data: 12 }] }), 400, /payloads\[0\]\.data: expected a base64 string/],
      [
        post('/decode', {
          payloads: [
            {
              metadata: Object.fromEntries(
                Object.entries(encoded!.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
              ),
              data: tampered.toString('base64'),
            },
          ],
        }),
        400,
        /failed authentication/,
      ],
      [post('/', {}), 404, /POST \.\.\.\/encode or \.\.\.\/decode/],
      [fetch(`${server.url}/decode`), 405, /GET \/decode: use POST/],
      [post('/decode', {}, { 'X-Namespace': 'prod' }), 403, /namespace prod is not served here \(only default\)/],
    ];
    for (const [response, status, message] of cases) {
      const r = await response;
      assert.equal(r.status, status, `${message}`);
      assert.match(await r.text(), message);
    }
    assert.ok(logged.some((l) => /-> 400: the body is not JSON/.test(l)));
  });
});
