/**
 * DDL capture on the source (plan cdc.ddl: replicate): event triggers in a schema pgtransit
 * owns write each DDL statement into the WAL as a transactional logical message, so it
 * reaches the change stream in commit order with the data around it (ddl-apply.ts replays it).
 *
 * - Installed at prepare, before the publication and the slot: a DDL committed between the
 *   snapshot and the triggers would be in neither the schema dump nor the stream.
 * - The event trigger function runs as the role that ran the DDL (current_query() and
 *   search_path are that session's); what needs rights (the message, ALTER PUBLICATION) is
 *   done by a SECURITY DEFINER function that reads pg_event_trigger_ddl_commands() itself,
 *   so calling it outside an event trigger fails and cannot forge a statement.
 * - current_query() holds every statement of a multi-statement query: the message carries
 *   the whole text and the ordinal of this firing within it; the apply picks that statement.
 * - New tables the plan selects (and partitions detached from a published root) are added to
 *   the publication in the same transaction, so their rows from then on are in the stream. As for
 *   the tables selected at the start, a table without a key or replica identity then refuses UPDATE
 *   and DELETE on the source until it has one (PostgreSQL's rule for published tables): loud, where
 *   leaving it out would lose its changes silently.
 * - Abort and completion drop triggers, functions and schema (dropDdlCapture).
 */
import { supportsLogicalMessages } from '../versions';
import type pg from 'pg';
import { ddlCaptureNames } from '../../model/names';
import type { Plan } from '../../plan/plan';
import { globToRegExp } from '../../plan/selection';
import { withConnection, type Endpoint } from '../connect';
import { notSystemSchema } from '../sql';

/** SQL condition: relation `n.nspname`.`c.relname` is selected by the plan (the selection.ts rules). */
export function selectionPredicate(client: pg.Client, plan: Plan, capture: string): string {
  const lit = (s: string) => client.escapeLiteral(s);
  const re = (glob: string) => lit(globToRegExp(glob).source);
  const schemaRe = (glob: string) => `n.nspname ~ ${re(glob)}`;
  const tableRe = (pattern: string) => {
    const dot = pattern.indexOf('.');
    return `(n.nspname ~ ${re(pattern.slice(0, dot))} AND c.relname ~ ${re(pattern.slice(dot + 1))})`;
  };
  const inc = [...(plan.include?.schemas ?? []).map(schemaRe), ...(plan.include?.tables ?? []).map(tableRe)];
  const exc = [...(plan.exclude?.schemas ?? []).map(schemaRe), ...(plan.exclude?.tables ?? []).map(tableRe)];
  return [
    notSystemSchema('n.nspname'),
    `n.nspname <> ${lit(capture)}`,
    inc.length ? `(${inc.join(' OR ')})` : 'true',
    exc.length ? `NOT (${exc.join(' OR ')})` : 'true',
  ].join(' AND ');
}

/** What decides whether DDL capture can be installed: the source's major, superuser, and a capture already there. */
export async function captureFacts(
  client: Pick<pg.Client, 'query'>,
  migration: string,
  database: string,
): Promise<{ major: number; superuser: boolean; taken: boolean }> {
  const n = ddlCaptureNames(migration, database);
  const { rows } = await client.query<{ major: number; superuser: boolean; taken: boolean }>(
    `SELECT current_setting('server_version_num')::int / 10000 AS major,
            (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
            EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname IN ($1, $2))
              OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $3) AS taken`,
    [n.endTrigger, n.dropTrigger, n.schema],
  );
  return rows[0]!;
}

/**
 * Why cdc.ddl unset installs no capture on this source (null: it installs one). Unset means
 * replicate where the source allows it (the assessment warned otherwise); DDL then stops as drift.
 */
export async function captureSkipped(
  client: Pick<pg.Client, 'query'>,
  plan: Plan,
  database: string,
): Promise<string | null> {
  if (plan.cdc.ddl !== undefined) return null;
  const { major, superuser } = await captureFacts(client, plan.name, database);
  return !supportsLogicalMessages(major)
    ? `the source is ${major} (logical messages need 14+)`
    : !superuser
      ? 'the source role is not a superuser'
      : null;
}

