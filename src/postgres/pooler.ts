/**
 * The switchover through PgBouncer (plan switchover.pooler): PAUSE the application's
 * database entry (transactions in flight finish, new ones wait in the pooler), repoint the
 * entry at the target in the pooler's configuration file and RELOAD, then RESUME. The
 * entry's own options (user, pool sizes, a password the operator put there) are kept: only
 * host, port and dbname change, and the line as it was stays beside it to repoint back.
 */
import { accessSync, chownSync, constants, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { ErrorType, PgTransitError } from '../errors';
import { poolerEntry, type Plan } from '../plan/plan';
import { resolveSecretRef } from '../plan/secrets';
import { resolveEndpoint, type Endpoint } from './connect';

export type Pooler = NonNullable<Plan['switchover']['pooler']>;

/** One command on PgBouncer's admin console (simple protocol, the only one it speaks). */
async function admin<T extends pg.QueryResultRow>(pooler: Pooler, sql: string): Promise<T[]> {
  const url = resolveSecretRef(
    pooler.admin,
    'switchover.pooler.admin',
    process.env,
    'postgres://USER@HOST:PORT/pgbouncer',
  );
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (e) {
    throw new PgTransitError(
      ErrorType.Transient,
      `the PgBouncer admin console (switchover.pooler.admin) refused or did not answer: ${(e as Error).message}`,
    );
  }
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const quoteEntry = (entry: string) => (/^[A-Za-z0-9_]+$/.test(entry) ? entry : `"${entry.replace(/"/g, '""')}"`);

/** PAUSE the entry: returns once no transaction of it runs on a server; new ones wait. */
export async function pause(pooler: Pooler, database: string): Promise<void> {
  const entry = poolerEntry(pooler, database);
  try {
    await admin(pooler, `PAUSE ${quoteEntry(entry)}`);
  } catch (e) {
    // A retried attempt: the entry is paused already.
    if (!/already/i.test((e as Error).message)) throw e;
  }
}

/** RESUME the entry: the waiting clients go on (on the server the entry points at now). */
export async function resume(pooler: Pooler, database: string): Promise<void> {
  const entry = poolerEntry(pooler, database);
  try {
    await admin(pooler, `RESUME ${quoteEntry(entry)}`);
  } catch (e) {
    // Resumed already (a retried attempt), or never paused (a switchover that failed before PAUSE).
    if (!/not paused|not suspended|already/i.test((e as Error).message)) throw e;
  }
}

/** What PgBouncer says of the entry (SHOW DATABASES): where it points, and whether it is paused. */
export async function describeEntry(
  pooler: Pooler,
  database: string,
): Promise<{ host: string; port: number; database: string; paused: boolean } | null> {
  const entry = poolerEntry(pooler, database);
  const rows = await admin<{ name: string; host: string | null; port: number; database: string; paused: number }>(
    pooler,
    'SHOW DATABASES',
  );
  const row = rows.find((r) => r.name === entry);
  return row
    ? { host: row.host ?? '', port: Number(row.port), database: row.database, paused: Number(row.paused) === 1 }
    : null;
}

const MARK = '; pgtransit was: ';

/** The lines of the plan's configFile and the entry's among them, or why the worker cannot rewrite it. */
function readPoolerFile(
  pooler: Pooler,
  entry: string,
): { lines: string[]; at: number } | { problem: string; fix: string } {
  const file = pooler.configFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
    accessSync(file, constants.W_OK);
  } catch (e) {
    return {
      problem: `switchover.pooler.configFile ${file} cannot be read and written on the worker (${(e as NodeJS.ErrnoException).code})`,
      fix: "run the worker where PgBouncer's configuration is, with the right to write it",
    };
  }
  const lines = text.split('\n');
  const at = entryLine(lines, entry);
  if (at < 0)
    return {
      problem: `switchover.pooler.configFile ${file} has no line for the database ${entry} in its [databases] section`,
      fix: 'add it there (or name the entry in switchover.pooler.databases)',
    };
  return { lines, at };
}

/** Why the worker could not repoint `entry` in the plan's file; null when it can. */
export function checkPoolerFile(pooler: Pooler, entry: string): string | null {
  const read = readPoolerFile(pooler, entry);
  return 'problem' in read ? read.problem : null;
}

/** The entry's line in the [databases] section of `text`, by index; -1 when absent. */
function entryLine(lines: string[], entry: string): number {
  let section = 'databases';
  const name = new RegExp(`^\\s*(?:${escapeRe(entry)}|"${escapeRe(entry.replace(/"/g, '""'))}")\\s*=`);
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[([^\]]+)\]/.exec(lines[i]!);
    if (header) section = header[1]!.trim().toLowerCase();
    else if (section === 'databases' && name.test(lines[i]!)) return i;
  }
  return -1;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `key=value key='quoted value'` of a PgBouncer connection string, in order. */
function parseConnstr(s: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.|'')*'|\S*)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push([m[1]!, m[2]!]);
  return out;
}

const quoteValue = (v: string) => (/^[^\s'\\]+$/.test(v) ? v : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);

/**
 * Points the entry at `endpoint` (`to` the target) or back at what it was (`to` the source):
 * rewrites the configuration file, then RELOAD. Running it twice changes nothing.
 */
export async function repoint(
  pooler: Pooler,
  database: string,
  to: 'source' | 'target',
  target: { endpoint: Endpoint; database: string },
): Promise<{ changed: boolean; now: string }> {
  const entry = poolerEntry(pooler, database);
  const file = pooler.configFile;
  const read = readPoolerFile(pooler, entry);
  if ('problem' in read) throw new PgTransitError(ErrorType.InvalidPlan, `${read.problem}; ${read.fix}`);
  const { lines, at } = read;
  const saved = at > 0 && lines[at - 1]!.startsWith(MARK) ? at - 1 : -1;
  let changed = false;
  if (to === 'target' && saved < 0) {
    const [name, ...rest] = lines[at]!.split('=');
    const kept = parseConnstr(rest.join('=')).filter(([k]) => !['host', 'port', 'dbname'].includes(k.toLowerCase()));
    const { facts } = resolveEndpoint(target.endpoint, { database: target.database });
    const pairs: [string, string][] = [
      ['host', facts.host],
      ['port', String(facts.port)],
      ['dbname', target.database],
      ...kept,
    ];
    const line = `${name!.trimEnd()} = ${pairs.map(([k, v]) => `${k}=${v.startsWith("'") ? v : quoteValue(v)}`).join(' ')}`;
    lines.splice(at, 1, `${MARK}${lines[at]}`, line);
    changed = true;
  } else if (to === 'source' && saved >= 0) {
    lines.splice(saved, 2, lines[saved]!.slice(MARK.length));
    changed = true;
  }
  if (changed) writeKeepingOwner(file, lines.join('\n'));
  // Always: a RELOAD lost with a dead worker is made again by the retry.
  await admin(pooler, 'RELOAD');
  const now = lines[entryLine(lines, entry)]!;
  return { changed, now: now.replace(/password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/gi, 'password=…') };
}

function writeKeepingOwner(file: string, text: string): void {
  const st = statSync(file);
  const tmp = `${file}.pgtransit-${process.pid}`;
  writeFileSync(tmp, text, { mode: st.mode & 0o777 });
  try {
    chownSync(tmp, st.uid, st.gid);
  } catch {
    // Not root: the file keeps this process's owner, who could write the original anyway.
  }
  renameSync(tmp, file);
}
