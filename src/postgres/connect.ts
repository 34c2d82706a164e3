/**
 * Connecting to the source and the target: URL references resolved here, TLS modes
 * with libpq's meaning, and connection failures turned into errors that name the
 * server and the fix without ever echoing the URL (it may hold a password).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import { PgTransitError, ErrorType } from '../errors';
import type { Side } from '../model/activities';
import { APPLICATION_NAME } from '../model/names';
import type { Plan } from '../plan/plan';
import { resolveSecretRef } from '../plan/secrets';
import { errorTypeOf, isUnreachableCode } from './classify';
import { NO_TIMEOUTS_BY_MAJOR, startupOptions, NO_TIMEOUTS } from './session';

export interface Endpoint {
  side: Side;
  /** The reference as written in the plan (env:NAME, file:PATH or a password-less URL). */
  ref: string;
  /**
   * Every session to this server overrides the read-only default for itself (ConnectOptions.writable):
   * pgtransit's own writes on a source it keeps fenced while the reverse stream applies to it.
   */
  writable?: boolean;
}

/** The plan's two servers, by reference. */
export function endpoints(plan: Plan): { source: Endpoint; target: Endpoint } {
  return { source: { side: 'source', ref: plan.source.url }, target: { side: 'target', ref: plan.target.url } };
}

export interface ConnectOptions {
  /** Connect to this database instead of the one in the URL. */
  database?: string;
  /** Open a replication connection (`replication=database`). */
  replication?: boolean;
  connectTimeoutMs?: number;
  applicationName?: string;
  /**
   * When the URL's database does not exist (yet: the migration creates it), connect
   * to `postgres` (or `template1`) instead. For server-level work only.
   */
  fallbackToMaintenanceDb?: boolean;
  /**
   * pgtransit's own writes on a fenced source (fence marker, un-fence, dropping the
   * slot and publication) must not be refused by the read-only default it set.
   */
  writable?: boolean;
  /** More session settings from the start (e.g. the portable text settings of a replication session). */
  settings?: Record<string, string>;
}

export interface ConnectionFacts {
  host: string;
  port: number;
  database: string;
  user: string;
  sslmode: string;
}

interface ResolvedConfig {
  config: pg.ClientConfig;
  facts: ConnectionFacts;
  /** The same connection for libpq programs (pg_dump, pg_restore, psql), as environment variables. */
  libpqEnv: Record<string, string>;
}

/** Resolves the reference and builds the driver configuration. */
export function resolveEndpoint(endpoint: Endpoint, options: ConnectOptions = {}): ResolvedConfig {
  const url = withDefaultRootCert(endpoint, resolveSecretRef(endpoint.ref, `${endpoint.side} url`));
  let parsed: ReturnType<typeof parseConnectionString>;
  try {
    parsed = parseConnectionString(url, { useLibpqCompat: true });
  } catch (e) {
    // The parser's messages never contain the URL itself.
    throw new PgTransitError(
      ErrorType.InvalidPlan,
      `${endpoint.side} url (${describeRef(endpoint.ref)}) cannot be used: ${(e as Error).message}`,
    );
  }
  // No sslmode: libpq's default, prefer (TLS when the server offers it), for the driver's sessions
  // as for pg_dump's and pg_restore's, whatever PGSSLMODE the worker's environment holds.
  const sslmode = (parsed as { sslmode?: string }).sslmode ?? 'prefer';
  if (!(parsed as { sslmode?: string }).sslmode && parsed.ssl === undefined) parsed.ssl = { rejectUnauthorized: false };
  const host = parsed.host ?? process.env.PGHOST ?? 'localhost';
  const port = Number(parsed.port ?? process.env.PGPORT ?? 5432);
  const user = parsed.user ?? process.env.PGUSER ?? 'postgres';
  const database = options.database ?? parsed.database ?? process.env.PGDATABASE ?? user;
  const config: pg.ClientConfig = {
    host,
    port,
    user,
    database,
    password: parsed.password ?? process.env.PGPASSWORD,
    ssl: parsed.ssl as pg.ClientConfig['ssl'],
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: options.applicationName ?? APPLICATION_NAME.default,
  };
  if (options.replication) (config as Record<string, unknown>).replication = 'database';
  config.options = startupOptions({
    ...NO_TIMEOUTS,
    ...(options.writable || endpoint.writable ? { default_transaction_read_only: 'off' } : {}),
    ...options.settings,
  });
  const raw = parsed as Record<string, unknown>;
  const libpqEnv: Record<string, string> = {
    PGHOST: host,
    PGPORT: String(port),
    PGUSER: user,
    PGDATABASE: database,
    PGAPPNAME: config.application_name!,
  };
  if (config.password) libpqEnv.PGPASSWORD = String(config.password);
  libpqEnv.PGSSLMODE = sslmode;
  for (const [param, name] of [
    ['sslrootcert', 'PGSSLROOTCERT'],
    ['sslcert', 'PGSSLCERT'],
    ['sslkey', 'PGSSLKEY'],
  ] as const) {
    if (typeof raw[param] === 'string') libpqEnv[name] = raw[param] as string;
  }
  return { config, facts: { host, port, database, user, sslmode }, libpqEnv };
}

