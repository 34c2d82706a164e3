/**
 * Read-only catalog queries used by the assessment. Every query here works for an
 * unprivileged role on PostgreSQL 10 and later, and none of them changes anything.
 */
import type pg from 'pg';
import { APPLICATION_NAME_PATTERN } from '../model/names';
import type { QualifiedName } from '../plan/selection';
import { notSystemSchema } from './sql';

export interface ServerFacts {
  versionNum: number;
  major: number;
  version: string;
  inRecovery: boolean;
  tls: boolean;
  currentUser: string;
  superuser: boolean;
  replication: boolean;
  createRole: boolean;
  createDb: boolean;
  /** Member of a provider's replication role (rds_replication, ...). */
  providerReplicationRole: string | null;
  settings: Record<string, string>;
}

const SETTINGS = [
  'wal_level',
  'max_replication_slots',
  'max_wal_senders',
  'max_slot_wal_keep_size',
  'server_encoding',
  'data_directory',
  'max_prepared_transactions',
];

export async function serverMajor(client: pg.Client): Promise<number> {
  return Math.floor(
    Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v) / 10000,
  );
}

export async function serverFacts(client: pg.Client): Promise<ServerFacts> {
  const { rows } = await client.query<{
    num: string;
    version: string;
    in_recovery: boolean;
    user: string;
    rolsuper: boolean;
    rolreplication: boolean;
    rolcreaterole: boolean;
    rolcreatedb: boolean;
    tls: boolean | null;
  }>(`
    SELECT current_setting('server_version_num') AS num,
           current_setting('server_version') AS version,
           pg_is_in_recovery() AS in_recovery,
           current_user AS user,
           r.rolsuper, r.rolreplication, r.rolcreaterole, r.rolcreatedb,
           (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls
      FROM pg_roles r WHERE r.rolname = current_user`);
  const row = rows[0]!;
  const settings = await client.query<{ name: string; setting: string }>(
    `SELECT name, setting FROM pg_settings WHERE name = ANY($1)`,
    [SETTINGS],
  );
  const providerRoles = await client.query<{ rolname: string }>(
    `SELECT rolname FROM pg_roles
      WHERE rolname IN ('rds_replication', 'azure_pg_admin', 'cloudsqlsuperuser', 'alloydbsuperuser')
        AND pg_has_role(current_user, oid, 'MEMBER')`,
  );
  const versionNum = Number(row.num);
  return {
    versionNum,
    major: Math.floor(versionNum / 10000),
    version: row.version,
    inRecovery: row.in_recovery,
    tls: Boolean(row.tls),
    currentUser: row.user,
    superuser: row.rolsuper,
    replication: row.rolreplication,
    createRole: row.rolcreaterole,
    createDb: row.rolcreatedb,
    providerReplicationRole: providerRoles.rows[0]?.rolname ?? null,
    settings: Object.fromEntries(settings.rows.map((r) => [r.name, r.setting])),
  };
}

export interface ReplicationUsage {
  slots: { name: string; database: string | null; active: boolean }[];
  walSenders: number;
}

