/** The plan against what the source holds: selection, mapping, dependencies. */
import { finding, formatBytes, listNames, type Check } from './check';
import type { DatabaseContext } from './context';

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    id: 'plan.selection',
    scope: 'plan',
    run: ({ database, tables, selected, unmatched, selectedBytes }) => {
      if (selected.length === 0) {
        return finding(
          'fail',
          `no table of database ${database} matches the plan's include/exclude (${tables.length} tables exist)`,
          'widen include or narrow exclude; `pgtransit plan check` shows the patterns',
        );
      }
      if (unmatched.length > 0) {
        return finding(
          'warn',
          `${selected.length} tables selected (${formatBytes(selectedBytes)}); patterns that match nothing: ` +
            `${unmatched.map((u) => `${u.path} = "${u.pattern}"`).join(', ')}`,
          'correct or remove the patterns that match nothing (a typo here silently leaves data behind)',
        );
      }
      return finding('pass', `${selected.length} tables selected (${formatBytes(selectedBytes)})`);
    },
  },
  {
    id: 'plan.mapping',
    scope: 'plan',
    run: ({ plan, selected }) => {
      const selectedKeys = new Set(selected.map((t) => `${t.schema}.${t.name}`));
      const stray = Object.keys(plan.mapping?.tables ?? {}).filter((k) => !selectedKeys.has(k));
      return stray.length > 0
        ? finding(
            'warn',
            `mapping.tables names tables that are not selected: ${listNames(stray)}`,
            'remove those mappings or include the tables',
          )
        : null;
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
