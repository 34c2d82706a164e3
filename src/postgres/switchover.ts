/**
 * Switchover on the source: fence writes, mark the fence in the WAL, and copy the
 * sequences. Fencing covers every role: the database defaults to read-only for new
 * transactions and every application session is ended, not only one role's.
 */
import type pg from 'pg';
import { ErrorType, PgTransitError } from '../errors';
import type { FenceResult, SequenceCopy } from '../model/activities';
import { APPLICATION_NAME, FENCE_PREFIX, STATE_SCHEMA } from '../model/names';
import type { Plan } from '../plan/plan';
import { targetName } from '../plan/selection';
import { withConnection, withTransaction, type Endpoint } from './connect';
import { dumpScope } from './ddl';
import { FENCE_WRITER_WAIT, pollUntil } from './limits';
import { readSequences } from './sequences';
import { supportsLogicalMessages } from './versions';

/** Where the fence keeps the source database's own read-only default while it overrides it (on the target). */
export interface FenceKeeper {
  target: Endpoint;
  targetDatabase: string;
  migration: string;
}

const ON = /^(on|true|yes|1|t|y)$/i;

/**
 * Makes `database` read-only for every writer, or fails saying which writer it could not stop
 * (the caller un-fences then):
 * - refused before anything changes: prepared transactions (COMMIT PREPARED is allowed in a
 *   read-only database), and roles whose own default_transaction_read_only = off outranks
 *   the database's;
 * - then the database defaults to read-only, every other session of it is ended, and the
 *   fence waits until no transaction holds a write;
 * - a session it may not end (a superuser's, without the right), or a writer still there after
 *   the wait, fails the fence;
 * - last, the marker is written into the WAL: the drain stops there, and a later check
 *   (verifyFence) proves nothing committed after it.
 */
export async function fenceSource(
  source: Endpoint,
  database: string,
  id: string,
  serverMajor: number,
  keeper?: FenceKeeper,
): Promise<FenceResult> {
  return withConnection(
    source,
    { database, applicationName: APPLICATION_NAME.fence, writable: true },
    async ({ client }) => {
      const refuse = (why: string) =>
        new PgTransitError(ErrorType.SwitchoverFailed, `the source database ${database} cannot be fenced: ${why}`);
      const prepared = await preparedTransactions(client, database);
      if (prepared.length) {
        throw refuse(
          `prepared transactions ${prepared.join(', ')} could still be committed after the fence; COMMIT PREPARED or ROLLBACK PREPARED them, then switch over`,
        );
      }
      const overrides = await writableRoles(client, database);
      if (overrides.length) {
        throw refuse(
          `roles ${overrides.join(', ')} have default_transaction_read_only off for themselves, which outranks the database's read-only default; ` +
            `ALTER ROLE <role> RESET default_transaction_read_only (or ALTER ROLE <role> IN DATABASE ${database} ` +
            `SET default_transaction_read_only = on), then switch over`,
        );
      }
      const fencedAt = new Date().toISOString();
      const db = client.escapeIdentifier(database);
      // Keep the database's own setting (once: a retried fence finds its own 'on'), restored by the un-fence.
      const own = await databaseSetting(client, database, 'default_transaction_read_only');
      if (keeper) await keepSetting(keeper, database, own);
      await client.query(`ALTER DATABASE ${db} SET default_transaction_read_only = on`);
      // Sessions opened before the ALTER keep their settings: end them (all roles, not one). A role
      // without pg_read_all_stats sees other roles' sessions with their details hidden: those too.
      const sessions = await client.query<{ pid: number; usename: string | null; application_name: string | null }>(
        `SELECT pid, usename, application_name FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND (backend_type = 'client backend' OR backend_type IS NULL)`,
        [database],
      );
      const who = (x: { pid: number; usename: string | null; application_name: string | null }) =>
        `pid ${x.pid} (${x.usename ?? 'another role'}${x.application_name ? `, ${x.application_name}` : ''})`;
      const unstoppable: string[] = [];
      let terminated = 0;
      for (const x of sessions.rows) {
        try {
          await client.query('SELECT pg_terminate_backend($1)', [x.pid]);
          terminated++;
        } catch (e) {
          unstoppable.push(`${who(x)}: ${(e as Error).message}`);
        }
      }
      if (unstoppable.length) {
        throw refuse(
          `sessions that could not be ended could keep writing: ${unstoppable.join('; ')}; grant pg_signal_backend to the ` +
            `migration's role (a superuser's sessions can only be ended by a superuser), or end them yourself`,
        );
      }
      // A terminated backend rolls its transaction back as it exits: wait until every one of them is gone.
      const ended = sessions.rows.map((x) => x.pid);
      const left = async () =>
        (
          await client.query<{ pid: number; usename: string | null; application_name: string | null }>(
            `SELECT pid, usename, application_name FROM pg_stat_activity WHERE pid = ANY($1)`,
            [ended],
          )
        ).rows;
      const gone =
        ended.length === 0 ||
        (await pollUntil(async () => ((await left()).length ? undefined : true), FENCE_WRITER_WAIT));
      if (!gone) {
        const still = await left();
        throw refuse(
          `sessions still there ${(FENCE_WRITER_WAIT.attempts * FENCE_WRITER_WAIT.intervalMs) / 1000} s after they were ended: ${still.map(who).join(', ')}`,
        );
      }
      const late = await preparedTransactions(client, database);
      if (late.length) throw refuse(`transactions were prepared while the fence went up: ${late.join(', ')}`);
      const marker = supportsLogicalMessages(serverMajor) ? `fence ${id}` : '';
      const lsn = await withTransaction(
        client,
        async () =>
          marker
            ? (
                await client.query<{ lsn: string }>(`SELECT pg_logical_emit_message(true, $1, $2)::text AS lsn`, [
                  FENCE_PREFIX,
                  marker,
                ])
              ).rows[0]!.lsn
            : // pgoutput carries logical messages from 14 on; older sources drain up to this position.
              (await client.query<{ lsn: string }>(`SELECT pg_current_wal_insert_lsn()::text AS lsn`)).rows[0]!.lsn,
        'BEGIN READ WRITE',
      );
      return { id: marker, lsn, fencedAt, terminatedSessions: terminated };
    },
  );
}