export async function replicationUsage(client: pg.Client): Promise<ReplicationUsage> {
  const slots = await client.query<{ slot_name: string; database: string | null; active: boolean }>(
    `SELECT slot_name, database, active FROM pg_replication_slots`,
  );
  const senders = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'walsender'`,
  );
  return {
    slots: slots.rows.map((r) => ({ name: r.slot_name, database: r.database, active: r.active })),
    walSenders: Number(senders.rows[0]!.n),
  };
}

export interface LongTransaction {
  pid: number;
  database: string | null;
  user: string | null;
  state: string | null;
  ageSeconds: number;
  prepared: boolean;
}

/** Open transactions older than `minSeconds`: a logical slot cannot be created until they end. */
export async function longTransactions(client: pg.Client, minSeconds: number): Promise<LongTransaction[]> {
  const active = await client.query<{
    pid: number;
    datname: string | null;
    usename: string | null;
    state: string | null;
    age: number;
  }>(
    `SELECT pid, datname, usename, state, extract(epoch FROM now() - xact_start)::float8 AS age
       FROM pg_stat_activity
      WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() AND backend_type = 'client backend'
        AND xact_start < now() - make_interval(secs => $1)
      ORDER BY xact_start`,
    [minSeconds],
  );
  const prepared = await client.query<{ database: string; owner: string; age: number }>(
    `SELECT database, owner, extract(epoch FROM now() - prepared)::float8 AS age FROM pg_prepared_xacts`,
  );
  return [
    ...active.rows.map((r) => ({
      pid: r.pid,
      database: r.datname,
      user: r.usename,
      state: r.state,
      ageSeconds: Math.round(r.age),
      prepared: false,
    })),
    ...prepared.rows.map((r) => ({
      pid: 0,
      database: r.database,
      user: r.owner,
      state: 'prepared',
      ageSeconds: Math.round(r.age),
      prepared: true,
    })),
  ];
}

export interface TableFacts {
  schema: string;
  name: string;
  /** The name as SQL text (quote_ident of each part), for fix statements. */
  sqlName: string;
  kind: 'table' | 'partitioned';
  isPartition: boolean;
  /** The partition root the table belongs to (itself when not a partition): partitions follow their root's selection. */
  root: { schema: string; name: string };
  unlogged: boolean;
  /** d = default (primary key), i = index, f = full, n = nothing */
  replicaIdentity: 'd' | 'i' | 'f' | 'n';
  /**
   * A primary key that can be the replica identity. A DEFERRABLE one cannot: PostgreSQL
   * ignores non-immediate indexes for replica identity (RelationGetIndexList).
   */
  hasPrimaryKey: boolean;
  /** The primary key constraint when it is DEFERRABLE (and so no replica identity). */
  deferrableKey: string | null;
  /** REPLICA IDENTITY USING INDEX names an index that still qualifies. */
  hasIdentityIndex: boolean;
  /** A unique, immediate, valid index on NOT NULL columns that could serve as replica identity (quoted). */
  candidateIndex: string | null;
  bytes: number;
  canSelect: boolean;
  owned: boolean;
}

/** Tables and partitioned tables outside system schemas, not owned by an extension. */
export async function listTables(client: pg.Client): Promise<TableFacts[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    sql_name: string;
    relkind: string;
    relispartition: boolean;
    root_schema: string;
    root_name: string;
    relpersistence: string;
    relreplident: 'd' | 'i' | 'f' | 'n';
    has_pk: boolean;
    deferrable_key: string | null;
    has_identity_index: boolean;
    candidate: string | null;
    bytes: string;
    can_select: boolean;
    owned: boolean;
  }>(`
    WITH RECURSIVE up AS (
      SELECT c.oid AS rel, c.oid AS anc, 0 AS depth FROM pg_class c WHERE c.relkind IN ('r', 'p')
      UNION ALL
      SELECT up.rel, i.inhparent, up.depth + 1
        FROM up JOIN pg_class a ON a.oid = up.anc JOIN pg_inherits i ON i.inhrelid = up.anc
       WHERE a.relispartition
    ), roots AS (
      SELECT DISTINCT ON (rel) rel, anc FROM up ORDER BY rel, depth DESC
    )
    SELECT n.nspname AS schema, c.relname AS name, format('%I.%I', n.nspname, c.relname) AS sql_name,
           c.relkind, c.relispartition, rn.nspname AS root_schema, rc.relname AS root_name,
           c.relpersistence, c.relreplident,
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND i.indimmediate) AS has_pk,
           (SELECT k.conname FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p' AND k.condeferrable) AS deferrable_key,
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident AND i.indimmediate AND i.indisvalid) AS has_identity_index,
           (SELECT quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = c.oid AND i.indisunique AND i.indimmediate AND i.indisvalid
               AND i.indpred IS NULL AND i.indexprs IS NULL
               AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                WHERE a.attrelid = c.oid AND a.attnum = ANY (i.indkey) AND NOT a.attnotnull)
             ORDER BY i.indisprimary DESC, ic.relname LIMIT 1) AS candidate,
           pg_total_relation_size(c.oid) AS bytes,
           has_table_privilege(c.oid, 'SELECT') AS can_select,
           pg_has_role(c.relowner, 'USAGE') AS owned
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN roots r ON r.rel = c.oid JOIN pg_class rc ON rc.oid = r.anc JOIN pg_namespace rn ON rn.oid = rc.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND ${notSystemSchema('n.nspname')}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1, 2`);
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    sqlName: r.sql_name,
    kind: r.relkind === 'p' ? 'partitioned' : 'table',
    isPartition: r.relispartition,
    root: { schema: r.root_schema, name: r.root_name },
    unlogged: r.relpersistence === 'u',
    replicaIdentity: r.relreplident,
    hasPrimaryKey: r.has_pk,
    deferrableKey: r.deferrable_key,
    hasIdentityIndex: r.has_identity_index,
    candidateIndex: r.candidate,
    bytes: Number(r.bytes),
    canSelect: r.can_select,
    owned: r.owned,
  }));
}

/** Schemas (outside the system ones) the role cannot use. */
export async function schemasWithoutUsage(client: pg.Client, schemas: string[]): Promise<string[]> {
  const { rows } = await client.query<{ nspname: string }>(
    `SELECT nspname FROM pg_namespace WHERE nspname = ANY($1) AND NOT has_schema_privilege(oid, 'USAGE') ORDER BY 1`,
    [schemas],
  );
  return rows.map((r) => r.nspname);
}

export async function sequencesWithoutSelect(client: pg.Client, schemas: string[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'S' AND n.nspname = ANY($1)
        AND NOT CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT') ELSE true END ORDER BY 1`,
    [schemas],
  );
  return rows.map((r) => r.name);
}

