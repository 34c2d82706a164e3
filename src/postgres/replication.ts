/** The publication and the slot a migration owns on the source. */
import type { Plan } from '../plan/plan';
import { listLoadTables } from './chunks';
import { withConnection, type Endpoint } from './connect';
import { serverMajor } from './inspect';
import { SLOT_RELEASE_WAIT, pollUntil } from './limits';
import { SqlState, codeOf } from './sqlstate';
import { supportsPublishViaRoot } from './versions';

/**
 * Creates the publication over the selected tables, before the slot: pgoutput reads
 * publications through the slot's historic snapshot, so one created after the slot
 * would not exist for the changes in between. Partitioned tables publish through
 * their root (13+); older servers publish the partitions themselves.
 */
export async function createPublication(
  source: Endpoint,
  plan: Plan,
  database: string,
  publication: string,
): Promise<{ created: boolean; tables: number }> {
  return withConnection(source, { database }, async ({ client }) => {
    if (((await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication])).rowCount ?? 0) > 0)
      return { created: false, tables: 0 };
    const major = await serverMajor(client);
    const leaves = await listLoadTables(client, plan);
    const names = new Map<string, string>();
    for (const t of leaves) {
      const rel = supportsPublishViaRoot(major) ? t.root : t;
      names.set(
        `${rel.schema}.${rel.name}`,
        `${client.escapeIdentifier(rel.schema)}.${client.escapeIdentifier(rel.name)}`,
      );
    }
    const options = supportsPublishViaRoot(major) ? ' WITH (publish_via_partition_root = true)' : '';
    await client.query(
      `CREATE PUBLICATION ${client.escapeIdentifier(publication)} FOR TABLE ${[...names.values()].join(', ')}${options}`,
    );
    return { created: true, tables: names.size };
  });
}

/** Drops the slot (waiting for its walsender to let go) and the publication; absent ones are fine. */
export async function dropReplication(
  source: Endpoint,
  database: string,
  slot: string | null,
  publication: string | null,
): Promise<string[]> {
  return withConnection(source, { database, writable: true }, async ({ client }) => {
    const dropped: string[] = [];
    if (slot) {
      const released = await pollUntil(async () => {
        const r = await client.query<{ active_pid: number | null }>(
          'SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1',
          [slot],
        );
        if (!r.rowCount) return false; // no slot (any more)
        if (r.rows[0]!.active_pid) {
          await client.query('SELECT pg_terminate_backend($1)', [r.rows[0]!.active_pid]);
          return undefined;
        }
        try {
          await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
          return true;
        } catch (e) {
          // Gone meanwhile, or taken again by a walsender: look again.
          if (codeOf(e) !== SqlState.UndefinedObject && codeOf(e) !== SqlState.ObjectInUse) throw e;
          return undefined;
        }
      }, SLOT_RELEASE_WAIT);
      if (released) dropped.push(`slot ${slot}`);
    }
    if (
      publication &&
      ((await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication])).rowCount ?? 0) > 0
    ) {
      await client.query(`DROP PUBLICATION ${client.escapeIdentifier(publication)}`);
      dropped.push(`publication ${publication}`);
    }
    return dropped;
  });
}
