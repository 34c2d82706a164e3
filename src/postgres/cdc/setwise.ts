/**
 * Set-wise apply: a batch of changes applied with a few statements per table instead of
 * one per change, with the same result as applying them one by one in source order.
 *
 * 1. Compaction. The changes of a keyed table are folded per key into one net effect:
 *    what the target must hold before (the row, or no row) and after (a row, possibly only
 *    some of its columns, or no row). A change whose effect cannot be folded without
 *    knowing the target (a key that changes, an INSERT of a key the batch already holds,
 *    an UPDATE or DELETE of a key the batch removed) ends the compaction: what was folded
 *    is written (step 2), then that change is applied alone, exactly.
 *    Keyless tables take INSERTs only; any other change of theirs ends the compaction.
 * 2. Writing. Inside a savepoint, per table: one DELETE, one UPDATE per set of changed
 *    columns, one INSERT, and a check that keys inserted then deleted in the batch are not
 *    on the target, each joined to its values sent as text arrays (`unnest`). Each must
 *    touch exactly as many rows as it has keys. They go as the parts of one statement
 *    (data-modifying WITH queries, one round trip) that returns each part's count: the
 *    parts of one table touch disjoint keys, so no part depends on another's effect; where
 *    another unique index makes one part wait for another (a value passed between rows),
 *    the statement fails or falls short, and step 3 applies the changes in order.
 * 3. Fall back. When the target refuses a statement (a unique index other than the key,
 *    a check, an exclusion constraint) or a count is short (a conflict), everything since
 *    the savepoint is rolled back and the same changes are applied one by one in source
 *    order (apply.ts), which either succeeds or reports the conflict exactly.
 *
 * Order between tables does not matter: the apply runs with session_replication_role =
 * replica (no foreign key checks, no ordinary triggers or rules). Tables where it could
 * (rules, REPLICA or ALWAYS triggers, deferrable constraints, user catalog tables,
 * partitioned roots, GENERATED ALWAYS identity columns outside the key, late-copied tables
 * being replayed) are applied one by one.
 */
import type pg from 'pg';
import type { TableCounts } from '../../model/activities';
import type { RowChange as Change } from './apply';
import type { Tuple } from './pgoutput';

/** What set-wise apply needs to know of a target table. */
export interface SetTable {
  display: string;
  /** Quoted schema.table, and the same with ONLY. */
  sql: string;
  only: string;
  keyIdx: number[];
  /** Column names and target types, in the relation's order. */
  columns: { name: string; type: string }[];
  /** Keyed changes may be folded (see the header); keyless tables take INSERTs only. */
  mode: 'keyed' | 'append' | 'exact';
}

/** A row's columns by position; undefined where the batch does not know the value (unchanged TOAST). */
type Values = Tuple;

interface Entry {
  key: (string | null)[];
  /** The target holds the row before the batch (true) or must not (false). */
  before: boolean;
  /** The row after the batch: its known columns, or null when the batch removed it. */
  after: Values | null;
  /**
   * `after` is this entry's own copy. Until a later change merges into it, it is the tuple of
   * the change itself, which is kept as it is for the fall back: copied only on the first merge.
   */
  owned: boolean;
}

interface Group {
  table: SetTable;
  entries: Map<string, Entry>;
  /** Rows of a keyless table, in order. */
  appended: Values[];
  counts: Pick<TableCounts, 'insert' | 'update' | 'delete'>;
}

/** The changes folded so far, and the same changes as received (for the fall back). */
export class SetBatch {
  private groups = new Map<SetTable, Group>();
  /** The layout each table's group was folded under: a new layout ends the compaction. */
  private layouts = new Map<string, SetTable>();
  received: Change[] = [];
  /**
   * The savepoint of the last write is still open (released by the next write, or by the
   * COMMIT): a round trip fewer per write. Cleared when a target transaction begins.
   */
  private savepoint = false;

  /** A target transaction began: no savepoint of this batch is open in it. */
  opened(): void {
    this.savepoint = false;
  }

  get size(): number {
    return this.received.length;
  }