/**
 * sslmode=verify-ca or verify-full with no sslrootcert: libpq (pg_dump, pg_restore) reads the CA
 * from ~/.postgresql/root.crt, the driver would trust the system's CAs instead. The driver is
 * given libpq's file, so both verify the server against the same CA; without that file the URL
 * is refused at once, naming the fix.
 */
function withDefaultRootCert(endpoint: Endpoint, url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const mode = u.searchParams.get('sslmode');
  if ((mode !== 'verify-ca' && mode !== 'verify-full') || u.searchParams.has('sslrootcert')) return url;
  const file = join(process.env.HOME || homedir(), '.postgresql', 'root.crt');
  if (!existsSync(file)) {
    throw new PgTransitError(
      ErrorType.InvalidPlan,
      `${endpoint.side} url (${describeRef(endpoint.ref)}) has sslmode=${mode} but no sslrootcert, and the worker has no ` +
        `${file} (where libpq looks for the CA): add sslrootcert=<file of the CA that signed the server's certificate> to the URL`,
    );
  }
  u.searchParams.set('sslrootcert', file);
  return u.toString();
}

/** How an endpoint is named in messages: the reference, never the resolved URL. */
export function describeRef(ref: string): string {
  if (ref.startsWith('env:')) return `environment variable ${ref.slice(4)}`;
  if (ref.startsWith('file:')) return `file ${ref.slice(5)}`;
  return 'the URL in the plan';
}

export interface Connected {
  client: pg.Client;
  facts: ConnectionFacts;
  /** The database that was asked for (differs from facts.database after a fallback). */
  requestedDatabase: string;
  /** Whether the session runs over TLS. */
  tls: boolean;
  /** The server's synchronous_commit was off, and this session raised it to local (durableCommits). */
  raisedSynchronousCommit: boolean;
}

/**
 * A commit pgtransit was told of must survive a crash of the server: the change stream confirms
 * to the source what the target committed, and the load records its chunks as done. Under
 * synchronous_commit = off a commit returns before its WAL is flushed, and a crash loses it; the
 * session raises it to local (its commits wait for the local flush; synchronous standbys, if the
 * server has them, still follow the server's own setting in every other session).
 */
export async function durableCommits(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ raised: string | null }>(
    `SELECT CASE WHEN current_setting('synchronous_commit') = 'off'
                 THEN set_config('synchronous_commit', 'local', false) END AS raised`,
  );
  return rows[0]?.raised === 'local';
}

/** Startup options for a libpq tool's session (PGOPTIONS) on a server whose commits are not durable by default. */
export function durableToolOptions(raised: boolean, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (!raised) return {};
  return { PGOPTIONS: [env.PGOPTIONS, startupOptions({ synchronous_commit: 'local' })].filter(Boolean).join(' ') };
}

/** Opens one session; failures become PgTransitError naming the server. */
export async function connect(endpoint: Endpoint, options: ConnectOptions = {}): Promise<Connected> {
  try {
    return await connectOnce(endpoint, options);
  } catch (e) {
    if (!(options.fallbackToMaintenanceDb && e instanceof PgTransitError && e.type === ErrorType.DatabaseNotFound))
      throw e;
    const requestedDatabase = resolveEndpoint(endpoint, options).facts.database;
    for (const database of ['postgres', 'template1']) {
      try {
        return { ...(await connectOnce(endpoint, { ...options, database })), requestedDatabase };
      } catch (e2) {
        if (!(e2 instanceof PgTransitError && e2.type === ErrorType.DatabaseNotFound)) throw e2;
      }
    }
    throw e;
  }
}

async function connectOnce(endpoint: Endpoint, options: ConnectOptions): Promise<Connected> {
  const { config, facts } = resolveEndpoint(endpoint, options);
  const attempt = async (cfg: pg.ClientConfig) => {
    const client = new pg.Client(cfg);
    // An idle client whose server goes away emits 'error'; without a listener the process dies.
    client.on('error', () => undefined);
    let version = '';
    const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
    connection.on('parameterStatus', (m: { parameterName: string; parameterValue: string }) => {
      if (m.parameterName === 'server_version') version = m.parameterValue;
    });
    await client.connect();
    // Timeouts the server only knows from some major on: a startup option it does not know would refuse the connection.
    const major = Number(/^(\d+)/.exec(version)?.[1] ?? 0);
    const later = Object.assign({}, ...NO_TIMEOUTS_BY_MAJOR.filter(([m]) => major >= m).map(([, s]) => s)) as Record<
      string,
      string
    >;
    const sets = Object.entries(later).filter(([k]) => !(k in (options.settings ?? {})));
    if (sets.length) await client.query(sets.map(([k, v]) => `SET ${k} = ${v}`).join('; '));
    if (!options.replication) raised = await durableCommits(client);
    return client;
  };
  let raised = false;
  const requestedDatabase = facts.database;
  try {
    const client = await attempt(config);
    return { client, facts, requestedDatabase, tls: Boolean(config.ssl), raisedSynchronousCommit: raised };
  } catch (e) {
    // libpq's prefer/allow: use TLS when the server offers it, plain otherwise.
    if (
      (facts.sslmode === 'prefer' || facts.sslmode === 'allow') &&
      /does not support SSL/i.test((e as Error).message)
    ) {
      try {
        const client = await attempt({ ...config, ssl: false });
        return { client, facts, requestedDatabase, tls: false, raisedSynchronousCommit: raised };
      } catch (e2) {
        throw connectionError(endpoint, facts, e2);
      }
    }
    throw connectionError(endpoint, facts, e);
  }
}

