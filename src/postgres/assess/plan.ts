/** The plan against what the source holds: selection, mapping, dependencies. */
import { displayName, targetName } from '../../plan/selection';
import type { TableFacts } from '../inspect';
import { finding, formatBytes, listNames, listStatements, type Check } from './check';
import type { DatabaseContext } from './context';

/**
 * What the operator's patterns say that the selection does not do: patterns that match
 * nothing, and partitions named on their own (a partition follows its root).
 */
function selectionNotes(ctx: DatabaseContext): { observed: string; fix: string }[] {
  const notes: { observed: string; fix: string }[] = [];
  const partition = (p: TableFacts) => `${displayName(p)} (partition of ${displayName(p.root)})`;
  const sqlName = new Map(ctx.tables.map((t) => [`${t.schema}.${t.name}`, t.sqlName]));
  const sql = (t: { schema: string; name: string }) => sqlName.get(`${t.schema}.${t.name}`) ?? displayName(t);
  if (ctx.unmatched.length > 0) {
    notes.push({
      observed: `patterns that match nothing: ${ctx.unmatched.map((u) => `${u.path} = "${u.pattern}"`).join(', ')}`,
      fix: 'correct or remove the patterns that match nothing (a typo here silently leaves data behind).',
    });
  }
  if (ctx.excludedPartitions.length > 0) {
    notes.push({
      observed:
        "the plan's exclude names partitions, which follow their root: " +
        listNames(ctx.excludedPartitions.map((p) => `${partition(p)} is migrated with ${displayName(p.root)}`)),
      fix:
        'A partition is migrated with its root; to leave one out, detach it before the migration: ' +
        listStatements(
          ctx.excludedPartitions.map((p) => `ALTER TABLE ${sql(p.root)} DETACH PARTITION ${p.sqlName};`),
          'partitions',
        ) +
        ' Or exclude the root, or remove the pattern.',
    });
  }
  if (ctx.strandedPartitions.length > 0) {
    const roots = [...new Set(ctx.strandedPartitions.map((p) => displayName(p.root)))];
    notes.push({
      observed:
        'include.tables names partitions on their own: ' +
        listNames(ctx.strandedPartitions.map((p) => `${partition(p)} follows its root, which is not selected`)),
      fix: `include ${listNames(roots)} (include.tables) to migrate the partitions, which are migrated with their root.`,
    });
  }
  return notes;
}

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    id: 'plan.selection',
    scope: 'plan',
    run: async (ctx) => {
      const { database, tables, selected, unmatched, selectedBytes } = ctx;
      const notes = selectionNotes(ctx);
      if (selected.length === 0) {
        const los = await ctx.largeObjects();
        if (los > 0) {
          // The full load copies large objects with the database: a database of nothing else is not empty.
          return finding(
            notes.length ? 'warn' : 'pass',
            [`no tables; ${los} large objects`, ...notes.map((n) => n.observed)].join('; '),
            notes.map((n) => n.fix).join(' '),
          );
        }
        return finding(
          'fail',
          [
            `no table of database ${database} matches the plan's include/exclude (${tables.length} tables exist)`,
            ...notes.map((n) => n.observed),
          ].join('; '),
          [
            ...notes.map((n) => n.fix),
            'widen include or narrow exclude; `pgtransit plan check` shows the patterns',
          ].join(' '),
        );
      }
      const head = `${selected.length} tables selected (${formatBytes(selectedBytes)})`;
      if (notes.length > 0 || unmatched.length > 0) {
        return finding('warn', [head, ...notes.map((n) => n.observed)].join('; '), notes.map((n) => n.fix).join(' '));
      }
      return finding('pass', head);
    },
  },
  {
    id: 'plan.mapping',
    scope: 'plan',
    run: ({ plan, selected }) => {
      const selectedKeys = new Set(selected.map((t) => `${t.schema}.${t.name}`));
      const stray = Object.keys(plan.mapping?.tables ?? {}).filter((k) => !selectedKeys.has(k));
      const strayNote = `mapping.tables names tables that are not selected: ${listNames(stray)}`;
      const strayFix = 'remove those mappings or include the tables';
      // Two selected tables under one name on the target: the second's restore fails, or its rows join the first's.
      const byTarget = new Map<string, string[]>();
      for (const t of selected) {
        const to = displayName(targetName(plan, t));
        byTarget.set(to, [...(byTarget.get(to) ?? []), displayName(t)]);
      }
      const shared = [...byTarget].filter(([, from]) => from.length > 1);
      if (shared.length > 0) {
        return finding(
          'fail',
          [
            `selected tables would share a name on the target: ` +
              listNames(shared.map(([to, from]) => `${from.sort().join(' and ')} would both be ${to} on the target`)),
            ...(stray.length ? [strayNote] : []),
          ].join('; '),
          'map them to names no other selected table has (mapping.tables), or exclude one of them' +
            (stray.length ? `; ${strayFix}` : ''),
        );
      }
      return stray.length > 0 ? finding('warn', strayNote, strayFix) : null;
    },
  },
  {
    // Objects kept that need something the plan leaves out would fail at restore (or break silently).
    id: 'plan.dependencies',
    scope: 'plan',
    run: async (ctx) => {
      const { conflicts } = await ctx.scope();
      return finding(
        conflicts.length ? 'fail' : 'pass',
        conflicts.length
          ? `objects that would be migrated depend on objects the plan leaves out: ${listNames(conflicts)}`
          : 'nothing selected depends on something left out',
        'exclude the dependent objects too (exclude.tables also matches views and sequences), or include what they need',
      );
    },
  },
];
