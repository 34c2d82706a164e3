/** Small SQL fragments shared by the catalog queries. */
import { DDL_CAPTURE_SCHEMA_PREFIX, SYSTEM_SCHEMAS } from '../model/names';

/** Objects with lower OIDs were created by initdb. */
export const FIRST_NORMAL_OID = 16384;

/** A condition on a schema-name column: not one of the schemas pgtransit never migrates. */
export function notSystemSchema(column: string): string {
  const names = SYSTEM_SCHEMAS.map((s) => `'${s}'`).join(', ');
  return `${column} NOT IN (${names}) AND ${column} !~ '^pg_(toast|temp_|toast_temp_)' AND ${column} !~ '^${DDL_CAPTURE_SCHEMA_PREFIX}'`;
}