/** Runs `fn` with a session and always closes it. */
export async function withConnection<T>(
  endpoint: Endpoint,
  options: ConnectOptions,
  fn: (c: Connected) => Promise<T>,
): Promise<T> {
  const c = await connect(endpoint, options);
  try {
    return await fn(c);
  } finally {
    await c.client.end().catch(() => undefined);
  }
}

function where(endpoint: Endpoint, f: ConnectionFacts): string {
  return `${endpoint.side} server ${f.host}:${f.port} (database ${f.database}, user ${f.user})`;
}

export function connectionError(endpoint: Endpoint, facts: ConnectionFacts, e: unknown): PgTransitError {
  const err = e as { code?: string; message?: string };
  const message = err.message ?? String(e);
  const at = where(endpoint, facts);
  const ref = describeRef(endpoint.ref);
  const details = {
    side: endpoint.side,
    host: facts.host,
    port: facts.port,
    database: facts.database,
    user: facts.user,
    code: err.code,
  };
  const type = errorTypeOf(e, 'connect');
  switch (type) {
    case ErrorType.AuthenticationFailed:
      // pg_hba.conf has only hostssl lines for the worker (15+ says "no encryption", older servers "SSL off").
      if (facts.sslmode === 'disable' && /no encryption|SSL off/.test(message))
        return new PgTransitError(
          type,
          `${at}: ${message}; the server requires TLS from the worker: add sslmode=verify-full&sslrootcert=<CA file> ` +
            `(or sslmode=require) to the URL in ${ref}`,
          details,
        );
      return new PgTransitError(
        type,
        `${at}: ${message}; fix the credentials in ${ref} (or the server's pg_hba.conf)`,
        details,
      );
    case ErrorType.DatabaseNotFound:
      return new PgTransitError(
        type,
        `${at}: ${message}; create it or name an existing database in ${ref} or in the plan's databases`,
        details,
      );
    case ErrorType.ServerUnreachable:
      return isUnreachableCode(err.code ?? '')
        ? new PgTransitError(
            type,
            `${at}: unreachable (${err.code}: ${message}); check the host and port in ${ref}, and that the worker can reach it`,
            details,
          )
        : new PgTransitError(
            type,
            `${at}: no answer within the connect timeout (${message}); check the host, port and firewall`,
            details,
          );
    case ErrorType.TlsFailed:
      return new PgTransitError(
        type,
        `${at}: TLS failed (${message}); ${tlsFix(err.code ?? '', message, facts, ref)}`,
        details,
      );
    default:
      return new PgTransitError(type, `${at}: ${message}`, details);
  }
}

/** Node's codes for a certificate chain the client does not trust. */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/** What to change after a failed TLS negotiation (`message` is what Node or the server said). */
function tlsFix(code: string, message: string, facts: ConnectionFacts, ref: string): string {
  if (UNTRUSTED_CERTIFICATE.has(code))
    return (
      `the server's certificate is not signed by a CA the worker trusts: set sslrootcert=<file of the CA that ` +
      `signed the server's certificate> in the URL in ${ref} (sslmode=require encrypts without verifying the server)`
    );
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return `the server's certificate is not valid now: renew it (the server's ssl_cert_file)`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return (
      `the server's certificate is not for ${facts.host}: connect by a name or address the certificate lists in ` +
      `${ref}, or use sslmode=verify-ca (the CA is checked, the name is not)`
    );
  if (/does not support SSL/i.test(message))
    return (
      `the server has ssl off: turn it on in the server's configuration, or check sslmode and sslrootcert in ${ref} ` +
      `(sslmode=prefer falls back to a connection without TLS)`
    );
  return `check sslmode and sslrootcert (and sslcert, sslkey) in ${ref}`;
}

/** Runs `fn` inside BEGIN ... COMMIT on `client`; rolls back (and rethrows) when it fails. */
export async function withTransaction<T>(client: pg.Client, fn: () => Promise<T>, begin = 'BEGIN'): Promise<T> {
  await client.query(begin);
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
