/** The target: a writable primary, the database, room, and the rights to create what is restored. */
import { STATE_SCHEMA } from '../../model/names';
import { targetName } from '../../plan/selection';
import * as inspect from '../inspect';
import { DISK_ADVISE_FACTOR, DISK_WARN_FACTOR } from '../limits';
import { finding, formatBytes, listNames, sqlIdent, type Check } from './check';
import type { DatabaseContext, ServerContext } from './context';
import { localeOptions } from './pair';

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    id: 'target.database',
    scope: 'target',
    run: async (ctx) => {
      const t = await ctx.target();
      if (t.exists) return finding('pass', `database ${ctx.targetDatabase} exists on the target`);
      const db = await ctx.databaseFacts();
      const can = t.facts.superuser || t.facts.createDb;
      return finding(
        can ? 'pass' : 'fail',
        `database ${ctx.targetDatabase} does not exist on the target; ${t.facts.currentUser} ${can ? 'may' : 'may not'} create it`,
        `CREATE DATABASE ${ctx.targetDatabase} ENCODING '${db.encoding}' LC_COLLATE '${db.collate}' LC_CTYPE ` +
          `'${db.ctype}'${localeOptions(db)} TEMPLATE template0; or ALTER ROLE ${t.facts.currentUser} CREATEDB`,
      );
    },
  },
  {
    // The target holds none of the selected objects yet.
    id: 'target.empty',
    scope: 'target',
    run: async (ctx) => {
      const t = await ctx.target();
      // When the target is the source, "drop those tables on the target" would drop the source's: pair.distinct says it.
      if (!t.exists || (await ctx.sameDatabase())) return null;
      const tgtTables = ctx.selected.map((x) => targetName(ctx.plan, x));
      const clash = await inspect.existingRelations(t.session.client, tgtTables);
      if (clash.length === 0)
        return finding('pass', `none of the ${tgtTables.length} selected tables exist on the target yet`);
      return finding(
        'fail',
        `${clash.length} of the selected tables already exist on the target: ${listNames(clash)}`,
        'migrate into an empty database, drop those tables on the target, or map them to other names (mapping.tables)',
      );
    },
  },
  {
    // pgtransit's writes on the target (the database, the schema, the copies, the applied changes) run in
    // the session's default transaction mode: a read-only default refuses every one of them.
    id: 'target.writable',
    scope: 'target',
    run: async (ctx) => {
      const t = await ctx.target();
      const db = ctx.targetDatabase;
      // A missing database gets none of the maintenance database's own settings when it is created.
      const applies = t.readOnly.on && (t.exists || !['database', 'database user'].includes(t.readOnly.source));
      if (!applies) return finding('pass', `sessions in ${db} on the target are writable by default`);
      const user = t.exists ? t.session.facts.user : t.facts.currentUser;
      const { where, fix } = readOnlySource(t.readOnly.source, db, user);
      return finding(
        'fail',
        `default_transaction_read_only = on for database ${db} on the target${t.exists ? '' : ' once created'} ` +
          `(${where}): every write of the migration there (schema, copies, changes) would be refused`,
        fix,
      );
    },
  },
  {
    // Rights to create what will be restored.
    id: 'target.create_privilege',
    scope: 'target',
    run: async (ctx) => {
      const t = await ctx.target();
      if (!t.exists) return null;
      const user = t.session.facts.user;
      const tgtSchemas = [...new Set(ctx.selected.map((x) => targetName(ctx.plan, x).schema))];
      const contents = await inspect.schemaContents(t.session.client, tgtSchemas);
      const existing = new Map(contents.map((c) => [c.schema, c]));
      const missingSchemas = tgtSchemas.filter((x) => !existing.has(x));
      const noCreateIn = contents.filter((c) => !c.canCreate).map((c) => c.schema);
      // CREATE SCHEMA checks the database's CREATE before IF NOT EXISTS: pgtransit's state schema needs it on every run.
      const problems = [
        noCreateIn.length ? `no CREATE on existing schemas ${listNames(noCreateIn)}` : '',
        !t.database.canCreate
          ? `no CREATE on database ${ctx.targetDatabase} (needed for pgtransit's state schema ${STATE_SCHEMA}` +
            (missingSchemas.length ? ` and for schemas ${listNames(missingSchemas)})` : ')')
          : '',
      ].filter(Boolean);
      return finding(
        problems.length ? 'fail' : 'pass',
        problems.length
          ? `${user}: ${problems.join('; ')}`
          : `${user} may create the ${tgtSchemas.length} schemas and their objects`,
        `GRANT CREATE ON DATABASE ${ctx.targetDatabase} TO ${user}; GRANT CREATE ON SCHEMA <schema> TO ${user}`,
      );
    },
  },
];