/**
 * Large objects the current role may not read, counted by owner: neither a member of the
 * owner nor granted SELECT (lo_compat_privileges = on lifts every check). Large objects have
 * no default privileges, so those created later are readable only through membership.
 */
export async function largeObjectsWithoutSelect(
  client: pg.Client,
): Promise<{ owner: string; superuser: boolean; count: number }[]> {
  const { rows } = await client.query<{ owner: string; superuser: boolean; n: number }>(
    `SELECT r.rolname AS owner, r.rolsuper AS superuser, count(*)::int AS n
       FROM pg_largeobject_metadata m JOIN pg_roles r ON r.oid = m.lomowner
      WHERE NOT current_setting('lo_compat_privileges')::bool
        AND NOT pg_has_role(m.lomowner, 'USAGE')
        AND NOT EXISTS (SELECT 1 FROM aclexplode(m.lomacl) a
                         WHERE a.privilege_type = 'SELECT' AND (a.grantee = 0 OR pg_has_role(a.grantee, 'USAGE')))
      GROUP BY 1, 2 ORDER BY 1`,
  );
  return rows.map((r) => ({ owner: r.owner, superuser: r.superuser, count: r.n }));
}

export interface DatabaseFacts {
  name: string;
  encoding: string;
  collate: string;
  ctype: string;
  /** Who sorts text by default: libc (datcollate), or icu/builtin (`locale`), PostgreSQL 15 and later. */
  localeProvider: 'libc' | 'icu' | 'builtin';
  /** The ICU or builtin locale; null for libc. */
  locale: string | null;
  canCreate: boolean;
}

const LOCALE_PROVIDERS: Record<string, DatabaseFacts['localeProvider']> = { c: 'libc', i: 'icu', b: 'builtin' };

