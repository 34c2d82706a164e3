/** What change capture needs of each selected table: a replica identity, and WAL (not unlogged). */
import { displayName } from '../../plan/selection';
import { LIST_LIMIT, finding, listNames, type Check } from './check';
import type { DatabaseContext } from './context';

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    // Logical replication of UPDATE/DELETE needs a replica identity.
    id: 'source.primary_keys',
    scope: 'source',
    run: ({ selected, cdc }) => {
      const leafTables = selected.filter((t) => t.kind === 'table');
      const noKey = leafTables.filter(
        (t) => t.replicaIdentity === 'n' || (t.replicaIdentity === 'd' && !t.hasPrimaryKey),
      );
      const fullIdentity = leafTables.filter((t) => t.replicaIdentity === 'f' && !t.hasPrimaryKey);
      if (noKey.length > 0) {
        const fixes = noKey
          .slice(0, LIST_LIMIT)
          .map((t) =>
            t.candidateIndex
              ? `ALTER TABLE ${displayName(t)} REPLICA IDENTITY USING INDEX ${t.candidateIndex};`
              : `ALTER TABLE ${displayName(t)} ADD PRIMARY KEY (<columns>);  -- or REPLICA IDENTITY FULL`,
          );
        return finding(
          cdc ? 'fail' : 'warn',
          `${noKey.length} selected tables have no primary key or replica identity index: ${listNames(noKey.map(displayName))}` +
            (cdc
              ? '; their UPDATE and DELETE cannot be replicated'
              : '; a retried copy of such a table cannot be made idempotent'),
          fixes.join(' ') + (cdc ? ' Or exclude the tables from the plan.' : ''),
        );
      }
      if (fullIdentity.length > 0) {
        return finding(
          'warn',
          `${fullIdentity.length} tables replicate with REPLICA IDENTITY FULL (no key): ` +
            `${listNames(fullIdentity.map(displayName))}; each UPDATE/DELETE scans the target table, and if ` +
            `the snapshot is lost during the load their changes cannot be replayed idempotently (the switchover's verification would then refuse)`,
          'add a primary key, or REPLICA IDENTITY USING INDEX on a unique NOT NULL index',
        );
      }
      return finding('pass', `all ${leafTables.length} selected tables have a primary key or replica identity index`);
    },
  },
  {
    id: 'source.unlogged_tables',
    scope: 'source',
    run: ({ selected, cdc }) => {
      const unlogged = selected.filter((t) => t.unlogged).map(displayName);
      if (unlogged.length === 0) return finding('pass', 'no unlogged tables selected');
      return finding(
        cdc ? 'fail' : 'warn',
        `unlogged tables: ${listNames(unlogged)}` +
          (cdc
            ? ' (their changes are not written to the WAL, so they cannot be captured)'
            : ' (copied once; an unlogged table is emptied by a crash)'),
        `ALTER TABLE <table> SET LOGGED; or exclude them in the plan's exclude.tables`,
      );
    },
  },
];
