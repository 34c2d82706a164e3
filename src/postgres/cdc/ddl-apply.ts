/**
 * Replay of the DDL that ddl-capture.ts writes into the source's WAL (cdc.ddl: replicate).
 *
 * The rules, in order (a statement that passes none of 1-6 is replayed):
 * 1. Every object it touches is outside the plan's selection (or temporary): skipped.
 * 2. Some objects inside the selection and some outside: stop, it cannot be replayed in part.
 * 3. An object the plan's mapping renames: stop, the statement names it under its source name
 *    and rewriting SQL text would be a guess.
 * 4. A command kind not in REPLAYED: stop, naming the statement and the fix.
 * 5. The statement cannot be told apart in current_query() (DDL run by a function or a DO
 *    block, or a multi-statement query whose n-th DDL is not of the firing's kind): stop.
 * 6. The operator marked it done (pgtransit.ddl_skipped): skipped.
 * 7. Once run: an ALTER TABLE that added a column whose values for the existing rows the target
 *    computed itself (identity, serial, a default that is not immutable): stop, they would differ.
 * A stop never leaves the target diverged silently: the batch holding it rolls back, the
 * database's apply stalls with the statement in status, and resumes once handled.
 */
import type pg from 'pg';
import { ErrorType, PgTransitError } from '../../errors';
import { isSystemSchema, STATE_SCHEMA } from '../../model/names';
import type { Plan } from '../../plan/plan';
import { globToRegExp, selectTables, type QualifiedName } from '../../plan/selection';

/** One DDL statement as the source's event trigger wrote it. */
export interface DdlEvent {
  /** Where its message is in the WAL: its id for ddl_skipped. */
  lsn: string;
  /** The top-level command's tag (ALTER TABLE, CREATE INDEX, ...). */
  tag: string;
  /** current_query(): every statement of the query that ran it. */
  query: string;
  /** Which firing of ddl_command_end within `query` this is (1: its first DDL statement). */
  ordinal: number;
  searchPath: string;
  commands: DdlObject[];
  dropped: DdlObject[];
}

export interface DdlObject {
  tag?: string;
  type: string;
  schema: string | null;
  identity: string | null;
}

/** Command kinds replayed on the target; any other stops the apply (rule 4). */
export const REPLAYED = new Set([
  ...[
    'TABLE',
    'INDEX',
    'SEQUENCE',
    'VIEW',
    'MATERIALIZED VIEW',
    'FUNCTION',
    'PROCEDURE',
    'TRIGGER',
    'TYPE',
    'DOMAIN',
  ].flatMap((k) => [`CREATE ${k}`, `ALTER ${k}`, `DROP ${k}`]),
  'REFRESH MATERIALIZED VIEW',
  'COMMENT',
  'GRANT',
  'REVOKE',
]);

export function parseDdlMessage(lsn: string, content: string): DdlEvent {
  const m = JSON.parse(content) as Omit<DdlEvent, 'lsn'>;
  return {
    lsn,
    tag: m.tag,
    query: m.query,
    ordinal: m.ordinal,
    searchPath: m.searchPath,
    commands: m.commands ?? [],
    dropped: m.dropped ?? [],
  };
}

/**
 * Splits SQL text into statements at top-level semicolons: quotes, quoted identifiers,
 * dollar quotes and comments are skipped over, and BEGIN ATOMIC ... END bodies are kept whole.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let i = 0;
  let atomic = 0;
  const push = (end: number) => {
    const s = sql.slice(start, end).trim();
    if (stripComments(s) !== '') out.push(s);
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const e = sql.indexOf('\n', i);
      i = e < 0 ? sql.length : e + 1;
    } else if (ch === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
    } else if (ch === "'" || ch === '"') {
      // E'...' strings take backslash escapes; a doubled quote is one quote in either.
      const escapes = ch === "'" && /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < sql.length) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === ch && sql[i + 1] === ch) i += 2;
        else if (sql[i] === ch) break;
        else i++;
      }
      i++;
    } else if (ch === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (!tag) {
        i++;
        continue;
      }
      const e = sql.indexOf(tag[0], i + tag[0].length);
      i = e < 0 ? sql.length : e + tag[0].length;
    } else if (/[A-Za-z_]/.test(ch) && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i))![0];
      const upper = word.toUpperCase();
      if (upper === 'ATOMIC' && /BEGIN\s*$/i.test(sql.slice(start, i))) atomic++;
      else if (atomic > 0 && upper === 'CASE') atomic++;
      else if (atomic > 0 && upper === 'END') atomic--;
      i += word.length;
    } else if (ch === ';' && atomic === 0) {
      push(i);
      start = i + 1;
      i++;
    } else i++;
  }
  push(sql.length);
  return out;
}

function stripComments(s: string): string {
  return s
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .trim();
}

/** The leading keywords of a statement, upper case, without the modifiers a command tag leaves out. */
function leadingWords(statement: string): string[] {
  const words = (stripComments(statement).match(/^[A-Za-z_ \t\r\n]+/)?.[0] ?? '').trim().toUpperCase().split(/\s+/);
  const skip = new Set(['OR', 'REPLACE', 'UNIQUE', 'CONCURRENTLY', 'TEMP', 'TEMPORARY', 'UNLOGGED', 'GLOBAL', 'LOCAL']);
  const [first, ...rest] = words;
  if (first === 'CREATE') {
    const kept = rest.filter((w) => !skip.has(w));
    // CREATE CONSTRAINT TRIGGER is tagged CREATE TRIGGER; CREATE RECURSIVE VIEW, CREATE VIEW.
    return [first, ...kept.filter((w) => w !== 'CONSTRAINT' && w !== 'RECURSIVE')];
  }
  if (first === 'DROP' || first === 'ALTER') return [first, ...rest.filter((w) => w !== 'CONCURRENTLY')];
  return words;
}

