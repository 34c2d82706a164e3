/**
 * Exactly-once apply of the change stream to the target (the position rules are in
 * position.ts).
 *
 * - Each change carries the relation layout it was decoded under: a column change on the
 *   source never shifts the values of transactions received before it.
 * - Several small source transactions are applied in one target transaction, in source
 *   order; a large one is applied in parts inside one open target transaction, so memory
 *   stays bounded. The applied position is written in the same transaction.
 * - Every target transaction first takes the migration's apply lock and reads the applied
 *   position under it: two attempts that overlap (a worker presumed dead, still running)
 *   never apply a transaction twice.
 * - Unchanged TOAST values are left out of the SET list: writing them would turn them into
 *   NULLs.
 * - session_replication_role = replica: target triggers and FK checks do not fire a second
 *   time for changes the source already checked; row_security = off: a policy that would
 *   hide rows from the applying role stops the apply instead of skipping rows.
 * - Rows are found through ONLY the table itself (a child of a legacy inheritance parent is
 *   a table of its own), and a TRUNCATE never cascades to target tables the source did not
 *   truncate.
 */
import type pg from 'pg';
import { ErrorType, PgTransitError } from '../../errors';
import type { ConflictPolicy, TableCounts } from '../../model/activities';
import { LOCK_KEYS } from '../../model/names';
import type { Plan } from '../../plan/plan';
import { displayName, targetName } from '../../plan/selection';
import { compareLsn } from '../../model/lsn';
import { classify } from '../classify';
import { replayedIdempotently } from '../snapshot';
import { exactHorizons } from '../state';
import { ChangedKeys, EVERY_TABLE, WHOLE_TABLE, changedTable, readTracking } from './changed-keys';
import { applyDdl, type DdlEvent } from './ddl-apply';
import type { Relation, Tuple } from './pgoutput';
import { alreadyApplied, beginLocked, commitApplied, readApplied } from './position';
import { SetBatch, type SetTable } from './setwise';

/** A row change as decoded, with the relation layout it was decoded under. */
export type RowChange =
  | { tag: 'insert'; relation: Relation; new: Tuple }
  | { tag: 'update'; relation: Relation; key: Tuple | null; old: Tuple | null; new: Tuple }
  | { tag: 'delete'; relation: Relation; key: Tuple | null; old: Tuple | null }
  | { tag: 'truncate'; relations: Relation[]; cascade: boolean; restartIdentity: boolean };

/** What a source transaction carries: row changes, and (cdc.ddl: replicate) its DDL in place. */
export type Change =
  | RowChange
  /** A DDL statement of the source (cdc.ddl: replicate), in its place among the changes. */
  | { tag: 'ddl'; ddl: DdlEvent };

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

interface TargetColumn {
  name: string;
  /** format_type of the target column: parameters are cast to it. */
  type: string;
  /** GENERATED ALWAYS AS IDENTITY: set only with OVERRIDING SYSTEM VALUE. */
  alwaysIdentity: boolean;
  /** The type has an equality operator (json, point, xml have none): else compared as text. */
  equality: boolean;
  /** text, varchar, char, name: carry 8-bit bytes of a SQL_ASCII database as they are. */
  textual: boolean;
}

interface TargetTable extends SetTable {
  relation: Relation;
  /** Quoted schema.table on the target, and the same with ONLY for plain tables. */
  sql: string;
  only: string;
  display: string;
  /** Indexes (in the relation's columns) of the replica identity key. */
  keyIdx: number[];
  /** REPLICA IDENTITY FULL: rows are found by every old column. */
  full: boolean;
  columns: TargetColumn[];
  partitioned: boolean;
  /**
   * INSERT ... ON CONFLICT is refused on tables with INSERT or UPDATE rules, with
   * deferrable unique or exclusion constraints (they cannot be arbiters) and on user
   * catalog tables (user_catalog_table): such tables are probed with NOT EXISTS instead.
   */
  onConflict: boolean;
}

export interface ApplierOptions {
  plan: Plan;
  database: string;
  conflictPolicy: ConflictPolicy;
  /** Tables copied late, applied idempotently until the stream passes `lateHorizonLsn`. */
  lateTables: Set<string>;
  lateHorizonLsn: string | null;
  /** The source database's encoding: SQL_ASCII values are bytes, not UTF-8 text. */
  sqlAscii?: boolean;
}

