/**
 * The optional payload codec: AES-256-GCM over every payload the client and the worker
 * hand to Temporal (workflow input and results, activity input, results and heartbeat
 * details, queries, updates, signals, failure messages), so the server's history holds
 * ciphertext only. Off unless PGTRANSIT_CODEC_KEY is set.
 *
 * What stays readable in the history whatever the key: workflow ids (`migration-<name>`),
 * workflow and activity type names, task queues, timestamps and sizes.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { PgTransitError, ErrorType } from '../errors';

/** The variable naming the key that encrypts: `file:PATH`, `env:NAME`, or the key itself. */
export const CODEC_KEY_VARIABLE = 'PGTRANSIT_CODEC_KEY';
/** Keys that only decrypt (after a rotation), comma-separated, in the same forms. */
export const CODEC_PREVIOUS_KEYS_VARIABLE = 'PGTRANSIT_CODEC_PREVIOUS_KEYS';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

/** The only format written so far; a later one gets the next number and this one keeps decoding. */
const FORMAT_V1 = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_FIX = 'write a new one with `openssl rand -base64 32`';

export interface CodecKey {
  /** A fingerprint of the key (never the key): which key encrypted a payload. */
  id: string;
  key: Buffer;
}

/** The key's fingerprint: the same on every worker and client holding the key. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('pgtransit codec key id\0').update(key).digest('hex').slice(0, 16);
}

/**
 * Reads a 32-byte key from 64 hex digits or base64 (standard or URL-safe, padded or not).
 * `where` names the variable and the reference for the message; the text is never echoed.
 */
export function parseKey(text: string, where: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(t)) {
    const key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new PgTransitError(
    ErrorType.SecretUnresolved,
    `${where}: not a 32-byte AES key (${t.length} characters, neither 64 hex digits nor 44 base64 characters); ${KEY_FIX}`,
  );
}

/** One reference (`file:PATH`, `env:NAME` or the key itself) to its key. */
function resolveKey(ref: string, variable: string, env: NodeJS.ProcessEnv): CodecKey {
  let key: Buffer;
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    if (!value) {
      throw new PgTransitError(
        ErrorType.SecretUnresolved,
        `${variable} names environment variable ${name}, which is not set; export ${name} with the key (${KEY_FIX}), ` +
          `or point ${variable} at a file with file:PATH`,
      );
    }
    key = parseKey(value, `${variable} (environment variable ${name})`);
  } else if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      throw new PgTransitError(
        ErrorType.SecretUnresolved,
        `${variable} names file ${path}, which cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); ` +
          `create it readable by this process's user (${KEY_FIX} > ${path})`,
      );
    }
    // Exactly 32 bytes is a raw key (`head -c 32 /dev/urandom`): no text key is that long.
    key = bytes.length === KEY_BYTES ? bytes : parseKey(bytes.toString('utf8'), `${variable} (file ${path})`);
  } else {
    key = parseKey(ref, variable);
  }
  return { id: keyId(key), key };
}