export async function databaseFacts(client: pg.Client): Promise<DatabaseFacts> {
  // to_jsonb reads columns that only some majors have (datlocprovider 15+, daticulocale 15-16, datlocale 17+).
  const { rows } = await client.query<{
    name: string;
    encoding: string;
    collate: string;
    ctype: string;
    provider: string | null;
    locale: string | null;
    can_create: boolean;
  }>(
    `SELECT datname AS name, pg_encoding_to_char(encoding) AS encoding, datcollate AS collate, datctype AS ctype,
            to_jsonb(d) ->> 'datlocprovider' AS provider,
            coalesce(to_jsonb(d) ->> 'datlocale', to_jsonb(d) ->> 'daticulocale') AS locale,
            has_database_privilege(current_database(), 'CREATE') AS can_create
       FROM pg_database d WHERE datname = current_database()`,
  );
  const r = rows[0]!;
  const localeProvider = LOCALE_PROVIDERS[r.provider ?? 'c'] ?? 'libc';
  return {
    name: r.name,
    encoding: r.encoding,
    collate: r.collate,
    ctype: r.ctype,
    localeProvider,
    locale: localeProvider === 'libc' ? null : r.locale,
    canCreate: r.can_create,
  };
}

/**
 * Which database of which running server a session is on, as text that is equal for two
 * sessions on the same one: the postmaster's start time and port tell the server (its system
 * identifier would need pg_control_system(), and a standby shares its primary's), the oid the
 * database. The epoch, not the timestamp's text, which follows the session's TimeZone.
 */
export async function databaseIdentity(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `SELECT extract(epoch FROM pg_postmaster_start_time())::text || ' ' || current_setting('port') || ' ' || d.oid::text AS id
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  return rows[0]!.id;
}

/** default_transaction_read_only as this session has it, and where it was set (pg_settings.source). */
export interface ReadOnlyDefault {
  on: boolean;
  /** default, configuration file, command line, client, database, user, database user, ... */
  source: string;
}

export async function readOnlyDefault(client: pg.Client): Promise<ReadOnlyDefault> {
  const { rows } = await client.query<{ setting: string; source: string }>(
    `SELECT setting, source FROM pg_settings WHERE name = 'default_transaction_read_only'`,
  );
  return { on: rows[0]?.setting === 'on', source: rows[0]?.source ?? 'default' };
}

export async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name]);
  return (rowCount ?? 0) > 0;
}

export async function installedExtensions(
  client: pg.Client,
): Promise<{ name: string; version: string; schema: string }[]> {
  const { rows } = await client.query<{ name: string; version: string; schema: string }>(
    `SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY 1`,
  );
  return rows;
}

export async function availableExtensionVersions(client: pg.Client): Promise<Map<string, Set<string>>> {
  const { rows } = await client.query<{ name: string; version: string }>(
    `SELECT name, version FROM pg_available_extension_versions`,
  );
  const out = new Map<string, Set<string>>();
  for (const r of rows) {
    if (!out.has(r.name)) out.set(r.name, new Set());
    out.get(r.name)!.add(r.version);
  }
  return out;
}

/**
 * Whether the role may SET a superuser-only parameter: superuser, or (15+) GRANT SET ON
 * PARAMETER. Null when only a managed service's own admin role could tell.
 */
export async function maySetParameter(
  client: pg.Client,
  parameter: string,
  major: number,
): Promise<{ allowed: boolean; via: 'superuser' | 'grant' | null; providerRole: string | null }> {
  const { rows } = await client.query<{ rolsuper: boolean; provider: string | null }>(
    `SELECT r.rolsuper,
            (SELECT p.rolname FROM pg_roles p
              WHERE p.rolname IN ('rds_superuser', 'azure_pg_admin', 'cloudsqlsuperuser', 'alloydbsuperuser')
                AND pg_has_role(current_user, p.oid, 'MEMBER') ORDER BY 1 LIMIT 1) AS provider
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const { rolsuper, provider } = rows[0]!;
  if (rolsuper) return { allowed: true, via: 'superuser', providerRole: provider };
  if (major >= 15) {
    const granted = await client.query<{ ok: boolean }>(`SELECT has_parameter_privilege($1, 'SET') AS ok`, [parameter]);
    if (granted.rows[0]!.ok) return { allowed: true, via: 'grant', providerRole: provider };
  }
  return { allowed: false, via: null, providerRole: provider };
}