const emptyCounts = (): TableCounts => ({ insert: 0, update: 0, delete: 0, truncate: 0, conflicts: 0 });

type Param = string | null | Buffer;

export class Applier {
  private tables = new WeakMap<Relation, TargetTable>();
  /** Rows changed per table by committed target transactions (reports never count a batch that may roll back). */
  readonly counts = new Map<string, TableCounts>();
  /** Rows changed in the open target transaction, counted once it commits. */
  private uncommitted = new Map<string, TableCounts>();
  /** Highest commit LSN applied and committed on the target. */
  appliedLsn: string | null = null;
  /** A large source transaction being applied in parts: its target transaction is open. */
  private open: { txn: SourceTransaction; skip: boolean } | null = null;
  /** Changes folded for set-wise apply (setwise.ts), written before anything applied alone. */
  private readonly set = new SetBatch();
  /** Set-wise writes, and those the target refused (applied one by one instead). */
  readonly setwise = { writes: 0, fallbacks: 0 };
  /** DDL statements of the source replayed on the target. */
  ddl = 0;
  /** Since a verification point: where tracking starts, and the keys the open target transaction changed. */
  private trackFrom: string | null = null;
  private readonly changed: ChangedKeys;

  constructor(
    private readonly target: pg.Client,
    private readonly o: ApplierOptions,
  ) {
    this.changed = new ChangedKeys(o.sqlAscii === true);
  }

  /** Source tables copied late with an exact horizon (../snapshot/exact.ts): their changes before it are in the copy. */
  private exact = new Map<string, string>();

  /** Reads the applied position (a restart skips what it already applied) and the exact horizons of late copies. */
  async load(): Promise<string | null> {
    this.appliedLsn = await readApplied(this.target, this.o.plan.name, this.o.database);
    this.exact = await exactHorizons(this.target, this.o.plan.name, this.o.database);
    this.trackFrom = await readTracking(this.target, this.o.plan.name, this.o.database);
    return this.appliedLsn;
  }

  /** Reads the applied position again (between transactions): another attempt may have moved it meanwhile. */
  async refresh(): Promise<string | null> {
    if (!this.inTransaction) this.appliedLsn = await readApplied(this.target, this.o.plan.name, this.o.database);
    return this.appliedLsn;
  }

  /** The copy of this source table already holds changes committed before its exact horizon. */
  private inExactCopy(rel: Relation, commitLsn: string): boolean {
    if (this.exact.size === 0) return false;
    const horizon = this.exact.get(`${rel.schema}.${rel.name}`);
    return horizon !== undefined && compareLsn(commitLsn, horizon) < 0;
  }

  /** Whether a table is replayed idempotently now (late, before the horizon, and not copied with an exact one). */
  private replayed(rel: Relation, display: string, idempotent: boolean): boolean {
    return idempotent && this.o.lateTables.has(display) && !this.exact.has(`${rel.schema}.${rel.name}`);
  }

  /** Whether a large transaction's target transaction is open. */
  get inTransaction(): boolean {
    return this.open !== null;
  }

  /**
   * Applies committed source transactions (in source order) in one target transaction with
   * the new applied position. Returns how many were applied (the rest were applied before).
   */
  async applyBatch(txns: SourceTransaction[]): Promise<number> {
    // A transaction with DDL ends its target transaction: what follows may need the DDL committed
    // (a value ALTER TYPE ... ADD VALUE added cannot be used in the transaction that added it).
    let applied = 0;
    let from = 0;
    for (let i = 0; i < txns.length; i++) {
      if (i === txns.length - 1 || txns[i]!.changes.some((c) => c.tag === 'ddl')) {
        applied += await this.applyTransactions(txns.slice(from, i + 1));
        from = i + 1;
      }
    }
    return applied;
  }

  private async applyTransactions(txns: SourceTransaction[]): Promise<number> {
    if (txns.every((t) => alreadyApplied(t.commitLsn, this.appliedLsn))) return 0;
    try {
      await this.begin();
      const todo = txns.filter((t) => !alreadyApplied(t.commitLsn, this.appliedLsn));
      if (todo.length === 0) {
        await this.target.query('ROLLBACK');
        return 0;
      }
      for (const txn of todo) await this.applyChanges(txn, txn.changes);
      await this.writeSet();
      await this.writeChanged();
      const last = todo[todo.length - 1]!;
      await commitApplied(this.target, this.o.plan.name, this.o.database, last.commitLsn);
      this.settle(true);
      this.appliedLsn = last.commitLsn;
      return todo.length;
    } catch (e) {
      this.set.clear();
      this.changed.clear();
      await this.target.query('ROLLBACK').catch(() => undefined);
      throw this.classified(e);
    }
  }