  /** Folds a change in; false when it cannot be (nothing was changed then). */
  add(t: SetTable, c: Change): boolean {
    if (t.mode === 'exact' || c.tag === 'truncate') return false;
    const layout = this.layouts.get(t.display);
    if (layout && layout !== t) return false;
    const g = this.groups.get(t) ?? {
      table: t,
      entries: new Map<string, Entry>(),
      appended: [],
      counts: { insert: 0, update: 0, delete: 0 },
    };
    if (!fold(g, c)) return false;
    this.groups.set(t, g);
    this.layouts.set(t.display, t);
    this.received.push(c);
    return true;
  }

  /** Writes what was folded; false when the target refused it (the caller applies `received` one by one). */
  async write(
    client: pg.Client,
    count: (display: string, kind: keyof TableCounts, n: number) => void,
  ): Promise<boolean> {
    if (this.received.length === 0) return true;
    const parts: Part[] = [];
    for (const g of this.groups.values()) if (!groupParts(client, g, parts)) return false;
    await client.query(
      this.savepoint ? 'RELEASE SAVEPOINT pgtransit_set; SAVEPOINT pgtransit_set' : 'SAVEPOINT pgtransit_set',
    );
    this.savepoint = true;
    let ok: boolean;
    try {
      ok = await writeParts(client, parts);
    } catch {
      ok = false;
    }
    if (!ok) {
      await client.query('ROLLBACK TO SAVEPOINT pgtransit_set; RELEASE SAVEPOINT pgtransit_set');
      this.savepoint = false;
      return false;
    }
    for (const g of this.groups.values()) {
      for (const kind of ['insert', 'update', 'delete'] as const) {
        if (g.counts[kind] > 0) count(g.table.display, kind, g.counts[kind]);
      }
    }
    return true;
  }

  clear(): void {
    this.groups.clear();
    this.layouts.clear();
    this.received = [];
  }
}

/** The indexes of the columns a row knows. */
function known(v: Values): number[] {
  const idx: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i] !== undefined) idx.push(i);
  return idx;
}

/** The key of a tuple, or null when a key column is missing or null. */
function keyOf(keyIdx: number[], tuple: Tuple | null): string[] | null {
  if (!tuple) return null;
  const k: string[] = [];
  for (const i of keyIdx) {
    const x = tuple[i];
    if (x === undefined || x === null) return null;
    k.push(x);
  }
  return k;
}

/** The new key of an update: the new tuple's value, else the old key's (an unchanged TOAST key). */
function newKeyOf(keyIdx: number[], c: { new: Tuple; key: Tuple | null }): (string | null)[] {
  const k: (string | null)[] = [];
  for (const i of keyIdx) k.push(c.new[i] ?? c.key?.[i] ?? null);
  return k;
}

function fold(g: Group, c: Exclude<Change, { tag: 'truncate' }>): boolean {
  const t = g.table;
  if (t.mode === 'append') {
    if (c.tag !== 'insert' || c.new.length === 0) return false;
    g.appended.push(c.new);
    g.counts.insert++;
    return true;
  }
  let key: string[] | null;
  if (c.tag === 'insert') key = keyOf(t.keyIdx, c.new);
  else if (c.tag === 'delete') key = keyOf(t.keyIdx, c.key ?? c.old);
  else {
    // The old key comes only when it changed (or is stored out of line): the same key both ways is no change.
    const newKey = newKeyOf(t.keyIdx, c);
    const oldKey = c.key ? keyOf(t.keyIdx, c.key) : newKey;
    if (!oldKey) return false;
    for (let n = 0; n < newKey.length; n++) if (newKey[n] === null || newKey[n] !== oldKey[n]) return false;
    key = oldKey as string[];
  }
  if (!key) return false;
  // Text holds no NUL: one column's value is its own id.
  const id = key.length === 1 ? key[0]! : key.join('\u0000');
  const e = g.entries.get(id);
  if (c.tag === 'insert') {
    if (e && e.after) return false;
    if (e) {
      e.after = c.new;
      e.owned = false;
    } else g.entries.set(id, { key, before: false, after: c.new, owned: false });
    g.counts.insert++;
    return true;
  }
  if (e && !e.after) return false;
  if (c.tag === 'delete') {
    if (e) e.after = null;
    else g.entries.set(id, { key, before: true, after: null, owned: false });
    g.counts.delete++;
    return true;
  }
  if (e) {
    if (!e.owned) {
      e.after = e.after!.slice();
      e.owned = true;
    }
    const after = e.after!;
    for (let i = 0; i < c.new.length; i++) if (c.new[i] !== undefined) after[i] = c.new[i];
  } else g.entries.set(id, { key, before: true, after: c.new, owned: false });
  g.counts.update++;
  return true;
}