/** A client session of another role in this database, as the switchover's fence would end it. */
export interface OtherSession {
  role: string;
  superuser: boolean;
  /** pg_terminate_backend needs no pg_signal_backend for it (the current role has its privileges). */
  ownRole: boolean;
}

/** What the fence needs on the source: ownership of the database, the right to end other sessions. */
export async function fenceRights(client: pg.Client): Promise<{
  superuser: boolean;
  ownsDatabase: boolean;
  signalBackend: boolean;
  sessions: OtherSession[];
}> {
  const { rows } = await client.query<{ superuser: boolean; owns: boolean; signal: boolean }>(
    `SELECT r.rolsuper AS superuser,
            pg_has_role(current_user, d.datdba, 'USAGE') AS owns,
            pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal
       FROM pg_roles r, pg_database d WHERE r.rolname = current_user AND d.datname = current_database()`,
  );
  // Without pg_read_all_stats another role's backend_type reads as NULL: such a session counts (the fence ends it too).
  const sessions = await client.query<{ role: string; superuser: boolean; own_role: boolean }>(
    `SELECT DISTINCT r.rolname AS role, r.rolsuper AS superuser, pg_has_role(current_user, r.oid, 'USAGE') AS own_role
       FROM pg_stat_activity a JOIN pg_roles r ON r.oid = a.usesysid
      WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
        AND coalesce(a.backend_type, 'client backend') = 'client backend'
        AND coalesce(a.application_name, '') NOT LIKE $1
      ORDER BY 1`,
    [APPLICATION_NAME_PATTERN],
  );
  const r = rows[0]!;
  return {
    superuser: r.superuser,
    ownsDatabase: r.owns,
    signalBackend: r.signal,
    sessions: sessions.rows.map((x) => ({ role: x.role, superuser: x.superuser, ownRole: x.own_role })),
  };
}

/** A role setting of default_transaction_read_only, for this database or for every database. */
export interface RoleReadOnlySetting {
  role: string;
  /** True for ALTER ROLE ... IN DATABASE <this one>, false for ALTER ROLE ... SET (every database). */
  inDatabase: boolean;
  value: string;
}

export async function roleReadOnlySettings(client: pg.Client): Promise<RoleReadOnlySetting[]> {
  const { rows } = await client.query<{ role: string; in_database: boolean; value: string }>(
    `SELECT r.rolname AS role, s.setdatabase <> 0 AS in_database, substr(c.setting, length('default_transaction_read_only=') + 1) AS value
       FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole, unnest(s.setconfig) AS c(setting)
      WHERE s.setrole <> 0
        AND (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))
        AND c.setting LIKE 'default\\_transaction\\_read\\_only=%'
      ORDER BY 1, 2`,
  );
  return rows.map((r) => ({ role: r.role, inDatabase: r.in_database, value: r.value }));
}

export interface PreparedTransaction {
  gid: string;
  owner: string;
  ageSeconds: number;
  /** Relations of this database it holds locks on. */
  relations: string[];
}

/** Transactions prepared (two-phase) in this database and not yet committed or rolled back. */
export async function preparedTransactions(client: pg.Client): Promise<PreparedTransaction[]> {
  // A prepared transaction's locks have no pid; they share the virtual transaction of its own xid lock.
  const { rows } = await client.query<{ gid: string; owner: string; age: number; relations: string[] }>(
    `SELECT p.gid, p.owner, extract(epoch FROM now() - p.prepared)::float8 AS age,
            array(SELECT DISTINCT format('%I.%I', n.nspname, c.relname)
                    FROM pg_locks x
                    JOIN pg_locks l ON l.virtualtransaction = x.virtualtransaction AND l.pid IS NULL AND l.locktype = 'relation'
                    JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE x.locktype = 'transactionid' AND x.transactionid = p.transaction AND x.pid IS NULL
                     AND c.relkind IN ('r', 'p')
                     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   ORDER BY 1) AS relations
       FROM pg_prepared_xacts p WHERE p.database = current_database() ORDER BY p.prepared`,
  );
  return rows.map((r) => ({ gid: r.gid, owner: r.owner, ageSeconds: Math.round(r.age), relations: r.relations }));
}