  /** The keys changed since the verification point, in the open target transaction. */
  private async writeChanged(): Promise<void> {
    if (this.trackFrom) await this.changed.write(this.target, this.o.plan.name, this.o.database);
  }

  /** A part of a large transaction, before its commit arrived: applied in its open target transaction. */
  async applyPart(txn: SourceTransaction, changes: Change[]): Promise<void> {
    try {
      if (!this.open) {
        await this.begin();
        this.open = { txn, skip: alreadyApplied(txn.commitLsn, this.appliedLsn) };
      }
      if (!this.open.skip) {
        await this.applyChanges(txn, changes);
        await this.writeSet();
        await this.writeChanged();
      }
    } catch (e) {
      this.set.clear();
      this.changed.clear();
      await this.rollback();
      throw this.classified(e);
    }
  }

  /** The commit of the large transaction: its last part, the applied position, COMMIT. Returns 1 when it was applied now. */
  async commitLarge(txn: SourceTransaction, last: Change[]): Promise<number> {
    await this.applyPart(txn, last);
    const open = this.open!;
    try {
      if (open.skip) {
        await this.target.query('ROLLBACK');
        return 0;
      }
      await commitApplied(this.target, this.o.plan.name, this.o.database, txn.commitLsn);
      this.settle(true);
      this.appliedLsn = txn.commitLsn;
      return 1;
    } catch (e) {
      await this.target.query('ROLLBACK').catch(() => undefined);
      throw this.classified(e);
    } finally {
      this.open = null;
    }
  }

  /** Gives up the open large transaction (the stream ended before its commit: it is sent again). */
  async rollback(): Promise<void> {
    if (!this.open) return;
    this.open = null;
    await this.target.query('ROLLBACK').catch(() => undefined);
  }

  /** BEGIN, the apply lock, and the applied position as it is now (another attempt may have moved it). */
  private async begin(): Promise<void> {
    // Rows of a transaction that rolled back before this one never count, nor its keys.
    this.settle(false);
    this.changed.clear();
    this.set.opened();
    this.appliedLsn = await beginLocked(
      this.target,
      'SET LOCAL session_replication_role = replica',
      LOCK_KEYS.apply(this.o.plan.name, this.o.database),
      this.o.plan.name,
      this.o.database,
    );
  }

  private classified(e: unknown): PgTransitError {
    if (e instanceof PgTransitError) return e;
    return classify('apply', 'applying changes', e);
  }

  /** Folds each change into the set-wise batch, or writes the batch and applies the change alone. */
  private async applyChanges(txn: SourceTransaction, changes: Change[]): Promise<void> {
    const idempotent = replayedIdempotently(txn.commitLsn, this.o.lateHorizonLsn);
    const tracked = this.trackFrom !== null && compareLsn(txn.commitLsn, this.trackFrom) >= 0;
    for (const change of changes) {
      if (tracked) this.track(change);
      if (change.tag === 'ddl') {
        // The changes before it are written under the old layout, those after it find the new one.
        await this.writeSet();
        if (await applyDdl(this.target, this.o.plan, this.o.database, change.ddl)) {
          this.tables = new WeakMap();
          this.ddl++;
        }
        continue;
      }
      let c: RowChange = change;
      if (c.tag === 'truncate') {
        const relations = c.relations.filter((r) => !this.inExactCopy(r, txn.commitLsn));
        if (relations.length === 0) continue;
        c = { ...c, relations };
      } else {
        if (this.inExactCopy(c.relation, txn.commitLsn)) continue;
        // Known layouts without a promise per change.
        const t = this.tables.get(c.relation) ?? (await this.table(c.relation));
        if (!this.replayed(c.relation, t.display, idempotent) && this.set.add(t, c)) continue;
      }
      await this.writeSet();
      await this.applyChange(c, idempotent);
    }
  }

