/**
 * Read-only catalog queries used by the assessment. Every query here works for an
 * unprivileged role on PostgreSQL 10 and later, and none of them changes anything.
 */
import type pg from 'pg';
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
  kind: 'table' | 'partitioned';
  isPartition: boolean;
  unlogged: boolean;
  /** d = default (primary key), i = index, f = full, n = nothing */
  replicaIdentity: 'd' | 'i' | 'f' | 'n';
  hasPrimaryKey: boolean;
  /** A unique index on NOT NULL columns that could serve as replica identity. */
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
    relkind: string;
    relispartition: boolean;
    relpersistence: string;
    relreplident: 'd' | 'i' | 'f' | 'n';
    has_pk: boolean;
    candidate: string | null;
    bytes: string;
    can_select: boolean;
    owned: boolean;
  }>(`
    SELECT n.nspname AS schema, c.relname AS name, c.relkind, c.relispartition, c.relpersistence, c.relreplident,
           EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS has_pk,
           (SELECT ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = c.oid AND i.indisunique AND i.indimmediate AND i.indpred IS NULL AND i.indexprs IS NULL
               AND NOT EXISTS (SELECT 1 FROM pg_attribute a
                                WHERE a.attrelid = c.oid AND a.attnum = ANY (i.indkey) AND NOT a.attnotnull)
             ORDER BY i.indisprimary DESC, ic.relname LIMIT 1) AS candidate,
           pg_total_relation_size(c.oid) AS bytes,
           has_table_privilege(c.oid, 'SELECT') AS can_select,
           pg_has_role(c.relowner, 'USAGE') AS owned
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p')
       AND ${notSystemSchema('n.nspname')}
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
     ORDER BY 1, 2`);
  return rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    kind: r.relkind === 'p' ? 'partitioned' : 'table',
    isPartition: r.relispartition,
    unlogged: r.relpersistence === 'u',
    replicaIdentity: r.relreplident,
    hasPrimaryKey: r.has_pk,
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
