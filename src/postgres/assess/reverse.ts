/**
 * switchover.reverse: what the way back needs, checked before anything is created. At the
 * switchover the target gets a publication and a logical slot (wal_level logical, a free slot
 * and walsender, the REPLICATION attribute), and the source takes the reverse stream's apply
 * (session_replication_role, as the target does for the forward one).
 */
import { reverseReplicationNames } from '../../model/names';
import * as inspect from '../inspect';
import { finding, listNames, sqlIdent, type Check } from './check';
import type { ServerContext } from './context';

export const serverChecks: Check<ServerContext>[] = [
  {
    id: 'target.reverse_wal_level',
    scope: 'target',
    run: ({ plan, targetFacts }) => {
      if (!plan.switchover.reverse) return null;
      const wal = targetFacts.settings.wal_level ?? 'unknown';
      return finding(
        wal === 'logical' ? 'pass' : 'fail',
        `wal_level = ${wal} on the target` +
          (wal === 'logical' ? '' : ': switchover.reverse needs a logical slot on the target to capture its writes'),
        "on the target: ALTER SYSTEM SET wal_level = 'logical'; then restart it (managed services: the logical " +
          'replication parameter), or remove switchover.reverse from the plan',
      );
    },
  },
  {
    id: 'target.reverse_capacity',
    scope: 'target',
    run: async ({ plan, target, targetFacts, databases }) => {
      if (!plan.switchover.reverse) return null;
      const usage = await inspect.replicationUsage(target.client);
      const slots = Number(targetFacts.settings.max_replication_slots ?? 0);
      const senders = Number(targetFacts.settings.max_wal_senders ?? 0);
      const taken = databases
        .map((d) => reverseReplicationNames(plan.name, d).slot)
        .filter((s) => usage.slots.some((x) => x.name === s));
      const problems: string[] = [];
      const fixes: string[] = [];
      if (slots - usage.slots.length < databases.length) {
        problems.push(`${usage.slots.length} of max_replication_slots = ${slots} in use, ${databases.length} needed`);
        fixes.push(`ALTER SYSTEM SET max_replication_slots = ${usage.slots.length + databases.length + 2};`);
      }
      if (senders - usage.walSenders < databases.length) {
        problems.push(`${usage.walSenders} of max_wal_senders = ${senders} in use, ${databases.length} needed`);
        fixes.push(`ALTER SYSTEM SET max_wal_senders = ${usage.walSenders + databases.length + 2};`);
      }
      if (taken.length) {
        problems.push(`replication slots ${listNames(taken)} already exist on the target`);
        fixes.push(
          `if no migration named ${plan.name} is running: ${taken.map((s) => `SELECT pg_drop_replication_slot('${s}');`).join(' ')}`,
        );
      }
      if (problems.length === 0)
        return finding('pass', `the target has a free slot and walsender for each of ${databases.length} databases`);
      return finding(
        'fail',
        `on the target, for switchover.reverse: ${problems.join('; ')}`,
        `${fixes.join(' ')} on the target (a restart for the settings), or remove switchover.reverse`,
      );
    },
  },
  {
    // CREATE PUBLICATION ... FOR TABLE needs the tables' owner: the target role, unless roles: true gave them to the source's owners.
    id: 'target.reverse_rights',
    scope: 'target',
    run: async ({ plan, target }) => {
      if (!plan.switchover.reverse) return null;
      const { rows } = await target.client.query<{ rolsuper: boolean; rolreplication: boolean }>(
        `SELECT rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user`,
      );
      const user = target.facts.user;
      const { rolsuper, rolreplication } = rows[0]!;
      if (rolsuper) return finding('pass', `${user} is a superuser on the target`);
      const observed: string[] = [];
      const fixes: string[] = [];
      if (!rolreplication) {
        observed.push(`${user} has no REPLICATION attribute on the target: the reverse stream could not read its slot`);
        fixes.push(`ALTER ROLE ${sqlIdent(user)} REPLICATION;`);
      }
      if (plan.roles) {
        observed.push(
          `with roles: true the target's tables keep the source's owners, and ${user} (no superuser) could not ` +
            'create the reverse publication over them',
        );
        fixes.push('run the migration as a superuser on the target, or set roles: false');
      }
      if (observed.length === 0)
        return finding('pass', `${user} has REPLICATION and will own the tables it publishes on the target`);
      return finding('fail', observed.join('; '), `${fixes.join(' ')} (or remove switchover.reverse)`);
    },
  },
  {
    // The reverse apply runs as the forward one does: SET LOCAL session_replication_role = replica, on the source.
    id: 'source.reverse_apply_rights',
    scope: 'source',
    run: async ({ plan, source, sourceFacts }) => {
      if (!plan.switchover.reverse) return null;
      const user = source.facts.user;
      const right = await inspect.maySetParameter(source.client, 'session_replication_role', sourceFacts.major);
      if (right.allowed)
        return finding(
          'pass',
          `${user} may SET session_replication_role on the source (${right.via === 'superuser' ? 'superuser' : 'granted'})`,
        );
      return finding(
        'fail',
        `${user} may not SET session_replication_role on the source: the reverse stream could not apply the ` +
          "target's changes there without firing the source's triggers a second time",
        sourceFacts.major >= 15
          ? `GRANT SET ON PARAMETER session_replication_role TO ${sqlIdent(user)};  (on the source, as a superuser), or remove switchover.reverse`
          : 'run the migration as a superuser on the source (PostgreSQL before 15 has no GRANT SET ON PARAMETER), or remove switchover.reverse',
      );
    },
  },
];
