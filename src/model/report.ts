/** The assessment report returned by precheckWorkflow. Pure data: bundled into workflows. */

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckItem {
  /** Stable id, e.g. `source.wal_level`; scripts match on it. */
  id: string;
  /** Which server or part the item is about. */
  scope: 'source' | 'target' | 'pair' | 'plan' | 'worker';
  /** The database the item is about, when it is about one. */
  database?: string;
  status: CheckStatus;
  /** What was found, in numbers and names. */
  observed: string;
  /** What to do about a warn or fail item. */
  fix?: string;
}

export interface ServerSummary {
  side: 'source' | 'target';
  host: string;
  port: number;
  database: string;
  user: string;
  version: string;
  major: number;
  inRecovery: boolean;
  tls: boolean;
}

export interface PrecheckReport {
  plan: string;
  mode: 'full' | 'full+cdc';
  checkedAt: string;
  source: ServerSummary;
  target: ServerSummary;
  databases: string[];
  items: CheckItem[];
  summary: { pass: number; warn: number; fail: number };
  /** True when no item failed: the migration may start. */
  ok: boolean;
}

const ORDER: Record<CheckStatus, number> = { fail: 0, warn: 1, pass: 2 };

export function summarize(items: CheckItem[]): PrecheckReport['summary'] {
  return {
    pass: items.filter((i) => i.status === 'pass').length,
    warn: items.filter((i) => i.status === 'warn').length,
    fail: items.filter((i) => i.status === 'fail').length,
  };
}

/** Failures first, then warnings, each group in a stable order by id. */
export function sortItems(items: CheckItem[]): CheckItem[] {
  return [...items].sort(
    (a, b) =>
      ORDER[a.status] - ORDER[b.status] ||
      a.id.localeCompare(b.id) ||
      (a.database ?? '').localeCompare(b.database ?? ''),
  );
}
