/**
 * Which relations a plan selects, and what they are called on the target.
 * Pure functions, shared by the precheck and the later phases.
 */
import { isSystemSchema } from '../model/names';
import type { Plan } from './plan';

export interface QualifiedName {
  schema: string;
  name: string;
}

export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function splitQualified(pattern: string): [string, string] {
  const dot = pattern.indexOf('.');
  return [pattern.slice(0, dot), pattern.slice(dot + 1)];
}

function tableMatches(pattern: string, t: QualifiedName): boolean {
  const [s, n] = splitQualified(pattern);
  return globToRegExp(s).test(t.schema) && globToRegExp(n).test(t.name);
}

export interface SelectionResult<T extends QualifiedName> {
  selected: T[];
  /** Patterns of the plan that matched no relation, with where they are in the plan. */
  unmatched: { path: string; pattern: string }[];
}

/**
 * A relation is selected when it is included (by schema or by table pattern; with
 * neither given, every non-system relation is) and not excluded by either.
 */
export function selectTables<T extends QualifiedName>(
  plan: Pick<Plan, 'include' | 'exclude'>,
  all: T[],
): SelectionResult<T> {
  const candidates = all.filter((t) => !isSystemSchema(t.schema));
  const inc = plan.include ?? {};
  const exc = plan.exclude ?? {};
  const unmatched: { path: string; pattern: string }[] = [];
  const schemaHits = (patterns: string[] | undefined, path: string) =>
    (patterns ?? []).map((p, i) => {
      const re = globToRegExp(p);
      const hit = (t: QualifiedName) => re.test(t.schema);
      if (!candidates.some(hit)) unmatched.push({ path: `${path}.${i}`, pattern: p });
      return hit;
    });
  const tableHits = (patterns: string[] | undefined, path: string) =>
    (patterns ?? []).map((p, i) => {
      const hit = (t: QualifiedName) => tableMatches(p, t);
      if (!candidates.some(hit)) unmatched.push({ path: `${path}.${i}`, pattern: p });
      return hit;
    });
  const includes = [...schemaHits(inc.schemas, 'include.schemas'), ...tableHits(inc.tables, 'include.tables')];
  const excludes = [...schemaHits(exc.schemas, 'exclude.schemas'), ...tableHits(exc.tables, 'exclude.tables')];
  const selected = candidates.filter(
    (t) => (includes.length === 0 || includes.some((f) => f(t))) && !excludes.some((f) => f(t)),
  );
  return { selected, unmatched };
}

/** The name a selected relation gets on the target: a table mapping wins over a schema mapping. */
export function targetName(plan: Pick<Plan, 'mapping'>, t: QualifiedName): QualifiedName {
  const direct = plan.mapping?.tables?.[`${t.schema}.${t.name}`];
  if (direct) {
    const [schema, name] = splitQualified(direct);
    return { schema, name };
  }
  return { schema: plan.mapping?.schemas?.[t.schema] ?? t.schema, name: t.name };
}

/** One identifier as messages show it: bare when plain lower case, else quoted. Never for SQL text. */
export const displayIdent = (n: string): string => (/^[a-z_][a-z0-9_]*$/.test(n) ? n : `"${n.replace(/"/g, '""')}"`);

/** For messages and reports only; SQL text always quotes with the driver's escapeIdentifier. */
export function displayName(t: QualifiedName): string {
  return `${displayIdent(t.schema)}.${displayIdent(t.name)}`;
}

/**
 * Why a relation the plan does not migrate is left out: the first exclude pattern that
 * matches it (schemas, then tables), or `include` when no include pattern selects it.
 */
export function exclusionOf(
  plan: Pick<Plan, 'include' | 'exclude'>,
  t: QualifiedName,
): { by: string; pattern: string | null } {
  const schemas = plan.exclude?.schemas ?? [];
  const s = schemas.findIndex((p) => globToRegExp(p).test(t.schema));
  if (s >= 0) return { by: `exclude.schemas.${s}`, pattern: schemas[s]! };
  const tables = plan.exclude?.tables ?? [];
  const i = tables.findIndex((p) => tableMatches(p, t));
  if (i >= 0) return { by: `exclude.tables.${i}`, pattern: tables[i]! };
  return { by: 'include', pattern: null };
}
