/**
 * Names pgtransit owns, each chosen once. Workflow ids and the slot and publication on
 * the source outlive a worker: renaming one strands the migrations already running.
 * Pure: bundled into workflows.
 */

/** The ids of a migration's workflows, from the plan's name (the business key). */
export function workflowIds(name: string) {
  const migration = `migration-${name}`;
  return {
    migration,
    /** The assessment started on its own (`pgtransit precheck`). */
    precheck: `precheck-${name}`,
    /** The dry run of the plan (`pgtransit plan diff`); its assessment is the child `<id>/precheck`. */
    planDiff: `plan-diff-${name}`,
    /** A comparison started by `pgtransit verify` at `at` (epoch ms). */
    verify: (at: number) => `verify-${name}-${at}`,
    ...childIds(migration),
  };
}

/** The children of a migration workflow, from its own id (which the operator may have chosen). */
export function childIds(parentId: string) {
  return {
    /** The assessment, run as the migration's first child. */
    migrationPrecheck: `${parentId}/precheck`,
    /** One child per source database. */
    database: (database: string) => `${parentId}/${database}`,
  };
}

/** The replication slot and publication a migration owns on the source (one per database). */
export function replicationNames(name: string, database: string): { slot: string; publication: string } {
  const base = `pgtransit_${name.replace(/-/g, '_')}`;
  const suffix = database.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  const slot = `${base}_${suffix}`.slice(0, 63);
  return { slot, publication: slot };
}

/**
 * The slot and publication of the reverse stream (switchover.reverse), on the target, one per
 * target database: the forward name of that database with `_rev`, kept whole however long the
 * rest (slots are named per server, and source and target may be one server).
 */
export function reverseReplicationNames(name: string, targetDatabase: string): { slot: string; publication: string } {
  const slot = `${replicationNames(name, targetDatabase).slot.slice(0, 59)}_rev`;
  return { slot, publication: slot };
}

/**
 * What DDL capture (cdc.ddl: replicate) installs on the source database: a schema of its own,
 * two event triggers (names are database-wide), and the prefix of its logical messages (other
 * migrations reading the same database get the messages too, and skip other prefixes).
 */
export function ddlCaptureNames(name: string, database: string) {
  const { slot } = replicationNames(name, database);
  const base = `pgtransit_ddl_${slot.slice('pgtransit_'.length)}`.slice(0, 58);
  return { schema: base, endTrigger: `${base}_end`, dropTrigger: `${base}_drop`, prefix: `pgtransit.ddl:${slot}` };
}

/** Schemas DDL capture creates on a source: never migrated, whichever migration made them. */
export const DDL_CAPTURE_SCHEMA_PREFIX = 'pgtransit_ddl_';

/** The target's schema holding the migration's state (chunk markers, applied position). */
export const STATE_SCHEMA = 'pgtransit';

/** Schemas that are never migrated; pgtransit's own state schema among them. */
export const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast', STATE_SCHEMA] as const;

export function isSystemSchema(schema: string): boolean {
  return (
    (SYSTEM_SCHEMAS as readonly string[]).includes(schema) ||
    schema.startsWith(DDL_CAPTURE_SCHEMA_PREFIX) ||
    schema.startsWith('pg_temp_') ||
    schema.startsWith('pg_toast_temp_')
  );
}

/** Prefix of the logical messages pgtransit writes into the source's WAL (the switchover's fence marker). */
export const FENCE_PREFIX = 'pgtransit';

/**
 * application_name of every session pgtransit opens. The fence ends every other client
 * session of the database and leaves these alone.
 */
export const APPLICATION_NAME = {
  default: 'pgtransit',
  copy: 'pgtransit copy',
  stream: 'pgtransit stream',
  apply: 'pgtransit apply',
  monitor: 'pgtransit monitor',
  fence: 'pgtransit fence',
  /** The sessions of a verification at a point (verify-point.ts). */
  verify: 'pgtransit verify',
  /** The exported snapshot's holder; the pid tells tests which worker holds it. */
  snapshot: (pid: number) => `pgtransit snapshot pid=${pid}`,
} as const;

/** SQL LIKE pattern matching every application_name above. */
export const APPLICATION_NAME_PATTERN = 'pgtransit%';

/** Advisory lock keys (hashtext of these) on the target. */
export const LOCK_KEYS = {
  /** Creating the state schema: two workers preparing at once after a retry. */
  stateSchema: 'pgtransit.state',
  /** Applying one database's changes: two overlapping attempts of the apply take turns. */
  apply: (migration: string, database: string) => `pgtransit.apply/${migration}/${database}`,
  /** The chunks of one table (shared), against a late copy of the whole table (exclusive). */
  table: (migration: string, database: string, table: string) => `pgtransit.table/${migration}/${database}/${table}`,
  /** One chunk's copy: a retry while the old attempt still runs waits here. */
  chunk: (migration: string, database: string, chunkId: string) => `${migration}/${database}/${chunkId}`,
} as const;