/** The keys the environment configures, or undefined when the codec is off. */
export function codecKeys(
  env: NodeJS.ProcessEnv = process.env,
): { current: CodecKey; previous: CodecKey[] } | undefined {
  const ref = env[CODEC_KEY_VARIABLE]?.trim();
  if (!ref) {
    if (env[CODEC_PREVIOUS_KEYS_VARIABLE]?.trim()) {
      throw new PgTransitError(
        ErrorType.SecretUnresolved,
        `${CODEC_PREVIOUS_KEYS_VARIABLE} is set but ${CODEC_KEY_VARIABLE} is not: set ${CODEC_KEY_VARIABLE} to the key that encrypts now`,
      );
    }
    return undefined;
  }
  const current = resolveKey(ref, CODEC_KEY_VARIABLE, env);
  const previous = (env[CODEC_PREVIOUS_KEYS_VARIABLE] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((r, i) => resolveKey(r, `${CODEC_PREVIOUS_KEYS_VARIABLE} (entry ${i + 1})`, env));
  return { current, previous };
}

/** A failure to decrypt: which key, and what to do; never any payload bytes. */
export class CodecError extends Error {
  override name = 'CodecError';
}

const utf8 = (b: Uint8Array | undefined | null) => (b ? Buffer.from(b).toString('utf8') : '');

/** Additional authenticated data: a payload cannot be moved under another key id or format unnoticed. */
const aad = (id: string) => Buffer.from(`pgtransit aes-256-gcm v${FORMAT_V1} ${id}`);

/**
 * Encrypts the whole payload (its metadata too, since `encoding` tells what the data is)
 * under the current key, and decrypts with whichever configured key encrypted it.
 * Payloads not encrypted by this codec pass through decode unchanged, so histories
 * written before the codec was turned on stay readable.
 */
export class AesGcmCodec implements PayloadCodec {
  private readonly keys: Map<string, Buffer>;

  constructor(
    private readonly current: CodecKey,
    previous: CodecKey[] = [],
  ) {
    this.keys = new Map([...previous, current].map((k) => [k.id, k.key]));
  }

  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  private encrypt(payload: Payload): Payload {
    // A fresh random IV for every payload: GCM with a repeated IV under one key loses both secrecy and integrity.
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(this.current.id));
    const body = Buffer.concat([cipher.update(serializePayload(payload)), cipher.final()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(this.current.id),
      },
      data: Buffer.concat([Buffer.from([FORMAT_V1]), iv, body, cipher.getAuthTag()]),
    };
  }

  private decrypt(payload: Payload): Payload {
    if (utf8(payload.metadata?.[METADATA_ENCODING_KEY]) !== ENCRYPTED_ENCODING) return payload;
    const id = utf8(payload.metadata?.[KEY_ID_METADATA]);
    const key = this.keys.get(id);
    if (!key) {
      throw new CodecError(
        `a payload was encrypted with key ${id || '(no key id)'}, which this process does not have ` +
          `(it has ${[...this.keys.keys()].join(', ')}); set ${CODEC_KEY_VARIABLE} to the key the workers encrypt with, ` +
          `or list the old key in ${CODEC_PREVIOUS_KEYS_VARIABLE}`,
      );
    }
    const data = Buffer.from(payload.data ?? []);
    if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== FORMAT_V1) {
      throw new CodecError(
        `a payload encrypted with key ${id} is not in a format this pgtransit reads (truncated, or written by a newer version)`,
      );
    }
    const iv = data.subarray(1, 1 + IV_BYTES);
    const tag = data.subarray(data.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(id));
    decipher.setAuthTag(tag);
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(1 + IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new CodecError(
        `a payload encrypted with key ${id} failed authentication: it was altered after encryption, or another key ` +
          `has the same id; nothing of it was decrypted`,
      );
    }
    return deserializePayload(plain);
  }
}

/**
 * The plaintext that is encrypted: the payload's metadata entries then its data,
 * `u32 count, (u32 len, key, u32 len, value)*, data`, lengths big-endian.
 */
export function serializePayload(payload: Payload): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const entries = Object.entries(payload.metadata ?? {});
  parts.push(u32(entries.length));
  for (const [k, v] of entries) {
    const key = Buffer.from(k, 'utf8');
    const value = Buffer.from(v ?? []);
    parts.push(u32(key.length), key, u32(value.length), value);
  }
  parts.push(Buffer.from(payload.data ?? []));
  return Buffer.concat(parts);
}

export function deserializePayload(plain: Buffer): Payload {
  let at = 0;
  const take = (n: number) => {
    if (at + n > plain.length) throw new CodecError('a decrypted payload is truncated');
    const b = plain.subarray(at, at + n);
    at += n;
    return b;
  };
  const u32 = () => take(4).readUInt32BE();
  const metadata: Record<string, Uint8Array> = {};
  for (let n = u32(); n > 0; n--) {
    const key = take(u32()).toString('utf8');
    metadata[key] = Buffer.from(take(u32()));
  }
  return { metadata, data: Buffer.from(plain.subarray(at)) };
}

/** The codec the environment configures, or undefined when it is off. */
export function codecFromEnvironment(env: NodeJS.ProcessEnv = process.env): AesGcmCodec | undefined {
  const keys = codecKeys(env);
  return keys && new AesGcmCodec(keys.current, keys.previous);
}

/**
 * Failure messages and stack traces are plain text in the history unless the failure
 * converter moves them into an encoded payload: this module is that converter, built into
 * the workflow bundle (`failureConverterPath`) and loaded by the worker for activities.
 */
export const ENCRYPTED_FAILURES_PATH = require.resolve('./encrypted-failures');

/**
 * For the client and the worker: the codec, and failures whose message goes through it
 * (the worker loads the converter for activities; the workflow bundle must carry it too).
 */
export function codecDataConverter(codec: PayloadCodec | undefined): DataConverter | undefined {
  if (!codec) return undefined;
  return { payloadCodecs: [codec], failureConverterPath: ENCRYPTED_FAILURES_PATH };
}