  /** Notes the keys a change touches (changed-keys.ts). */
  private track(c: Change): void {
    if (c.tag === 'ddl') return this.changed.add(EVERY_TABLE, WHOLE_TABLE);
    if (c.tag === 'truncate') {
      for (const r of c.relations) this.changed.add(changedTable(r), WHOLE_TABLE);
      return;
    }
    if (c.tag === 'insert') return this.changed.note(c.relation, c.new);
    if (c.tag === 'delete') return this.changed.note(c.relation, c.key ?? c.old);
    // An update: the old key when it changed (or the whole old row, FULL), and the new one.
    this.changed.note(c.relation, c.key ?? c.old, c.new);
  }

  /** Writes the folded changes; when the target refuses them, applies the same changes one by one. */
  private async writeSet(): Promise<void> {
    if (this.set.size === 0) return;
    const received = this.set.received;
    const ok = await this.set.write(this.target, (display, kind, n) => this.count({ display }, kind, n));
    this.set.clear();
    this.setwise.writes++;
    if (ok) return;
    this.setwise.fallbacks++;
    // Only changes not replayed over a late copy are folded: applied alone, they are not idempotent either.
    for (const c of received) await this.applyChange(c, false);
  }

  /** The target table a relation layout maps to, checked against the target's columns (schema drift). */
  private async table(rel: Relation): Promise<TargetTable> {
    const known = this.tables.get(rel);
    if (known) return known;
    const dest = targetName(this.o.plan, rel);
    const display = `${rel.schema}.${rel.name}`;
    const { rows } = await this.target.query<{
      attname: string | null;
      attidentity: string;
      type: string;
      equality: boolean;
      textual: boolean;
      relkind: string;
      on_conflict: boolean;
      replica_triggers: boolean;
    }>(
      `SELECT a.attname, a.attidentity, format_type(a.atttypid, a.atttypmod) AS type,
              EXISTS (SELECT 1 FROM pg_opclass o JOIN pg_am m ON m.oid = o.opcmethod
                       WHERE o.opcdefault AND m.amname IN ('btree', 'hash')
                         AND o.opcintype IN (a.atttypid, (SELECT t.typbasetype FROM pg_type t WHERE t.oid = a.atttypid),
                                             CASE WHEN (SELECT t.typtype FROM pg_type t WHERE t.oid = a.atttypid) = 'c' THEN 'record'::regtype END,
                                             CASE WHEN (SELECT t.typcategory FROM pg_type t WHERE t.oid = a.atttypid) = 'A' THEN 'anyarray'::regtype END,
                                             CASE WHEN (SELECT t.typtype FROM pg_type t WHERE t.oid = a.atttypid) = 'e' THEN 'anyenum'::regtype END,
                                             CASE WHEN (SELECT t.typtype FROM pg_type t WHERE t.oid = a.atttypid) = 'r'
                                                  THEN 'anyrange'::regtype END)) AS equality,
              a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'name'::regtype) AS textual,
              c.relkind,
              NOT EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN' AND r.ev_type IN ('2', '3'))
                AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND NOT i.indimmediate)
                AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'x' AND k.condeferrable)
                AND NOT EXISTS (SELECT 1 FROM unnest(c.reloptions) o WHERE lower(o) ~ '^user_catalog_table=(t|tr|tru|true|on|y|ye|yes|1)$') AS on_conflict,
              EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND NOT g.tgisinternal AND g.tgenabled IN ('A', 'R')) AS replica_triggers
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         -- A table may have no column at all (and still rows): one row for it then, with no column.
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
      [dest.schema, dest.name],
    );
    if (rows.length === 0) {
      throw new PgTransitError(
        ErrorType.SchemaDrift,
        `change stream for ${display}: table ${displayName(dest)} does not exist on the target`,
        {
          table: display,
        },
      );
    }
    const byName = new Map(rows.filter((r) => r.attname !== null).map((r) => [r.attname, r]));
    const missing = rel.columns.filter((c) => !byName.has(c.name)).map((c) => c.name);
    if (missing.length > 0) {
      throw new PgTransitError(
        ErrorType.SchemaDrift,
        `schema drift on ${display}: the source sends columns ${missing.join(', ')} that ${displayName(dest)} on the target ` +
          `does not have; apply the same ALTER TABLE on the target, then resume`,
        { table: display, columns: missing },
      );
    }
    const q = (s: string) => this.target.escapeIdentifier(s);
    const sql = `${q(dest.schema)}.${q(dest.name)}`;
    const partitioned = rows[0]!.relkind === 'p';
    const keyIdx = rel.columns.map((c, i) => (c.key ? i : -1)).filter((i) => i >= 0);
    const full = rel.replicaIdentity === 'f';
    // Set-wise apply (setwise.ts) where the order of changes between tables cannot show.
    const plain =
      !partitioned && rows[0]!.on_conflict && !rows[0]!.replica_triggers && !this.o.sqlAscii && rel.columns.length > 0;
    const identityOutsideKey = rel.columns.some((c) => byName.get(c.name)!.attidentity === 'a' && !c.key);
    const mode: SetTable['mode'] = !plain
      ? 'exact'
      : full || keyIdx.length === 0
        ? 'append'
        : identityOutsideKey
          ? 'exact'
          : 'keyed';
    const t: TargetTable = {
      relation: rel,
      sql,
      only: partitioned ? sql : `ONLY ${sql}`,
      display,
      keyIdx,
      full,
      partitioned,
      mode,
      onConflict: rows[0]!.on_conflict,
      columns: rel.columns.map((c) => {
        const r = byName.get(c.name)!;
        return {
          name: c.name,
          type: r.type,
          alwaysIdentity: r.attidentity === 'a',
          equality: r.equality,
          textual: r.textual,
        };
      }),
    };
    this.tables.set(rel, t);
    return t;
  }

  private count(t: { display: string }, kind: keyof TableCounts, n = 1) {
    let c = this.uncommitted.get(t.display);
    if (!c) this.uncommitted.set(t.display, (c = emptyCounts()));
    c[kind] += n;
  }

  /** The open target transaction ended: its rows count when it committed, and are forgotten when it rolled back. */
  private settle(committed: boolean): void {
    if (committed) {
      for (const [table, n] of this.uncommitted) {
        let c = this.counts.get(table);
        if (!c) this.counts.set(table, (c = emptyCounts()));
        for (const k of Object.keys(n) as (keyof TableCounts)[]) c[k] += n[k];
      }
    }
    this.uncommitted = new Map();
  }

  /** What a conflict message says of the row: the key columns and values, never a whole row. */
  private describeKey(t: TargetTable, key: Tuple | null): string {
    if (t.full || t.keyIdx.length === 0) return '(no key: the table is REPLICA IDENTITY FULL)';
    if (!key) return '(no key)';
    return t.keyIdx.map((i) => `${t.columns[i]!.name}=${key[i] ?? 'NULL'}`).join(', ');
  }

  private conflict(t: TargetTable, what: string, key: Tuple | null): void {
    if (this.o.conflictPolicy === 'error') {
      const keyText = this.describeKey(t, key);
      throw new PgTransitError(
        ErrorType.ApplyConflict,
        `conflict on ${t.display}: ${what} (key ${keyText}); fix the target row or choose cdc.conflictPolicy ignore/overwrite, then resume`,
        { table: t.display, key: keyText, change: what },
      );
    }
    this.count(t, 'conflicts');
  }

  /** A value as a parameter: text, or the bytes themselves for 8-bit text of a SQL_ASCII source. */
  private param(t: TargetTable, i: number, v: string | null | undefined): Param {
    if (v === null || v === undefined) return null;
    if (!this.o.sqlAscii || !/[^\x00-\x7f]/.test(v)) return v;
    if (t.columns[i]!.textual) return Buffer.from(v, 'latin1');
    throw new PgTransitError(
      ErrorType.ApplyFailed,
      `${t.display}.${t.columns[i]!.name} (${t.columns[i]!.type}): a value holds bytes above 127 of a SQL_ASCII database, which change capture ` +
        `carries only in text, varchar, char and name columns; change the column's type, or move those rows yourself, then resume`,
      { table: t.display, column: t.columns[i]!.name },
    );
  }

