/**
 * Exactly-once apply of the change stream to the target.
 *
 * - Several source transactions are applied in one target transaction, in source
 *   order, statement by statement; the applied position is written in the same
 *   transaction (pgtransit.applied), so a crash either keeps both or neither.
 * - The source is acknowledged only after that commit (the caller does it), and a
 *   restart skips every transaction whose commit LSN is not above the applied one.
 * - Unchanged TOAST values are left out of the SET list: writing them would turn
 *   them into NULLs.
 * - session_replication_role = replica: target triggers and FK checks do not fire
 *   a second time for changes the source already checked.
 */
import type pg from 'pg';
import { PgTransitError, ErrorType } from '../../errors';
import type { ConflictPolicy, TableCounts } from '../../model/activities';
import type { Plan } from '../../plan/plan';
import { displayName, targetName } from '../../plan/selection';
import { classify } from '../classify';
import { withTransaction } from '../connect';
import { replayedIdempotently } from '../snapshot';
import type { PgoutputMessage, Relation, Tuple } from './pgoutput';
import { alreadyApplied, readApplied, writeApplied } from './position';

/** A row change (or truncate) as decoded. */
export type Change = Extract<PgoutputMessage, { tag: 'insert' | 'update' | 'delete' | 'truncate' }>;

export interface SourceTransaction {
  /** Commit LSN (from Begin): the transaction's position in the stream. */
  commitLsn: string;
  /** End of the commit record: what is acknowledged to the source. */
  endLsn: string;
  commitTime: bigint;
  changes: Change[];
  /** The fence marker of a switchover was in this transaction. */
  fence?: string;
}

interface TargetTable {
  relation: Relation;
  /** Quoted schema.table on the target. */
  sql: string;
  display: string;
  keyIdx: number[];
  /** No key: UPDATE/DELETE match on every old column. */
  full: boolean;
  /** Columns GENERATED ALWAYS AS IDENTITY on the target: never in a SET list. */
  alwaysIdentity: Set<number>;
  /** Target column types, by relation column. */
  types: string[];
}

export interface ApplierOptions {
  plan: Plan;
  database: string;
  conflictPolicy: ConflictPolicy;
  /** Tables copied late, applied idempotently until the stream passes `lateHorizonLsn`. */
  lateTables: Set<string>;
  lateHorizonLsn: string | null;
}

const emptyCounts = (): TableCounts => ({ insert: 0, update: 0, delete: 0, truncate: 0, conflicts: 0 });

export class Applier {
  private readonly relations = new Map<number, TargetTable>();
  readonly counts = new Map<string, TableCounts>();
  /** Highest commit LSN applied and committed on the target. */
  appliedLsn: string | null = null;

  constructor(
    private readonly target: pg.Client,
    private readonly o: ApplierOptions,
  ) {}

  /** Reads the applied position; a restart skips what it already applied. */
  async load(): Promise<string | null> {
    this.appliedLsn = await readApplied(this.target, this.o.plan.name, this.o.database);
    return this.appliedLsn;
  }

