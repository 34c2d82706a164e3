/**
 * The corpus cases on disk, which of them a run selects, psql to load them, and what a
 * refused case's note and fix.sql say about the tables the assessment must name.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlanInput } from '../../src/plan/plan';
import { findTool } from '../../src/postgres/tools';
import type { PgServer } from '../helpers/postgres';
import { displayName } from './compare';

export const CORPUS_DIR = __dirname;

/**
 * CORPUS_SUBSET=fast, for CI: small cases that together cover partitions (013), rules on
 * views, inheritance and a partitioned table (rules), deferrable keys (pglogical), TOAST and
 * unchanged-TOAST updates (001, pglogical), REPLICA IDENTITY FULL with duplicate rows and a
 * zero-column table (001), and large objects with keyless partitioned roots (pgcopydb-misc).
 */
export const FAST_SUBSET = [
  'pg-sub-013-partition',
  'pg-regress-rules',
  'pglogical-regress',
  'pg-sub-001-rep-changes',
  'pgcopydb-misc',
];

export interface CaseJson {
  name: string;
  origin: { repository: string; paths: string[]; commit?: string; version?: string };
  licence: string;
  description?: string;
  features: string[];
  database?: string;
  plan?: Partial<PlanInput>;
  expect: string;
}

export interface CorpusCase {
  name: string;
  dir: string;
  meta: CaseJson;
  /** The assessment must refuse the case until fix.sql is applied. */
  refused: boolean;
  fixSql?: string;
}

export function allCases(): CorpusCase[] {
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(CORPUS_DIR, d.name, 'case.json')))
    .map((d) => {
      const dir = join(CORPUS_DIR, d.name);
      const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as CaseJson;
      const refused = /^refused/.test(meta.expect);
      const fix = join(dir, 'fix.sql');
      if (refused && !existsSync(fix)) throw new Error(`corpus case ${d.name} is refused but has no fix.sql`);
      return { name: d.name, dir, meta, refused, fixSql: existsSync(fix) ? readFileSync(fix, 'utf8') : undefined };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** CORPUS_CASES=a,b,c, or CORPUS_SUBSET=fast, or every case. */
export function selectedCases(env: NodeJS.ProcessEnv = process.env): CorpusCase[] {
  const all = allCases();
  const byName = new Map(all.map((c) => [c.name, c]));
  let names: string[] | undefined;
  if (env.CORPUS_CASES?.trim()) {
    names = env.CORPUS_CASES.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  } else if (env.CORPUS_SUBSET) {
    if (env.CORPUS_SUBSET !== 'fast') throw new Error(`CORPUS_SUBSET=${env.CORPUS_SUBSET}: the only subset is "fast"`);
    names = FAST_SUBSET;
  }
  if (!names) return all;
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length)
    throw new Error(
      `unknown corpus case(s): ${unknown.join(', ')}; the cases are: ${all.map((c) => c.name).join(', ')}`,
    );
  return names.map((n) => byName.get(n)!);
}

/** The case's database on both sides (the hint in case.json is the originals' name; ours must not collide). */
export function caseDatabase(c: CorpusCase): string {
  return `corpus_${c.name.replace(/-/g, '_')}`;
}

/** Plain objects merged key by key; arrays and scalars of `b` replace those of `a`. */
export function deepMerge<T extends object>(a: T, b: object | undefined): T {
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b ?? {}) as [string, unknown][]) {
    const prev = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? deepMerge(prev, v)
        : v;
  }
  return out as T;
}

let psqlPath: string | undefined;
/** Debian's psql 15 (or newer): the cases use psql meta-commands (\gexec, COPY FROM STDIN). */
export function psql(): string {
  psqlPath ??= findTool('psql').find((t) => t.major >= 15)?.path;
  if (!psqlPath) throw new Error('no psql 15 or newer on this machine (apt-get install postgresql-client-15)');
  return psqlPath;
}

/** Runs a case's SQL file with psql -v ON_ERROR_STOP=1 from the case's folder; rejects with psql's errors. */
export function runPsql(server: PgServer, database: string, c: CorpusCase, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(psql(), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', file], {
      cwd: c.dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        PGHOST: server.host,
        PGPORT: String(server.port),
        PGUSER: 'postgres',
        PGPASSWORD: server.password,
        PGDATABASE: database,
        PGAPPNAME: `corpus ${file}`,
        PGOPTIONS: '',
      },
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr = (stderr + d).slice(-20_000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const errors = stderr
        .split('\n')
        .filter((l) => /ERROR|FATAL|DETAIL|HINT|CONTEXT/.test(l))
        .slice(0, 6);
      reject(
        new Error(
          `psql -f ${file} exited with ${code ?? signal}: ${(errors.length ? errors : stderr.split('\n').slice(-6)).join(' | ')}`,
        ),
      );
    });
  });
}

type Name = { schema: string; name: string };

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const unquote = (s: string) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s.toLowerCase());

/** The tables fix.sql alters: [schema.]name after ALTER TABLE [ONLY] [IF EXISTS]; schema undefined when unqualified. */
export function fixTables(sql: string): { schema?: string; name: string }[] {
  const re = new RegExp(String.raw`ALTER\s+TABLE\s+(?:ONLY\s+)?(?:IF\s+EXISTS\s+)?(${IDENT})(?:\.(${IDENT}))?`, 'gi');
  return [...sql.matchAll(re)].map((m) =>
    m[2] ? { schema: unquote(m[1]!), name: unquote(m[2]) } : { name: unquote(m[1]!) },
  );
}

/** The source tables a note names: a plain name as a whole word, any other name verbatim or quoted. */
export function namedInNote(note: string, tables: Name[]): Name[] {
  return tables.filter((t) => {
    if (/^[a-z_][a-z0-9_]*$/.test(t.name))
      return new RegExp(`(^|[^A-Za-z0-9_"])${t.name}($|[^A-Za-z0-9_"])`).test(note);
    return note.includes(t.name) || note.includes(`"${t.name.replace(/"/g, '""')}"`);
  });
}

/**
 * The tables the refusal must name: those the note names that fix.sql fixes, else those the note
 * names, else those fix.sql fixes (a note that only counts them, "31 tables have no key").
 */
export function expectedRefusedTables(c: CorpusCase, tables: Name[]): Name[] {
  const fixed = fixTables(c.fixSql ?? '');
  const isFixed = (t: Name) =>
    fixed.some((f) => f.name === t.name && (f.schema === undefined || f.schema === t.schema));
  const named = namedInNote(c.meta.expect, tables);
  const both = named.filter(isFixed);
  if (both.length) return both;
  if (named.length) return named;
  return tables.filter(isFixed);
}

/** Whether an assessment item's text names the table (as the assessment prints names). */
export function itemNames(text: string, t: Name): boolean {
  return text.includes(displayName(t));
}