  private async run(text: string, values: Param[]): Promise<number> {
    return (await this.target.query({ text, values })).rowCount ?? 0;
  }

  /** `col = $n` for a key, `col IS NOT DISTINCT FROM $n` for a full row (as text when the type has no equality). */
  private match(t: TargetTable, idx: number[], tuple: Tuple, params: Param[]): string {
    const q = (s: string) => this.target.escapeIdentifier(s);
    return (
      idx
        .map((i) => {
          const c = t.columns[i]!;
          params.push(this.param(t, i, tuple[i]));
          const p = `$${params.length}`;
          // Key columns are NOT NULL: `=` lets the target use the key's index.
          if (!t.full) return `${q(c.name)} = ${p}::${c.type}`;
          return c.equality
            ? `${q(c.name)} IS NOT DISTINCT FROM ${p}::${c.type}`
            : `${q(c.name)}::text IS NOT DISTINCT FROM ${p}::text`;
        })
        .join(' AND ') || 'true'
    );
  }

  /** The WHERE that finds the row a change names: by key, or one row equal in every old column. */
  private where(t: TargetTable, ident: Tuple, params: Param[]): string {
    if (!t.full) {
      if (t.keyIdx.length === 0) {
        throw new PgTransitError(
          ErrorType.ApplyFailed,
          `${t.display} has no replica identity the change stream can find rows by (a partitioned table published through ` +
            `its root without a key of its own); start the migration again: partitions are now published one by one`,
          { table: t.display },
        );
      }
      return this.match(t, t.keyIdx, ident, params);
    }
    const idx = t.columns.map((_, i) => i).filter((i) => ident[i] !== undefined);
    const cond = this.match(t, idx, ident, params);
    // ctid is unique within one relation only: a partitioned table needs the partition too.
    return t.partitioned
      ? `(tableoid, ctid) = (SELECT tableoid, ctid FROM ${t.sql} WHERE ${cond} LIMIT 1)`
      : `ctid = (SELECT ctid FROM ${t.only} WHERE ${cond} LIMIT 1)`;
  }

