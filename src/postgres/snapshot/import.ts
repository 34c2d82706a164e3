/** Snapshot hand-off, steps 3 and 4: a copy imports the exported snapshot, or learns that it is lost. */
import type pg from 'pg';
import { ErrorType, PgTransitError } from '../../errors';
import { SqlState, codeOf } from '../sqlstate';

/** Inside `BEGIN ISOLATION LEVEL REPEATABLE READ`: reads from now on see exactly the exported snapshot. */
export async function importSnapshot(client: pg.Client, snapshot: string, what: string): Promise<void> {
  try {
    await client.query(`SET TRANSACTION SNAPSHOT ${client.escapeLiteral(snapshot)}`);
  } catch (e) {
    const message = (e as Error).message ?? '';
    if (codeOf(e) === SqlState.InvalidParameterValue || /snapshot/i.test(message)) {
      throw new PgTransitError(ErrorType.SnapshotLost, `${what}: the exported snapshot is gone (${message})`);
    }
    throw e;
  }
}
