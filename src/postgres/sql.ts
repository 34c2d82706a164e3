/** Small SQL fragments shared by the catalog queries. */
import { SYSTEM_SCHEMAS } from '../model/names';

/** Objects with lower OIDs were created by initdb. */
export const FIRST_NORMAL_OID = 16384;

/** A condition on a schema-name column: not one of the schemas pgtransit never migrates. */
export function notSystemSchema(column: string): string {
  return `${column} NOT IN (${SYSTEM_SCHEMAS.map((s) => `'${s}'`).join(', ')}) AND ${column} !~ '^pg_(toast|temp_|toast_temp_)'`;
}
