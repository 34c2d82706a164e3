/** The archive's table of contents (`pg_restore -l`), and which of its entries already exist on the target. */
import type pg from 'pg';

export interface TocEntry {
  line: string;
  /** e.g. SCHEMA, TABLE, INDEX, CONSTRAINT, FK CONSTRAINT, TRIGGER */
  desc: string;
  /**
   * What follows the desc, split at spaces: schema, tag and owner. Names may hold
   * spaces themselves (pg_restore -l prints them bare), so where one name ends is
   * decided against the target's catalog.
   */
  words: string[];
}

/** Every multi-word desc pg_dump writes, longest first (one-word descs are the first word). */
const DESCS = [
  'PUBLICATION TABLES IN SCHEMA',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'TEXT SEARCH TEMPLATE',
  'MATERIALIZED VIEW DATA',
  'FOREIGN DATA WRAPPER',
  'PROCEDURAL LANGUAGE',
  'TEXT SEARCH PARSER',
  'SEQUENCE OWNED BY',
  'PUBLICATION TABLE',
  'MATERIALIZED VIEW',
  'OPERATOR FAMILY',
  'CHECK CONSTRAINT',
  'OPERATOR CLASS',
  'ACCESS METHOD',
  'EVENT TRIGGER',
  'FK CONSTRAINT',
  'FOREIGN TABLE',
  'LARGE OBJECT',
  'ROW SECURITY',
  'SEQUENCE SET',
  'TABLE ATTACH',
  'INDEX ATTACH',
  'USER MAPPING',
  'DEFAULT ACL',
  'SHELL TYPE',
  'TABLE DATA',
  'BLOB METADATA',
];

/** Parses `pg_restore -l` lines: `123; 1259 16390 TABLE public orders owner`. */
export function parseToc(text: string): TocEntry[] {
  const out: TocEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+; \d+ \d+ (.*)$/.exec(line);
    if (!m) continue;
    const rest = m[1]!;
    const desc = DESCS.find((d) => rest.startsWith(`${d} `)) ?? rest.split(' ', 1)[0]!;
    out.push({ line, desc, words: rest.slice(desc.length + 1).split(' ') });
  }
  return out;
}

/**
 * Every way to cut `words` into `n` names, the last word being the owner (empty when
 * the entry has none). An owner with a space in its name finds no reading: the entry
 * is then restored again, and fails if its object exists.
 */
export function readings(words: string[], n: number): string[][] {
  const names = words.slice(0, -1);
  const out: string[][] = [];
  const walk = (from: number, acc: string[]) => {
    if (acc.length === n - 1) {
      if (from < names.length) out.push([...acc, names.slice(from).join(' ')]);
      return;
    }
    for (let end = from + 1; end < names.length; end++) walk(end, [...acc, names.slice(from, end).join(' ')]);
  };
  if (n > 0) walk(0, []);
  return out;
}

/** What a desc names: the catalog kind to look it up in, and how many names follow the schema (constraints, triggers, rules and policies: table, then name). */
export const OBJECT_KINDS: Record<string, { kind: string; parts: number }> = {
  SCHEMA: { kind: 'schema', parts: 0 },
  TABLE: { kind: 'rel', parts: 1 },
  SEQUENCE: { kind: 'rel', parts: 1 },
  VIEW: { kind: 'rel', parts: 1 },
  'MATERIALIZED VIEW': { kind: 'rel', parts: 1 },
  'FOREIGN TABLE': { kind: 'rel', parts: 1 },
  INDEX: { kind: 'rel', parts: 1 },
  'TABLE ATTACH': { kind: 'partition', parts: 1 },
  TYPE: { kind: 'type', parts: 1 },
  DOMAIN: { kind: 'type', parts: 1 },
  FUNCTION: { kind: 'proc', parts: 1 },
  PROCEDURE: { kind: 'proc', parts: 1 },
  AGGREGATE: { kind: 'proc', parts: 1 },
  OPERATOR: { kind: 'operator', parts: 1 },
  COLLATION: { kind: 'collation', parts: 1 },
  'TEXT SEARCH CONFIGURATION': { kind: 'tsconfig', parts: 1 },
  'TEXT SEARCH DICTIONARY': { kind: 'tsdict', parts: 1 },
  STATISTICS: { kind: 'statistics', parts: 1 },
  CONSTRAINT: { kind: 'constraint', parts: 2 },
  'CHECK CONSTRAINT': { kind: 'constraint', parts: 2 },
  'FK CONSTRAINT': { kind: 'constraint', parts: 2 },
  TRIGGER: { kind: 'trigger', parts: 2 },
  RULE: { kind: 'rule', parts: 2 },
  POLICY: { kind: 'policy', parts: 2 },
};

/**
 * The target's objects, by kind, as `schema<TAB>name[<TAB>name]` keys. Read with an
 * empty search_path and every identifier quoted, so that function signatures name their
 * types as pg_dump --quote-all-identifiers does.
 */