const DDL_VERBS = new Set(['CREATE', 'ALTER', 'DROP', 'COMMENT', 'GRANT', 'REVOKE', 'REFRESH', 'SECURITY', 'IMPORT']);

/** Rule 5: the statement of `query` this firing is, or why it cannot be told. */
export function pickStatement(ev: Pick<DdlEvent, 'query' | 'ordinal' | 'tag'>): { sql: string } | { problem: string } {
  const statements = splitStatements(ev.query);
  const ddl = statements.filter((s) => DDL_VERBS.has(leadingWords(s)[0] ?? ''));
  const tagWords = ev.tag.toUpperCase().split(/\s+/);
  const chosen = ddl[ev.ordinal - 1];
  const matches = (s: string) => {
    const w = leadingWords(s);
    return tagWords.every((t, i) => w[i] === t);
  };
  if (!chosen || !matches(chosen)) {
    if (ddl.length === 0)
      return {
        problem: `it was run by a function, procedure or DO block (the query was not a ${ev.tag} statement), so the statement itself is not known`,
      };
    return {
      problem: `the query holds ${statements.length} statements and its DDL statement number ${ev.ordinal} is not a ${ev.tag}, so which one ran cannot be told`,
    };
  }
  return { sql: chosen };
}

/** The statement as the target runs it: CONCURRENTLY cannot run in the apply's transaction (nothing else writes there). */
export function forTarget(sql: string): string {
  return sql
    .replace(/^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+)CONCURRENTLY\s+/i, '$1')
    .replace(/^(\s*DROP\s+INDEX\s+)CONCURRENTLY\s+/i, '$1')
    .replace(/(\bDETACH\s+PARTITION\s+(?:"(?:[^"]|"")+"|[\w$.]+|\.)+)\s+CONCURRENTLY\b/i, '$1');
}

/** Splits an object identity (quote_ident parts joined by dots) into its parts. */
export function identityParts(identity: string): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < identity.length) {
    if (identity[i] === '"') {
      let j = i + 1;
      let s = '';
      while (j < identity.length) {
        if (identity[j] === '"' && identity[j + 1] === '"') {
          s += '"';
          j += 2;
        } else if (identity[j] === '"') break;
        else s += identity[j++];
      }
      parts.push(s);
      i = j + 1;
    } else {
      const m = /^[^."(]+/.exec(identity.slice(i));
      if (!m) break;
      parts.push(m[0]);
      i += m[0].length;
    }
    if (identity[i] === '.') i++;
    else break;
  }
  return parts;
}

/** The relation an object belongs to, when its identity names one (table, column, constraint, trigger, default). */
function relationOf(o: DdlObject): QualifiedName | null {
  if (!o.identity || !o.schema) return null;
  const relationKinds = ['table', 'view', 'materialized view', 'sequence', 'foreign table'];
  if (relationKinds.includes(o.type)) {
    const p = identityParts(o.identity);
    return p.length >= 2 ? { schema: p[0]!, name: p[1]! } : null;
  }
  if (o.type === 'table column' || o.type === 'default value') {
    const p = identityParts(o.identity.replace(/^for /, ''));
    return p.length >= 3 ? { schema: p[0]!, name: p[1]! } : null;
  }
  const on = / on ((?:"(?:[^"]|"")*"|[^ ."]+)\.(?:"(?:[^"]|"")*"|[^ ."]+))$/.exec(o.identity);
  if (on && ['table constraint', 'trigger', 'rule', 'policy'].includes(o.type)) {
    const p = identityParts(on[1]!);
    return { schema: p[0]!, name: p[1]! };
  }
  return null;
}

