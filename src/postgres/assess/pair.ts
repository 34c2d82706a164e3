/** Source and target together: versions, extensions, encoding and collation. */
import * as inspect from '../inspect';
import { finding, listNames, type Check } from './check';
import type { DatabaseContext, ServerContext } from './context';

/** A database's default collation as compared between source and target: an ICU or builtin locale overrides datcollate. */
function collation(d: inspect.DatabaseFacts): string {
  return d.localeProvider === 'libc'
    ? `${d.collate}/${d.ctype}`
    : `${d.localeProvider} ${d.locale ?? ''} (${d.collate}/${d.ctype})`;
}

export function localeOptions(d: inspect.DatabaseFacts): string {
  if (d.localeProvider === 'icu') return ` LOCALE_PROVIDER icu ICU_LOCALE '${d.locale}'`;
  if (d.localeProvider === 'builtin') return ` LOCALE_PROVIDER builtin BUILTIN_LOCALE '${d.locale}'`;
  return '';
}

export const databaseChecks: Check<DatabaseContext>[] = [
  {
    // Two references that lead to one database: the migration would copy it onto itself.
    id: 'pair.distinct',
    scope: 'pair',
    run: async (ctx) => {
      if (!(await ctx.target()).exists) return null;
      const { host, port } = ctx.source.facts;
      if (await ctx.sameDatabase()) {
        return finding(
          'fail',
          `the source and the target are the same database: ${ctx.database} on ${host}:${port} (source.url and ` +
            'target.url, with the databases of the plan, lead to one database)',
          'point target.url at the server and database to migrate to (another database of the same server will do)',
        );
      }
      return finding('pass', `the target database ${ctx.targetDatabase} is not the source database`);
    },
  },
  {
    id: 'pair.encoding',
    scope: 'pair',
    run: async (ctx) => {
      const t = await ctx.target();
      if (!t.exists) return null;
      const db = await ctx.databaseFacts();
      const tdb = t.database;
      if (tdb.encoding !== db.encoding) {
        return finding(
          'fail',
          `source ${ctx.database} is ${db.encoding}, target ${ctx.targetDatabase} is ${tdb.encoding}`,
          `recreate the target database with ENCODING '${db.encoding}' TEMPLATE template0`,
        );
      }
      if (collation(tdb) !== collation(db)) {
        return finding(
          'warn',
          `encoding ${db.encoding} on both; collation differs: source ${collation(db)}, target ` +
            `${collation(tdb)} (text sorts and unique indexes on text may behave differently)`,
          `recreate the target database with LC_COLLATE '${db.collate}' LC_CTYPE ` +
            `'${db.ctype}'${localeOptions(db)} TEMPLATE template0, unless the change is intended`,
        );
      }
      return finding(
        'pass',
        `${db.encoding}, collation ${db.localeProvider === 'libc' ? db.collate : collation(db)} on both`,
      );
    },
  },
  {
    id: 'pair.extensions',
    scope: 'pair',
    run: async (ctx) => {
      const source = await ctx.extensions();
      const { available } = await ctx.target();
      const missing = source.filter((e) => !available.has(e.name));
      const otherVersion = source.filter((e) => available.has(e.name) && !available.get(e.name)!.has(e.version));
      if (missing.length > 0) {
        return finding(
          'fail',
          `extensions used on the source but not available on the target: ${listNames(missing.map((e) => `${e.name} ${e.version}`))}`,
          `install their packages on the target server (so pg_available_extensions lists them), or drop them on the source if unused`,
        );
      }
      if (otherVersion.length > 0) {
        return finding(
          'warn',
          `available on the target in other versions: ` +
            `${listNames(otherVersion.map((e) => `${e.name} ${e.version} -> ${[...available.get(e.name)!].sort().pop()}`))}`,
          'the target gets its own default version; run ALTER EXTENSION ... UPDATE after switchover if you need parity',
        );
      }
      return finding(
        'pass',
        source.length
          ? `all ${source.length} extensions available: ${listNames(source.map((e) => e.name))}`
          : 'no extensions besides plpgsql',
      );
    },
  },
];

export const serverChecks: Check<ServerContext>[] = [
  {
    id: 'pair.versions',
    scope: 'pair',
    run: ({ sourceFacts: sf, targetFacts: tf }) =>
      finding(
        tf.major >= sf.major ? 'pass' : 'fail',
        `source ${sf.major}, target ${tf.major}${tf.major >= sf.major ? '' : ': moving to an older major is not supported'}`,
        `use a target of PostgreSQL ${sf.major} or later`,
      ),
  },
];
