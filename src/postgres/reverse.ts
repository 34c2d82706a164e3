/**
 * switchover.reverse, the way back without loss. At the switchover (the source fenced and
 * drained, the application not yet on the target) a publication and a logical slot on the
 * target capture every later write; the reverse stream (cdc/stream.ts, the same exactly-once
 * apply, its applied position in the source's pgtransit schema) applies them to the source,
 * which stays fenced for everyone but pgtransit's own sessions (they override the read-only
 * default for themselves: Endpoint.writable). A rollback fences the target and lets the
 * application back onto the source; finishing drops what the reverse stream needed.
 */
import type { ReversePrepared } from '../model/activities';
import type { Plan } from '../plan/plan';
import { STATE_SCHEMA, reverseReplicationNames } from '../model/names';
import { endpoints, withConnection, type Endpoint } from './connect';
import { createPublication, dropReplication } from './replication';
import { dropStateSchema, ensureStateSchema } from './state';
import { keepSetting, keptSetting, type FenceKeeper } from './switchover';

/** The plan's servers seen from the reverse stream: it reads the target and writes the fenced source. */
export function reverseEndpoints(plan: Plan): { target: Endpoint; source: Endpoint } {
  const { source, target } = endpoints(plan);
  return { target, source: { ...source, writable: true } };
}

/**
 * Where a fence keeps the fenced database's own read-only setting during the reverse stream: the
 * source's state schema (the target's is dropped when the switchover commits). The target's own
 * setting, kept while a rollback fences it, is kept under a name of its own there.
 */
export function reverseKeeper(plan: Plan, database: string, of: 'source' | 'target'): FenceKeeper {
  return {
    target: reverseEndpoints(plan).source,
    targetDatabase: database,
    migration: of === 'source' ? plan.name : `${plan.name} target`,
  };
}

/**
 * On the fenced, drained source's switchover: the source's state schema (with the read-only setting
 * the fence kept on the target), then the publication and the slot on the target. Made anew
 * each time: an earlier attempt's slot could hold changes the forward apply wrote to the target,
 * which must never stream back; nothing else writes to the target while the source is fenced.
 */
export async function prepareReverse(plan: Plan, database: string, targetDatabase: string): Promise<ReversePrepared> {
  const { source, target } = reverseEndpoints(plan);
  const { slot, publication } = reverseReplicationNames(plan.name, targetDatabase);
  await withConnection(source, { database }, ({ client }) => ensureStateSchema(client));
  const forward: FenceKeeper = { target, targetDatabase, migration: plan.name };
  await keepSetting(reverseKeeper(plan, database, 'source'), database, await keptSetting(forward, database));
  await dropReplication(target, targetDatabase, slot, publication);
  const { tables } = await createPublication(target, plan, targetDatabase, publication);
  const startLsn = await withConnection(target, { database: targetDatabase, writable: true }, async ({ client }) => {
    const { rows } = await client.query<{ lsn: string }>(
      `SELECT lsn::text AS lsn FROM pg_create_logical_replication_slot($1, 'pgoutput')`,
      [slot],
    );
    return rows[0]!.lsn;
  });
  return { slot, publication, startLsn, tables };
}

/** Ends reverse replication: the target's slot and publication, and the source's state schema. */
export async function dropReverse(plan: Plan, database: string, targetDatabase: string): Promise<string[]> {
  const { source, target } = reverseEndpoints(plan);
  const { slot, publication } = reverseReplicationNames(plan.name, targetDatabase);
  const dropped = (await dropReplication(target, targetDatabase, slot, publication)).map((x) => `${x} on the target`);
  const had = await withConnection(source, { database }, async ({ client }) => {
    const there = (await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [STATE_SCHEMA])).rowCount ?? 0;
    if (there) await dropStateSchema(client);
    return there > 0;
  });
  if (had) dropped.push(`state schema ${STATE_SCHEMA} on the source`);
  return dropped;
}