  private insertSql(t: TargetTable, idx: number[], params: Param[], tuple: Tuple): { columns: string; values: string } {
    const q = (s: string) => this.target.escapeIdentifier(s);
    const values = idx.map((i) => {
      params.push(this.param(t, i, tuple[i]));
      return `$${params.length}::${t.columns[i]!.type}`;
    });
    return { columns: idx.map((i) => q(t.columns[i]!.name)).join(', '), values: values.join(', ') };
  }

  /** INSERT the row unless one with its key (or, without a key, the very same row) is there; returns rows inserted. */
  private async insertUnlessPresent(t: TargetTable, tuple: Tuple, idx: number[]): Promise<number> {
    const params: Param[] = [];
    const { columns, values } = this.insertSql(t, idx, params, tuple);
    // The source already chose identity values: keep them.
    if (t.onConflict && !t.full && t.keyIdx.length > 0) {
      return this.run(
        `INSERT INTO ${t.sql} (${columns}) OVERRIDING SYSTEM VALUE VALUES (${values}) ON CONFLICT DO NOTHING`,
        params,
      );
    }
    // Without a key, "present" means the same row, every column equal.
    const byRow = t.full || t.keyIdx.length === 0;
    const cond = this.match({ ...t, full: byRow }, byRow ? idx : t.keyIdx, tuple, params);
    return this.run(
      `INSERT INTO ${t.sql} (${columns}) OVERRIDING SYSTEM VALUE SELECT ${values} WHERE NOT EXISTS (SELECT 1 FROM ${t.only} WHERE ${cond})`,
      params,
    );
  }