/** A user trigger that fires in replica sessions: ENABLE ALWAYS (A) or ENABLE REPLICA (R). */
export interface ReplicaTrigger {
  schema: string;
  table: string;
  /** The table as SQL text. */
  sqlTable: string;
  /** The trigger name as SQL text. */
  sqlName: string;
  enabled: 'A' | 'R';
}

/** Triggers enabled ALWAYS or REPLICA on these tables (clones on partitions left out: their parent's is named). */
export async function replicaTriggers(
  client: pg.Client,
  tables: { schema: string; name: string }[],
): Promise<ReplicaTrigger[]> {
  if (tables.length === 0) return [];
  // tgparentid (13+) marks a partition's clone; before 13 clones are tgisinternal.
  const { rows } = await client.query<{
    schema: string;
    tbl: string;
    sql_table: string;
    sql_name: string;
    enabled: 'A' | 'R';
  }>(
    `SELECT n.nspname AS schema, c.relname AS tbl, format('%I.%I', n.nspname, c.relname) AS sql_table,
            quote_ident(t.tgname) AS sql_name, t.tgenabled AS enabled
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN unnest($1::text[], $2::text[]) AS w(s, r) ON w.s = n.nspname AND w.r = c.relname
      WHERE NOT t.tgisinternal AND t.tgenabled IN ('A', 'R')
        AND coalesce((to_jsonb(t) ->> 'tgparentid')::oid, 0) = 0
      ORDER BY 1, 2, t.tgname`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return rows.map((r) => ({
    schema: r.schema,
    table: r.tbl,
    sqlTable: r.sql_table,
    sqlName: r.sql_name,
    enabled: r.enabled,
  }));
}

/**
 * Columns of these tables whose values are text of a type other than text, varchar, char
 * or name (json, xml, arrays, composites, enums, citext, ...). Domains count by their base type.
 */
export async function otherTextColumns(
  client: pg.Client,
  tables: { schema: string; name: string }[],
): Promise<{ sqlTable: string; column: string; sqlColumn: string; type: string }[]> {
  if (tables.length === 0) return [];
  const { rows } = await client.query<{ sql_table: string; col: string; sql_column: string; type: string }>(
    `WITH RECURSIVE base (oid, base) AS (
       SELECT oid, oid FROM pg_type WHERE typtype <> 'd'
       UNION ALL
       SELECT t.oid, base.base FROM pg_type t JOIN base ON base.oid = t.typbasetype WHERE t.typtype = 'd'
     )
     SELECT format('%I.%I', n.nspname, c.relname) AS sql_table, a.attname AS col, quote_ident(a.attname) AS sql_column,
            format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN unnest($1::text[], $2::text[]) AS w(s, r) ON w.s = n.nspname AND w.r = c.relname
       JOIN base ON base.oid = a.atttypid JOIN pg_type b ON b.oid = base.base
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind = 'r'
        AND b.typcategory IN ('S', 'U', 'A', 'C', 'E')
        AND b.oid NOT IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'name'::regtype,
                          'bytea'::regtype, 'uuid'::regtype)
      ORDER BY 1, a.attnum`,
    [tables.map((t) => t.schema), tables.map((t) => t.name)],
  );
  return rows.map((r) => ({ sqlTable: r.sql_table, column: r.col, sqlColumn: r.sql_column, type: r.type }));
}

export async function largeObjectCount(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM pg_largeobject_metadata`);
  return Number(rows[0]!.n);
}

/** C-language functions in the given schemas that are not part of an extension. */
export async function cFunctions(client: pg.Client, schemas: string[]): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, p.proname) AS name
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
      WHERE l.lanname = 'c' AND n.nspname = ANY($1)
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1`,
    [schemas],
  );
  return rows.map((r) => r.name);
}

