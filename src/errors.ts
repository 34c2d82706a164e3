/**
 * The one registry of pgtransit's error types and whether a retry can help.
 *
 * Activities convert these into ApplicationFailure with the same `type`, and the
 * worker's retry policies list NON_RETRYABLE_ERROR_TYPES so that a retry never
 * hides a problem only the operator can fix (a wrong password, a missing grant).
 * This file is imported by workflow code too: keep it free of Node and pg.
 */

export const ErrorType = {
  /** The plan does not validate; details carry the field paths. */
  InvalidPlan: 'InvalidPlan',
  /** An env:/file: reference could not be resolved on the worker. */
  SecretUnresolved: 'SecretUnresolved',
  /** The server refused the credentials. */
  AuthenticationFailed: 'AuthenticationFailed',
  /** Nothing answered at the address, or the name does not resolve. */
  ServerUnreachable: 'ServerUnreachable',
  /** The server answered but the TLS negotiation failed (sslmode, certificates). */
  TlsFailed: 'TlsFailed',
  /** The database named in the plan does not exist. */
  DatabaseNotFound: 'DatabaseNotFound',
  /** The role lacks a right the step needs. */
  PrivilegeMissing: 'PrivilegeMissing',
  /** A tool pgtransit runs (pg_dump, ...) is missing or too old. */
  ToolMissing: 'ToolMissing',
  /** The exported snapshot can no longer be imported (its holder died): copy late instead. */
  SnapshotLost: 'SnapshotLost',
  /** The precheck found failing items: the migration does not start. */
  PrecheckFailed: 'PrecheckFailed',
  /** pg_dump, pg_restore or psql failed on the schema. */
  SchemaFailed: 'SchemaFailed',
  /** The replication slot is gone (dropped, or invalidated by max_slot_wal_keep_size). */
  SlotLost: 'SlotLost',
  /** The source sends columns the target table lacks: applying would lose data. */
  SchemaDrift: 'SchemaDrift',
  /** A change does not fit the target (row exists / missing) under conflictPolicy error. */
  ApplyConflict: 'ApplyConflict',
  /** The target refuses a change for a reason a retry cannot fix (type, missing object). */
  ApplyFailed: 'ApplyFailed',
  /** The switchover could not complete; the source was un-fenced. */
  SwitchoverFailed: 'SwitchoverFailed',
  /** The switchover was asked for when it cannot be done (wrong phase, lag too high). */
  SwitchoverRejected: 'SwitchoverRejected',
  /** No verification point before the fence (a transaction open on the source held up its slot): verify inside the fence. */
  PointUnavailable: 'PointUnavailable',
  /** The change stream holds a message the decoder does not know: reading it again cannot help. */
  StreamUndecodable: 'StreamUndecodable',
  /** Connection lost, serialization failure, deadlock, admin shutdown: try again. */
  Transient: 'Transient',
} as const;

export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

const RETRYABLE: ReadonlySet<ErrorType> = new Set([ErrorType.Transient]);

/** Passed as `nonRetryableErrorTypes` in every activity retry policy. */
export const NON_RETRYABLE_ERROR_TYPES: string[] = Object.values(ErrorType).filter((t) => !RETRYABLE.has(t));

export function isRetryable(type: string): boolean {
  return RETRYABLE.has(type as ErrorType);
}

/** A domain error: carries its registry type and a message an operator can act on. */
export class PgTransitError extends Error {
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = type;
  }

  get retryable(): boolean {
    return isRetryable(this.type);
  }
}
