/**
 * Installs what the demo and the tests need beyond npm: the Temporal CLI and the PostgreSQL 15
 * client tools and PgBouncer; with --cluster also the Temporal server and its schema tool (test:cluster).
 */
import { ensureTemporalCli } from '../src/dev/temporal-cli';
import { ensurePgbouncer, ensurePgClientTools } from '../src/dev/debian-tools';
import { ensureTemporalServer } from '../src/dev/temporal-server';

try {
  const temporal = ensureTemporalCli();
  ensurePgClientTools();
  ensurePgbouncer();
  const verbose = process.env.CI || process.argv.includes('--verbose');
  if (verbose) console.error(`tools: temporal at ${temporal}; PostgreSQL client tools and PgBouncer present`);
  if (process.argv.includes('--cluster')) {
    const server = ensureTemporalServer();
    if (verbose)
      console.error(`tools: temporal-server and temporal-sql-tool at ${server.server.replace(/\/[^/]*$/, '')}`);
  }
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
