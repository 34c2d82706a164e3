/**
 * The migration assessment: what must hold on the source, the target and the worker
 * before a migration may start. Reads catalogs only; changes nothing on either server.
 */
import type { Plan } from '../plan/schema';
import { replicationNames } from '../plan/schema';
import type { CheckItem, CheckStatus, ServerSummary } from '../plan/report';
import { displayName, selectTables, targetName } from '../plan/selection';
import { connect, withConnection, queryError, type Endpoint } from './connect';
import * as inspect from './inspect';
import { findTool } from './tools';
import { dumpScope } from './schema';

/** How many names a report line lists before it says "and N more". */
const LIST_LIMIT = 10;
/** Transactions older than this delay the creation of a logical slot. */
const LONG_TRANSACTION_SECONDS = 300;

export function endpoints(plan: Plan): { source: Endpoint; target: Endpoint } {
  return { source: { side: 'source', ref: plan.source.url }, target: { side: 'target', ref: plan.target.url } };
}

export function listNames(names: string[], limit = LIST_LIMIT): string {
  if (names.length <= limit) return names.join(', ');
  return `${names.slice(0, limit).join(', ')} and ${names.length - limit} more`;
}

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

const item = (id: string, scope: CheckItem['scope'], status: CheckStatus, observed: string, fix?: string, database?: string): CheckItem => ({
  id,
  scope,
  status,
  observed,
  ...(fix && status !== 'pass' ? { fix } : {}),
  ...(database ? { database } : {}),
});

/** Connects once and reports who and what is at the other end. Connection errors propagate. */
export async function probeServer(endpoint: Endpoint): Promise<ServerSummary> {
  // The target database may not exist yet (the migration creates it): probe the server anyway.
  return withConnection(endpoint, { connectTimeoutMs: 10_000, fallbackToMaintenanceDb: endpoint.side === 'target' }, async ({ client, facts, tls, requestedDatabase }) => {
    const f = await inspect.serverFacts(client).catch((e) => {
      throw queryError(`${endpoint.side} server`, e);
    });
    return {
      side: endpoint.side,
      host: facts.host,
      port: facts.port,
      database: requestedDatabase,
      user: facts.user,
      version: f.version,
      major: f.major,
      inRecovery: f.inRecovery,
      tls: tls && f.tls,
    };
  });
}

export interface DatabaseAssessment {
  items: CheckItem[];
  selectedTables: number;
  selectedBytes: number;
}

