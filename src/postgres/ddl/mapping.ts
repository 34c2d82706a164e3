/** The plan's name mapping, applied on the target after post-data. */
import { ErrorType, PgTransitError } from '../../errors';
import type { Plan } from '../../plan/plan';
import { targetName } from '../../plan/selection';
import { connect, withConnection, withTransaction, type Endpoint } from '../connect';
import { dumpScope } from './scope';

/**
 * Renames from the plan's mapping, applied on the target after the restore with
 * ALTER ... RENAME / SET SCHEMA so dependent objects (indexes, sequences, views,
 * foreign keys) follow. One transaction: all renames or none.
 */
export async function applyMapping(
  plan: Plan,
  source: Endpoint,
  target: Endpoint,
  database: string,
  targetDatabase: string,
): Promise<string[]> {
  const hasMapping =
    Object.keys(plan.mapping?.schemas ?? {}).length + Object.keys(plan.mapping?.tables ?? {}).length > 0;
  if (!hasMapping) return [];
  const roots = await withConnection(
    source,
    { database },
    async ({ client }) => (await dumpScope(client, plan)).selectedRoots,
  );
  const { client: t } = await connect(target, { database: targetDatabase });
  const done: string[] = [];
  const q = (s: string) => t.escapeIdentifier(s);
  try {
    await withTransaction(t, async () => {
      // Table mappings first, while tables still sit in their original schemas.
      for (const r of roots) {
        const to = plan.mapping?.tables?.[`${r.schema}.${r.name}`];
        if (!to) continue;
        const dest = targetName(plan, r);
        const exists = (s: string, n: string) =>
          t
            .query(
              'SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2',
              [s, n],
            )
            .then((x) => (x.rowCount ?? 0) > 0);
        if (!(await exists(r.schema, r.name))) continue; // renamed by an earlier attempt
        await t.query(`CREATE SCHEMA IF NOT EXISTS ${q(dest.schema)}`);
        if (dest.name !== r.name) await t.query(`ALTER TABLE ${q(r.schema)}.${q(r.name)} RENAME TO ${q(dest.name)}`);
        if (dest.schema !== r.schema)
          await t.query(`ALTER TABLE ${q(r.schema)}.${q(dest.name)} SET SCHEMA ${q(dest.schema)}`);
        done.push(`table ${r.schema}.${r.name} -> ${dest.schema}.${dest.name}`);
      }
      for (const [from, to] of Object.entries(plan.mapping?.schemas ?? {})) {
        const has = async (s: string) =>
          ((await t.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [s])).rowCount ?? 0) > 0;
        if (!(await has(from)) || from === to) continue;
        if (!(await has(to))) {
          await t.query(`ALTER SCHEMA ${q(from)} RENAME TO ${q(to)}`);
        } else {
          // The destination exists (e.g. public -> app where app was there): move each object.
          const rel = await t.query<{ name: string; kind: string }>(
            `SELECT c.relname AS name, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
              AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0))`,
            [from],
          );
          const verb: Record<string, string> = {
            r: 'TABLE',
            p: 'TABLE',
            v: 'VIEW',
            m: 'MATERIALIZED VIEW',
            f: 'FOREIGN TABLE',
            S: 'SEQUENCE',
          };
          for (const r of rel.rows) await t.query(`ALTER ${verb[r.kind]} ${q(from)}.${q(r.name)} SET SCHEMA ${q(to)}`);
          const fns = await t.query<{ sig: string; kind: string }>(
            `SELECT p.oid::regprocedure::text AS sig, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END AS kind
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1`,
            [from],
          );
          for (const f of fns.rows) await t.query(`ALTER ${f.kind} ${f.sig} SET SCHEMA ${q(to)}`);
          const types = await t.query<{ name: string; kind: string }>(
            `SELECT t.typname AS name, CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END AS kind FROM pg_type t JOIN
              pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = $1 AND t.typtype IN ('e', 'c', 'd', 'r') AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')`,
            [from],
          );
          for (const ty of types.rows) await t.query(`ALTER ${ty.kind} ${q(from)}.${q(ty.name)} SET SCHEMA ${q(to)}`);
          // The rest of what pg_dump restores into a schema; operators name their argument types.
          const others = await t.query<{ stmt: string }>(
            `SELECT format('ALTER OPERATOR %s SET SCHEMA %I', o.oid::regoperator, $2::text) AS stmt FROM pg_operator o JOIN
              pg_namespace n ON n.oid = o.oprnamespace WHERE n.nspname = $1
           UNION ALL SELECT format('ALTER COLLATION %I.%I SET SCHEMA %I', $1::text, c.collname, $2::text) FROM pg_collation c JOIN
             pg_namespace n ON n.oid = c.collnamespace WHERE n.nspname = $1
           UNION ALL SELECT format('ALTER CONVERSION %I.%I SET SCHEMA %I', $1::text, c.conname, $2::text) FROM pg_conversion c
             JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1
           UNION ALL SELECT format('ALTER STATISTICS %I.%I SET SCHEMA %I', $1::text, s.stxname, $2::text) FROM pg_statistic_ext s
             JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE n.nspname = $1
           UNION ALL SELECT format('ALTER TEXT SEARCH CONFIGURATION %I.%I SET SCHEMA %I', $1::text, c.cfgname, $2::text) FROM
             pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE n.nspname = $1
           UNION ALL SELECT format('ALTER TEXT SEARCH DICTIONARY %I.%I SET SCHEMA %I', $1::text, d.dictname, $2::text) FROM
             pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace WHERE n.nspname = $1`,
            [from, to],
          );
          for (const o of others.rows) await t.query(o.stmt);
          // The emptied schema goes, as it would have with a rename; what could not be moved keeps it and is reported.
          await t.query('SAVEPOINT drop_schema');
          try {
            await t.query(`DROP SCHEMA ${q(from)} RESTRICT`);
          } catch (e) {
            await t.query('ROLLBACK TO SAVEPOINT drop_schema');
            done.push(
              `schema ${from} kept on the target: ${(e as { detail?: string }).detail?.replace(/\n/g, '; ') ?? (e as Error).message}`,
            );
          }
        }
        done.push(`schema ${from} -> ${to}`);
      }
    });
    return done;
  } catch (e) {
    throw new PgTransitError(
      ErrorType.SchemaFailed,
      `applying the name mapping on ${targetDatabase}: ${(e as Error).message}`,
    );
  } finally {
    await t.end().catch(() => undefined);
  }
}
