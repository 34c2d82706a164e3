/** Objects on the source that the full load or logical decoding does not carry as they are. */
import { displayName } from '../../plan/selection';
import * as inspect from '../inspect';
import { finding, listNames, listStatements, sqlIdent, type Check } from './check';
import type { DatabaseContext } from './context';

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    // The full load copies large objects; pgoutput never decodes pg_largeobject, so later changes stay behind.
    id: 'source.large_objects',
    scope: 'source',
    run: async ({ largeObjects, database, cdc }) => {
      const los = await largeObjects();
      if (los === 0) return finding('pass', 'no large objects');
      if (!cdc) return finding('pass', `${los} large objects in ${database}, copied by the full load`);
      return finding(
        'warn',
        `${los} large objects in ${database}: copied by the full load; change capture does not follow large ` +
          'objects: those created (lo_create) or unlinked (lo_unlink) meanwhile are brought level at the ' +
          'switchover while the source is fenced, but one written in place (lo_put, lo_write, lo_truncate) after ' +
          'the full load keeps its old contents on the target',
        'keep the application from writing into existing large objects during the migration (or store the data ' +
          'in bytea columns); switchover.verify: checksum compares their contents and fails the switchover if any differ',
      );
    },
  },
  {
    // pg_dump writes such a view as CREATE VIEW v AS SELECT ... FROM v: pg_restore fails on it.
    id: 'source.self_referencing_views',
    scope: 'source',
    run: async ({ source, schemas, scope }) => {
      const { excluded } = await scope();
      const left = new Set(excluded.map((t) => `${t.schema}.${t.name}`));
      const views = (await inspect.selfReferencingViews(source.client, schemas)).filter(
        (v) => !left.has(`${v.schema}.${v.name}`),
      );
      if (views.length === 0) return finding('pass', 'no view reads itself');
      return finding(
        'fail',
        `views that read themselves: ${listNames(views.map(displayName))}; reading them fails (infinite recursion) and pg_dump ` +
          'writes them as a CREATE VIEW of a relation that does not exist yet, so the schema step could not restore them',
        listStatements(
          views.map((v) => `DROP VIEW ${sqlIdent(v.schema)}.${sqlIdent(v.name)};`),
          'views',
        ) +
          ' (or CREATE OR REPLACE VIEW each with a definition that does not read itself, or leave them out with exclude.tables)',
      );
    },
  },
  {
    id: 'source.c_functions',
    scope: 'source',
    run: async ({ source, schemas }) => {
      const cfuncs = await inspect.cFunctions(source.client, schemas);
      return finding(
        cfuncs.length > 0 ? 'warn' : 'pass',
        cfuncs.length > 0
          ? `C-language functions outside extensions: ${listNames(cfuncs)}; their shared library must exist on the target`
          : 'no C-language functions outside extensions',
        'install the same shared libraries on the target server, or exclude the schema holding them',
      );
    },
  },
  {
    // The apply runs with session_replication_role = replica: exactly the triggers enabled ALWAYS or REPLICA fire.
    id: 'source.replica_triggers',
    scope: 'source',
    run: async ({ source, selected, cdc }) => {
      const triggers = await inspect.replicaTriggers(source.client, selected);
      if (triggers.length === 0)
        return finding('pass', 'no trigger on the selected tables is enabled ALWAYS or REPLICA');
      const labels = triggers.map(
        (t) =>
          `${displayName({ schema: t.schema, name: t.table })} ${t.sqlName} (ENABLE ${t.enabled === 'A' ? 'ALWAYS' : 'REPLICA'})`,
      );
      return finding(
        cdc ? 'fail' : 'warn',
        cdc
          ? `${triggers.length} triggers on selected tables fire while changes are applied: ${listNames(labels)}; they ` +
              'are restored on the target and fire there under session_replication_role = replica, so their effect ' +
              'would be applied twice (the source already applied it, and its result arrives as a change)'
          : `${triggers.length} triggers on selected tables are enabled ALWAYS or REPLICA: ${listNames(labels)}; ` +
              'they are restored so on the target, where they also fire in replica sessions',
        listStatements(
          triggers.map((t) => `ALTER TABLE ${t.sqlTable} ENABLE TRIGGER ${t.sqlName};`),
          'triggers',
        ) + ' (back to firing for the origin only; set them back after the switchover if the target needs them so)',
      );
    },
  },
  {
    // node-postgres asks for UTF8; a SQL_ASCII server sends bytes unconverted, and only some types take them back.
    id: 'source.encoding',
    scope: 'source',
    run: async (ctx) => {
      const { encoding } = await ctx.databaseFacts();
      if (encoding !== 'SQL_ASCII') return finding('pass', `${ctx.database} is ${encoding}`);
      if (!ctx.cdc) return finding('pass', `${ctx.database} is SQL_ASCII; the full load copies its bytes as they are`);
      const columns = await inspect.otherTextColumns(
        ctx.source.client,
        ctx.selected.filter((t) => t.kind === 'table'),
      );
      return finding(
        'warn',
        `${ctx.database} is SQL_ASCII: change capture carries non-ASCII bytes only in text, varchar, char and name ` +
          'columns; elsewhere the apply stops at the first such value and names the column' +
          (columns.length
            ? `; columns that may hold them: ${listNames(columns.map((c) => `${c.sqlTable}.${c.sqlColumn} (${c.type})`))}`
            : ''),
        (columns.length
          ? listStatements(
              columns.map((c) => `SELECT count(*) FROM ${c.sqlTable} WHERE ${c.sqlColumn}::text ~ '[\\x80-\\xff]';`),
              'columns',
            ) + ' (a count above 0: that column holds bytes change capture cannot carry). '
          : '') + 'If such values change during the migration: use mode full, or convert the database to UTF8 first',
      );
    },
  },
];