  /** A relation message: maps it to the target table and checks its columns (schema drift). */
  async relation(rel: Relation): Promise<void> {
    const dest = targetName(this.o.plan, rel);
    const { rows } = await this.target.query<{ attname: string; attidentity: string; type: string }>(
      `SELECT a.attname, a.attidentity, format_type(a.atttypid, a.atttypmod) AS type FROM pg_attribute a JOIN pg_class c ON c.oid
        = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
      [dest.schema, dest.name],
    );
    const have = new Set(rows.map((r) => r.attname));
    const display = `${rel.schema}.${rel.name}`;
    if (rows.length === 0) {
      throw new PgTransitError(
        ErrorType.SchemaDrift,
        `change stream for ${display}: table ${displayName(dest)} does not exist on the target`,
        { table: display },
      );
    }
    const missing = rel.columns.filter((c) => !have.has(c.name)).map((c) => c.name);
    if (missing.length > 0) {
      throw new PgTransitError(
        ErrorType.SchemaDrift,
        `schema drift on ${display}: the source sends columns ${missing.join(', ')} that ${displayName(dest)} ` +
          `on the target does not have; apply the same ALTER TABLE on the target, then resume`,
        { table: display, columns: missing },
      );
    }
    const q = (s: string) => this.target.escapeIdentifier(s);
    const keyIdx = rel.columns.map((c, i) => (c.key ? i : -1)).filter((i) => i >= 0);
    const always = new Set(rows.filter((r) => r.attidentity === 'a').map((r) => r.attname));
    const alwaysIdentity = new Set(rel.columns.map((c, i) => (always.has(c.name) ? i : -1)).filter((i) => i >= 0));
    const typeOf = new Map(rows.map((r) => [r.attname, r.type]));
    const types = rel.columns.map((c) => typeOf.get(c.name)!);
    this.relations.set(rel.oid, {
      relation: rel,
      sql: `${q(dest.schema)}.${q(dest.name)}`,
      display,
      keyIdx,
      full: keyIdx.length === 0 || rel.replicaIdentity === 'f',
      alwaysIdentity,
      types,
    });
  }

  private table(oid: number): TargetTable {
    const t = this.relations.get(oid);
    if (!t) throw new PgTransitError(ErrorType.Transient, `change for relation ${oid} before its relation message`);
    return t;
  }

  private count(t: TargetTable, kind: keyof TableCounts, n = 1) {
    let c = this.counts.get(t.display);
    if (!c) this.counts.set(t.display, (c = emptyCounts()));
    c[kind] += n;
  }

  /**
   * Applies `txns` (in source order) in one target transaction with the new applied
   * position. Transactions at or below the applied position are skipped.
   */
  async applyBatch(txns: SourceTransaction[]): Promise<number> {
    const todo = txns.filter((t) => !alreadyApplied(t.commitLsn, this.appliedLsn));
    if (todo.length === 0) return 0;
    const last = todo[todo.length - 1]!;
    try {
      await withTransaction(this.target, async () => {
        await this.target.query('SET LOCAL session_replication_role = replica');
        for (const txn of todo) {
          const idempotent = replayedIdempotently(txn.commitLsn, this.o.lateHorizonLsn);
          for (const c of txn.changes) await this.applyChange(c, idempotent);
        }
        await writeApplied(this.target, this.o.plan.name, this.o.database, last.commitLsn);
      });
    } catch (e) {
      // A statement the target refuses (constraint, type, missing object) is refused again on
      // every retry: stop applying and say why, instead of retrying forever.
      throw classify('apply', 'applying changes', e);
    }
    this.appliedLsn = last.commitLsn;
    return todo.length;
  }

  private conflict(t: TargetTable, what: string, key: Tuple | null): never | void {
    if (this.o.conflictPolicy === 'error') {
      const keyText = key
        ? t.keyIdx.map((i) => `${t.relation.columns[i]!.name}=${key[i] ?? 'NULL'}`).join(', ')
        : '(no key)';
      throw new PgTransitError(
        ErrorType.ApplyConflict,
        `conflict on ${t.display}: ${what} (key ${keyText}); fix the target row or choose cdc.conflictPolicy ignore/overwrite, then resume`,
        {
          table: t.display,
          key: keyText,
          change: what,
        },
      );
    }
    this.count(t, 'conflicts');
  }

  private async applyChange(m: Change, lateIdempotent: boolean): Promise<void> {
    const q = (s: string) => this.target.escapeIdentifier(s);
    if (m.tag === 'truncate') {
      const tables = m.relationOids.map((oid) => this.table(oid));
      await this.target.query(
        `TRUNCATE ${tables.map((t) => t.sql).join(', ')}${m.restartIdentity ? ' RESTART IDENTITY' : ''}${m.cascade ? ' CASCADE' : ''}`,
      );
      for (const t of tables) this.count(t, 'truncate');
      return;
    }
    const t = this.table(m.relationOid);
    const idempotent = lateIdempotent && this.o.lateTables.has(t.display);
    const cols = t.relation.columns;
    if (m.tag === 'insert') {
      const idx = cols.map((_, i) => i).filter((i) => m.new[i] !== undefined);
      const values = idx.map((i) => m.new[i]);
      // The source already chose identity values: keep them.
      const columns = idx.map((i) => q(cols[i]!.name)).join(', ');
      const insert = `INSERT INTO ${t.sql} (${columns}) OVERRIDING SYSTEM VALUE VALUES (${idx.map((_, n) => `$${n + 1}`).join(', ')})`;
      if (idempotent && t.full) {
        // No key: the best a replay can do is not to add a row that is already there, identical.
        const same = idx
          .map((i, n) => `${q(cols[i]!.name)} IS NOT DISTINCT FROM $${n + 1}::${t.types[i]}`)
          .join(' AND ');
        await this.target.query({
          text:
            `INSERT INTO ${t.sql} (${idx.map((i) => q(cols[i]!.name)).join(', ')}) OVERRIDING SYSTEM ` +
            `VALUE SELECT ${idx.map((i, n) => `$${n + 1}::${t.types[i]}`).join(', ')} WHERE NOT EXISTS (SELECT 1 FROM ${t.sql} WHERE ${same})`,
          values,
        });
        this.count(t, 'insert');
        return;
      }
      const overwrite = (idempotent || this.o.conflictPolicy === 'overwrite') && t.keyIdx.length > 0;
      if (overwrite) {
        // Insert, or overwrite the row holding the key (two statements: RETURNING xmax, the usual
        // way to tell an upsert's insert from its update, is refused on partitioned tables).
        const r = await this.target.query({ text: `${insert} ON CONFLICT DO NOTHING`, values });
        if ((r.rowCount ?? 0) === 0) {
          const nonKey = idx.filter((i) => !t.keyIdx.includes(i) && !t.alwaysIdentity.has(i));
          if (nonKey.length) {
            const p = [...t.keyIdx.map((i) => m.new[i]), ...nonKey.map((i) => m.new[i])];
            await this.target.query({
              text:
                `UPDATE ${t.sql} SET ` +
                `${nonKey.map((i, n) => `${q(cols[i]!.name)} = $${t.keyIdx.length + n + 1}`).join(', ')} ` +
                `WHERE ${t.keyIdx.map((i, n) => `${q(cols[i]!.name)} = $${n + 1}`).join(' AND ')}`,
              values: p,
            });
          }
          if (!idempotent) this.count(t, 'conflicts');
        }
        this.count(t, 'insert');
        return;
      }
      const r = await this.target.query({ text: `${insert} ON CONFLICT DO NOTHING`, values });
      if ((r.rowCount ?? 0) === 0) this.conflict(t, 'INSERT of a row that already exists', m.new);
      else this.count(t, 'insert');
      return;
    }
    // UPDATE and DELETE find the row by its key (the old key when the key changed), or by every old column.
    const ident: Tuple = m.key ?? m.old ?? (m.tag === 'update' ? m.new : []);
    const whereIdx = t.full ? cols.map((_, i) => i).filter((i) => ident[i] !== undefined) : t.keyIdx;
    const params: (string | null | undefined)[] = [];
    const cond = whereIdx.map((i) => {
      params.push(ident[i]);
      // Key columns are NOT NULL: `=` lets the target use the key's index (IS NOT DISTINCT FROM
      // would scan the table for every change). Only REPLICA IDENTITY FULL compares NULLs.
      return `${q(cols[i]!.name)} ${t.full ? 'IS NOT DISTINCT FROM' : '='} $${params.length}`;
    });
    let where = cond.join(' AND ');
    if (t.full) where = `ctid = (SELECT ctid FROM ${t.sql} WHERE ${where} LIMIT 1)`;
    if (m.tag === 'delete') {
      const r = await this.target.query({ text: `DELETE FROM ${t.sql} WHERE ${where}`, values: params });
      if ((r.rowCount ?? 0) === 0 && !idempotent) this.conflict(t, 'DELETE of a row missing on the target', ident);
      else this.count(t, 'delete');
      return;
    }
    // A late-copied table may already hold the row under its new key (the copy saw a later
    // state) while the replay re-created the old one: clear the newer copy, the changes that
    // follow in the stream bring the row to its final state again.
    if (idempotent && m.key && !t.full && t.keyIdx.some((i) => m.key![i] !== m.new[i])) {
      const keyWhere = (from: number) => t.keyIdx.map((i, n) => `${q(cols[i]!.name)} = $${from + n}`).join(' AND ');
      const old = await this.target.query({
        text: `SELECT 1 FROM ${t.sql} WHERE ${keyWhere(1)}`,
        values: t.keyIdx.map((i) => m.key![i]),
      });
      if ((old.rowCount ?? 0) > 0)
        await this.target.query({
          text: `DELETE FROM ${t.sql} WHERE ${keyWhere(1)}`,
          values: t.keyIdx.map((i) => m.new[i]),
        });
    }
    // Unchanged TOAST columns (undefined) stay out of the SET list.
    const setIdx = cols.map((_, i) => i).filter((i) => m.new[i] !== undefined && !t.alwaysIdentity.has(i));
    const set = setIdx.map((i) => {
      params.push(m.new[i]);
      return `${q(cols[i]!.name)} = $${params.length}`;
    });
    const r = await this.target.query({ text: `UPDATE ${t.sql} SET ${set.join(', ')} WHERE ${where}`, values: params });
    if ((r.rowCount ?? 0) > 0) {
      this.count(t, 'update');
      return;
    }
    if (idempotent) return; // the late copy already holds a later version, or the row is gone
    const all = cols.map((_, i) => i);
    if (this.o.conflictPolicy === 'overwrite' && all.every((i) => m.new[i] !== undefined)) {
      await this.target.query({
        text:
          `INSERT INTO ${t.sql} (${all.map((i) => q(cols[i]!.name)).join(', ')}) OVERRIDING SYSTEM VALUE ` +
          `VALUES (${all.map((_, n) => `$${n + 1}`).join(', ')})`,
        values: all.map((i) => m.new[i]),
      });
    }
    this.conflict(t, 'UPDATE of a row missing on the target', ident);
  }
}