  private async applyChange(m: RowChange, lateIdempotent: boolean): Promise<void> {
    if (m.tag === 'truncate') {
      const tables: TargetTable[] = [];
      for (const r of m.relations) tables.push(await this.table(r));
      // Never CASCADE: the source already listed every table it emptied, and the target may
      // hold tables of its own that reference these (native apply refuses the same way).
      const list = tables.map((t) => t.only).join(', ');
      await this.target.query(`TRUNCATE ${list}${m.restartIdentity ? ' RESTART IDENTITY' : ''}`);
      for (const t of tables) this.count(t, 'truncate');
      return;
    }
    const t = await this.table(m.relation);
    const idempotent = this.replayed(m.relation, t.display, lateIdempotent);
    const all = t.columns.map((_, i) => i);
    if (m.tag === 'insert') return this.applyInsert(t, m.new, idempotent);

    // UPDATE and DELETE find the row by its key (the old key when the key changed), or by every old column.
    const ident: Tuple = m.key ?? m.old ?? (m.tag === 'update' ? m.new : []);
    if (m.tag === 'delete') {
      const params: Param[] = [];
      const n = await this.run(`DELETE FROM ${t.only} WHERE ${this.where(t, ident, params)}`, params);
      if (n === 0 && !idempotent) this.conflict(t, 'DELETE of a row missing on the target', ident);
      else this.count(t, 'delete');
      return;
    }
    const q = (s: string) => this.target.escapeIdentifier(s);
    const complete = all.every((i) => m.new[i] !== undefined);
    // A GENERATED ALWAYS identity column whose value changed (UPDATE ... SET id = DEFAULT) can only
    // be written by an INSERT with OVERRIDING SYSTEM VALUE: move the row, keeping unchanged TOAST values.
    const before = m.key ?? m.old;
    const identityChanged = t.columns.some(
      (c, i) => c.alwaysIdentity && before && before[i] != null && m.new[i] !== undefined && before[i] !== m.new[i],
    );
    if (identityChanged) {
      const params: Param[] = [];
      const where = this.where(t, ident, params);
      const select = all.map((i) => {
        if (m.new[i] === undefined) return `old.${q(t.columns[i]!.name)}`;
        params.push(this.param(t, i, m.new[i]));
        return `$${params.length}::${t.columns[i]!.type}`;
      });
      const n = await this.run(
        `WITH old AS (DELETE FROM ${t.only} WHERE ${where} RETURNING *) ` +
          `INSERT INTO ${t.sql} (${all.map((i) => q(t.columns[i]!.name)).join(', ')}) OVERRIDING SYSTEM VALUE SELECT ${select.join(', ')} FROM old`,
        params,
      );
      if (n > 0) this.count(t, 'update');
      else if (!idempotent) this.conflict(t, 'UPDATE of a row missing on the target', ident);
      return;
    }
    // A late-copied table may already hold the row under its new key (the copy saw a later
    // state) while the replay re-created the old one: clear the newer copy, the changes that
    // follow in the stream bring the row to its final state again.
    if (idempotent && m.key && !t.full && t.keyIdx.some((i) => m.key![i] !== m.new[i])) {
      const p1: Param[] = [];
      const old = await this.run(`SELECT 1 FROM ${t.only} WHERE ${this.where(t, m.key, p1)}`, p1);
      if (old > 0) {
        const p2: Param[] = [];
        await this.run(`DELETE FROM ${t.only} WHERE ${this.where(t, m.new, p2)}`, p2);
      }
    }
    // Unchanged TOAST columns (undefined), always-identity columns, and columns the old row shows
    // unchanged stay out of the SET list: rewriting an unchanged indexed value would make the
    // update a non-HOT one with a new index entry, which for a long key stored without
    // compression is larger than an index page (the source wrote none).
    const params: Param[] = [];
    // The old row is whole with REPLICA IDENTITY FULL; an old key holds the key columns only.
    const unchanged = (i: number) =>
      m.old
        ? m.old[i] !== undefined && m.old[i] === m.new[i]
        : !t.full && t.keyIdx.includes(i) && (!m.key || m.key[i] === m.new[i]);
    const setIdx = all.filter((i) => m.new[i] !== undefined && !t.columns[i]!.alwaysIdentity && !unchanged(i));
    const set = setIdx.map((i) => {
      params.push(this.param(t, i, m.new[i]));
      return `${q(t.columns[i]!.name)} = $${params.length}::${t.columns[i]!.type}`;
    });
    const where = this.where(t, ident, params);
    const n = set.length
      ? await this.run(`UPDATE ${t.only} SET ${set.join(', ')} WHERE ${where}`, params)
      : await this.run(`SELECT 1 FROM ${t.only} WHERE ${where}`, params);
    if (n > 0) {
      await this.followIdentity(t, m.new);
      this.count(t, 'update');
      return;
    }
    if (idempotent) {
      // The late copy may not hold the row (it moved between chunks copied at different times):
      // the new row, when the stream sent all of it, is the row.
      if (complete) await this.insertUnlessPresent(t, m.new, all);
      return;
    }
    if (this.o.conflictPolicy === 'overwrite' && complete) {
      const p: Param[] = [];
      const { columns, values } = this.insertSql(t, all, p, m.new);
      await this.run(`INSERT INTO ${t.sql} (${columns}) OVERRIDING SYSTEM VALUE VALUES (${values})`, p);
    }
    this.conflict(t, 'UPDATE of a row missing on the target', ident);
  }

