/** Who answers on each side, which version, and the worker's pg_dump. */
import type { Connected } from '../connect';
import type * as inspect from '../inspect';
import { findTool } from '../tools';
import { MIN_SOURCE_MAJOR } from '../versions';
import { finding, type Check } from './check';
import type { ServerContext } from './context';

/** pgoutput sends TRUNCATE from this major on (10 decodes it to nothing). */
const PGOUTPUT_TRUNCATE_MAJOR = 11;

function connectionLine(c: Connected, f: inspect.ServerFacts): string {
  return `${c.facts.user}@${c.facts.host}:${c.facts.port}, PostgreSQL ${f.version}, TLS ${f.tls ? 'on' : 'off'} (sslmode ${c.facts.sslmode})`;
}

export const serverChecks: Check<ServerContext>[] = [
  {
    id: 'source.connection',
    scope: 'source',
    run: ({ source, sourceFacts }) => finding('pass', connectionLine(source, sourceFacts)),
  },
  {
    id: 'target.connection',
    scope: 'target',
    run: ({ target, targetFacts }) => finding('pass', connectionLine(target, targetFacts)),
  },
  {
    id: 'source.version',
    scope: 'source',
    run: ({ cdc, sourceFacts: sf }) => {
      if (sf.major < MIN_SOURCE_MAJOR) {
        return finding(
          'fail',
          `PostgreSQL ${sf.version}`,
          `pgtransit needs a source of PostgreSQL ${MIN_SOURCE_MAJOR} or later (logical decoding with pgoutput); upgrade the source first`,
        );
      }
      if (cdc && sf.major < PGOUTPUT_TRUNCATE_MAJOR) {
        return finding(
          'warn',
          `PostgreSQL ${sf.version}: pgoutput does not capture TRUNCATE before ${PGOUTPUT_TRUNCATE_MAJOR}, so a ` +
            'TRUNCATE of a selected table on the source during the migration would not reach the target (the ' +
            "switchover's verification would then refuse)",
          `upgrade the source to PostgreSQL ${PGOUTPUT_TRUNCATE_MAJOR} or later, or make sure nothing runs TRUNCATE ` +
            'on the selected tables until the switchover (DELETE is captured)',
        );
      }
      return finding('pass', `PostgreSQL ${sf.version}`);
    },
  },
  {
    id: 'worker.pg_dump',
    scope: 'worker',
    run: ({ sourceFacts: sf, targetFacts: tf }) => {
      const best = findTool('pg_dump')[0];
      if (!best) {
        return finding(
          'fail',
          'no pg_dump on this worker',
          `install the PostgreSQL ${Math.max(sf.major, 15)} client (Debian: apt-get install ` +
            `postgresql-client-${Math.max(sf.major, 15)}) or set PGTRANSIT_PG_BIN`,
        );
      }
      if (best.major < sf.major) {
        return finding(
          'fail',
          `newest pg_dump is ${best.major} (${best.path}); the source is ${sf.major} and pg_dump cannot dump a newer server`,
          `install the PostgreSQL ${sf.major} client tools on the worker, or set PGTRANSIT_PG_BIN to their bin folder`,
        );
      }
      return finding(
        best.major > tf.major ? 'warn' : 'pass',
        `pg_dump ${best.major} at ${best.path}` +
          (best.major > tf.major
            ? `, newer than the target (${tf.major}): its output may use syntax the target lacks`
            : ''),
        `install PostgreSQL ${tf.major} client tools on the worker and set PGTRANSIT_PG_BIN`,
      );
    },
  },
];