/** Lets the application write again (switchover failed, or the operator asks): the database's own setting comes back. */
export async function unfenceSource(source: Endpoint, database: string, keeper?: FenceKeeper): Promise<void> {
  const kept = keeper ? await keptSetting(keeper, database) : null;
  await withConnection(
    source,
    { database, applicationName: APPLICATION_NAME.fence, writable: true },
    async ({ client }) => {
      const db = client.escapeIdentifier(database);
      if (kept)
        await client.query(`ALTER DATABASE ${db} SET default_transaction_read_only = ${client.escapeLiteral(kept)}`);
      else await client.query(`ALTER DATABASE ${db} RESET default_transaction_read_only`);
    },
  );
  if (keeper) await forgetSetting(keeper, database);
}

const KEPT = `${STATE_SCHEMA}.fence`;

export async function keepSetting(k: FenceKeeper, database: string, value: string | null): Promise<void> {
  await withConnection(k.target, { database: k.targetDatabase }, async ({ client }) => {
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${KEPT} (migration text, database text, previous text, PRIMARY KEY (migration, database))`,
    );
    await client.query(`INSERT INTO ${KEPT} VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
      k.migration,
      database,
      value,
    ]);
  });
}

export async function keptSetting(k: FenceKeeper, database: string): Promise<string | null> {
  return withConnection(k.target, { database: k.targetDatabase }, async ({ client }) => {
    if (!(await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [KEPT])).rows[0]!.ok) return null;
    return (
      (
        await client.query<{ previous: string | null }>(
          `SELECT previous FROM ${KEPT} WHERE migration = $1 AND database = $2`,
          [k.migration, database],
        )
      ).rows[0]?.previous ?? null
    );
  });
}

async function forgetSetting(k: FenceKeeper, database: string): Promise<void> {
  await withConnection(k.target, { database: k.targetDatabase }, async ({ client }) => {
    if ((await client.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [KEPT])).rows[0]!.ok) {
      await client.query(`DELETE FROM ${KEPT} WHERE migration = $1 AND database = $2`, [k.migration, database]);
    }
  });
}

/** The database-level value of a setting (ALTER DATABASE ... SET), null when it has none. */
async function databaseSetting(client: pg.Client, database: string, name: string): Promise<string | null> {
  const { rows } = await client.query<{ v: string | null }>(
    `SELECT (SELECT substr(c, length($2) + 2) FROM unnest(s.setconfig) c WHERE lower(c) LIKE lower($2) || '=%' LIMIT 1) AS v
       FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = $1 AND s.setrole = 0`,
    [database, name],
  );
  return rows[0]?.v ?? null;
}

async function preparedTransactions(client: pg.Client, database: string): Promise<string[]> {
  const { rows } = await client.query<{ gid: string; owner: string }>(
    `SELECT gid, owner FROM pg_prepared_xacts WHERE database = $1 ORDER BY prepared`,
    [database],
  );
  return rows.map((r) => `'${r.gid}' (${r.owner})`);
}

/** Roles whose own setting makes their sessions writable whatever the database's default. */
async function writableRoles(client: pg.Client, database: string): Promise<string[]> {
  // A role's setting for this database outranks its setting everywhere, which outranks the database's.
  const { rows } = await client.query<{ rolname: string; value: string }>(
    `SELECT DISTINCT ON (r.rolname) r.rolname, substr(c, length('default_transaction_read_only=') + 1) AS value
       FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole CROSS JOIN LATERAL unnest(s.setconfig) c
      WHERE s.setrole <> 0 AND (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = $1))
        AND lower(c) LIKE 'default_transaction_read_only=%'
      ORDER BY r.rolname, s.setdatabase DESC`,
    [database],
  );
  return rows.filter((r) => !ON.test(r.value.trim())).map((r) => r.rolname);
}