/**
 * Views whose definition reads themselves: allowed by CREATE OR
 * REPLACE VIEW, unreadable (infinite recursion), and dumped by pg_dump as a CREATE VIEW
 * that names a relation not there yet, so no restore can create them.
 */
export async function selfReferencingViews(client: pg.Client, schemas: string[]): Promise<QualifiedName[]> {
  const { rows } = await client.query<QualifiedName>(
    `SELECT DISTINCT n.nspname AS schema, c.relname AS name
       FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
        AND d.refclassid = 'pg_class'::regclass AND d.refobjid = r.ev_class AND d.refobjsubid > 0 AND d.deptype = 'n'
      WHERE r.rulename = '_RETURN' AND c.relkind = 'v' AND n.nspname = ANY($1)
      ORDER BY 1, 2`,
    [schemas],
  );
  return rows;
}

export async function publicationExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [name]);
  return (rowCount ?? 0) > 0;
}

/** Relations (any kind) with these qualified names that already exist. */
export async function existingRelations(
  client: pg.Client,
  names: { schema: string; name: string }[],
): Promise<string[]> {
  if (names.length === 0) return [];
  const { rows } = await client.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN unnest($1::text[], $2::text[]) AS w(s, r) ON w.s = n.nspname AND w.r = c.relname
      ORDER BY 1`,
    [names.map((n) => n.schema), names.map((n) => n.name)],
  );
  return rows.map((r) => r.name);
}

/** Existing schemas among `schemas`, with how many objects each already holds. */
export async function schemaContents(
  client: pg.Client,
  schemas: string[],
): Promise<{ schema: string; objects: number; canCreate: boolean }[]> {
  const { rows } = await client.query<{ schema: string; objects: string; can_create: boolean }>(
    `SELECT n.nspname AS schema, (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid) AS objects,
            has_schema_privilege(n.oid, 'CREATE') AS can_create
       FROM pg_namespace n WHERE n.nspname = ANY($1) ORDER BY 1`,
    [schemas],
  );
  return rows.map((r) => ({ schema: r.schema, objects: Number(r.objects), canCreate: r.can_create }));
}

/**
 * Free bytes on the file system holding the data directory, when the role may run
 * a server program (superuser or pg_execute_server_program). The temporary table
 * lives inside a transaction that is rolled back: nothing remains on the server.
 * Returns null when it cannot be read.
 */
export async function freeDiskBytes(client: pg.Client, dataDirectory: string | undefined): Promise<number | null> {
  if (!dataDirectory) return null;
  const allowed = await client.query<{ ok: boolean }>(
    `SELECT r.rolsuper OR EXISTS (SELECT 1 FROM pg_roles g WHERE g.rolname = 'pg_execute_server_program' AND pg_has_role(current_user, g.oid, 'MEMBER')) AS ok
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  if (!allowed.rows[0]?.ok) return null;
  const quoted = dataDirectory.replace(/'/g, "'\\''");
  try {
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE pgtransit_df (line text) ON COMMIT DROP');
    await client.query(`COPY pgtransit_df FROM PROGRAM 'df -Pk ''${quoted.replace(/'/g, "''")}'' | tail -n 1'`);
    const { rows } = await client.query<{ line: string }>('SELECT line FROM pgtransit_df');
    const fields = rows[0]?.line.trim().split(/\s+/) ?? [];
    const availableKb = Number(fields[3]);
    return Number.isFinite(availableKb) ? availableKb * 1024 : null;
  } catch {
    return null;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
}
