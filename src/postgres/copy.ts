/**
 * Copying one chunk: COPY TO on the source (inside the exported snapshot) piped into
 * COPY FROM on the target, its messages forwarded as they are (copy-pipe.ts) with
 * backpressure, so memory stays flat whatever the table size. The rows and the chunk's done-marker commit in one target
 * transaction: a retried chunk either finds its marker and skips, or redoes all.
 *
 * Copied late (the snapshot is lost), a table split in chunks is copied whole, in one
 * source transaction, replacing what earlier chunks copied: rows move between key or
 * block ranges as the application updates them, and ranges copied at different times
 * would miss some and copy others twice.
 */
import type pg from 'pg';
import { PgTransitError, ErrorType } from '../errors';
import type { Chunk, CopyResult } from '../model/activities';
import { APPLICATION_NAME, LOCK_KEYS, STATE_SCHEMA } from '../model/names';
import { chunkPredicate } from './chunks';
import { classify } from './classify';
import { connect, type Endpoint } from './connect';
import { pipeCopy } from './copy-pipe';
import { serverMajor } from './inspect';
import { copyLargeObjects, listLargeObjects } from './large-objects';
import { COPY_PROGRESS_BYTES } from './limits';
import { PORTABLE_TEXT_SETTINGS } from './session';
import { importSnapshot, lateHorizon } from './snapshot';
import { exactSnapshot, keyless, type ExactSnapshot } from './snapshot/exact';
import { FIRST_NORMAL_OID } from './sql';
import { ensureStateSchema, lockChunk, markChunkDone } from './state';
import { hasGeneratedColumns } from './versions';

export interface CopyInput {
  migration: string;
  database: string;
  targetDatabase: string;
  chunk: Chunk;
  /** The exported snapshot to import; null copies "late", outside it. */
  snapshot: string | null;
  /** A change stream follows the load (full+cdc): a late copy of a keyless table then takes an exact horizon. */
  followedByChanges?: boolean;
}

interface ColumnPlan {
  list: string;
  count: number;
  /**
   * Binary COPY embeds type OIDs of array elements and composites, which differ across
   * servers, and needs binary I/O functions, which some user types lack: text then.
   */
  format: 'binary' | 'text';
}

/** Columns copied (generated ones are recomputed by the target), and the COPY format. */
export async function columnPlan(client: pg.Client, schema: string, name: string, major: number): Promise<ColumnPlan> {
  const generated = hasGeneratedColumns(major) ? `AND a.attgenerated = ''` : '';
  const { rows } = await client.query<{ attname: string; text_only: boolean }>(
    `SELECT a.attname,
            (bt.typtype = 'c' OR (bt.typelem <> 0 AND bt.typlen = -1 AND bt.typelem >= ${FIRST_NORMAL_OID})
              OR (bt.typelem <> 0 AND bt.typlen = -1 AND EXISTS (SELECT 1 FROM pg_type et WHERE et.oid = bt.typelem AND et.typtype = 'c'))
              OR bt.typsend = 0 OR bt.typreceive = 0
              OR (bt.typelem <> 0 AND bt.typlen = -1
                  AND EXISTS (SELECT 1 FROM pg_type et WHERE et.oid = bt.typelem AND (et.typsend = 0 OR et.typreceive = 0)))) AS text_only
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE a.attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND a.attnum > 0 AND NOT a.attisdropped ${generated}
      ORDER BY a.attnum`,
    [schema, name],
  );
  return {
    list: rows.map((r) => client.escapeIdentifier(r.attname)).join(', '),
    count: rows.length,
    format: rows.some((r) => r.text_only) ? 'text' : 'binary',
  };
}

/** The chunk ids of the table `chunk` belongs to. */
const tableChunkIds = (chunk: Chunk) =>
  Array.from({ length: chunk.parts }, (_, i) => `${chunk.schema}.${chunk.name}/${i}`);

