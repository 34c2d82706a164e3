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
import { connect, queryError, type Endpoint } from './connect';
import { chunkPredicate, type Chunk } from './chunks';
import { lockChunk, markChunkDone } from './state';
import { serverMajor } from './inspect';

export interface CopyInput {
  migration: string;
  database: string;
  targetDatabase: string;
  chunk: Chunk;
  /** The exported snapshot to import; null copies "late", outside it. */
  snapshot: string | null;
}

export interface CopyResult {
  chunkId: string;
  rows: number;
  bytes: number;
  /** Already done by an earlier attempt: nothing was copied now. */
  skipped: boolean;
  late: boolean;
  /** For a late copy: the source's WAL position after it; the change stream is idempotent up to here. */
  horizonLsn: string | null;
}

const FIRST_NORMAL_OID = 16384;

/**
 * Session settings under which a value's text form is the same on every server and
 * reads back as itself: a database's own DateStyle (e.g. 'SQL, DMY') would otherwise
 * swap days and months on a target that reads MDY, and extra_float_digits = 0 would
 * round floats. Binary COPY does not need them; text COPY and comparisons do.
 */
const PORTABLE: Record<string, string> = { DateStyle: 'ISO, YMD', IntervalStyle: 'postgres', TimeZone: 'UTC', extra_float_digits: '3', bytea_output: 'hex', lc_monetary: 'C' };
/** Session settings under which every value's text form reads back the same on any server. */
export const PORTABLE_TEXT_SETTINGS = Object.entries(PORTABLE).map(([k, v]) => `SET ${k} = '${v}'`).join('; ');
/** The same as startup options, for sessions (replication) that take no SET before they stream. */
export const PORTABLE_TEXT_OPTIONS = Object.entries(PORTABLE).map(([k, v]) => `-c ${k}=${v.replace(/ /g, '\\ ')}`).join(' ');

interface ColumnPlan {
  list: string;
  /** Binary COPY embeds type OIDs of array elements and composites, which differ across servers. */
  format: 'binary' | 'text';
}

/** Columns copied (generated ones are recomputed by the target), and the COPY format. */
export async function columnPlan(client: pg.Client, schema: string, name: string, major: number): Promise<ColumnPlan> {
  const generated = major >= 12 ? `AND a.attgenerated = ''` : '';
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
  const src = await connect(source, { database: input.database, applicationName: 'pgtransit copy' });
  let tgt: Awaited<ReturnType<typeof connect>> | undefined;
  const abort = () => {
    // Ending both sessions aborts the COPY streams and rolls both transactions back.
    src.client.end().catch(() => undefined);
    tgt?.client.end().catch(() => undefined);
  };
  hooks.signal?.addEventListener('abort', abort, { once: true });
  try {
    tgt = await connect(target, { database: input.targetDatabase, applicationName: 'pgtransit copy' });
    const s = src.client;
    const t = tgt.client;
    await Promise.all([s.query(PORTABLE_TEXT_SETTINGS), t.query(PORTABLE_TEXT_SETTINGS)]);
    await t.query('BEGIN');
    const done = await lockChunk(t, input.migration, input.database, chunk.id);
    if (done) {
      await t.query('ROLLBACK');
      return { chunkId: chunk.id, rows: done.rows, bytes: done.bytes, skipped: true, late: done.late, horizonLsn: null };
    }
    await s.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    if (input.snapshot) {
      try {
        await s.query(`SET TRANSACTION SNAPSHOT ${s.escapeLiteral(input.snapshot)}`);
      } catch (e) {
        const err = e as { code?: string; message?: string };
        if (err.code === '22023' || /snapshot/i.test(err.message ?? '')) {
          throw new PgTransitError(ErrorType.SnapshotLost, `chunk ${chunk.id}: the exported snapshot is gone (${err.message})`);
        }
        throw e;
      }
    }
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
        if (bytes - reported > 8 << 20) {
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
    let horizonLsn: string | null = null;
    // The insert position, not the write one: with asynchronous commit a visible transaction's commit
    // record may not be written yet, and the horizon must not fall short of it.
    if (late) horizonLsn = (await s.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn')).rows[0]!.lsn;
    await s.query('COMMIT');
    return { chunkId: chunk.id, rows, bytes, skipped: false, late, horizonLsn };
  } catch (e) {
    if (hooks.signal?.aborted) throw new PgTransitError(ErrorType.Transient, `chunk ${chunk.id}: cancelled`);
    const code = (e as { code?: string }).code ?? '';
    // A value or row refused (data exception, constraint, missing table or column) is refused
    // again on every retry: fail at once instead of retrying for minutes.
    if (/^(22|23|42)/.test(code) && code !== '42501') {
      throw new PgTransitError(ErrorType.SchemaFailed, `copying chunk ${chunk.id}: ${(e as Error).message} (SQLSTATE ${code}); the target's table does not accept what the source holds, and a retry would not change that`, { code });
    }
    throw queryError(`copying chunk ${chunk.id}`, e);
  } finally {
    hooks.signal?.removeEventListener('abort', abort);
    await Promise.all([src.client.end().catch(() => undefined), tgt?.client.end().catch(() => undefined)]);
  }
}
