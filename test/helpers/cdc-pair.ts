/**
 * A database pair for change-capture tests: the same SQL on both sides, pgtransit's state
 * schema and publication, a slot made after them, and one round of change capture as the
 * activity runs it (streamRound).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { replicationNames } from '../../src/model/names';
import type { PlanInput } from '../../src/plan/plan';
import { streamRound, type RoundOptions } from '../../src/postgres/cdc/stream';
import { endpoints } from '../../src/postgres/connect';
import { createPublication } from '../../src/postgres/replication';
import { ensureStateSchema } from '../../src/postgres/state';
import { planFor, type PgServer } from './postgres';

export interface Pair {
  db: string;
  plan: ReturnType<typeof planFor>;
  slot: string;
  publication: string;
  /** One round of change capture, as the activity runs it. */
  round(o?: Partial<RoundOptions>): ReturnType<typeof streamRound>;
  src(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  tgt(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
}

/** Makes pairs on one source and target; each drops the slots of the pairs before it (a server has ten). */
export function pairMaker(servers: () => { source: PgServer; target: PgServer }) {
  const slots: { slot: string; db: string }[] = [];
  /**
   * A database on each side with `sourceSql` (and `targetSql`, default the same) run in
   * it, pgtransit's state schema and publication, and a slot created after them.
   */
  return async function pair(
    prefix: string,
    sourceSql: string,
    targetSql = sourceSql,
    plan: Partial<PlanInput> = {},
    createDatabase = 'CREATE DATABASE %s',
  ): Promise<Pair> {
    const { source, target } = servers();
    const db = `${prefix}_${randomBytes(3).toString('hex')}`;
    await source.query(createDatabase.replace('%s', db));
    await target.query(createDatabase.replace('%s', db));
    if (sourceSql) await source.query(sourceSql, [], db);
    if (targetSql) await target.query(targetSql, [], db);
    const p = planFor(source, target, { database: db, ...plan });
    const { slot, publication } = replicationNames(p.name, db);
    const c = new pg.Client({ connectionString: target.url({ database: db }) });
    await c.connect();
    await ensureStateSchema(c);
    await c.end();
    const e = endpoints(p);
    await createPublication(e.source, p, db, publication);
    for (const old of slots.splice(0)) {
      await source.query(
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL`,
        [old.slot],
      );
      await source
        .query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [old.slot])
        .catch(() => undefined);
    }
    await source.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot], db);
    slots.push({ slot, db });
    return {
      db,
      plan: p,
      slot,
      publication,
      round: (o = {}) =>
        streamRound({
          source: e.source,
          target: e.target,
          plan: p,
          database: db,
          targetDatabase: db,
          slot,
          publication,
          sourceMajor: source.major,
          lateTables: [],
          lateHorizonLsn: null,
          maxSeconds: 2,
          fence: null,
          ...o,
        }),
      src: (sql, params) => source.query(sql, params, db),
      tgt: (sql, params) => target.query(sql, params, db),
    };
  };
}
