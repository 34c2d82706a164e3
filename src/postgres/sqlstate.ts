/**
 * The SQLSTATE codes pgtransit reacts to, by their PostgreSQL names (Appendix A of the
 * manual, errcodes.txt). Classes are the first two characters.
 */
export const SqlState = {
  InvalidAuthorizationSpecification: '28000',
  InvalidPassword: '28P01',
  InvalidCatalogName: '3D000',
  InsufficientPrivilege: '42501',
  UndefinedObject: '42704',
  InvalidParameterValue: '22023',
  ObjectInUse: '55006',
  ObjectNotInPrerequisiteState: '55000',
  ProgramLimitExceeded: '54000',
  StatementTooComplex: '54001',
  ReadOnlySqlTransaction: '25006',
  TooManyConnections: '53300',
  AdminShutdown: '57P01',
  CrashShutdown: '57P02',
  CannotConnectNow: '57P03',
} as const;

export const SqlStateClass = {
  DataException: '22',
  IntegrityConstraintViolation: '23',
  SyntaxErrorOrAccessRuleViolation: '42',
  FeatureNotSupported: '0A',
} as const;

/** The SQLSTATE (or Node errno code) an error carries, '' when none. */
export function codeOf(e: unknown): string {
  return (e as { code?: string } | null)?.code ?? '';
}

export function inClass(code: string, ...classes: string[]): boolean {
  return classes.some((c) => code.startsWith(c));
}
