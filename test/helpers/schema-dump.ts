/** Schema dumps for fidelity tests: what pg_dump sees on each side, minus what legitimately differs. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findTool } from '../../src/postgres/tools';
import type { PgServer } from './postgres';

const exec = promisify(execFile);

/**
 * `pg_dump --schema-only --no-owner` of `schemas`, without comment lines, SET lines,
 * blank lines and psql's per-dump `\restrict` keys (random on every run).
 */
export async function schemaDump(
  server: PgServer,
  database: string,
  schemas: string[],
  extra: string[] = [],
): Promise<string[]> {
  const pgDump = findTool('pg_dump').find((t) => t.major >= server.major);
  if (!pgDump) throw new Error(`no pg_dump >= ${server.major} on this machine`);
  const args = [
    '--schema-only',
    '--no-owner',
    ...extra,
    ...schemas.flatMap((s) => ['-n', `"${s.replace(/"/g, '""')}"`]),
  ];
  const { stdout } = await exec(pgDump.path, args, {
    env: {
      ...process.env,
      PGHOST: server.host,
      PGPORT: String(server.port),
      PGUSER: 'postgres',
      PGPASSWORD: server.password,
      PGDATABASE: database,
    },
    maxBuffer: 1 << 26,
  });
  return stdout
    .split('\n')
    .filter(
      (l) =>
        l.trim() !== '' &&
        !l.startsWith('--') &&
        !/^SET /.test(l) &&
        !/^SELECT pg_catalog\.set_config\('search_path'/.test(l) &&
        !/^\\(un)?restrict /.test(l),
    );
}

/** A unified-ish diff of two line lists (only the differing lines, with their position), for failure messages. */
export function lineDiff(a: string[], b: string[]): string {
  const inB = new Map<string, number>();
  for (const l of b) inB.set(l, (inB.get(l) ?? 0) + 1);
  const inA = new Map<string, number>();
  for (const l of a) inA.set(l, (inA.get(l) ?? 0) + 1);
  const out: string[] = [];
  a.forEach((l, i) => {
    const n = inB.get(l) ?? 0;
    if (n > 0) inB.set(l, n - 1);
    else out.push(`- ${i + 1}: ${l}`);
  });
  b.forEach((l, i) => {
    const n = inA.get(l) ?? 0;
    if (n > 0) inA.set(l, n - 1);
    else out.push(`+ ${i + 1}: ${l}`);
  });
  if (out.length === 0 && a.join('\n') !== b.join('\n')) {
    const i = a.findIndex((l, k) => l !== b[k]);
    out.push(`same lines, different order from line ${i + 1}:`, `- ${a[i]}`, `+ ${b[i]}`);
  }
  return out.join('\n');
}