/** A schema the plan selects objects in (its tables, or everything in it). */
function schemaSelected(plan: Plan, schema: string): boolean {
  if (isSystemSchema(schema)) return false;
  const inc = plan.include ?? {};
  const exc = plan.exclude ?? {};
  if ((exc.schemas ?? []).some((p) => globToRegExp(p).test(schema))) return false;
  const includes = [...(inc.schemas ?? []), ...(inc.tables ?? []).map((t) => t.slice(0, t.indexOf('.')))];
  return includes.length === 0 || includes.some((p) => globToRegExp(p).test(schema));
}

/** The plan selects only some objects, or renames some. */
function partialSelection(plan: Plan): boolean {
  const n = (x?: { schemas?: string[]; tables?: string[] }) => (x?.schemas?.length ?? 0) + (x?.tables?.length ?? 0);
  const m = plan.mapping;
  return (
    n(plan.include) + n(plan.exclude) + Object.keys(m?.schemas ?? {}).length + Object.keys(m?.tables ?? {}).length > 0
  );
}

export type DdlDecision =
  { action: 'skip'; why: string } | { action: 'apply'; sql: string } | { action: 'stop'; why: string; fix: string };

/** Rules 1-5 (rule 6 reads the target). */
export function decide(plan: Plan, ev: DdlEvent): DdlDecision {
  const objects = [...ev.commands, ...ev.dropped].filter(
    (o) => o.schema === null || !/^pg_(toast|temp)/.test(o.schema),
  );
  const placed = objects.filter((o) => o.schema !== null);
  const inside = (o: DdlObject) => {
    const rel = relationOf(o);
    return rel ? selectTables(plan, [rel]).selected.length > 0 : schemaSelected(plan, o.schema!);
  };
  const statement = pickStatement(ev);
  const named =
    ev.query === ''
      ? 'its text is not captured: it may hold a password'
      : 'sql' in statement
        ? statement.sql
        : ev.query;
  const handled =
    `handle it on the target by hand if it concerns the migrated objects, then record it: INSERT INTO ` +
    `${STATE_SCHEMA}.ddl_skipped (migration, database, lsn) VALUES ('${plan.name}', '<database>', '${ev.lsn}'); and resume`;
  if (placed.length > 0) {
    const inSel = placed.filter(inside);
    if (inSel.length === 0) return { action: 'skip', why: 'outside the selection' };
    if (inSel.length < placed.length)
      return {
        action: 'stop',
        why: `${ev.tag} (${named}) touches objects inside the selection (${inSel.map((o) => o.identity).join(', ')}) and outside it`,
        fix: handled,
      };
    const mapped = inSel.filter((o) => {
      if (plan.mapping?.schemas?.[o.schema!]) return true;
      const rel = relationOf(o);
      return !!rel && !!plan.mapping?.tables?.[`${rel.schema}.${rel.name}`];
    });
    if (mapped.length > 0)
      return {
        action: 'stop',
        why:
          `${ev.tag} (${named}) names ${mapped.map((o) => o.identity).join(', ')}, which the plan's mapping renames on ` +
          `the target; the statement is not rewritten`,
        fix: handled,
      };
  } else if (partialSelection(plan)) {
    // GRANT and REVOKE name no object to the event trigger: with a partial selection or a mapping, their target is unknown.
    return {
      action: 'stop',
      why: `${ev.tag} (${named}) does not say which objects it concerns, and the plan selects or renames only some`,
      fix: handled,
    };
  }
  if (!REPLAYED.has(ev.tag))
    return {
      action: 'stop',
      why: `${ev.tag} is not replayed by change capture (${named})`,
      fix: `${handled}; or run the migration with cdc.ddl: stop and repeat DDL on the target yourself`,
    };
  if ('problem' in statement)
    return { action: 'stop', why: `${ev.tag} cannot be replayed: ${statement.problem} (${ev.query})`, fix: handled };
  return { action: 'apply', sql: forTarget(statement.sql) };
}

/**
 * Inside the apply's open target transaction: the statement under the source's search_path
 * (the applier's own SQL runs under its own again afterwards), or the stop.
 */
