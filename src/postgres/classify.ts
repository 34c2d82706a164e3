/**
 * The one failure classifier: which pgtransit error type a PostgreSQL (SQLSTATE) or
 * Node (errno) error is, and so whether a retry can help. Every activity's errors pass
 * through here (directly, or through connect.ts for connection failures) before
 * activities/failures.ts turns them into Temporal failures.
 */
import { ErrorType, PgTransitError } from '../errors';
import { SqlState, SqlStateClass, codeOf, inClass } from './sqlstate';

/**
 * What was being done when the error happened:
 * - connect: opening a session (credentials, address, TLS);
 * - query: a catalog read or a step's statement on an open session;
 * - copy: a chunk's COPY (a refused value or row is refused again on every retry);
 * - apply: a change applied to the target (constraint or type: the operator must act);
 * - any: nothing more is known (a retry is worth it).
 */
export type Operation = 'connect' | 'query' | 'copy' | 'apply' | 'any';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT']);
const SERVER_GOING_AWAY = new Set<string>([
  SqlState.AdminShutdown,
  SqlState.CrashShutdown,
  SqlState.CannotConnectNow,
  SqlState.TooManyConnections,
]);

const DETERMINISTIC_APPLY = new Set<string>([
  SqlState.ObjectNotInPrerequisiteState,
  SqlState.ProgramLimitExceeded,
  SqlState.ReadOnlySqlTransaction,
  SqlState.StatementTooComplex,
]);

/**
 * A server message for history and status: values it quotes (invalid input syntax for type
 * integer: "…") are withheld, and so are whole rows (DETAIL: Failing row contains (…)).
 */
export function withoutValues(message: string): string {
  return message
    .replace(/(for type [^:]+: )".*"/s, '$1(value withheld)')
    .replace(/Failing row contains \(.*\)/s, 'Failing row withheld');
}

/** An errno code saying nothing answers at the address. */
export function isUnreachableCode(code: string): boolean {
  return UNREACHABLE.has(code);
}

/** The error type of `e` during `op`. */
export function errorTypeOf(e: unknown, op: Operation): ErrorType {
  if (e instanceof PgTransitError) return e.type;
  const code = codeOf(e);
  const message = (e as { message?: string } | null)?.message ?? String(e);
  switch (op) {
    case 'connect':
      if (code === SqlState.InvalidPassword || code === SqlState.InvalidAuthorizationSpecification)
        return ErrorType.AuthenticationFailed;
      if (code === SqlState.InvalidCatalogName) return ErrorType.DatabaseNotFound;
      if (UNREACHABLE.has(code)) return ErrorType.ServerUnreachable;
      if (SERVER_GOING_AWAY.has(code)) return ErrorType.Transient;
      if (/timeout/i.test(message)) return ErrorType.ServerUnreachable;
      if (/SSL|TLS|certificate/i.test(message) || code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED/.test(code))
        return ErrorType.TlsFailed;
      return ErrorType.Transient;
    case 'copy':
      // A value or row refused (data exception, constraint, missing table or column) is refused again on every retry.
      if (
        inClass(
          code,
          SqlStateClass.DataException,
          SqlStateClass.IntegrityConstraintViolation,
          SqlStateClass.SyntaxErrorOrAccessRuleViolation,
        ) &&
        code !== SqlState.InsufficientPrivilege
      ) {
        return ErrorType.SchemaFailed;
      }
      return errorTypeOf(e, 'query');
    case 'apply':
      if (inClass(code, SqlStateClass.IntegrityConstraintViolation)) return ErrorType.ApplyConflict;
      // What the target refuses now it refuses on every retry: a type or missing object, a rule or a
      // deferrable constraint (ON CONFLICT), a TRUNCATE its foreign keys forbid, a read-only target.
      if (
        inClass(
          code,
          SqlStateClass.DataException,
          SqlStateClass.SyntaxErrorOrAccessRuleViolation,
          SqlStateClass.FeatureNotSupported,
        ) ||
        DETERMINISTIC_APPLY.has(code)
      ) {
        return ErrorType.ApplyFailed;
      }
      return ErrorType.Transient;
    case 'query':
      if (code === SqlState.InsufficientPrivilege) return ErrorType.PrivilegeMissing;
      if (code === SqlState.InvalidCatalogName) return ErrorType.DatabaseNotFound;
      return ErrorType.Transient;
    case 'any':
      return ErrorType.Transient;
  }
}

/**
 * `e` as a PgTransitError of its type, its message prefixed by `context` and, where the
 * type calls for one, the fix. A PgTransitError passes through unchanged.
 */
export function classify(op: Exclude<Operation, 'connect'>, context: string, e: unknown): PgTransitError {
  if (e instanceof PgTransitError) return e;
  const err = e as { code?: string; message?: string; table?: string; constraint?: string };
  const code = codeOf(e);
  const message = err?.message ?? String(e);
  const type = errorTypeOf(e, op);
  if (op === 'copy' && type === ErrorType.SchemaFailed) {
    return new PgTransitError(
      type,
      `${context}: ${message} (SQLSTATE ${code}); the target's table does not accept what the source holds, and a retry would not change that`,
      { code },
    );
  }
  if (op === 'apply') {
    const detail = (e as { detail?: string }).detail;
    const said = withoutValues(detail ? `${message} (${detail.replace(/\.$/, '')})` : message);
    if (type === ErrorType.ApplyConflict) {
      const constraint = err.constraint ? ` (constraint ${err.constraint})` : '';
      return new PgTransitError(
        type,
        `the target refused a change: ${said}${constraint}; fix the target, then resume`,
        { code, table: err.table },
      );
    }
    if (type === ErrorType.ApplyFailed) {
      return new PgTransitError(type, `the target cannot apply a change: ${said}; fix the target table, then resume`, {
        code,
        table: err.table,
      });
    }
    return new PgTransitError(type, message);
  }
  if (op === 'any') return new PgTransitError(type, message);
  return new PgTransitError(type, `${context}: ${message}`, { code });
}
