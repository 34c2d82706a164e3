/** Finding the PostgreSQL client programs (pg_dump, pg_restore, psql) on the worker. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ToolFound {
  path: string;
  major: number;
  version: string;
}

/** Where a program may be: $PGTRANSIT_PG_BIN, Debian's versioned folders, then PATH. */
function candidates(program: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  if (env.PGTRANSIT_PG_BIN) out.push(join(env.PGTRANSIT_PG_BIN, program));
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    for (const v of readdirSync(debian)) out.push(join(debian, v, 'bin', program));
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) if (dir) out.push(join(dir, program));
  return [...new Set(out)].filter((p) => existsSync(p));
}

/** `--version` of each program by path and modification time: asked once (it blocks the worker's event loop). */
const versions = new Map<string, ToolFound | null>();

function versionOf(path: string): ToolFound | null {
  const key = `${path}\0${statSync(path).mtimeMs}`;
  if (!versions.has(key)) versions.set(key, readVersion(path));
  return versions.get(key)!;
}

function readVersion(path: string): ToolFound | null {
  try {
    const text = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
    const m = /(\d+)(?:\.(\d+))?/.exec(text.split('\n')[0] ?? '');
    if (!m) return null;
    return { path, major: Number(m[1]), version: text.split('\n')[0]!.replace(/^.*\) /, '') };
  } catch {
    return null;
  }
}

/** Every working copy of `program`, newest major first. */
export function findTool(
  program: 'pg_dump' | 'pg_restore' | 'psql' | 'pgbench',
  env: NodeJS.ProcessEnv = process.env,
): ToolFound[] {
  return candidates(program, env)
    .map(versionOf)
    .filter((t): t is ToolFound => t !== null)
    .sort((a, b) => b.major - a.major);
}
