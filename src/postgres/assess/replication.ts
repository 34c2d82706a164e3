/** The source's logical replication: settings, capacity, the migration's own names, long transactions. */
import { ddlCaptureNames, replicationNames } from '../../model/names';
import { captureFacts } from '../cdc/ddl-capture';
import { supportsLogicalMessages } from '../versions';
import * as inspect from '../inspect';
import { finding, listNames, type Check } from './check';
import type { DatabaseContext, ServerContext } from './context';

/** Transactions older than this delay the creation of a logical slot. */
const LONG_TRANSACTION_SECONDS = 300;

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    id: 'source.replication_names',
    scope: 'source',
    run: async ({ cdc, plan, database, source }) => {
      if (!cdc) return null;
      const { slot, publication } = replicationNames(plan.name, database);
      const usage = await inspect.replicationUsage(source.client);
      const slotTaken = usage.slots.some((x) => x.name === slot);
      const pubTaken = await inspect.publicationExists(source.client, publication);
      return finding(
        slotTaken || pubTaken ? 'fail' : 'pass',
        slotTaken || pubTaken
          ? `${[slotTaken ? `replication slot ${slot}` : '', pubTaken ? `publication ${publication}` : ''].filter(Boolean).join(' and ')} ` +
              `already exist${slotTaken && pubTaken ? '' : 's'}`
          : `slot and publication name ${slot} are free`,
        `if no migration named ${plan.name} is running: SELECT pg_drop_replication_slot('${slot}'); DROP ` +
          `PUBLICATION ${publication}; or give the plan another name`,
      );
    },
  },
  {
    id: 'source.ddl_capture',
    scope: 'source',
    run: async ({ cdc, plan, database, source }) => {
      if (!cdc) return null;
      if (plan.cdc.ddl === 'stop')
        return finding(
          'pass',
          'cdc.ddl: stop: nothing installed on the source; a column change there stops that table as schema drift until it is repeated on the target',
        );
      const n = ddlCaptureNames(plan.name, database);
      const { major, superuser, taken } = await captureFacts(source.client, plan.name, database);
      // Unset: replicate where the source allows it; otherwise the capture is not installed and DDL stops as drift.
      const asked = plan.cdc.ddl === 'replicate';
      const fallback = 'cdc.ddl is unset, so DDL on the source will stop that table as schema drift (as cdc.ddl: stop)';
      const installs =
        `schema ${n.schema} (functions on_end, on_drop, emit, dropped, follow) and event triggers ` +
        `${n.endTrigger} (ddl_command_end), ${n.dropTrigger} (sql_drop)`;
      if (!supportsLogicalMessages(major))
        return finding(
          asked ? 'fail' : 'warn',
          `cdc.ddl: replicate needs logical messages in the change stream (pgoutput 14+); the source is ${major}` +
            (asked ? '' : `; ${fallback}`),
          'set cdc.ddl: stop in the plan (a column change on the source then stops that table until it is repeated on the target)',
        );
      if (!superuser)
        return finding(
          asked ? 'fail' : 'warn',
          `cdc.ddl: replicate installs ${installs} on the source; event triggers need a superuser and ${await currentUser(source.client)} is not one` +
            (asked ? '' : `; ${fallback}`),
          `run the migration as a superuser of the source (ALTER ROLE ... SUPERUSER), or set cdc.ddl: stop in the plan`,
        );
      if (taken)
        return finding(
          'fail',
          `${n.schema} or its event triggers already exist on the source`,
          `if no migration named ${plan.name} is running: DROP EVENT TRIGGER ${n.endTrigger}; ` +
            `DROP EVENT TRIGGER ${n.dropTrigger}; DROP SCHEMA ${n.schema} CASCADE`,
        );
      return finding(
        'pass',
        `cdc.ddl: replicate: installs ${installs} on the source at prepare; they are removed when the migration completes or is cancelled`,
      );
    },
  },
];

