/** The target database and its extensions, before the schema. */
import { ErrorType, PgTransitError } from '../../errors';
import { withConnection, type Endpoint } from '../connect';
import { serverMajor } from '../inspect';
import { settingClause } from '../roles';
import { hasBuiltinLocale, hasIcuRules, hasLocaleProvider } from '../versions';

/**
 * Creates the target database when missing, as `pg_dump --create` would: the source's
 * encoding, locale provider and locale (an ICU or builtin database created as libc
 * would sort and compare text differently), its settings (ALTER DATABASE ... SET, e.g.
 * the search_path the application relies on) and its comment.
 */
export async function ensureTargetDatabase(
  source: Endpoint,
  target: Endpoint,
  database: string,
  targetDatabase: string,
): Promise<boolean> {
  return withConnection(target, { fallbackToMaintenanceDb: true }, async ({ client: t }) => {
    if (((await t.query('SELECT 1 FROM pg_database WHERE datname = $1', [targetDatabase])).rowCount ?? 0) > 0)
      return false;
    const db = await withConnection(source, { database }, async ({ client: s }) => {
      const major = await serverMajor(s);
      const locale = hasBuiltinLocale(major)
        ? 'd.datlocale'
        : hasLocaleProvider(major)
          ? 'd.daticulocale'
          : 'NULL::text';
      const provider = hasLocaleProvider(major) ? 'd.datlocprovider::text' : `'c'`;
      const rules = hasIcuRules(major) ? 'd.daticurules' : 'NULL::text';
      const { rows } = await s.query<{
        enc: string;
        collate: string;
        ctype: string;
        provider: string;
        locale: string | null;
        rules: string | null;
        comment: string | null;
        settings: string[] | null;
      }>(
        `SELECT pg_encoding_to_char(d.encoding) AS enc, d.datcollate AS collate, d.datctype AS ctype, ${provider} AS provider,
          ${locale} AS locale, ${rules} AS rules,
                shobj_description(d.oid, 'pg_database') AS comment,
                (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0) AS settings
           FROM pg_database d WHERE d.datname = current_database()`,
      );
      return rows[0]!;
    });
    const targetMajor = await serverMajor(t);
    const lit = (v: string) => t.escapeLiteral(v);
    let localeClause = '';
    if (db.provider === 'i' || db.provider === 'b') {
      const name = db.provider === 'i' ? 'icu' : 'builtin';
      if (!(db.provider === 'i' ? hasLocaleProvider(targetMajor) : hasBuiltinLocale(targetMajor))) {
        throw new PgTransitError(
          ErrorType.InvalidPlan,
          `source database ${database} uses the ${name} locale provider (${db.locale}), which the target ` +
            `server (PostgreSQL ${targetMajor}) cannot create; create database ${targetDatabase} on the ` +
            `target yourself with the collation you want, then start again`,
        );
      }
      localeClause =
        db.provider === 'i'
          ? ` LOCALE_PROVIDER icu ICU_LOCALE ${lit(db.locale ?? '')}`
          : ` LOCALE_PROVIDER builtin BUILTIN_LOCALE ${lit(db.locale ?? '')}`;
      if (db.rules && hasIcuRules(targetMajor)) localeClause += ` ICU_RULES ${lit(db.rules)}`;
    } else if (hasLocaleProvider(targetMajor)) {
      // template0 of a target initialised with ICU would otherwise hand down its provider.
      localeClause = ' LOCALE_PROVIDER libc';
    }
    const name = t.escapeIdentifier(targetDatabase);
    await t.query(
      `CREATE DATABASE ${name} TEMPLATE template0 ENCODING ${lit(db.enc)} LC_COLLATE ${lit(db.collate)} LC_CTYPE ${lit(db.ctype)}${localeClause}`,
    );
    for (const entry of db.settings ?? []) {
      await t.query(`ALTER DATABASE ${name} ${settingClause(entry, (x) => t.escapeIdentifier(x), lit)}`);
    }
    if (db.comment !== null) await t.query(`COMMENT ON DATABASE ${name} IS ${lit(db.comment)}`);
    return true;
  });
}

/** Extensions of the source, created on the target first (pg_dump -n does not dump them). */
export async function createExtensions(
  source: Endpoint,
  target: Endpoint,
  database: string,
  targetDatabase: string,
): Promise<string[]> {
  const exts = await withConnection(
    source,
    { database },
    async ({ client }) =>
      (
        await client.query<{ name: string; schema: string }>(
          `SELECT e.extname AS name, n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = ` +
            `e.extnamespace WHERE e.extname <> 'plpgsql' ORDER BY e.oid`,
        )
      ).rows,
  );
  if (exts.length === 0) return [];
  await withConnection(target, { database: targetDatabase }, async ({ client }) => {
    for (const e of exts) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(e.schema)}`);
      await client.query(
        `CREATE EXTENSION IF NOT EXISTS ${client.escapeIdentifier(e.name)} WITH SCHEMA ${client.escapeIdentifier(e.schema)} CASCADE`,
      );
    }
  });
  return exts.map((e) => e.name);
}