/**
 * A text[] literal of the values: each element quoted (backslash and double quote escaped),
 * NULL unquoted. Built here in one pass rather than by the driver, element by element.
 */
export function textArray(values: (string | null)[]): string {
  return textColumn(values, (v) => v);
}

/** The text[] literal of one value of each of `list`'s rows (see textArray), with no array of the values between. */
function textColumn<R>(list: R[], value: (row: R) => string | null | undefined): string {
  let out = '{';
  for (let i = 0; i < list.length; i++) {
    const v = value(list[i]!);
    if (i > 0) out += ',';
    if (v === null || v === undefined) out += 'NULL';
    else if (v.includes('"') || v.includes('\\')) out += '"' + v.replace(/["\\]/g, '\\$&') + '"';
    else out += '"' + v + '"';
  }
  return out + '}';
}

/**
 * One part of the set-wise statement: a query whose rows are counted (RETURNING 1, or a
 * SELECT), its parameters (text arrays), and how many rows it must count.
 */
interface Part {
  sql: (param: (n: number) => string) => string;
  params: string[];
  expect: number;
}

/**
 * Text arrays of `count` columns of `list`'s rows (`value(row, n)` is column n's) as parameters,
 * and the `unnest(...) AS s(c0, ...)` that turns them into rows.
 */
function rows<R>(
  count: number,
  list: R[],
  value: (row: R, n: number) => string | null | undefined,
): { from: (param: (n: number) => string) => string; params: string[] } {
  const params: string[] = [];
  for (let n = 0; n < count; n++) params.push(textColumn(list, (row) => value(row, n)));
  const names = params.map((_, n) => `c${n}`).join(', ');
  return {
    from: (param) => `unnest(${params.map((_, n) => `${param(n)}::text[]`).join(', ')}) AS s(${names})`,
    params,
  };
}

/** Statements past this many parameters are split (the protocol allows 65,535). */
const MAX_PARAMS = 10_000;

/** Runs the parts as few statements (one, unless very wide); false when a count is not what it must be. */
async function writeParts(client: pg.Client, parts: Part[]): Promise<boolean> {
  for (let from = 0; from < parts.length;) {
    let to = from;
    let n = 0;
    while (to < parts.length && (to === from || n + parts[to]!.params.length <= MAX_PARAMS))
      n += parts[to++]!.params.length;
    const values: string[] = [];
    const ctes: string[] = [];
    const counts: string[] = [];
    for (let k = from; k < to; k++) {
      const base = values.length;
      values.push(...parts[k]!.params);
      ctes.push(`p${k} AS (${parts[k]!.sql((i) => `$${base + i + 1}`)})`);
      counts.push(`(SELECT count(*) FROM p${k})`);
    }
    const { rows: got } = await client.query<{ n: string[] }>({
      text: `WITH ${ctes.join(', ')} SELECT ARRAY[${counts.join(', ')}]::text[] AS n`,
      values,
    });
    const n0 = got[0]!.n;
    for (let k = from; k < to; k++) if (Number(n0[k - from]) !== parts[k]!.expect) return false;
    from = to;
  }
  return true;
}

/** The parts that write a table's folded changes; false when they cannot be written set-wise. */
function groupParts(client: pg.Client, g: Group, parts: Part[]): boolean {
  const t = g.table;
  const q = (s: string) => client.escapeIdentifier(s);
  const col = (i: number) => q(t.columns[i]!.name);
  const cast = (n: number, i: number) => `s.c${n}::${t.columns[i]!.type}`;
  const keyJoin = t.keyIdx.map((i, n) => `t.${col(i)} = ${cast(n, i)}`).join(' AND ');

  if (g.appended.length > 0) {
    // Rows of one INSERT share their columns (a keyless table's rows all carry every column).
    const idx = known(g.appended[0]!);
    const sig = idx.join(',');
    if (!g.appended.every((r) => known(r).join(',') === sig)) return false;
    const { from, params } = rows(idx.length, g.appended, (r, n) => r[idx[n]!]);
    const list = idx.map(col).join(', ');
    const select = idx.map((i, k) => cast(k, i)).join(', ');
    parts.push({
      sql: (p) => `INSERT INTO ${t.sql} (${list}) OVERRIDING SYSTEM VALUE SELECT ${select} FROM ${from(p)} RETURNING 1`,
      params,
      expect: g.appended.length,
    });
  }

  const entries = [...g.entries.values()];
  const keyRows = (list: Entry[]) => rows(t.keyIdx.length, list, (e, n) => e.key[n]);

  const removed = entries.filter((e) => e.before && !e.after);
  if (removed.length > 0) {
    const { from, params } = keyRows(removed);
    parts.push({
      sql: (p) => `DELETE FROM ${t.only} t USING ${from(p)} WHERE ${keyJoin} RETURNING 1`,
      params,
      expect: removed.length,
    });
  }

  // Inserted then deleted in the batch: one by one, the INSERT would have found a row there.
  const passing = entries.filter((e) => !e.before && !e.after);
  if (passing.length > 0) {
    const { from, params } = keyRows(passing);
    parts.push({ sql: (p) => `SELECT 1 FROM ${t.only} t JOIN ${from(p)} ON ${keyJoin}`, params, expect: 0 });
  }

  // Updated rows, grouped by the columns they change (an unchanged TOAST value stays out).
  // Most rows know every column: those share one set without a signature built per row.
  const nonKey = t.columns.map((_, i) => i).filter((i) => !t.keyIdx.includes(i));
  const all = { idx: nonKey, list: [] as Entry[] };
  const updates = new Map<string, { idx: number[]; list: Entry[] }>([['all', all]]);
  for (const e of entries) {
    if (!e.before || !e.after) continue;
    const after = e.after;
    if (after.length === t.columns.length && nonKey.every((i) => after[i] !== undefined)) {
      all.list.push(e);
      continue;
    }
    const idx = known(after).filter((i) => !t.keyIdx.includes(i));
    const sig = idx.join(',');
    const u = updates.get(sig) ?? { idx, list: [] };
    u.list.push(e);
    updates.set(sig, u);
  }
  const keys = t.keyIdx.length;
  for (const { idx, list } of updates.values()) {
    if (list.length === 0) continue;
    const { from, params } = rows(keys + idx.length, list, (e, n) => (n < keys ? e.key[n] : e.after![idx[n - keys]!]));
    const set = idx.map((i, n) => `${col(i)} = ${cast(t.keyIdx.length + n, i)}`).join(', ');
    parts.push({
      sql: (p) =>
        set
          ? `UPDATE ${t.only} t SET ${set} FROM ${from(p)} WHERE ${keyJoin} RETURNING 1`
          : `SELECT 1 FROM ${t.only} t JOIN ${from(p)} ON ${keyJoin}`,
      params,
      expect: list.length,
    });
  }

  const inserted = entries.filter((e) => !e.before && e.after);
  if (inserted.length > 0) {
    const idx = t.columns.map((_, i) => i);
    if (!inserted.every((e) => idx.every((i) => e.after![i] !== undefined))) return false;
    const { from, params } = rows(idx.length, inserted, (e, n) => e.after![n]);
    const list = idx.map(col).join(', ');
    const select = idx.map((i, k) => cast(k, i)).join(', ');
    parts.push({
      sql: (p) =>
        `INSERT INTO ${t.sql} (${list}) OVERRIDING SYSTEM VALUE SELECT ${select} FROM ${from(p)} ON CONFLICT DO NOTHING RETURNING 1`,
      params,
      expect: inserted.length,
    });
  }
  return true;
}