export async function applyDdl(target: pg.Client, plan: Plan, database: string, ev: DdlEvent): Promise<boolean> {
  const d = decide(plan, ev);
  if (d.action === 'skip') return false;
  const { rows } = await target.query<{ skipped: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${STATE_SCHEMA}.ddl_skipped WHERE migration = $1 AND database = $2 AND lsn = $3::pg_lsn) AS skipped`,
    [plan.name, database, ev.lsn],
  );
  if (rows[0]!.skipped) return false;
  if (d.action === 'stop') {
    throw new PgTransitError(
      ErrorType.SchemaDrift,
      `DDL on the source at ${ev.lsn} stopped the apply: ${d.why}; ${d.fix.replace('<database>', database)}`,
      { lsn: ev.lsn, tag: ev.tag, statement: ev.query },
    );
  }
  const { rows: sp } = await target.query<{ path: string }>(`SELECT current_setting('search_path') AS path`);
  const altered = ev.tag === 'ALTER TABLE' ? await columnCounts(target, ev) : [];
  await target.query(`SELECT set_config('search_path', $1, true)`, [ev.searchPath]);
  try {
    await target.query(d.sql);
  } catch (e) {
    const err = e as { message?: string; code?: string };
    throw new PgTransitError(
      ErrorType.SchemaDrift,
      `DDL on the source at ${ev.lsn} failed on the target (${err.message ?? String(e)}): ${d.sql}; fix the target so that it ` +
        `applies, or handle it by hand and record it: INSERT INTO ${STATE_SCHEMA}.ddl_skipped (migration, database, lsn) VALUES ` +
        `('${plan.name}', '${database}', '${ev.lsn}'); then resume`,
      { lsn: ev.lsn, tag: ev.tag, statement: d.sql, sqlstate: err.code },
    );
  }
  await target.query(`SELECT set_config('search_path', $1, true)`, [sp[0]!.path]);
  const computed = await computedHere(target, altered);
  if (computed.length > 0) {
    throw new PgTransitError(
      ErrorType.SchemaDrift,
      `DDL on the source at ${ev.lsn} stopped the apply: ${ev.tag} (${d.sql}) fills existing rows of ${computed.join('; ')}, ` +
        `which the target would compute itself, differently from the source; add the column on the target by hand and copy ` +
        `its values from the source, then record it: INSERT INTO ${STATE_SCHEMA}.ddl_skipped (migration, database, lsn) ` +
        `VALUES ('${plan.name}', '${database}', '${ev.lsn}'); and resume`,
      { lsn: ev.lsn, tag: ev.tag, statement: d.sql },
    );
  }
  return true;
}

/** The tables an ALTER TABLE names that exist on the target, with their highest column number before it runs. */
async function columnCounts(target: pg.Client, ev: DdlEvent): Promise<{ oid: number; attnum: number }[]> {
  const tables = ev.commands.filter((c) => c.type === 'table' && c.identity).map((c) => c.identity!);
  if (tables.length === 0) return [];
  const { rows } = await target.query<{ oid: number; attnum: number }>(
    `SELECT c.oid::int AS oid, coalesce(max(a.attnum), 0)::int AS attnum
       FROM unnest($1::text[]) t(name) JOIN pg_class c ON c.oid = to_regclass(t.name)
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
      GROUP BY c.oid`,
    [tables],
  );
  return rows;
}

/**
 * Columns an ALTER TABLE added to tables holding rows whose values the target computes itself and that
 * can differ from the source's: an identity or a serial numbers the rows in their physical order, and
 * a default that is not immutable (now(), random(), CURRENT_TIMESTAMP) is evaluated at the target's time.
 */
async function computedHere(target: pg.Client, before: { oid: number; attnum: number }[]): Promise<string[]> {
  if (before.length === 0) return [];
  const { rows } = await target.query<{
    rel: string;
    attname: string;
    expr: string | null;
    identity: boolean;
    volatile: boolean;
  }>(
    `SELECT a.attrelid::regclass::text AS rel, a.attname, pg_get_expr(d.adbin, d.adrelid) AS expr,
            a.attidentity <> '' AS identity,
            -- Built-in functions are pinned, without pg_depend rows: the stored expression names them.
            EXISTS (SELECT 1 FROM regexp_matches(d.adbin::text, ':(?:funcid|opfuncid) (\\d+)', 'g') m
                      JOIN pg_proc p ON p.oid = m[1]::oid WHERE p.provolatile <> 'i')
              OR d.adbin::text ~ '\\{(SQLVALUEFUNCTION|NEXTVALUEEXPR)' AS volatile
       FROM unnest($1::int[], $2::int[]) b(oid, attnum)
       JOIN pg_attribute a ON a.attrelid = b.oid AND a.attnum > b.attnum AND NOT a.attisdropped
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attgenerated = '' AND (a.attidentity <> '' OR d.oid IS NOT NULL)`,
    [before.map((b) => b.oid), before.map((b) => b.attnum)],
  );
  const out: string[] = [];
  for (const r of rows) {
    const reason = r.identity ? 'an identity' : r.volatile ? 'a default that is not immutable' : null;
    if (!reason) continue;
    const { rowCount } = await target.query(`SELECT 1 FROM ${r.rel} LIMIT 1`);
    if (rowCount) out.push(`${r.rel}.${r.attname} (${reason}${r.expr ? `: DEFAULT ${r.expr}` : ''})`);
  }
  return out;
}
