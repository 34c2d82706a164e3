/**
 * What a refused request must leave as it was on the source: replication slots,
 * publications, per-database and per-role settings, ALTER SYSTEM and configuration-file
 * settings, roles, databases, and the relations of the database concerned. Read as the
 * superuser; compare a snapshot taken before the request with one taken after.
 */
import assert from 'node:assert/strict';
import type { PgServer } from './postgres';

export interface SourceSnapshot {
  slots: unknown[];
  publications: unknown[];
  settings: unknown[];
  fileSettings: unknown[];
  roles: unknown[];
  databases: unknown[];
  relations: number;
}

export async function snapshotSource(server: PgServer, database: string): Promise<SourceSnapshot> {
  const rows = async (sql: string, db = 'postgres') => (await server.query(sql, [], db)).rows;
  return {
    // Not `active` nor the LSNs: a running migration's stream opens and closes its slot, and it advances.
    slots: await rows('SELECT slot_name, plugin, slot_type, database, temporary FROM pg_replication_slots ORDER BY 1'),
    publications: await rows('SELECT pubname, puballtables FROM pg_publication ORDER BY 1', database),
    settings: await rows(
      `SELECT coalesce(d.datname, '') AS database, coalesce(r.rolname, '') AS role, s.setconfig
         FROM pg_db_role_setting s
         LEFT JOIN pg_database d ON d.oid = s.setdatabase
         LEFT JOIN pg_roles r ON r.oid = s.setrole
        ORDER BY 1, 2`,
    ),
    fileSettings: await rows('SELECT name, setting FROM pg_file_settings ORDER BY name, setting'),
    roles: await rows(
      `SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls
         FROM pg_roles ORDER BY 1`,
    ),
    databases: await rows('SELECT datname FROM pg_database ORDER BY 1'),
    relations: Number((await rows('SELECT count(*) AS n FROM pg_class', database))[0]!.n),
  };
}

/** Asserts the source is as `before` found it. */
export async function assertUntouched(
  server: PgServer,
  database: string,
  before: SourceSnapshot,
  what = 'the source',
): Promise<void> {
  assert.deepEqual(await snapshotSource(server, database), before, `${what} must be left untouched`);
}