/** The per-database items: selection, privileges, keys, objects, and the target's side of them. */
export async function assessDatabase(plan: Plan, database: string, targetDatabase: string): Promise<DatabaseAssessment> {
  const { source, target } = endpoints(plan);
  const cdc = plan.mode === 'full+cdc';
  const items: CheckItem[] = [];
  const add = (id: string, scope: CheckItem['scope'], status: CheckStatus, observed: string, fix?: string) =>
    items.push(item(id, scope, status, observed, fix, database));

  const src = await connect(source, { database });
  try {
    const s = src.client;
    const tables = await inspect.listTables(s);
    const { selected, unmatched } = selectTables(plan, tables);
    const selectedBytes = selected.reduce((n, t) => n + t.bytes, 0);
    const schemas = [...new Set(selected.map((t) => t.schema))];

    // Selection
    if (selected.length === 0) {
      add('plan.selection', 'plan', 'fail', `no table of database ${database} matches the plan's include/exclude (${tables.length} tables exist)`,
        'widen include or narrow exclude; `pgtransit plan check` shows the patterns');
    } else if (unmatched.length > 0) {
      add('plan.selection', 'plan', 'warn', `${selected.length} tables selected (${formatBytes(selectedBytes)}); patterns that match nothing: ${unmatched.map((u) => `${u.path} = "${u.pattern}"`).join(', ')}`,
        'correct or remove the patterns that match nothing (a typo here silently leaves data behind)');
    } else {
      add('plan.selection', 'plan', 'pass', `${selected.length} tables selected (${formatBytes(selectedBytes)})`);
    }
    const selectedKeys = new Set(selected.map((t) => `${t.schema}.${t.name}`));
    const strayMappings = Object.keys(plan.mapping?.tables ?? {}).filter((k) => !selectedKeys.has(k));
    if (strayMappings.length > 0) {
      add('plan.mapping', 'plan', 'warn', `mapping.tables names tables that are not selected: ${listNames(strayMappings)}`, 'remove those mappings or include the tables');
    }

    // Objects kept that need something the plan leaves out would fail at restore (or break silently).
    const scope = await dumpScope(s, plan);
    add('plan.dependencies', 'plan', scope.conflicts.length ? 'fail' : 'pass',
      scope.conflicts.length ? `objects that would be migrated depend on objects the plan leaves out: ${listNames(scope.conflicts)}` : 'nothing selected depends on something left out',
      'exclude the dependent objects too (exclude.tables also matches views and sequences), or include what they need');

    // Read rights on what is selected
    const noUsage = await inspect.schemasWithoutUsage(s, schemas);
    const noSelect = selected.filter((t) => !t.canSelect).map(displayName);
    const noSeqSelect = await inspect.sequencesWithoutSelect(s, schemas);
    if (noUsage.length + noSelect.length + noSeqSelect.length > 0) {
      const parts = [
        noUsage.length ? `no USAGE on schemas ${listNames(noUsage)}` : '',
        noSelect.length ? `no SELECT on tables ${listNames(noSelect)}` : '',
        noSeqSelect.length ? `no SELECT on sequences ${listNames(noSeqSelect)}` : '',
      ].filter(Boolean);
      add('source.select_privilege', 'source', 'fail', `${src.facts.user}: ${parts.join('; ')}`,
        `GRANT USAGE ON SCHEMA <schema> TO ${src.facts.user}; GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO ${src.facts.user}; GRANT SELECT ON ALL SEQUENCES IN SCHEMA <schema> TO ${src.facts.user}`);
    } else {
      add('source.select_privilege', 'source', 'pass', `${src.facts.user} can read all ${selected.length} selected tables and their sequences`);
    }

    // Publication rights (CREATE on the database and ownership of every published table)
    const srvFacts = await inspect.serverFacts(s);
    const db = await inspect.databaseFacts(s);
    if (!cdc) {
      add('source.publication_privilege', 'source', 'pass', 'mode full: no publication is created');
    } else if (srvFacts.superuser) {
      add('source.publication_privilege', 'source', 'pass', `${src.facts.user} is a superuser`);
    } else {
      const notOwned = selected.filter((t) => !t.owned).map(displayName);
      if (!db.canCreate || notOwned.length > 0) {
        const parts = [!db.canCreate ? `no CREATE on database ${database}` : '', notOwned.length ? `does not own ${listNames(notOwned)}` : ''].filter(Boolean);
        add('source.publication_privilege', 'source', 'fail', `${src.facts.user}: ${parts.join('; ')} (CREATE PUBLICATION ... FOR TABLE needs both)`,
          `GRANT CREATE ON DATABASE ${database} TO ${src.facts.user}; and make ${src.facts.user} a member of the tables' owner (GRANT <owner> TO ${src.facts.user}), or create the publication as the owner`);
      } else {
        add('source.publication_privilege', 'source', 'pass', `${src.facts.user} has CREATE on ${database} and owns the selected tables`);
      }
    }

    // Keys: logical replication of UPDATE/DELETE needs a replica identity
    const leafTables = selected.filter((t) => t.kind === 'table');
    const noKey = leafTables.filter((t) => t.replicaIdentity === 'n' || (t.replicaIdentity === 'd' && !t.hasPrimaryKey));
    const fullIdentity = leafTables.filter((t) => t.replicaIdentity === 'f' && !t.hasPrimaryKey);
    if (noKey.length > 0) {
      const fixes = noKey.slice(0, LIST_LIMIT).map((t) =>
        t.candidateIndex
          ? `ALTER TABLE ${displayName(t)} REPLICA IDENTITY USING INDEX ${t.candidateIndex};`
          : `ALTER TABLE ${displayName(t)} ADD PRIMARY KEY (<columns>);  -- or REPLICA IDENTITY FULL`,
      );
      add('source.primary_keys', 'source', cdc ? 'fail' : 'warn',
        `${noKey.length} selected tables have no primary key or replica identity index: ${listNames(noKey.map(displayName))}` +
          (cdc ? '; their UPDATE and DELETE cannot be replicated' : '; a retried copy of such a table cannot be made idempotent'),
        fixes.join(' ') + (cdc ? ' Or exclude the tables from the plan.' : ''));
    } else if (fullIdentity.length > 0) {
      add('source.primary_keys', 'source', 'warn', `${fullIdentity.length} tables replicate with REPLICA IDENTITY FULL (no key): ${listNames(fullIdentity.map(displayName))}; each UPDATE/DELETE scans the target table, and if the snapshot is lost during the load their changes cannot be replayed idempotently (the switchover's verification would then refuse)`,
        'add a primary key, or REPLICA IDENTITY USING INDEX on a unique NOT NULL index');
    } else {
      add('source.primary_keys', 'source', 'pass', `all ${leafTables.length} selected tables have a primary key or replica identity index`);
    }

    const unlogged = selected.filter((t) => t.unlogged).map(displayName);
    if (unlogged.length > 0) {
      add('source.unlogged_tables', 'source', cdc ? 'fail' : 'warn',
        `unlogged tables: ${listNames(unlogged)}` + (cdc ? ' (their changes are not written to the WAL, so they cannot be captured)' : ' (copied once; an unlogged table is emptied by a crash)'),
        `ALTER TABLE <table> SET LOGGED; or exclude them in the plan's exclude.tables`);
    } else {
      add('source.unlogged_tables', 'source', 'pass', 'no unlogged tables selected');
    }

    const los = await inspect.largeObjectCount(s);
    add('source.large_objects', 'source', los > 0 ? 'warn' : 'pass',
      los > 0 ? `${los} large objects (pg_largeobject) in ${database}; neither COPY nor logical decoding carries them` : 'no large objects',
      'store them in bytea columns, or move them separately with pg_dump --large-objects after switchover');

    const cfuncs = await inspect.cFunctions(s, schemas);
    add('source.c_functions', 'source', cfuncs.length > 0 ? 'warn' : 'pass',
      cfuncs.length > 0 ? `C-language functions outside extensions: ${listNames(cfuncs)}; their shared library must exist on the target` : 'no C-language functions outside extensions',
      'install the same shared libraries on the target server, or exclude the schema holding them');

    if (cdc) {
      const { slot, publication } = replicationNames(plan.name, database);
      const usage = await inspect.replicationUsage(s);
      const slotTaken = usage.slots.some((x) => x.name === slot);
      const pubTaken = await inspect.publicationExists(s, publication);
      add('source.replication_names', 'source', slotTaken || pubTaken ? 'fail' : 'pass',
        slotTaken || pubTaken
          ? `${[slotTaken ? `replication slot ${slot}` : '', pubTaken ? `publication ${publication}` : ''].filter(Boolean).join(' and ')} already exist${slotTaken && pubTaken ? '' : 's'}`
          : `slot and publication name ${slot} are free`,
        `if no migration named ${plan.name} is running: SELECT pg_drop_replication_slot('${slot}'); DROP PUBLICATION ${publication}; or give the plan another name`);
    }

    // The target's side of this database
    const tgtTables = selected.map((t) => targetName(plan, t));
    const tgtSchemas = [...new Set(tgtTables.map((t) => t.schema))];
    const srcExt = await inspect.installedExtensions(s);
    const targetHasDb = await withConnection(target, { fallbackToMaintenanceDb: true }, ({ client }) => inspect.databaseExists(client, targetDatabase));
    if (!targetHasDb) {
      const tf = await withConnection(target, { fallbackToMaintenanceDb: true }, ({ client }) => inspect.serverFacts(client));
      const can = tf.superuser || tf.createDb;
      add('target.database', 'target', can ? 'pass' : 'fail',
        `database ${targetDatabase} does not exist on the target; ${tf.currentUser} ${can ? 'may' : 'may not'} create it`,
        `CREATE DATABASE ${targetDatabase} ENCODING '${db.encoding}' LC_COLLATE '${db.collate}' LC_CTYPE '${db.ctype}'${localeOptions(db)} TEMPLATE template0; or ALTER ROLE ${tf.currentUser} CREATEDB`);
      const available = await withConnection(target, { fallbackToMaintenanceDb: true }, ({ client }) => inspect.availableExtensionVersions(client));
      add(...extensionItem(srcExt, available));
      return { items, selectedTables: selected.length, selectedBytes };
    }

    await withConnection(target, { database: targetDatabase }, async ({ client: t, facts: tfacts }) => {
      const tdb = await inspect.databaseFacts(t);
      add('target.database', 'target', 'pass', `database ${targetDatabase} exists on the target`);

      // Encoding and collation
      if (tdb.encoding !== db.encoding) {
        add('pair.encoding', 'pair', 'fail', `source ${database} is ${db.encoding}, target ${targetDatabase} is ${tdb.encoding}`,
          `recreate the target database with ENCODING '${db.encoding}' TEMPLATE template0`);
      } else if (collation(tdb) !== collation(db)) {
        add('pair.encoding', 'pair', 'warn', `encoding ${db.encoding} on both; collation differs: source ${collation(db)}, target ${collation(tdb)} (text sorts and unique indexes on text may behave differently)`,
          `recreate the target database with LC_COLLATE '${db.collate}' LC_CTYPE '${db.ctype}'${localeOptions(db)} TEMPLATE template0, unless the change is intended`);
      } else {
        add('pair.encoding', 'pair', 'pass', `${db.encoding}, collation ${db.localeProvider === 'libc' ? db.collate : collation(db)} on both`);
      }

      // Extensions
      add(...extensionItem(srcExt, await inspect.availableExtensionVersions(t)));

      // The target holds none of the selected objects yet
      const clash = await inspect.existingRelations(t, tgtTables);
      if (clash.length > 0) {
        add('target.empty', 'target', 'fail', `${clash.length} of the selected tables already exist on the target: ${listNames(clash)}`,
          'migrate into an empty database, drop those tables on the target, or map them to other names (mapping.tables)');
      } else {
        add('target.empty', 'target', 'pass', `none of the ${tgtTables.length} selected tables exist on the target yet`);
      }

      // Rights to create what will be restored
      const contents = await inspect.schemaContents(t, tgtSchemas);
      const existing = new Map(contents.map((c) => [c.schema, c]));
      const missingSchemas = tgtSchemas.filter((x) => !existing.has(x));
      const noCreateIn = contents.filter((c) => !c.canCreate).map((c) => c.schema);
      const problems = [
        missingSchemas.length && !tdb.canCreate ? `no CREATE on database ${targetDatabase} (needed for schemas ${listNames(missingSchemas)})` : '',
        noCreateIn.length ? `no CREATE on existing schemas ${listNames(noCreateIn)}` : '',
      ].filter(Boolean);
      add('target.create_privilege', 'target', problems.length ? 'fail' : 'pass',
        problems.length ? `${tfacts.user}: ${problems.join('; ')}` : `${tfacts.user} may create the ${tgtSchemas.length} schemas and their objects`,
        `GRANT CREATE ON DATABASE ${targetDatabase} TO ${tfacts.user}; GRANT CREATE ON SCHEMA <schema> TO ${tfacts.user}`);
    });
    return { items, selectedTables: selected.length, selectedBytes };
  } catch (e) {
    throw queryError(`assessing database ${database}`, e);
  } finally {
    await src.client.end().catch(() => undefined);
  }
}