async function currentUser(client: { query<R>(sql: string): Promise<{ rows: R[] }> }): Promise<string> {
  return (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u;
}

export const serverChecks: Check<ServerContext>[] = [
  {
    id: 'source.wal_level',
    scope: 'source',
    run: ({ cdc, sourceFacts }) => {
      const wal = sourceFacts.settings.wal_level ?? 'unknown';
      return finding(
        wal === 'logical' ? 'pass' : cdc ? 'fail' : 'warn',
        `wal_level = ${wal}` + (cdc || wal === 'logical' ? '' : ' (mode full does not need logical)'),
        "ALTER SYSTEM SET wal_level = 'logical'; then restart the source (on managed services: the logical " +
          'replication parameter, e.g. rds.logical_replication = 1)',
      );
    },
  },
  {
    id: 'source.replication_slots',
    scope: 'source',
    run: async ({ cdc, sourceFacts, databases, replicationUsage }) => {
      const usage = await replicationUsage();
      const maxSlots = Number(sourceFacts.settings.max_replication_slots ?? 0);
      const freeSlots = maxSlots - usage.slots.length;
      if (!cdc) return finding('pass', `mode full: no slot needed (${freeSlots} free)`);
      return finding(
        freeSlots >= databases.length ? 'pass' : 'fail',
        `${usage.slots.length} of max_replication_slots = ${maxSlots} in use; ${databases.length} needed`,
        `ALTER SYSTEM SET max_replication_slots = ${usage.slots.length + databases.length + 2}; then restart, ` +
          `or drop unused slots (SELECT slot_name, active FROM pg_replication_slots)`,
      );
    },
  },
  {
    id: 'source.wal_senders',
    scope: 'source',
    run: async ({ cdc, sourceFacts, databases, replicationUsage }) => {
      if (!cdc) return null;
      const usage = await replicationUsage();
      const maxSenders = Number(sourceFacts.settings.max_wal_senders ?? 0);
      return finding(
        maxSenders - usage.walSenders >= databases.length ? 'pass' : 'fail',
        `${usage.walSenders} of max_wal_senders = ${maxSenders} in use; ${databases.length} needed`,
        `ALTER SYSTEM SET max_wal_senders = ${usage.walSenders + databases.length + 2}; then restart`,
      );
    },
  },
  {
    id: 'source.max_slot_wal_keep_size',
    scope: 'source',
    run: ({ cdc, sourceFacts: sf }) => {
      if (!cdc) return null;
      const keep = sf.settings.max_slot_wal_keep_size;
      if (keep === undefined) {
        return finding(
          'warn',
          `PostgreSQL ${sf.major} has no max_slot_wal_keep_size: the slot retains WAL without bound if the apply stalls`,
          "watch the slot's retained WAL (pgtransit status) and the source's disk during the migration",
        );
      }
      if (Number(keep) < 0) {
        return finding(
          'warn',
          'max_slot_wal_keep_size = -1 (unlimited): a stalled migration keeps WAL until the disk fills',
          "ALTER SYSTEM SET max_slot_wal_keep_size = '<GB you can spare>'; SELECT pg_reload_conf();  (the " +
            'slot is invalidated beyond it, and the migration must restart)',
        );
      }
      const mb = Number(keep);
      return finding(
        mb < 1024 ? 'warn' : 'pass',
        `max_slot_wal_keep_size = ${mb} MB` + (mb < 1024 ? ': a short stall could invalidate the slot' : ''),
        'raise it to the WAL the source produces during the full load (several GB is common)',
      );
    },
  },
  {
    id: 'source.long_transactions',
    scope: 'source',
    run: async ({ cdc, source, databases }) => {
      if (!cdc) return null;
      const long = (await inspect.longTransactions(source.client, LONG_TRANSACTION_SECONDS)).filter(
        (x) => x.database === null || databases.includes(x.database) || x.prepared,
      );
      return finding(
        long.length ? 'warn' : 'pass',
        long.length
          ? `open transactions older than ${LONG_TRANSACTION_SECONDS / 60} min would delay slot creation: ` +
              listNames(long.map(describeTransaction))
          : `no transaction open longer than ${LONG_TRANSACTION_SECONDS / 60} min`,
        'let them finish, or end them (SELECT pg_terminate_backend(pid); COMMIT PREPARED / ROLLBACK PREPARED) before starting',
      );
    },
  },
];

function describeTransaction(x: inspect.LongTransaction): string {
  if (x.prepared) return `prepared xact in ${x.database} (${x.ageSeconds}s)`;
  return `pid ${x.pid} ${x.user ?? ''}@${x.database ?? ''} ${x.state ?? ''} ${x.ageSeconds}s`;
}
