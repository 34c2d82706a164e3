/** Installs what the demo and the tests need beyond npm: the Temporal CLI and the PostgreSQL 15 client tools. */
import { ensureTemporalCli } from '../src/dev/temporal-cli';
import { ensurePgClientTools } from '../src/dev/debian-tools';

try {
  const temporal = ensureTemporalCli();
  ensurePgClientTools();
  if (process.env.CI || process.argv.includes('--verbose'))
    console.error(`tools: temporal at ${temporal}; PostgreSQL client tools present`);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