/** A database's default collation as compared between source and target: an ICU or builtin locale overrides datcollate. */
function collation(d: inspect.DatabaseFacts): string {
  return d.localeProvider === 'libc' ? `${d.collate}/${d.ctype}` : `${d.localeProvider} ${d.locale ?? ''} (${d.collate}/${d.ctype})`;
}

function localeOptions(d: inspect.DatabaseFacts): string {
  if (d.localeProvider === 'icu') return ` LOCALE_PROVIDER icu ICU_LOCALE '${d.locale}'`;
  if (d.localeProvider === 'builtin') return ` LOCALE_PROVIDER builtin BUILTIN_LOCALE '${d.locale}'`;
  return '';
}

function extensionItem(
  source: { name: string; version: string; schema: string }[],
  available: Map<string, Set<string>>,
): [string, CheckItem['scope'], CheckStatus, string, string | undefined] {
  const missing = source.filter((e) => !available.has(e.name));
  const otherVersion = source.filter((e) => available.has(e.name) && !available.get(e.name)!.has(e.version));
  if (missing.length > 0) {
    return ['pair.extensions', 'pair', 'fail',
      `extensions used on the source but not available on the target: ${listNames(missing.map((e) => `${e.name} ${e.version}`))}`,
      `install their packages on the target server (so pg_available_extensions lists them), or drop them on the source if unused`];
  }
  if (otherVersion.length > 0) {
    return ['pair.extensions', 'pair', 'warn',
      `available on the target in other versions: ${listNames(otherVersion.map((e) => `${e.name} ${e.version} -> ${[...available.get(e.name)!].sort().pop()}`))}`,
      'the target gets its own default version; run ALTER EXTENSION ... UPDATE after switchover if you need parity'];
  }
  return ['pair.extensions', 'pair', 'pass', source.length ? `all ${source.length} extensions available: ${listNames(source.map((e) => e.name))}` : 'no extensions besides plpgsql', undefined];
}

