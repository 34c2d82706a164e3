/** Running pg_dump and pg_restore: the newest suitable program on the worker, and what it said when it failed. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ErrorType, PgTransitError } from '../../errors';
import { TOOL_OUTPUT_BYTES } from '../limits';
import { findTool } from '../tools';

const exec = promisify(execFile);

/** The path of `program` of major `minMajor` or newer. */
export function pgProgram(program: 'pg_dump' | 'pg_restore' | 'psql', minMajor: number): string {
  const found = findTool(program).find((t) => t.major >= minMajor);
  if (!found)
    throw new PgTransitError(
      ErrorType.ToolMissing,
      `no ${program} of major ${minMajor} or newer on this worker; install the PostgreSQL ${minMajor} client tools or set PGTRANSIT_PG_BIN`,
    );
  return found.path;
}

/** Runs a program to its end; a failure is SchemaFailed, with what the program said. */
export async function runTool(
  program: string,
  args: string[],
  env: Record<string, string>,
  what: string,
  signal?: AbortSignal,
): Promise<string> {
  try {
    const { stdout } = await exec(program, args, {
      env: { ...process.env, ...env },
      maxBuffer: TOOL_OUTPUT_BYTES,
      signal,
    });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new PgTransitError(ErrorType.SchemaFailed, `${what} failed:\n${toolErrorDetail(err.stderr ?? err.message)}`);
  }
}

/**
 * What a failed pg_dump or pg_restore said, for the operator. pg_restore prints the
 * failing statement after the error, so the error lines are picked out first and
 * the statement is cut short.
 */
export function toolErrorDetail(stderr: string): string {
  const lines = stderr.trim().split('\n');
  const errors = lines.filter((l) => /\b(error|ERROR|FATAL|DETAIL|HINT):/.test(l));
  const picked = errors.length > 0 ? errors.slice(0, 8) : lines.slice(-8);
  const command = lines.findIndex((l) => l.startsWith('Command was: '));
  if (command >= 0) {
    const text = lines
      .slice(command, command + 4)
      .map((l) => l.trim())
      .join(' ');
    picked.push(text.length > 300 ? `${text.slice(0, 300)}...` : text);
  }
  return picked.join('\n');
}