/** Where a read-only default comes from (pg_settings.source), and the statement that lifts it. */
function readOnlySource(source: string, database: string, user: string): { where: string; fix: string } {
  const db = sqlIdent(database);
  const role = sqlIdent(user);
  switch (source) {
    case 'database':
      return { where: 'set on the database', fix: `ALTER DATABASE ${db} RESET default_transaction_read_only;` };
    case 'user':
      return { where: `set on role ${user}`, fix: `ALTER ROLE ${role} RESET default_transaction_read_only;` };
    case 'database user':
      return {
        where: `set on role ${user} in database ${database}`,
        fix: `ALTER ROLE ${role} IN DATABASE ${db} RESET default_transaction_read_only;`,
      };
    case 'configuration file':
      return {
        where: "set in the server's configuration",
        fix:
          'ALTER SYSTEM RESET default_transaction_read_only; SELECT pg_reload_conf();  (or remove it from ' +
          "postgresql.conf; on a managed service, from the server's parameters)",
      };
    case 'client':
      return {
        where: 'set by the connection',
        fix: 'remove default_transaction_read_only from the options of target.url (or PGOPTIONS on the worker)',
      };
    default:
      return {
        where: `set by ${source}`,
        fix: 'start the target server without default_transaction_read_only = on',
      };
  }
}

export const serverChecks: Check<ServerContext>[] = [
  {
    id: 'target.primary',
    scope: 'target',
    run: ({ targetFacts: tf }) =>
      finding(
        tf.inRecovery ? 'fail' : 'pass',
        tf.inRecovery ? 'the target is a standby (in recovery): it cannot be written' : 'the target is a primary',
        'point target.url at the primary, or promote the standby',
      ),
  },
  {
    id: 'target.createrole',
    scope: 'target',
    run: ({ plan, targetFacts: tf }) =>
      plan.roles
        ? finding(
            tf.superuser || tf.createRole ? 'pass' : 'fail',
            `${tf.currentUser}: ${tf.superuser ? 'superuser' : tf.createRole ? 'CREATEROLE' : 'no CREATEROLE'}`,
            `ALTER ROLE ${tf.currentUser} CREATEROLE; or set roles: false and create the roles yourself`,
          )
        : null,
  },
  {
    // The apply runs every transaction with SET LOCAL session_replication_role = replica (a superuser-only parameter).
    id: 'target.replication_role',
    scope: 'target',
    run: async ({ cdc, target, targetFacts: tf }) => {
      if (!cdc) return null;
      const user = tf.currentUser;
      const right = await inspect.maySetParameter(target.client, 'session_replication_role', tf.major);
      if (right.allowed) {
        return finding(
          'pass',
          `${user} may SET session_replication_role (${right.via === 'superuser' ? 'superuser' : 'granted SET ON PARAMETER'})`,
        );
      }
      const fix =
        tf.major >= 15
          ? `GRANT SET ON PARAMETER session_replication_role TO ${sqlIdent(user)};  (as a superuser)`
          : `ALTER ROLE ${sqlIdent(user)} SUPERUSER;  or use a superuser as the target role`;
      if (right.providerRole) {
        return finding(
          'warn',
          `${user} is neither superuser nor granted SET on session_replication_role, but is a member of ` +
            `${right.providerRole}: whether it may SET it is the service's rule, not in the catalogs (the apply needs it)`,
          fix,
        );
      }
      return finding(
        'fail',
        `${user} may not SET session_replication_role (` +
          (tf.major >= 15
            ? 'neither superuser nor granted SET ON PARAMETER'
            : `not a superuser, and only a superuser may before 15`) +
          '): the apply sets it to replica in every transaction, so change capture would stop at its first transaction',
        fix,
      );
    },
  },
  {
    id: 'target.disk_space',
    scope: 'target',
    run: async ({ target, targetFacts: tf, selectedBytes }) => {
      const free = await inspect.freeDiskBytes(target.client, tf.settings.data_directory);
      if (free === null) {
        return finding(
          'warn',
          `selected data on the source: ${formatBytes(selectedBytes)}; free space on the target: unknown ` +
            `(needs superuser or pg_execute_server_program to read)`,
          `make sure the target has at least ${formatBytes(selectedBytes * DISK_ADVISE_FACTOR)} free (the selected size plus room for WAL and index builds)`,
        );
      }
      return finding(
        free < selectedBytes ? 'fail' : free < selectedBytes * DISK_WARN_FACTOR ? 'warn' : 'pass',
        `selected data on the source: ${formatBytes(selectedBytes)}; free on the target's data volume: ${formatBytes(free)}`,
        `free or add at least ${formatBytes(Math.max(0, selectedBytes * DISK_WARN_FACTOR - free))} on the target`,
      );
    },
  },
];
