/** The publication and the slot a migration owns on the source. */
import type pg from 'pg';
import type { Plan } from '../plan/plan';
import { listLoadTables } from './chunks';
import { withConnection, type Endpoint } from './connect';
import { dropDdlCapture, ownDdl } from './cdc/ddl-capture';
import { serverMajor } from './inspect';
import { SLOT_RELEASE_WAIT, pollUntil } from './limits';
import { SqlState, codeOf } from './sqlstate';
import { supportsPartitionedPublication } from './versions';

/**
 * Creates the publication over the selected tables, before the slot: pgoutput reads
 * publications through the slot's historic snapshot, so one created after the slot
 * would not exist for the changes in between.
 *
 * Changes arrive under each table's own name and replica identity: a partitioned table
 * is published by its root (13+; its present and future partitions follow) but not
 * through it, since a root often has no key of its own while each partition has one,
 * and ctid means nothing across partitions. Older servers list the partitions. Plain
 * tables are published ONLY: a legacy inheritance child is a table of its own, selected
 * or not by itself.
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
    const names = await publishedTables(client, plan);
    // A database whose data is large objects only has no table to publish: an empty publication.
    const tables = names.size ? ` FOR TABLE ${[...names.values()].join(', ')}` : '';
    await client.query(`${ownDdl(false)}; CREATE PUBLICATION ${client.escapeIdentifier(publication)}${tables}`);
    return { created: true, tables: names.size };
  });
}

/** The tables the publication is FOR: schema.name -> the SQL that names them there. */
export async function publishedTables(client: pg.Client, plan: Plan): Promise<Map<string, string>> {
  const major = await serverMajor(client);
  const q = (t: { schema: string; name: string }) =>
    `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`;
  const names = new Map<string, string>();
  for (const t of await listLoadTables(client, plan)) {
    const partition = t.root.schema !== t.schema || t.root.name !== t.name;
    if (partition && supportsPartitionedPublication(major)) names.set(`${t.root.schema}.${t.root.name}`, q(t.root));
    else names.set(`${t.schema}.${t.name}`, `ONLY ${q(t)}`);
  }
  return names;
}

/**
 * Drops the DDL capture (event triggers first, so none fires while its functions go), the slot
 * (waiting for its walsender to let go) and the publication; absent ones are fine.
 */
export async function dropReplication(
  source: Endpoint,
  database: string,
  slot: string | null,
  publication: string | null,
  migration?: string,
): Promise<string[]> {
  return withConnection(source, { database, writable: true }, async ({ client }) => {
    const dropped: string[] = migration ? await dropDdlCapture(client, migration, database) : [];
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
      await client.query(`${ownDdl(false)}; DROP PUBLICATION ${client.escapeIdentifier(publication)}`);
      dropped.push(`publication ${publication}`);
    }
    return dropped;
  });
}
