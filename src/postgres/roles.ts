/**
 * `roles: true`: the roles that own or are granted the selected objects are created
 * on the target before the schema, with their attributes and, when the source lets
 * them be read (superuser), their password hashes.
 */
import { withConnection, type Endpoint } from './connect';

export interface RolesResult {
  created: string[];
  existing: string[];
  /** copied: hashes read from pg_authid; unreadable: roles created without a password. */
  passwords: 'copied' | 'unreadable' | 'none';
  skippedSuperuser: string[];
}

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

export async function copyRoles(source: Endpoint, target: Endpoint, database: string, schemas: string[]): Promise<RolesResult> {
  const { roles, hashes, members } = await withConnection(source, { database }, async ({ client }) => {
    const roles = await client.query<SourceRole>(
      `WITH objs AS (
         SELECT c.relowner AS owner, c.relacl AS acl FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1)
         UNION ALL SELECT nspowner, nspacl FROM pg_namespace WHERE nspname = ANY($1)
         UNION ALL SELECT p.proowner, p.proacl FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY($1)
         UNION ALL SELECT t.typowner, t.typacl FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY($1)
       ), oids AS (
         SELECT owner AS oid FROM objs UNION SELECT (aclexplode(acl)).grantee FROM objs WHERE acl IS NOT NULL
       )
       SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication, r.rolbypassrls,
              r.rolconnlimit, r.rolvaliduntil::text
         FROM pg_roles r JOIN oids o ON o.oid = r.oid WHERE r.rolname !~ '^pg_' ORDER BY 1`,
      [schemas],
    );
    const names = roles.rows.map((r) => r.rolname);
    let hashes: Map<string, string> | null = null;
    try {
      const h = await client.query<{ rolname: string; rolpassword: string | null }>('SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)', [names]);
      hashes = new Map(h.rows.filter((r) => r.rolpassword).map((r) => [r.rolname, r.rolpassword!]));
    } catch {
      hashes = null; // pg_authid is readable by superusers only
    }
    const members = await client.query<{ role: string; member: string }>(
      `SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
        WHERE r.rolname = ANY($1) AND m.rolname = ANY($1)`,
      [names],
    );
    return { roles: roles.rows, hashes, members: members.rows };
  });

  return withConnection(target, {}, async ({ client: t }) => {
    const result: RolesResult = { created: [], existing: [], passwords: hashes === null ? 'unreadable' : hashes.size ? 'copied' : 'none', skippedSuperuser: [] };
    const current = (await t.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u;
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
        hashes?.get(r.rolname) ? `PASSWORD ${t.escapeLiteral(hashes.get(r.rolname)!)}` : '',
      ].filter(Boolean);
      await t.query(`CREATE ROLE ${t.escapeIdentifier(r.rolname)} ${attrs.join(' ')}`);
      result.created.push(r.rolname);
    }
    for (const m of members) {
      await t.query(`GRANT ${t.escapeIdentifier(m.role)} TO ${t.escapeIdentifier(m.member)}`).catch(() => undefined);
    }
    // Without membership the restoring role could not hand objects to their owners.
    for (const r of result.created) await t.query(`GRANT ${t.escapeIdentifier(r)} TO ${t.escapeIdentifier(current)}`).catch(() => undefined);
    return result;
  });
}