/**
 * The setting that marks a session's DDL as pgtransit's own: the capture of every migration
 * from this database skips it (another migration's capture schema, publication, cleanup).
 */
export const OWN_DDL = 'pgtransit_ddl.own';

/** Marks this transaction's (`local`) or session's DDL as pgtransit's own. */
export function ownDdl(local: boolean): string {
  return `SELECT set_config('${OWN_DDL}', 'on', ${local})`;
}

/** The statements that create the capture: schema, functions, then the event triggers (last: nothing fires before). */
export function captureSql(client: pg.Client, plan: Plan, database: string, publication: string): string {
  const n = ddlCaptureNames(plan.name, database);
  const id = (s: string) => client.escapeIdentifier(s);
  const lit = (s: string) => client.escapeLiteral(s);
  const schema = id(n.schema);
  const selected = selectionPredicate(client, plan, n.schema);
  return `
CREATE SCHEMA ${schema};
REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC;
GRANT USAGE ON SCHEMA ${schema} TO PUBLIC;

-- Adds the selected tables that are not published yet (new ones, partitions detached from a published root).
CREATE FUNCTION ${schema}.follow() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE r record;
BEGIN
  -- Installed just before the publication: a table created in between is listed by the publication itself.
  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ${lit(publication)}) THEN
    RETURN;
  END IF;
  FOR r IN
    SELECT c.relkind, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS qname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p' AND ${selected}
       AND NOT EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
                        WHERE p.pubname = ${lit(publication)} AND pr.prrelid = c.oid)
  LOOP
    -- The ALTER PUBLICATION fires the event trigger again: it is not a statement to replay.
    PERFORM set_config('pgtransit_ddl.following', 'on', true);
    EXECUTE format('ALTER PUBLICATION %I ADD TABLE %s%s', ${lit(publication)}, CASE WHEN r.relkind = 'r' THEN 'ONLY ' ELSE '' END, r.qname);
  END LOOP;
  PERFORM set_config('pgtransit_ddl.following', '', true);
END
$f$;

-- Objects a DROP removes, kept until the statement's ddl_command_end (sql_drop fires first).
CREATE FUNCTION ${schema}.dropped() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
DECLARE objs jsonb;
BEGIN
  SELECT coalesce(jsonb_agg(jsonb_build_object('type', d.object_type, 'schema', d.schema_name, 'identity', d.object_identity)), '[]')
    INTO objs FROM pg_event_trigger_dropped_objects() d WHERE NOT d.is_temporary;
  PERFORM set_config('pgtransit_ddl.dropped',
    (coalesce(nullif(current_setting('pgtransit_ddl.dropped', true), ''), '[]')::jsonb || objs)::text, true);
END
$f$;

-- Writes the statement into the WAL, in the transaction that runs it.
CREATE FUNCTION ${schema}.emit(query text, search_path text, tag text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, pg_temp AS $f$
DECLARE
  cmds jsonb;
  dropped jsonb := coalesce(nullif(current_setting('pgtransit_ddl.dropped', true), ''), '[]')::jsonb;
  key text := md5(query) || ' ' || statement_timestamp()::text || ' ' || pg_backend_pid();
  ordinal int := 1;
BEGIN
  -- pgtransit's own DDL on the source (any migration's capture, publication, cleanup): nothing to replay.
  IF current_setting('pgtransit_ddl.following', true) = 'on' OR current_setting('${OWN_DDL}', true) = 'on' THEN
    RETURN;
  END IF;
  PERFORM set_config('pgtransit_ddl.dropped', '', true);
  SELECT coalesce(jsonb_agg(jsonb_build_object('tag', c.command_tag, 'type', c.object_type, 'schema', c.schema_name,
                                               'identity', c.object_identity) ORDER BY c.ordinality), '[]')
    INTO cmds FROM pg_event_trigger_ddl_commands() WITH ORDINALITY c
   WHERE NOT c.in_extension AND c.schema_name IS DISTINCT FROM ${lit(n.schema)}
     AND (c.schema_name IS NULL OR c.schema_name !~ '^pg_temp');
  -- DDL on temporary objects only, or on pgtransit's own schema: nothing to replay.
  IF jsonb_array_length(cmds) = 0 AND jsonb_array_length(dropped) = 0 AND tag NOT IN ('GRANT', 'REVOKE') THEN
    RETURN;
  END IF;
  IF split_part(current_setting('pgtransit_ddl.statement', true), '#', 1) = key THEN
    ordinal := split_part(current_setting('pgtransit_ddl.statement', true), '#', 2)::int + 1;
  END IF;
  PERFORM set_config('pgtransit_ddl.statement', key || '#' || ordinal, false);
  PERFORM pg_logical_emit_message(true, ${lit(n.prefix)}, jsonb_build_object(
    'v', 1, 'tag', tag,
    -- Foreign servers, user mappings and subscriptions take passwords in their options:
    -- their text stays out of the WAL.
    'query', CASE WHEN tag ~ '(SERVER|USER MAPPING|SUBSCRIPTION)$' THEN '' ELSE query END,
    'ordinal', ordinal, 'searchPath', search_path, 'role', session_user::text,
    'commands', cmds, 'dropped', dropped)::text);
  IF tag IN ('CREATE TABLE', 'ALTER TABLE', 'CREATE TABLE AS', 'SELECT INTO') THEN
    PERFORM ${schema}.follow();
  END IF;
END
$f$;

CREATE FUNCTION ${schema}.on_end() RETURNS event_trigger LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ${schema}.emit(pg_catalog.current_query(), pg_catalog.current_setting('search_path'), tg_tag);
END
$f$;
CREATE FUNCTION ${schema}.on_drop() RETURNS event_trigger LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM ${schema}.dropped();
END
$f$;
REVOKE ALL ON FUNCTION ${schema}.follow(), ${schema}.dropped(), ${schema}.emit(text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ${schema}.dropped(), ${schema}.emit(text, text, text) TO PUBLIC;

CREATE EVENT TRIGGER ${id(n.dropTrigger)} ON sql_drop EXECUTE FUNCTION ${schema}.on_drop();
CREATE EVENT TRIGGER ${id(n.endTrigger)} ON ddl_command_end EXECUTE FUNCTION ${schema}.on_end();
`;
}