export async function copyChunk(
  source: Endpoint,
  target: Endpoint,
  input: CopyInput,
  hooks: { signal?: AbortSignal; onProgress?: (bytes: number) => void } = {},
): Promise<CopyResult> {
  const { chunk } = input;
  const late = input.snapshot === null;
  const whole = late && chunk.parts > 1 && chunk.kind !== 'lo';
  const src = await connect(source, { database: input.database, applicationName: APPLICATION_NAME.copy });
  let tgt: Awaited<ReturnType<typeof connect>> | undefined;
  let exactSource: ExactSnapshot | undefined;
  const abort = () => {
    // Ending both sessions aborts the COPY streams and rolls both transactions back.
    src.client.end().catch(() => undefined);
    tgt?.client.end().catch(() => undefined);
  };
  hooks.signal?.addEventListener('abort', abort, { once: true });
  try {
    tgt = await connect(target, { database: input.targetDatabase, applicationName: APPLICATION_NAME.copy });
    const s = src.client;
    const t = tgt.client;
    await Promise.all([s.query(PORTABLE_TEXT_SETTINGS), t.query(PORTABLE_TEXT_SETTINGS)]);
    // A migration begun before the markers kept their horizon gets the column now.
    await ensureStateSchema(t);
    await t.query('BEGIN');
    // Chunks of one table copy side by side; a whole-table late copy waits for them and excludes them.
    const tableLock = whole ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
    await t.query(`SELECT ${tableLock}(hashtext($1))`, [
      LOCK_KEYS.table(input.migration, input.database, `${chunk.schema}.${chunk.name}`),
    ]);
    const done = await lockChunk(t, input.migration, input.database, chunk.id);
    if (done) {
      await t.query('ROLLBACK');
      return {
        chunkId: chunk.id,
        rows: done.rows,
        bytes: done.bytes,
        skipped: true,
        late: done.late,
        horizonLsn: done.horizonLsn,
      };
    }
    await s.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (input.snapshot) await importSnapshot(s, input.snapshot, `chunk ${chunk.id}`);
    // A keyless table cannot be replayed idempotently over a late copy: it is copied whole in
    // the snapshot of a temporary slot, whose consistent point is the exact horizon (exact.ts).
    const exact =
      late && input.followedByChanges === true && chunk.kind !== 'lo' && (await keyless(s, chunk.schema, chunk.name));
    if (exact) {
      exactSource = await exactSnapshot(source, input.database, hooks.signal);
      hooks.signal?.addEventListener('abort', () => exactSource?.client.end().catch(() => undefined), { once: true });
    }
    const copied =
      chunk.kind === 'lo'
        ? await copyLargeObjects(s, t, await listLargeObjects(s, chunk.lo, chunk.hi), hooks.onProgress)
        : await copyRows(s, t, chunk, whole || exact, hooks.onProgress, exactSource?.client);
    const horizonLsn = exactSource ? exactSource.consistentPoint : late ? await lateHorizon(s) : null;
    if (whole || exact) {
      // Every chunk of the table is done now: this one with the rows, the others (and those an
      // earlier attempt copied in the snapshot, whose rows this copy replaced) with none.
      const ids = tableChunkIds(chunk).filter((id) => id !== chunk.id);
      await t.query(
        `DELETE FROM ${STATE_SCHEMA}.chunks WHERE migration = $1 AND database = $2 AND chunk_id = ANY($3)`,
        [input.migration, input.database, ids],
      );
      for (const id of ids)
        await markChunkDone(t, input.migration, input.database, id, { rows: 0, bytes: 0, late, horizonLsn, exact });
    }
    await markChunkDone(t, input.migration, input.database, chunk.id, { ...copied, late, horizonLsn, exact });
    await t.query('COMMIT');
    await s.query('COMMIT');
    return {
      chunkId: chunk.id,
      ...copied,
      skipped: false,
      late,
      horizonLsn,
      ...(whole || exact ? { wholeTable: true } : {}),
    };
  } catch (e) {
    if (hooks.signal?.aborted) throw new PgTransitError(ErrorType.Transient, `chunk ${chunk.id}: cancelled`);
    throw classify('copy', `copying chunk ${chunk.id}`, e);
  } finally {
    hooks.signal?.removeEventListener('abort', abort);
    await Promise.all([
      src.client.end().catch(() => undefined),
      tgt?.client.end().catch(() => undefined),
      // Its temporary slot goes with the session.
      exactSource?.client.end().catch(() => undefined),
    ]);
  }
}

/** Rows of a chunk (or, `whole`, of its table), source to target. */
async function copyRows(
  s: pg.Client,
  t: pg.Client,
  chunk: Chunk,
  whole: boolean,
  onProgress?: (bytes: number) => void,
  /** Reads the rows in this session's snapshot instead of `s`'s (`s` still answers the catalog queries). */
  from: pg.Client = s,
): Promise<{ rows: number; bytes: number }> {
  const major = await serverMajor(s);
  const cols = await columnPlan(s, chunk.schema, chunk.name, major);
  const table = `${s.escapeIdentifier(chunk.schema)}.${s.escapeIdentifier(chunk.name)}`;
  const where = whole ? '' : chunkPredicate(chunk, (x) => s.escapeIdentifier(x));
  if (whole) await t.query(`DELETE FROM ONLY ${table}`);
  if (cols.count === 0) {
    // A table without columns still has rows (COPY has nothing to say of them).
    const n = Number((await from.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${table} ${where}`)).rows[0]!.n);
    if (n > 0) await t.query(`INSERT INTO ${table} SELECT FROM generate_series(1, $1::bigint)`, [n]);
    return { rows: n, bytes: 0 };
  }
  const format = cols.format === 'binary' ? '(FORMAT binary)' : '';
  let reported = 0;
  return pipeCopy(
    from,
    `COPY (SELECT ${cols.list} FROM ONLY ${table} ${where}) TO STDOUT ${format}`,
    t,
    `COPY ${table} (${cols.list}) FROM STDIN ${format}`,
    (bytes) => {
      if (bytes - reported > COPY_PROGRESS_BYTES) {
        reported = bytes;
        onProgress?.(bytes);
      }
    },
  );
}
