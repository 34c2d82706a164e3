/**
 * Large objects: copied in the full load by OID range, and brought level at the switchover.
 * Logical decoding does not carry them, so while the source is fenced the target gets the
 * large objects created since the full load and loses those unlinked since. A large object
 * written in place keeps its OID and is not seen here; `switchover.verify: checksum`
 * compares their contents.
 */
import type pg from 'pg';
import type { LargeObjectSync } from '../model/activities';
import { ErrorType, PgTransitError } from '../errors';
import { withConnection, type Endpoint } from './connect';
import { SqlState, codeOf } from './sqlstate';
import { COPY_PROGRESS_BYTES, LARGE_OBJECT_PIECE_BYTES } from './limits';

export interface LargeObject {
  oid: string;
  owner: string;
}

/** Large objects with OIDs in [lo, hi) (open ends: null), with their owners. */
export async function listLargeObjects(
  client: pg.Client,
  lo: string | null = null,
  hi: string | null = null,
): Promise<LargeObject[]> {
  const { rows } = await client.query<LargeObject>(
    `SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner) AS owner FROM pg_largeobject_metadata m
      WHERE ($1::oid IS NULL OR m.oid >= $1::oid) AND ($2::oid IS NULL OR m.oid < $2::oid) ORDER BY m.oid`,
    [lo, hi],
  );
  return rows;
}

/** A large object the source role may not read: the right to grant, as the assessment names it. */
function unreadable(e: unknown, lo: LargeObject): unknown {
  if (codeOf(e) !== SqlState.InsufficientPrivilege) return e;
  return new PgTransitError(
    ErrorType.PrivilegeMissing,
    `the source role may not read large object ${lo.oid} (owned by ${lo.owner}): ${(e as Error).message}; ` +
      `GRANT ${lo.owner} TO <source role> (large objects have no default privileges: membership of their owner ` +
      `also covers the ones created later), or GRANT SELECT ON LARGE OBJECT ${lo.oid} TO <source role>`,
    { code: SqlState.InsufficientPrivilege },
  );
}

/**
 * Large objects source to target under their own OIDs, with their owner when the role exists
 * on the target, read and written in pieces: memory stays flat whatever their size.
 */
export async function copyLargeObjects(
  s: pg.Client,
  t: pg.Client,
  objects: LargeObject[],
  onProgress?: (bytes: number) => void,
): Promise<{ rows: number; bytes: number }> {
  let bytes = 0;
  let reported = 0;
  for (const lo of objects) {
    await t.query(`SELECT lo_create($1::oid)`, [lo.oid]);
    for (let offset = 0; ; offset += LARGE_OBJECT_PIECE_BYTES) {
      const piece = (
        await s
          .query<{ d: Buffer | null }>(`SELECT lo_get($1::oid, $2::bigint, $3) AS d`, [
            lo.oid,
            offset,
            LARGE_OBJECT_PIECE_BYTES,
          ])
          .catch((e: unknown) => {
            throw unreadable(e, lo);
          })
      ).rows[0]!.d;
      if (!piece || piece.length === 0) break;
      await t.query(`SELECT lo_put($1::oid, $2::bigint, $3::bytea)`, [lo.oid, offset, piece]);
      bytes += piece.length;
      if (bytes - reported > COPY_PROGRESS_BYTES) {
        reported = bytes;
        onProgress?.(bytes);
      }
      if (piece.length < LARGE_OBJECT_PIECE_BYTES) break;
    }
    // The owner, when that role exists on the target (roles: true) and the target role may hand it over.
    const owner = await t.query(
      `SELECT 1 FROM pg_roles WHERE rolname = $1 AND pg_has_role(current_user, oid, 'MEMBER')`,
      [lo.owner],
    );
    if (owner.rowCount) await t.query(`ALTER LARGE OBJECT ${Number(lo.oid)} OWNER TO ${t.escapeIdentifier(lo.owner)}`);
  }
  return { rows: objects.length, bytes };
}

/**
 * The target's large objects made the source's by OID (the source is fenced: nothing moves):
 * the missing ones copied, the ones the source no longer has unlinked, in one target
 * transaction, so that a retry starts from what is there.
 */
export async function syncLargeObjects(
  source: Endpoint,
  target: Endpoint,
  database: string,
  targetDatabase: string,
): Promise<LargeObjectSync> {
  return withConnection(source, { database }, ({ client: s }) =>
    withConnection(target, { database: targetDatabase }, async ({ client: t }) => {
      await s.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await t.query('BEGIN');
      try {
        const [have, had] = await Promise.all([listLargeObjects(s), listLargeObjects(t)]);
        const onTarget = new Set(had.map((x) => x.oid));
        const onSource = new Set(have.map((x) => x.oid));
        const gone = had.filter((x) => !onSource.has(x.oid));
        for (const x of gone) await t.query(`SELECT lo_unlink($1::oid)`, [x.oid]);
        const copied = await copyLargeObjects(
          s,
          t,
          have.filter((x) => !onTarget.has(x.oid)),
        );
        await t.query('COMMIT');
        return { created: copied.rows, unlinked: gone.length, bytes: copied.bytes };
      } catch (e) {
        await t.query('ROLLBACK').catch(() => undefined);
        throw e;
      } finally {
        await s.query('ROLLBACK').catch(() => undefined);
      }
    }),
  );
}