async function targetObjects(target: pg.Client): Promise<Set<string>> {
  await target.query(`SELECT set_config('search_path', '', false), set_config('quote_all_identifiers', 'on', false)`);
  const { rows } = await target.query<{ k: string }>(`
    WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema')
    SELECT 'schema' || E'\\t' || nspname AS k FROM ns
    UNION ALL SELECT 'rel' || E'\\t' || ns.nspname || E'\\t' || c.relname FROM pg_class c JOIN ns ON ns.oid = c.relnamespace
    UNION ALL SELECT 'partition' || E'\\t' || ns.nspname || E'\\t' || c.relname FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relispartition
    UNION ALL SELECT 'type' || E'\\t' || ns.nspname || E'\\t' || t.typname FROM pg_type t JOIN ns ON ns.oid = t.typnamespace
    UNION ALL SELECT 'proc' || E'\\t' || ns.nspname || E'\\t' || p.proname || '(' ||
                     coalesce((SELECT string_agg(format_type(a.t, NULL), ', ' ORDER BY a.i) FROM unnest(p.proargtypes::oid[]) WITH
                       ORDINALITY AS a(t, i)), '') || ')'
                FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
    UNION ALL SELECT 'operator' || E'\\t' || ns.nspname || E'\\t' || o.oprname FROM pg_operator o JOIN ns ON ns.oid = o.oprnamespace
    UNION ALL SELECT 'collation' || E'\\t' || ns.nspname || E'\\t' || c.collname FROM pg_collation c JOIN ns ON ns.oid = c.collnamespace
    UNION ALL SELECT 'tsconfig' || E'\\t' || ns.nspname || E'\\t' || c.cfgname FROM pg_ts_config c JOIN ns ON ns.oid = c.cfgnamespace
    UNION ALL SELECT 'tsdict' || E'\\t' || ns.nspname || E'\\t' || d.dictname FROM pg_ts_dict d JOIN ns ON ns.oid = d.dictnamespace
    UNION ALL SELECT 'statistics' || E'\\t' || ns.nspname || E'\\t' || s.stxname FROM pg_statistic_ext s JOIN ns ON ns.oid = s.stxnamespace
    UNION ALL SELECT 'constraint' || E'\\t' || ns.nspname || E'\\t' || coalesce(c.relname, t.typname) || E'\\t' || k.conname
                FROM pg_constraint k JOIN ns ON ns.oid = k.connamespace LEFT JOIN pg_class c ON c.oid = k.conrelid LEFT JOIN pg_type t ON t.oid = k.contypid
    UNION ALL SELECT 'trigger' || E'\\t' || ns.nspname || E'\\t' || c.relname || E'\\t' || g.tgname
                FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN ns ON ns.oid = c.relnamespace WHERE NOT g.tgisinternal
    UNION ALL SELECT 'rule' || E'\\t' || ns.nspname || E'\\t' || c.relname || E'\\t' || r.rulename
                FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN ns ON ns.oid = c.relnamespace WHERE r.rulename <> '_RETURN'
    UNION ALL SELECT 'policy' || E'\\t' || ns.nspname || E'\\t' || c.relname || E'\\t' || p.polname
                FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN ns ON ns.oid = c.relnamespace`);
  await target.query(`RESET search_path; RESET quote_all_identifiers`);
  return new Set(rows.map((r) => r.k));
}

/**
 * Entries whose object already exists on the target: left out so that a step retried
 * after its worker died does not fail on what the first attempt created. The rest
 * (comments, grants, defaults, OWNED BY, index attachments, row security switches,
 * materialized view refreshes) can run twice.
 */
export async function existing(target: pg.Client, entries: TocEntry[]): Promise<Set<string>> {
  const objects = await targetObjects(target);
  const skip = new Set<string>();
  for (const e of entries) {
    const lookup = OBJECT_KINDS[e.desc];
    if (!lookup) continue;
    // SCHEMA lines read "- name owner": no schema column.
    const found =
      lookup.kind === 'schema'
        ? readings(e.words.slice(1), 1).some((r) => objects.has(['schema', ...r].join('\t')))
        : readings(e.words, lookup.parts + 1).some((r) => objects.has([lookup.kind, ...r].join('\t')));
    if (found) skip.add(e.line);
  }
  return skip;
}

/** The schema a `COMMENT - SCHEMA "name" owner` entry is about (its tag quotes the name), or null. */
export function commentedSchema(e: TocEntry): string | null {
  if (e.desc !== 'COMMENT' || e.words[0] !== '-' || e.words[1] !== 'SCHEMA') return null;
  const quoted = /^"((?:[^"]|"")*)" /.exec(e.words.slice(2).join(' '));
  return quoted ? quoted[1]!.replace(/""/g, '"') : null;
}

/**
 * COMMENT entries on schemas the target has already and the target role may not comment on
 * (neither their owner nor a superuser): pg_dump -n public carries public's standard comment,
 * and on 15+ public belongs to pg_database_owner. Restored, it would fail the pre-data
 * transaction for a role that needs no such right; left out, the schema keeps the target's comment.
 */
export async function foreignSchemaComments(target: pg.Client, entries: TocEntry[]): Promise<Set<string>> {
  const comments = entries.flatMap((e) => {
    const schema = commentedSchema(e);
    return schema === null ? [] : [{ line: e.line, schema }];
  });
  if (comments.length === 0) return new Set();
  const { rows } = await target.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) AND NOT pg_has_role(current_user, nspowner, 'USAGE')`,
    [comments.map((c) => c.schema)],
  );
  const foreign = new Set(rows.map((r) => r.nspname));
  return new Set(comments.filter((c) => foreign.has(c.schema)).map((c) => c.line));
}
