/** Real PostgreSQL servers for tests, and plans that point at them by env: reference. */
import { randomBytes } from 'node:crypto';
import { startPostgres, type PgServer, type StartOptions } from '../../src/dev/embedded-postgres';
import { parsePlan, type Plan, type PlanInput } from '../../src/plan/plan';

export { startPostgres, type PgServer };

let counter = 0;

/** Puts `url` in a fresh environment variable and returns its env: reference. */
export function envRef(url: string): string {
  const name = `PGT_TEST_URL_${process.pid}_${++counter}`;
  process.env[name] = url;
  return `env:${name}`;
}

export function uniqueName(prefix = 't'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A validated plan from `source` to `target`; `overrides` replaces top-level fields. */
export function planFor(
  source: PgServer,
  target: PgServer,
  overrides: Partial<PlanInput> & {
    sourceUser?: { user: string; password: string };
    targetUser?: { user: string; password: string };
    database?: string;
    targetDatabase?: string;
  } = {},
): Plan {
  const { sourceUser, targetUser, database = 'app', targetDatabase, ...rest } = overrides;
  const input: PlanInput = {
    name: uniqueName(),
    source: { url: envRef(source.url({ ...sourceUser, database })) },
    target: { url: envRef(target.url({ ...targetUser, database: targetDatabase ?? database })) },
    mode: 'full+cdc',
    ...rest,
  };
  const parsed = parsePlan(input);
  if (!parsed.ok) throw new Error(`test plan invalid: ${JSON.stringify(parsed.issues)}`);
  return parsed.plan;
}

/** Starts a source and a target (default 15 -> 17), each with an `app` database. */
export async function startPair(
  source: Partial<StartOptions> = {},
  target: Partial<StartOptions> = {},
): Promise<{ source: PgServer; target: PgServer; stop(): Promise<void> }> {
  const [s, t] = await Promise.all([startPostgres({ major: 15, ...source }), startPostgres({ major: 17, ...target })]);
  await s.query('CREATE DATABASE app');
  if (!target.standby) await t.query('CREATE DATABASE app');
  return { source: s, target: t, stop: async () => void (await Promise.all([s.stop(), t.stop()])) };
}
