/** The source role's rights: reading what is selected, creating the publication, replicating. */
import { displayName } from '../../plan/selection';
import * as inspect from '../inspect';
import { finding, listNames, sqlIdent, type Check } from './check';
import type { DatabaseContext, ServerContext } from './context';

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    id: 'source.select_privilege',
    scope: 'source',
    run: async ({ source, selected, schemas }) => {
      const user = source.facts.user;
      const noUsage = await inspect.schemasWithoutUsage(source.client, schemas);
      const noSelect = selected.filter((t) => !t.canSelect).map(displayName);
      const noSeqSelect = await inspect.sequencesWithoutSelect(source.client, schemas);
      // The full load and the switchover copy every large object of the database.
      const noLoSelect = await inspect.largeObjectsWithoutSelect(source.client);
      if (noUsage.length + noSelect.length + noSeqSelect.length + noLoSelect.length === 0)
        return finding(
          'pass',
          `${user} can read all ${selected.length} selected tables, their sequences and the database's large objects`,
        );
      const parts = [
        noUsage.length ? `no USAGE on schemas ${listNames(noUsage)}` : '',
        noSelect.length ? `no SELECT on tables ${listNames(noSelect)}` : '',
        noSeqSelect.length ? `no SELECT on sequences ${listNames(noSeqSelect)}` : '',
        noLoSelect.length
          ? `no SELECT on large objects: ${listNames(noLoSelect.map((o) => `${o.count} owned by ${o.owner}`))}`
          : '',
      ].filter(Boolean);
      const fixes = [
        noUsage.length + noSelect.length + noSeqSelect.length
          ? `GRANT USAGE ON SCHEMA <schema> TO ${user}; GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO ${user}; ` +
            `GRANT SELECT ON ALL SEQUENCES IN SCHEMA <schema> TO ${user}`
          : '',
        ...noLoSelect.map((o) =>
          o.superuser
            ? `GRANT SELECT ON LARGE OBJECT <oid> TO ${sqlIdent(user)}; for each large object of ${o.owner} (a superuser, ` +
              `whose membership is not to be granted), or ALTER LARGE OBJECT <oid> OWNER TO <the application's role>`
            : `GRANT ${sqlIdent(o.owner)} TO ${sqlIdent(user)}; (large objects have no default privileges: membership ` +
              'of their owner also covers the ones created later)',
        ),
      ].filter(Boolean);
      return finding('fail', `${user}: ${parts.join('; ')}`, fixes.join('; '));
    },
  },
  {
    // CREATE PUBLICATION ... FOR TABLE needs CREATE on the database and ownership of every published table.
    id: 'source.publication_privilege',
    scope: 'source',
    run: async (ctx) => {
      const user = ctx.source.facts.user;
      const srv = await ctx.serverFacts();
      const db = await ctx.databaseFacts();
      if (!ctx.cdc) return finding('pass', 'mode full: no publication is created');
      if (srv.superuser) return finding('pass', `${user} is a superuser`);
      const notOwned = ctx.selected.filter((t) => !t.owned).map(displayName);
      if (db.canCreate && notOwned.length === 0)
        return finding('pass', `${user} has CREATE on ${ctx.database} and owns the selected tables`);
      const parts = [
        !db.canCreate ? `no CREATE on database ${ctx.database}` : '',
        notOwned.length ? `does not own ${listNames(notOwned)}` : '',
      ].filter(Boolean);
      return finding(
        'fail',
        `${user}: ${parts.join('; ')} (CREATE PUBLICATION ... FOR TABLE needs both)`,
        `GRANT CREATE ON DATABASE ${ctx.database} TO ${user}; and make ${user} a member of the tables' owner ` +
          `(GRANT <owner> TO ${user}), or create the publication as the owner`,
      );
    },
  },
];

export const serverChecks: Check<ServerContext>[] = [
  {
    id: 'source.replication_privilege',
    scope: 'source',
    run: ({ cdc, sourceFacts: sf }) => {
      if (!cdc) return finding('pass', 'mode full: REPLICATION not needed');
      const canReplicate = sf.superuser || sf.replication || sf.providerReplicationRole !== null;
      return finding(
        canReplicate ? 'pass' : 'fail',
        `${sf.currentUser}: ` + replicationRight(sf),
        `ALTER ROLE ${sf.currentUser} REPLICATION; (on RDS: GRANT rds_replication TO ${sf.currentUser})`,
      );
    },
  },
];

function replicationRight(sf: inspect.ServerFacts): string {
  if (sf.superuser) return 'superuser';
  if (sf.replication) return 'REPLICATION';
  return sf.providerReplicationRole ? `member of ${sf.providerReplicationRole}` : 'neither REPLICATION nor superuser';
}
