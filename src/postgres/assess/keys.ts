/** What change capture needs of each selected table: a replica identity, and WAL (not unlogged). */
import { displayName } from '../../plan/selection';
import type { TableFacts } from '../inspect';
import { finding, listNames, listStatements, type Check } from './check';
import type { DatabaseContext } from './context';

/** A selected leaf table that has no replica identity the server would use, and the statement that gives it one. */
interface MissingIdentity {
  table: TableFacts;
  label: string;
  fix: string;
  /** False when the table has a key of its own (NOTHING over a key, a deferrable key): only change capture minds. */
  keyless: boolean;
}

/**
 * What logical replication would use as the table's replica identity, by PostgreSQL's rules:
 * DEFAULT means an immediate primary key (a DEFERRABLE one is ignored), USING INDEX an index
 * that still qualifies, NOTHING nothing. A publication over a table without one makes the
 * application's UPDATE and DELETE fail on the source.
 */
function missingIdentity(t: TableFacts): MissingIdentity | null {
  const alter = (clause: string) => `ALTER TABLE ${t.sqlName} ${clause};`;
  const usable = alter(t.candidateIndex ? `REPLICA IDENTITY USING INDEX ${t.candidateIndex}` : 'REPLICA IDENTITY FULL');
  let why: string | null;
  let fix = usable;
  let keyless = true;
  switch (t.replicaIdentity) {
    case 'f':
      return null;
    case 'i':
      if (t.hasIdentityIndex) return null;
      why = 'its replica identity index is gone';
      break;
    case 'n':
      why = 'REPLICA IDENTITY NOTHING';
      if (t.hasPrimaryKey) fix = alter('REPLICA IDENTITY DEFAULT');
      keyless = !t.hasPrimaryKey && !t.deferrableKey;
      break;
    default:
      if (t.hasPrimaryKey) return null;
      why = t.deferrableKey ? `deferrable primary key ${t.deferrableKey}` : null;
      keyless = !t.deferrableKey;
  }
  const notes = [t.isPartition ? `partition of ${displayName(t.root)}` : null, why].filter(Boolean);
  return { table: t, label: displayName(t) + (notes.length ? ` (${notes.join(', ')})` : ''), fix, keyless };
}

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    // Every leaf is checked, partitions included: each is published (and written) as itself.
    id: 'source.primary_keys',
    scope: 'source',
    run: ({ selected, cdc }) => {
      const leafTables = selected.filter((t) => t.kind === 'table');
      const missing = leafTables
        .map(missingIdentity)
        .filter((m): m is MissingIdentity => m !== null && (cdc || m.keyless));
      const fullIdentity = leafTables.filter((t) => t.replicaIdentity === 'f' && !t.hasPrimaryKey);
      if (missing.length > 0) {
        const deferrable = missing.some((m) => m.table.deferrableKey && !m.table.hasPrimaryKey);
        return finding(
          cdc ? 'fail' : 'warn',
          `${missing.length} selected tables have no primary key or replica identity index: ${listNames(missing.map((m) => m.label))}` +
            (cdc
              ? '; UPDATE and DELETE on these tables would fail on the source as soon as the migration starts (its ' +
                'publication makes PostgreSQL refuse them: "cannot update table ... because it does not have a replica ' +
                'identity and publishes updates"), and their changes could not be applied'
              : '; a retried copy of such a table cannot be made idempotent'),
          listStatements(missing.map((m) => m.fix)) +
            (deferrable
              ? ' Or make the deferrable keys NOT DEFERRABLE (drop the constraint and add it again without DEFERRABLE).'
              : '') +
            (cdc ? ' Or add a primary key, or exclude the tables from the plan.' : ''),
        );
      }
      if (fullIdentity.length > 0) {
        return finding(
          'warn',
          `${fullIdentity.length} tables replicate with REPLICA IDENTITY FULL (no key): ` +
            `${listNames(fullIdentity.map(displayName))}; each UPDATE/DELETE scans the target table, and if ` +
            `the snapshot is lost during the load each is copied again whole in a snapshot of its own (a temporary ` +
            `replication slot: one more slot and walsender on the source for the copy)`,
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