/** Installs the capture once (a retried prepare finds it there). */
export async function installDdlCapture(
  source: Endpoint,
  plan: Plan,
  database: string,
  publication: string,
): Promise<{ installed: boolean; schema: string; triggers: string[]; skipped?: string }> {
  const n = ddlCaptureNames(plan.name, database);
  return withConnection(source, { database, writable: true }, async ({ client }) => {
    const triggers = [n.dropTrigger, n.endTrigger];
    const { rowCount } = await client.query('SELECT 1 FROM pg_event_trigger WHERE evtname = $1', [n.endTrigger]);
    if (rowCount) return { installed: false, schema: n.schema, triggers };
    const why = await captureSkipped(client, plan, database);
    if (why) return { installed: false, schema: n.schema, triggers: [], skipped: why };
    await client.query('BEGIN');
    try {
      // A half-made capture (an earlier attempt died before COMMIT cannot leave one: one transaction).
      await client.query(`${ownDdl(true)}; ${captureSql(client, plan, database, publication)}`);
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
    return { installed: true, schema: n.schema, triggers };
  });
}

/** Drops the event triggers, then the functions and the schema; absent ones are fine. */
export async function dropDdlCapture(client: pg.Client, migration: string, database: string): Promise<string[]> {
  const n = ddlCaptureNames(migration, database);
  await client.query(ownDdl(false));
  const dropped: string[] = [];
  for (const t of [n.endTrigger, n.dropTrigger]) {
    const { rowCount } = await client.query('SELECT 1 FROM pg_event_trigger WHERE evtname = $1', [t]);
    if (!rowCount) continue;
    await client.query(`DROP EVENT TRIGGER IF EXISTS ${client.escapeIdentifier(t)}`);
    dropped.push(`event trigger ${t}`);
  }
  const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [n.schema]);
  if (rowCount) {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(n.schema)} CASCADE`);
    dropped.push(`schema ${n.schema}`);
  }
  return dropped;
}