  /**
   * A GENERATED ALWAYS identity column outside the key can change (SET col = DEFAULT) without the
   * stream saying it did: when the target's value differs from the new row's, move the row to it.
   */
  private async followIdentity(t: TargetTable, tuple: Tuple): Promise<void> {
    const idx = t.columns
      .map((c, i) => (c.alwaysIdentity && !t.keyIdx.includes(i) && tuple[i] != null ? i : -1))
      .filter((i) => i >= 0);
    if (idx.length === 0 || t.full || t.keyIdx.length === 0) return;
    const q = (s: string) => this.target.escapeIdentifier(s);
    const params: Param[] = [];
    const key = this.match(t, t.keyIdx, tuple, params);
    const differs = idx.map((i) => {
      params.push(this.param(t, i, tuple[i]));
      return `${q(t.columns[i]!.name)} IS DISTINCT FROM $${params.length}::${t.columns[i]!.type}`;
    });
    const at = new Map(idx.map((i, n) => [i, `$${params.length - idx.length + n + 1}::${t.columns[i]!.type}`]));
    const names = t.columns.map((c) => q(c.name));
    const select = t.columns.map((c, i) => at.get(i) ?? `old.${q(c.name)}`);
    await this.run(
      `WITH old AS (DELETE FROM ${t.only} WHERE ${key} AND (${differs.join(' OR ')}) RETURNING *) ` +
        `INSERT INTO ${t.sql} (${names.join(', ')}) OVERRIDING SYSTEM VALUE SELECT ${select.join(', ')} FROM old`,
      params,
    );
  }

  private async applyInsert(t: TargetTable, tuple: Tuple, idempotent: boolean): Promise<void> {
    const q = (s: string) => this.target.escapeIdentifier(s);
    const idx = t.columns.map((_, i) => i).filter((i) => tuple[i] !== undefined);
    const keyed = !t.full && t.keyIdx.length > 0;
    if (!keyed && !idempotent) {
      // No key: nothing to conflict on.
      const params: Param[] = [];
      const { columns, values } = this.insertSql(t, idx, params, tuple);
      // A table without columns takes its rows as DEFAULT VALUES.
      const sql = idx.length
        ? `INSERT INTO ${t.sql} (${columns}) OVERRIDING SYSTEM VALUE VALUES (${values})`
        : `INSERT INTO ${t.sql} DEFAULT VALUES`;
      await this.run(sql, params);
      this.count(t, 'insert');
      return;
    }
    // No key, replayed over a late copy: the best a replay can do is not to add a row that is already there, identical.
    const inserted = await this.insertUnlessPresent(t, tuple, idx);
    if (inserted > 0) {
      this.count(t, 'insert');
      return;
    }
    if (!keyed) {
      this.count(t, 'insert');
      return;
    }
    const overwrite = idempotent || this.o.conflictPolicy === 'overwrite';
    if (!overwrite) {
      this.conflict(t, 'INSERT of a row that already exists', tuple);
      return;
    }
    // Overwrite the row holding the key (two statements: RETURNING xmax, the usual way to tell
    // an upsert's insert from its update, is refused on partitioned tables).
    const nonKey = idx.filter((i) => !t.keyIdx.includes(i) && !t.columns[i]!.alwaysIdentity);
    const params: Param[] = [];
    const where = this.match(t, t.keyIdx, tuple, params);
    const set = nonKey.map((i) => {
      params.push(this.param(t, i, tuple[i]));
      return `${q(t.columns[i]!.name)} = $${params.length}::${t.columns[i]!.type}`;
    });
    const n = set.length
      ? await this.run(`UPDATE ${t.only} SET ${set.join(', ')} WHERE ${where}`, params)
      : await this.run(`SELECT 1 FROM ${t.only} WHERE ${where}`, params);
    if (n === 0) {
      // The INSERT was skipped, yet no row holds the key: it collides on another unique constraint.
      const { rows } = await this.target.query<{ names: string | null }>(
        `SELECT string_agg(c.relname, ', ' ORDER BY c.relname) AS names FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = $1::regclass AND i.indisunique AND NOT i.indisprimary`,
        [t.sql],
      );
      throw new PgTransitError(
        ErrorType.ApplyConflict,
        `conflict on ${t.display}: INSERT (key ${this.describeKey(t, tuple)}) collides with a different row on a unique ` +
          `index other than the key (${rows[0]?.names ?? 'unknown'}); fix the target row, then resume`,
        { table: t.display, key: this.describeKey(t, tuple), change: 'INSERT' },
      );
    }
    if (!idempotent) this.count(t, 'conflicts');
    this.count(t, 'insert');
  }
}
