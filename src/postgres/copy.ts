/**
 * Copying one chunk: COPY TO on the source (inside the exported snapshot) piped into
 * COPY FROM on the target, streamed with backpressure, so memory stays flat whatever
 * the table size. The rows and the chunk's done-marker commit in one target
 * transaction: a retried chunk either finds its marker and skips, or redoes all.
 */
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { PgTransitError, ErrorType } from '../errors';
import type { Chunk, CopyResult } from '../model/activities';
import { APPLICATION_NAME } from '../model/names';
import { chunkPredicate } from './chunks';
import { classify } from './classify';
import { connect, type Endpoint } from './connect';
import { serverMajor } from './inspect';
import { COPY_PROGRESS_BYTES } from './limits';
import { PORTABLE_TEXT_SETTINGS } from './session';
import { importSnapshot, lateHorizon } from './snapshot';
import { FIRST_NORMAL_OID } from './sql';
import { lockChunk, markChunkDone } from './state';
import { hasGeneratedColumns } from './versions';

export interface CopyInput {
  migration: string;
  database: string;
  targetDatabase: string;
  chunk: Chunk;
  /** The exported snapshot to import; null copies "late", outside it. */
  snapshot: string | null;
}

interface ColumnPlan {
  list: string;
  /** Binary COPY embeds type OIDs of array elements and composites, which differ across servers. */
  format: 'binary' | 'text';
}

/** Columns copied (generated ones are recomputed by the target), and the COPY format. */
export async function columnPlan(client: pg.Client, schema: string, name: string, major: number): Promise<ColumnPlan> {
  const generated = hasGeneratedColumns(major) ? `AND a.attgenerated = ''` : '';
  const { rows } = await client.query<{ attname: string; oid_bound: boolean }>(
    `SELECT a.attname,
            (bt.typtype = 'c' OR (bt.typelem <> 0 AND bt.typlen = -1 AND bt.typelem >= ${FIRST_NORMAL_OID})
              OR (bt.typelem <> 0 AND bt.typlen = -1 AND EXISTS (SELECT 1 FROM pg_type et WHERE et.oid = bt.typelem AND et.typtype = 'c'))) AS oid_bound
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE a.attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND a.attnum > 0 AND NOT a.attisdropped ${generated}
      ORDER BY a.attnum`,
    [schema, name],
  );
  return {
    list: rows.map((r) => client.escapeIdentifier(r.attname)).join(', '),
    format: rows.some((r) => r.oid_bound) ? 'text' : 'binary',
  };
}

export async function copyChunk(
  source: Endpoint,
  target: Endpoint,
  input: CopyInput,
  hooks: { signal?: AbortSignal; onProgress?: (bytes: number) => void } = {},
): Promise<CopyResult> {
  const { chunk } = input;
  const src = await connect(source, { database: input.database, applicationName: APPLICATION_NAME.copy });
  let tgt: Awaited<ReturnType<typeof connect>> | undefined;
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
    await t.query('BEGIN');
    const done = await lockChunk(t, input.migration, input.database, chunk.id);
    if (done) {
      await t.query('ROLLBACK');
      return {
        chunkId: chunk.id,
        rows: done.rows,
        bytes: done.bytes,
        skipped: true,
        late: done.late,
        horizonLsn: null,
      };
    }
    await s.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (input.snapshot) await importSnapshot(s, input.snapshot, `chunk ${chunk.id}`);
    const major = await serverMajor(s);
    const cols = await columnPlan(s, chunk.schema, chunk.name, major);
    const table = `${s.escapeIdentifier(chunk.schema)}.${s.escapeIdentifier(chunk.name)}`;
    const where = chunkPredicate(chunk, (x) => s.escapeIdentifier(x));
    const format = cols.format === 'binary' ? '(FORMAT binary)' : '';
    const out = s.query(copyTo(`COPY (SELECT ${cols.list} FROM ONLY ${table} ${where}) TO STDOUT ${format}`));
    const inp = t.query(copyFrom(`COPY ${table} (${cols.list}) FROM STDIN ${format}`));
    let bytes = 0;
    let reported = 0;
    const meter = new Transform({
      transform(buf: Buffer, _enc, cb) {
        bytes += buf.length;
        if (bytes - reported > COPY_PROGRESS_BYTES) {
          reported = bytes;
          hooks.onProgress?.(bytes);
        }
        cb(null, buf);
      },
    });
    await pipeline(out, meter, inp);
    const rows = Number((inp as unknown as { rowCount: number }).rowCount ?? 0);
    const late = input.snapshot === null;
    await markChunkDone(t, input.migration, input.database, chunk.id, { rows, bytes, late });
    await t.query('COMMIT');
    const horizonLsn = late ? await lateHorizon(s) : null;
    await s.query('COMMIT');
    return { chunkId: chunk.id, rows, bytes, skipped: false, late, horizonLsn };
  } catch (e) {
    if (hooks.signal?.aborted) throw new PgTransitError(ErrorType.Transient, `chunk ${chunk.id}: cancelled`);
    throw classify('copy', `copying chunk ${chunk.id}`, e);
  } finally {
    hooks.signal?.removeEventListener('abort', abort);
    await Promise.all([src.client.end().catch(() => undefined), tgt?.client.end().catch(() => undefined)]);
  }
}