/** Every sequence of the migrated schemas (owned by a column or not), set on the target to the source's value. */
export async function copySequences(
  plan: Plan,
  source: Endpoint,
  target: Endpoint,
  database: string,
  targetDatabase: string,
): Promise<SequenceCopy[]> {
  const seqs = await withConnection(source, { database }, async ({ client }) => {
    const { schemas, excluded } = await dumpScope(client, plan);
    // Left out of the migration (themselves, or with the table that owns them): not on the target.
    const out = new Set(excluded.map((t) => `${t.schema}.${t.name}`));
    return (await readSequences(client, schemas)).filter(
      (s) => !out.has(`${s.schema}.${s.name}`) && !(s.ownerTable && out.has(`${s.ownerSchema}.${s.ownerTable}`)),
    );
  });
  return withConnection(target, { database: targetDatabase }, async ({ client }) => {
    const out: SequenceCopy[] = [];
    for (const s of seqs) {
      // An owned sequence goes with its table (ALTER TABLE ... SET SCHEMA moves it along): find it
      // through the target table's column. Any other follows its own schema's mapping.
      const own = targetName(plan, s).schema;
      let ident = `${client.escapeIdentifier(own)}.${client.escapeIdentifier(s.name)}`;
      let shown = `${own}.${s.name}`;
      if (s.ownerTable && s.ownerSchema && s.ownerColumn) {
        const owner = targetName(plan, { schema: s.ownerSchema, name: s.ownerTable });
        const found = await client.query<{ seq: string | null }>(`SELECT pg_get_serial_sequence($1, $2) AS seq`, [
          `${client.escapeIdentifier(owner.schema)}.${client.escapeIdentifier(owner.name)}`,
          s.ownerColumn,
        ]);
        if (found.rows[0]?.seq) ident = shown = found.rows[0].seq;
      }
      await client.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [ident, s.value, s.isCalled]);
      out.push({
        sequence: `${s.schema}.${s.name}`,
        targetSequence: shown,
        value: s.value,
        isCalled: s.isCalled,
      });
    }
    return out;
  });
}

/**
 * The target's materialized views as the source has them at the fence: logical decoding does
 * not carry REFRESH MATERIALIZED VIEW, so a view refreshed on the source since the load is
 * refreshed (or emptied, when the source's is unpopulated) here, views before those built on them.
 */
export async function refreshMaterializedViews(
  plan: Plan,
  source: Endpoint,
  target: Endpoint,
  database: string,
  targetDatabase: string,
): Promise<string[]> {
  const views = await withConnection(source, { database }, async ({ client }) => {
    const { schemas, excluded } = await dumpScope(client, plan);
    const out = new Set(excluded.map((t) => `${t.schema}.${t.name}`));
    const { rows } = await client.query<{
      oid: number;
      schema: string;
      name: string;
      populated: boolean;
      deps: number[];
    }>(
      `SELECT v.oid::int AS oid, n.nspname AS schema, v.relname AS name, v.relispopulated AS populated,
              coalesce(array_agg(DISTINCT d.refobjid::int) FILTER (WHERE d.refobjid IS NOT NULL AND d.refobjid <> v.oid), '{}') AS deps
         FROM pg_class v JOIN pg_namespace n ON n.oid = v.relnamespace
         LEFT JOIN pg_rewrite r ON r.ev_class = v.oid
         LEFT JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
        WHERE v.relkind = 'm' AND n.nspname = ANY($1)
        GROUP BY v.oid, n.nspname, v.relname, v.relispopulated`,
      [schemas],
    );
    return rows.filter((r) => !out.has(`${r.schema}.${r.name}`));
  });
  // Views before the views built on them.
  const byOid = new Map(views.map((v) => [v.oid, v]));
  const ordered: typeof views = [];
  const seen = new Set<number>();
  const visit = (v: (typeof views)[number]) => {
    if (seen.has(v.oid)) return;
    seen.add(v.oid);
    for (const d of v.deps) if (byOid.has(d)) visit(byOid.get(d)!);
    ordered.push(v);
  };
  views.forEach(visit);
  return withConnection(target, { database: targetDatabase }, async ({ client }) => {
    const done: string[] = [];
    for (const v of ordered) {
      const dest = targetName(plan, v);
      const name = `${client.escapeIdentifier(dest.schema)}.${client.escapeIdentifier(dest.name)}`;
      await client.query(`REFRESH MATERIALIZED VIEW ${name}${v.populated ? '' : ' WITH NO DATA'}`);
      done.push(`${dest.schema}.${dest.name}${v.populated ? '' : ' (no data)'}`);
    }
    return done;
  });
}