/** Server-wide items: versions, tools, replication capacity and rights, recovery, roles, space. */
export async function assessServers(plan: Plan, databases: string[], selectedBytes: number): Promise<CheckItem[]> {
  const { source, target } = endpoints(plan);
  const cdc = plan.mode === 'full+cdc';
  const items: CheckItem[] = [];
  const add = (id: string, scope: CheckItem['scope'], status: CheckStatus, observed: string, fix?: string) => items.push(item(id, scope, status, observed, fix));

  const [s, t] = await Promise.all([connect(source), connect(target, { fallbackToMaintenanceDb: true })]);
  try {
    const sf = await inspect.serverFacts(s.client);
    const tf = await inspect.serverFacts(t.client);

    add('source.connection', 'source', 'pass', connectionLine(s, sf));
    add('target.connection', 'target', 'pass', connectionLine(t, tf));

    add('source.version', 'source', sf.major >= 10 ? 'pass' : 'fail', `PostgreSQL ${sf.version}`,
      'pgtransit needs a source of PostgreSQL 10 or later (logical decoding with pgoutput); upgrade the source first');
    add('pair.versions', 'pair', tf.major >= sf.major ? 'pass' : 'fail',
      `source ${sf.major}, target ${tf.major}${tf.major >= sf.major ? '' : ': moving to an older major is not supported'}`,
      `use a target of PostgreSQL ${sf.major} or later`);

    const dumps = findTool('pg_dump');
    const best = dumps[0];
    if (!best) {
      add('worker.pg_dump', 'worker', 'fail', 'no pg_dump on this worker', `install the PostgreSQL ${Math.max(sf.major, 15)} client (Debian: apt-get install postgresql-client-${Math.max(sf.major, 15)}) or set PGTRANSIT_PG_BIN`);
    } else if (best.major < sf.major) {
      add('worker.pg_dump', 'worker', 'fail', `newest pg_dump is ${best.major} (${best.path}); the source is ${sf.major} and pg_dump cannot dump a newer server`,
        `install the PostgreSQL ${sf.major} client tools on the worker, or set PGTRANSIT_PG_BIN to their bin folder`);
    } else {
      add('worker.pg_dump', 'worker', best.major > tf.major ? 'warn' : 'pass', `pg_dump ${best.major} at ${best.path}` + (best.major > tf.major ? `, newer than the target (${tf.major}): its output may use syntax the target lacks` : ''),
        `install PostgreSQL ${tf.major} client tools on the worker and set PGTRANSIT_PG_BIN`);
    }

    // Replication requirements on the source
    const wal = sf.settings.wal_level ?? 'unknown';
    add('source.wal_level', 'source', wal === 'logical' ? 'pass' : cdc ? 'fail' : 'warn', `wal_level = ${wal}` + (cdc || wal === 'logical' ? '' : ' (mode full does not need logical)'),
      "ALTER SYSTEM SET wal_level = 'logical'; then restart the source (on managed services: the logical replication parameter, e.g. rds.logical_replication = 1)");

    const usage = await inspect.replicationUsage(s.client);
    const maxSlots = Number(sf.settings.max_replication_slots ?? 0);
    const freeSlots = maxSlots - usage.slots.length;
    const maxSenders = Number(sf.settings.max_wal_senders ?? 0);
    const freeSenders = maxSenders - usage.walSenders;
    const needed = databases.length;
    if (cdc) {
      add('source.replication_slots', 'source', freeSlots >= needed ? 'pass' : 'fail', `${usage.slots.length} of max_replication_slots = ${maxSlots} in use; ${needed} needed`,
        `ALTER SYSTEM SET max_replication_slots = ${usage.slots.length + needed + 2}; then restart, or drop unused slots (SELECT slot_name, active FROM pg_replication_slots)`);
      add('source.wal_senders', 'source', freeSenders >= needed ? 'pass' : 'fail', `${usage.walSenders} of max_wal_senders = ${maxSenders} in use; ${needed} needed`,
        `ALTER SYSTEM SET max_wal_senders = ${usage.walSenders + needed + 2}; then restart`);
      const canReplicate = sf.superuser || sf.replication || sf.providerReplicationRole !== null;
      add('source.replication_privilege', 'source', canReplicate ? 'pass' : 'fail',
        `${sf.currentUser}: ${sf.superuser ? 'superuser' : sf.replication ? 'REPLICATION' : sf.providerReplicationRole ? `member of ${sf.providerReplicationRole}` : 'neither REPLICATION nor superuser'}`,
        `ALTER ROLE ${sf.currentUser} REPLICATION; (on RDS: GRANT rds_replication TO ${sf.currentUser})`);
      const keep = sf.settings.max_slot_wal_keep_size;
      if (keep === undefined) {
        add('source.max_slot_wal_keep_size', 'source', 'warn', `PostgreSQL ${sf.major} has no max_slot_wal_keep_size: the slot retains WAL without bound if the apply stalls`,
          'watch the slot\'s retained WAL (pgtransit status) and the source\'s disk during the migration');
      } else if (Number(keep) < 0) {
        add('source.max_slot_wal_keep_size', 'source', 'warn', 'max_slot_wal_keep_size = -1 (unlimited): a stalled migration keeps WAL until the disk fills',
          "ALTER SYSTEM SET max_slot_wal_keep_size = '<GB you can spare>'; SELECT pg_reload_conf();  (the slot is invalidated beyond it, and the migration must restart)");
      } else {
        const mb = Number(keep);
        add('source.max_slot_wal_keep_size', 'source', mb < 1024 ? 'warn' : 'pass', `max_slot_wal_keep_size = ${mb} MB` + (mb < 1024 ? ': a short stall could invalidate the slot' : ''),
          "raise it to the WAL the source produces during the full load (several GB is common)");
      }
      const long = (await inspect.longTransactions(s.client, LONG_TRANSACTION_SECONDS)).filter((x) => x.database === null || databases.includes(x.database) || x.prepared);
      add('source.long_transactions', 'source', long.length ? 'warn' : 'pass',
        long.length
          ? `open transactions older than ${LONG_TRANSACTION_SECONDS / 60} min would delay slot creation: ${listNames(long.map((x) => (x.prepared ? `prepared xact in ${x.database} (${x.ageSeconds}s)` : `pid ${x.pid} ${x.user ?? ''}@${x.database ?? ''} ${x.state ?? ''} ${x.ageSeconds}s`)))}`
          : `no transaction open longer than ${LONG_TRANSACTION_SECONDS / 60} min`,
        'let them finish, or end them (SELECT pg_terminate_backend(pid); COMMIT PREPARED / ROLLBACK PREPARED) before starting');
    } else {
      add('source.replication_slots', 'source', 'pass', `mode full: no slot needed (${freeSlots} free)`);
      add('source.replication_privilege', 'source', 'pass', 'mode full: REPLICATION not needed');
    }

    // Target
    add('target.primary', 'target', tf.inRecovery ? 'fail' : 'pass', tf.inRecovery ? 'the target is a standby (in recovery): it cannot be written' : 'the target is a primary',
      'point target.url at the primary, or promote the standby');
    if (plan.roles) {
      add('target.createrole', 'target', tf.superuser || tf.createRole ? 'pass' : 'fail', `${tf.currentUser}: ${tf.superuser ? 'superuser' : tf.createRole ? 'CREATEROLE' : 'no CREATEROLE'}`,
        `ALTER ROLE ${tf.currentUser} CREATEROLE; or set roles: false and create the roles yourself`);
    }
    const free = await inspect.freeDiskBytes(t.client, tf.settings.data_directory);
    if (free === null) {
      add('target.disk_space', 'target', 'warn', `selected data on the source: ${formatBytes(selectedBytes)}; free space on the target: unknown (needs superuser or pg_execute_server_program to read)`,
        `make sure the target has at least ${formatBytes(selectedBytes * 1.2)} free (the selected size plus room for WAL and index builds)`);
    } else {
      const status: CheckStatus = free < selectedBytes ? 'fail' : free < selectedBytes * 1.5 ? 'warn' : 'pass';
      add('target.disk_space', 'target', status, `selected data on the source: ${formatBytes(selectedBytes)}; free on the target's data volume: ${formatBytes(free)}`,
        `free or add at least ${formatBytes(Math.max(0, selectedBytes * 1.5 - free))} on the target`);
    }
    return items;
  } catch (e) {
    throw queryError('assessing the servers', e);
  } finally {
    await Promise.all([s.client.end().catch(() => undefined), t.client.end().catch(() => undefined)]);
  }
}

function connectionLine(c: { facts: { host: string; port: number; user: string; sslmode: string }; tls: boolean }, f: inspect.ServerFacts): string {
  return `${c.facts.user}@${c.facts.host}:${c.facts.port}, PostgreSQL ${f.version}, TLS ${f.tls ? 'on' : 'off'} (sslmode ${c.facts.sslmode})`;
}
