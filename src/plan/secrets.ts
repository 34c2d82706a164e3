/**
 * Resolving `env:NAME` / `file:PATH` references on the worker. The resolved value
 * stays in this process: it is never returned, logged or put in an error message.
 */
import { readFileSync } from 'node:fs';
import { PgTransitError, ErrorType } from '../errors';

export function resolveSecretRef(
  ref: string,
  what: string,
  env: NodeJS.ProcessEnv = process.env,
  example = 'postgres://...',
): string {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    if (!value) {
      throw new PgTransitError(
        ErrorType.SecretUnresolved,
        `${what}: environment variable ${name} is not set on the worker; export ${name}=${example} in the worker's environment`,
      );
    }
    return value.trim();
  }
  if (ref.startsWith('file:')) {
    const path = ref.slice(5);
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (e) {
      throw new PgTransitError(
        ErrorType.SecretUnresolved,
        `${what}: cannot read ${path} on the worker (${(e as NodeJS.ErrnoException).code ?? 'error'}); create it readable by the worker's user`,
      );
    }
  }
  return ref;
}
