/**
 * `roles: true`: the roles that own or are granted the selected objects are created
 * on the target before the schema, with their attributes and, when the source lets
 * them be read (superuser), their password hashes.
 */
import type { RolesResult } from '../model/activities';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { withConnection, type Endpoint } from './connect';

interface SourceRole {
  rolname: string;
  rolsuper: boolean;
  rolinherit: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolconnlimit: number;
  rolvaliduntil: string | null;
}

/** Settings whose value is a list that ALTER ROLE ... SET takes element by element (as pg_dumpall knows them). */
const LIST_SETTINGS = new Set([
  'local_preload_libraries',
  'search_path',
  'session_preload_libraries',
  'shared_preload_libraries',
  'temp_tablespaces',
  'unix_socket_directories',
]);

/** `ALTER ROLE ... SET` text for one `name=value` entry of pg_db_role_setting. */
export function settingClause(
  entry: string,
  escapeIdentifier: (s: string) => string,
  escapeLiteral: (s: string) => string,
): string {
  const eq = entry.indexOf('=');
  const name = entry.slice(0, eq);
  const value = entry.slice(eq + 1);
  if (!LIST_SETTINGS.has(name.toLowerCase())) return `SET ${escapeIdentifier(name)} TO ${escapeLiteral(value)}`;
  // Stored as the list's text: elements separated by commas, quoted with "" when needed.
  const items: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted) {
      if (ch === '"' && value[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      items.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  items.push(cur.trim());
  return `SET ${escapeIdentifier(name)} TO ${items.map(escapeLiteral).join(', ')}`;
}

/**
 * The roles that own, are granted, or are named by what the dump of `schemas` restores
 * (see copyRoles), with their attributes. Reads only.
 */
export async function rolesOf(client: pg.Client, schemas: string[]): Promise<SourceRole[]> {
  const { rows } = await client.query<SourceRole>(
    `WITH RECURSIVE ns AS (SELECT oid FROM pg_namespace WHERE nspname = ANY($1)),
     objs AS (
       SELECT c.relowner AS owner, c.relacl AS acl FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT NULL, a.attacl FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relnamespace IN (SELECT
         oid FROM ns) AND a.attacl IS NOT NULL
       UNION ALL SELECT nspowner, nspacl FROM pg_namespace WHERE oid IN (SELECT oid FROM ns)
       UNION ALL SELECT proowner, proacl FROM pg_proc WHERE pronamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT typowner, typacl FROM pg_type WHERE typnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT oprowner, NULL FROM pg_operator WHERE oprnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT collowner, NULL FROM pg_collation WHERE collnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT conowner, NULL FROM pg_conversion WHERE connamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT cfgowner, NULL FROM pg_ts_config WHERE cfgnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT dictowner, NULL FROM pg_ts_dict WHERE dictnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT opcowner, NULL FROM pg_opclass WHERE opcnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT opfowner, NULL FROM pg_opfamily WHERE opfnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT stxowner, NULL FROM pg_statistic_ext WHERE stxnamespace IN (SELECT oid FROM ns)
       UNION ALL SELECT defaclrole, defaclacl FROM pg_default_acl WHERE defaclnamespace IN (SELECT oid FROM ns)
     ), oids AS (
       SELECT owner AS oid FROM objs WHERE owner IS NOT NULL
       UNION SELECT (aclexplode(acl)).grantee FROM objs WHERE acl IS NOT NULL
       UNION SELECT (aclexplode(acl)).grantor FROM objs WHERE acl IS NOT NULL
       UNION SELECT unnest(p.polroles) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace IN (SELECT oid FROM ns)
     ), users AS (
       -- and the members of those roles (the login roles of a group that holds the grants), at any depth
       SELECT oid FROM oids
       UNION SELECT a.member FROM pg_auth_members a JOIN users u ON a.roleid = u.oid
     )
     SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication, r.rolbypassrls,
            r.rolconnlimit, r.rolvaliduntil::text
       FROM pg_roles r JOIN users o ON o.oid = r.oid WHERE r.rolname !~ '^pg_' ORDER BY 1`,
    [schemas],
  );
  return rows;
}

/**
 * Creates on the target the roles that own, are granted, or are named by what the
 * dump of `schemas` restores: owners of every kind of object pg_dump writes an OWNER
 * TO for, grantees and grantors of object and column privileges, roles in the
 * schemas' default privileges and in row-level security policies, and the members
 * of all those (a group holds the grants, its login roles use them). Their memberships
 * among each other and their settings (ALTER ROLE ... SET) come along; with
 * `targetDatabase`, so do their settings for the migrated database.
 */
export async function copyRoles(
  source: Endpoint,
  target: Endpoint,
  database: string,
  schemas: string[],
  targetDatabase?: string,
): Promise<RolesResult> {
  const { roles, hashes, members, settings } = await withConnection(source, { database }, async ({ client }) => {
    const roles = { rows: await rolesOf(client, schemas) };
    const names = roles.rows.map((r) => r.rolname);
    let hashes: Map<string, string> | null = null;
    try {
      const h = await client.query<{ rolname: string; rolpassword: string | null }>(
        'SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)',
        [names],
      );
      hashes = new Map(h.rows.filter((r) => r.rolpassword).map((r) => [r.rolname, r.rolpassword!]));
    } catch {
      hashes = null; // pg_authid is readable by superusers only
    }
    const members = await client.query<{ role: string; member: string; admin: boolean }>(
      `SELECT r.rolname AS role, m.rolname AS member, a.admin_option AS admin FROM pg_auth_members a JOIN pg_roles r ON r.oid =
        a.roleid JOIN pg_roles m ON m.oid = a.member
        WHERE r.rolname = ANY($1) AND m.rolname = ANY($1)`,
      [names],
    );
    // Settings of the role everywhere (setdatabase 0) and in this database.
    const settings = await client.query<{ rolname: string; here: boolean; setconfig: string[] }>(
      `SELECT r.rolname, s.setdatabase <> 0 AS here, s.setconfig FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
        WHERE r.rolname = ANY($1) AND (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))`,
      [names],
    );
    return { roles: roles.rows, hashes, members: members.rows, settings: settings.rows };
  });

  return withConnection(target, {}, async ({ client: t }) => {
    const result: RolesResult = {
      created: [],
      existing: [],
      passwords: hashes === null ? 'unreadable' : hashes.size ? 'copied' : 'none',
      skippedSuperuser: [],
    };
    const me = (
      await t.query<{ u: string; su: boolean }>(
        'SELECT current_user AS u, rolsuper AS su FROM pg_roles WHERE rolname = current_user',
      )
    ).rows[0]!;
    for (const r of roles) {
      if (((await t.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [r.rolname])).rowCount ?? 0) > 0) {
        result.existing.push(r.rolname);
        continue;
      }
      if (r.rolsuper) result.skippedSuperuser.push(r.rolname);
      const attrs = [
        r.rolinherit ? 'INHERIT' : 'NOINHERIT',
        r.rolcreaterole ? 'CREATEROLE' : '',
        r.rolcreatedb ? 'CREATEDB' : '',
        r.rolcanlogin ? 'LOGIN' : 'NOLOGIN',
        r.rolreplication ? 'REPLICATION' : '',
        r.rolbypassrls ? 'BYPASSRLS' : '',
        `CONNECTION LIMIT ${Number(r.rolconnlimit)}`,
        r.rolvaliduntil ? `VALID UNTIL ${t.escapeLiteral(r.rolvaliduntil)}` : '',
      ].filter(Boolean);
      await t.query(`CREATE ROLE ${t.escapeIdentifier(r.rolname)} ${attrs.join(' ')}`);
      result.created.push(r.rolname);
    }
    const created = new Set(result.created);
    await setPasswords(
      t,
      result.created.flatMap((r) => (hashes?.get(r) ? [[r, hashes.get(r)!] as [string, string]] : [])),
    );
    for (const m of members) {
      if (!created.has(m.member) && !created.has(m.role)) continue;
      await t
        .query(
          `GRANT ${t.escapeIdentifier(m.role)} TO ${t.escapeIdentifier(m.member)}${m.admin ? ' WITH ADMIN OPTION' : ''}`,
        )
        .catch(() => undefined);
    }
    for (const s of settings) {
      if (!created.has(s.rolname)) continue;
      if (s.here && !targetDatabase) continue;
      const where = s.here ? ` IN DATABASE ${t.escapeIdentifier(targetDatabase!)}` : '';
      for (const entry of s.setconfig) {
        await t.query(
          `ALTER ROLE ${t.escapeIdentifier(s.rolname)}${where} ${settingClause(
            entry,
            (x) => t.escapeIdentifier(x),
            (x) => t.escapeLiteral(x),
          )}`,
        );
      }
    }
    // A role that is not superuser hands objects to their owners only as a member of them.
    if (!me.su)
      for (const r of result.created)
        await t.query(`GRANT ${t.escapeIdentifier(r)} TO ${t.escapeIdentifier(me.u)}`).catch(() => undefined);
    return result;
  });
}

/** COPY text format: a value with its backslashes, tabs and newlines escaped. */
const copyText = (v: string) =>
  v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');

/**
 * The roles' password hashes, set so that no server log can keep them: they travel as COPY
 * data (never logged) and are applied by a DO block (its statements are not logged as
 * statements, and a failure is re-raised without the statement that failed).
 */
async function setPasswords(t: pg.Client, passwords: [string, string][]): Promise<void> {
  if (passwords.length === 0) return;
  await t.query('BEGIN');
  try {
    await t.query('CREATE TEMP TABLE pgtransit_passwords (role text, hash text) ON COMMIT DROP');
    const sink = t.query(copyFrom('COPY pgtransit_passwords FROM STDIN'));
    await pipeline(Readable.from(passwords.map(([role, hash]) => `${copyText(role)}\t${copyText(hash)}\n`)), sink);
    await t.query(`DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT role, hash FROM pgtransit_passwords LOOP
          BEGIN
            EXECUTE format('ALTER ROLE %I PASSWORD %L', r.role, r.hash);
          EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'setting the password of role % failed: %', r.role, SQLERRM;
          END;
        END LOOP;
      END $$`);
    await t.query('COMMIT');
  } catch (e) {
    await t.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
