/**
 * What the switchover's fence needs of the source, checked before anything is created: the
 * rights to make the database read-only and to end the application's sessions, and nothing
 * that would keep writing through the fence (role settings, prepared transactions).
 */
import * as inspect from '../inspect';
import { poolerEntry } from '../../plan/plan';
import { checkPoolerFile, describeEntry } from '../pooler';
import { finding, listNames, listStatements, sqlIdent, sqlLiteral, type Check } from './check';
import type { DatabaseContext } from './context';

/** PostgreSQL's parse_bool for false: f/fa/.../false, n/no, of/off, 0. */
function isFalse(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (v === '0') return true;
  if (v.length >= 1 && ('false'.startsWith(v) || 'no'.startsWith(v))) return true;
  return v.length >= 2 && 'off'.startsWith(v);
}

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    // switchover.pooler: the admin console answers, knows the entry, and the worker may rewrite the entry's file.
    id: 'plan.pooler',
    scope: 'plan',
    run: async ({ cdc, plan, database }) => {
      const pooler = plan.switchover.pooler;
      if (!cdc || !pooler) return null;
      const entry = poolerEntry(pooler, database);
      let described: Awaited<ReturnType<typeof describeEntry>>;
      try {
        described = await describeEntry(pooler, database);
      } catch (e) {
        return finding(
          'fail',
          `PgBouncer's admin console (switchover.pooler.admin) did not answer SHOW DATABASES: ${(e as Error).message}`,
          'point switchover.pooler.admin at postgres://USER@HOST:PORT/pgbouncer with USER in admin_users',
        );
      }
      if (!described)
        return finding(
          'fail',
          `PgBouncer has no database entry ${entry}`,
          `add ${entry} to its [databases] section, or name the entry in switchover.pooler.databases`,
        );
      const file = checkPoolerFile(pooler, entry);
      if (file)
        return finding('fail', file, `let the worker write ${pooler.configFile}, with the entry ${entry} in it`);
      return finding(
        'pass',
        `PgBouncer entry ${entry} points at ${described.host}:${described.port}/${described.database}; ` +
          `the switchover pauses it, repoints it in ${pooler.configFile} and resumes it`,
      );
    },
  },
  {
    // The fence: ALTER DATABASE ... SET default_transaction_read_only (owner or superuser), then
    // pg_terminate_backend of every other client session (pg_signal_backend; a superuser's only by a superuser).
    id: 'source.fence_rights',
    scope: 'source',
    run: async ({ cdc, source, database }) => {
      if (!cdc) return null;
      const user = source.facts.user;
      const f = await inspect.fenceRights(source.client);
      if (f.superuser) return finding('pass', `${user} is a superuser`);
      const unendable = f.signalBackend ? [] : f.sessions.filter((s) => !s.superuser && !s.ownRole).map((s) => s.role);
      const superusers = f.sessions.filter((s) => s.superuser).map((s) => s.role);
      const observed: string[] = [];
      const fixes: string[] = [];
      if (!f.ownsDatabase) {
        observed.push(
          `${user} does not own database ${database}: the switchover's ALTER DATABASE ${database} SET ` +
            'default_transaction_read_only = on would fail (it needs the owner or a superuser)',
        );
        fixes.push(`ALTER DATABASE ${sqlIdent(database)} OWNER TO ${sqlIdent(user)};`);
      }
      if (!f.signalBackend) {
        observed.push(
          `${user} may not pg_terminate_backend other roles' sessions (neither superuser nor a member of ` +
            'pg_signal_backend), so the fence could not end them' +
            (unendable.length
              ? `; sessions in ${database} now that it could not end: ${listNames(unendable)}`
              : `; no such session in ${database} now`),
        );
      }
      if (!f.signalBackend) fixes.push(`GRANT pg_signal_backend TO ${sqlIdent(user)};`);
      if (superusers.length) {
        observed.push(`${database} has superusers' sessions, which only a superuser can end: ${listNames(superusers)}`);
        fixes.push("end the superusers' sessions in the database before the switchover, or run it as a superuser");
      }
      if (observed.length === 0)
        return finding('pass', `${user} owns ${database} and is a member of pg_signal_backend`);
      return finding(f.ownsDatabase ? 'warn' : 'fail', observed.join('; '), fixes.join(' '));
    },
  },
  {
    // A role's setting (ALTER ROLE [IN DATABASE]) wins over the database's: the fence's ALTER DATABASE misses those sessions.
    id: 'source.read_only_overrides',
    scope: 'source',
    run: async ({ cdc, source, database }) => {
      if (!cdc) return null;
      const settings = await inspect.roleReadOnlySettings(source.client);
      const effective = new Map<string, inspect.RoleReadOnlySetting>();
      for (const s of settings) if (s.inDatabase || !effective.has(s.role)) effective.set(s.role, s);
      const writable = [...effective.values()].filter((s) => isFalse(s.value));
      if (writable.length === 0)
        return finding('pass', `no role sets default_transaction_read_only = off for ${database}`);
      const db = sqlIdent(database);
      return finding(
        'warn',
        `${writable.length} roles have default_transaction_read_only = off for ${database} or every database: ` +
          listNames(writable.map((s) => `${s.role} (${s.inDatabase ? `in ${database}` : 'every database'})`)) +
          "; their sessions would stay writable through the switchover's fence (a role's setting wins over the " +
          "database's), and the switchover refuses while they exist",
        listStatements(
          writable.map((s) =>
            s.inDatabase
              ? `ALTER ROLE ${sqlIdent(s.role)} IN DATABASE ${db} RESET default_transaction_read_only;`
              : `ALTER ROLE ${sqlIdent(s.role)} RESET default_transaction_read_only;`,
          ),
          'roles',
        ) +
          ` (to keep a role writable in other databases instead: ALTER ROLE <role> IN DATABASE ${db} SET ` +
          `default_transaction_read_only = on, which keeps its sessions in ${database} read-only until reset)`,
      );
    },
  },
  {
    // COMMIT PREPARED is allowed in a read-only transaction: a prepared transaction could commit after the fence.
    id: 'source.prepared_transactions',
    scope: 'source',
    run: async (ctx) => {
      if (!ctx.cdc) return null;
      const max = Number((await ctx.serverFacts()).settings.max_prepared_transactions ?? 0);
      if (max === 0) return finding('pass', 'max_prepared_transactions = 0: no transaction can be prepared');
      const prepared = await inspect.preparedTransactions(ctx.source.client);
      if (prepared.length === 0)
        return finding('pass', `max_prepared_transactions = ${max}; no prepared transaction in ${ctx.database}`);
      const describe = (p: inspect.PreparedTransaction) =>
        `${sqlLiteral(p.gid)} by ${p.owner} (${p.ageSeconds}s` +
        (p.relations.length ? `, locks ${listNames(p.relations)})` : ')');
      return finding(
        'warn',
        `${prepared.length} prepared transactions in ${ctx.database}: ${listNames(prepared.map(describe))}; the ` +
          'switchover refuses while any exist (COMMIT PREPARED is allowed on the fenced, read-only source, and its ' +
          'changes would arrive after the fence)',
        listStatements(
          prepared.map((p) => `COMMIT PREPARED ${sqlLiteral(p.gid)}; or ROLLBACK PREPARED ${sqlLiteral(p.gid)};`),
          'transactions',
        ) +
          ` (in ${ctx.database}, as its transaction manager decides); and have none prepared while the switchover runs`,
      );
    },
  },
];
