/**
 * Temporal's remote codec protocol over node:http, so the Temporal CLI (`--codec-endpoint`)
 * and the Web UI (Settings > Codec Server, or `--ui-codec-endpoint` of the dev server) show
 * the plaintext of an encrypted history.
 *
 * POST <anything>/encode and POST <anything>/decode take and return the Payloads message in
 * protobuf JSON: `{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`.
 * Only the last path segment counts, so a proxy may mount it under `/<namespace>/`.
 *
 * Whoever reaches this server can decrypt: it listens on 127.0.0.1 unless told otherwise,
 * and answers browsers only from the origins it was given.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { CodecError } from './codec';

export const DEFAULT_CODEC_PORT = 8888;
/** The Web UI of `pgtransit dev` / `temporal server start-dev`. */
export const DEV_UI_ORIGINS = ['http://127.0.0.1:8233', 'http://localhost:8233'];
/** Larger bodies get 413: a history's payloads are sent a few at a time, each under Temporal's 2 MB limit. */
export const MAX_BODY_BYTES = 32 << 20;

export interface CodecServerOptions {
  codec: PayloadCodec;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Browser origins allowed to call (the Web UI's address); `*` allows any. Requests without Origin (the CLI) are always served. */
  corsOrigins?: string[];
  /** When given, a request whose X-Namespace names another namespace is refused; one without the header is served. */
  namespaces?: string[];
  /** Refused requests, one line each (never payload contents). */
  log?: (line: string) => void;
}

export interface CodecServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
  [field: string]: unknown;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function base64(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || !BASE64.test(value)) {
    throw new HttpError(400, `${where}: expected a base64 string (protobuf JSON of bytes)`);
  }
  return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The Payloads message from protobuf JSON; `{}` is the empty message. */
function parsePayloads(body: string): { payloads: Payload[]; json: Map<Payload, JsonPayload> } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new HttpError(400, `the body is not JSON (${(e as Error).message}); send {"payloads": [...]}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(
      400,
      'the body must be a JSON object {"payloads": [...]} (the Payloads message in protobuf JSON)',
    );
  }
  const list = (parsed as { payloads?: unknown }).payloads ?? [];
  if (!Array.isArray(list)) throw new HttpError(400, 'payloads: expected an array of payloads');
  const json = new Map<Payload, JsonPayload>();
  const payloads = list.map((item: unknown, i): Payload => {
    const where = `payloads[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new HttpError(400, `${where}: expected an object with metadata and data`);
    }
    const p = item as JsonPayload;
    if (
      p.metadata !== undefined &&
      (typeof p.metadata !== 'object' || p.metadata === null || Array.isArray(p.metadata))
    ) {
      throw new HttpError(400, `${where}.metadata: expected an object of base64 strings`);
    }
    const metadata: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(p.metadata ?? {})) metadata[k] = base64(v, `${where}.metadata.${k}`);
    const payload: Payload = {
      metadata,
      data: p.data === undefined ? new Uint8Array() : base64(p.data, `${where}.data`),
    };
    json.set(payload, p);
    return payload;
  });
  return { payloads, json };
}

function toJson(payload: Payload): JsonPayload {
  const out: JsonPayload = {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
    ),
  };
  if (payload.data && payload.data.length > 0) out.data = Buffer.from(payload.data).toString('base64');
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the 413 reaches the client.
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0;
        reject(new HttpError(413, `the body is over ${MAX_BODY_BYTES >> 20} MB; send fewer payloads per request`));
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request handler, for a server of one's own. */
export function codecRequestHandler(options: CodecServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const origins = new Set((options.corsOrigins ?? DEV_UI_ORIGINS).map((o) => o.replace(/\/+$/, '')));
  const namespaces = options.namespaces?.length ? new Set(options.namespaces) : undefined;
  const log = options.log ?? (() => {});

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!origins.has('*') && !origins.has(origin)) {
        throw new HttpError(
          403,
          `origin ${origin} is not allowed; start the codec server with --cors-origin ${origin} to let that Web UI use it`,
        );
      }
      // The UI may send credentials (cookies, its access token): the origin is named, never `*`.
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader(
        'Access-Control-Allow-Headers',
        req.headers['access-control-request-headers'] ?? 'Content-Type, X-Namespace, Authorization',
      );
      res.setHeader('Access-Control-Max-Age', '600');
      // A UI served from another network (a hosted UI, this server on localhost): Chrome asks first.
      if (req.headers['access-control-request-private-network'] === 'true') {
        res.setHeader('Access-Control-Allow-Private-Network', 'true');
      }
      res.writeHead(204).end();
      return;
    }
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    const operation = path.split('/').filter(Boolean).pop();
    if (operation !== 'encode' && operation !== 'decode') {
      throw new HttpError(404, `no ${path} here: POST .../encode or .../decode`);
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new HttpError(405, `${req.method} ${path}: use POST`);
    }
    const namespace = req.headers['x-namespace'];
    if (namespaces && typeof namespace === 'string' && namespace && !namespaces.has(namespace)) {
      throw new HttpError(
        403,
        `namespace ${namespace} is not served here (only ${[...namespaces].join(', ')}); start the codec server with --namespace ${namespace}`,
      );
    }
    const { payloads, json } = parsePayloads(await readBody(req));
    let result: Payload[];
    try {
      result = operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
    } catch (e) {
      if (e instanceof CodecError) throw new HttpError(400, e.message);
      throw e;
    }
    // A payload the codec left alone goes back exactly as it came, fields this server does not know included.
    const body = JSON.stringify({ payloads: result.map((p) => json.get(p) ?? toJson(p)) });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  };

  return (req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof HttpError ? e.status : 500;
      const message = e instanceof HttpError ? e.message : `the codec failed: ${(e as Error).message}`;
      log(`${req.method} ${req.url} -> ${status}: ${message}`);
      if (res.headersSent) return void res.destroy();
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(`${message}\n`);
    });
  };
}

/** Listens on host:port (127.0.0.1:8888 by default) until close(). */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_CODEC_PORT;
  const server = createServer(codecRequestHandler(options));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new Error(
              `${host}:${port} is already in use: stop what listens there, or choose another port (--port; for pgtransit dev, --codec-port)`,
            )
          : new Error(`the codec server cannot listen on ${host}:${port}: ${e.message}`),
      ),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
