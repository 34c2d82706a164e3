/**
 * A check of the assessment: one item id, what it is about, and how to decide it.
 * Adding a check is one entry in a group's list (the files beside this one) and one
 * row in the README's table.
 */
import type { CheckItem, CheckStatus } from '../../model/report';

export { formatBytes } from '../../model/format';

/** What a check found: its status, what was observed, and the fix (shown for warn and fail). */
export interface Finding {
  status: CheckStatus;
  observed: string;
  fix?: string;
}

export interface Check<C> {
  id: string;
  scope: CheckItem['scope'];
  /** The finding, or null when the check does not apply to this plan or situation. */
  run(ctx: C): Promise<Finding | null> | Finding | null;
}

export const finding = (status: CheckStatus, observed: string, fix?: string): Finding => ({ status, observed, fix });

/** Runs every check in order; each applicable one becomes an item. */
export async function runChecks<C>(checks: Check<C>[], ctx: C, database?: string): Promise<CheckItem[]> {
  const items: CheckItem[] = [];
  for (const check of checks) {
    const f = await check.run(ctx);
    if (!f) continue;
    items.push({
      id: check.id,
      scope: check.scope,
      status: f.status,
      observed: f.observed,
      ...(f.fix && f.status !== 'pass' ? { fix: f.fix } : {}),
      ...(database ? { database } : {}),
    });
  }
  return items;
}

/** How many names a report line lists before it says "and N more". */
export const LIST_LIMIT = 10;

export function listNames(names: string[], limit = LIST_LIMIT): string {
  if (names.length <= limit) return names.join(', ');
  return `${names.slice(0, limit).join(', ')} and ${names.length - limit} more`;
}

/** A memoised async value: computed on first use, shared by the checks that need it. */
export function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= fn());
}

/**
 * An identifier as fix statements spell it: bare when it needs no quotes, double-quoted
 * otherwise. (Reserved words are not known here; names read from the catalogs are quoted
 * by the server with quote_ident where the query can.)
 */
export function sqlIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function sqlLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Up to LIST_LIMIT statements, then how many tables were left out. */
export function listStatements(statements: string[], what = 'tables'): string {
  const shown = statements.slice(0, LIST_LIMIT).join(' ');
  return statements.length > LIST_LIMIT ? `${shown} ... and ${statements.length - LIST_LIMIT} more ${what}` : shown;
}
