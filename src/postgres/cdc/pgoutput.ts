/**
 * A decoder of the pgoutput protocol (version 1) that keeps every value in its text
 * form, exactly as the source wrote it, so the apply can hand it back to the target
 * untouched (no lossy conversion to JavaScript numbers or dates), and that tells an
 * unchanged TOAST value (`undefined`) apart from a NULL (`null`).
 */
import { formatLsn } from '../../model/lsn';

let lastHi = -1;
let lastHiText = '';

export interface RelationColumn {
  name: string;
  /** Part of the replica identity. */
  key: boolean;
  typeOid: number;
}

/** REPLICA IDENTITY: default (the primary key), nothing, full (every column), index. */
export type ReplicaIdentity = 'd' | 'n' | 'f' | 'i';

export interface Relation {
  oid: number;
  schema: string;
  name: string;
  replicaIdentity: ReplicaIdentity;
  columns: RelationColumn[];
}

/** How values' bytes become text: UTF-8, or one character per byte for a SQL_ASCII database. */
export type TextEncoding = 'utf8' | 'latin1';

/** A column value: text, null (SQL NULL) or undefined (unchanged TOAST value, not sent). */
export type Tuple = (string | null | undefined)[];

export type PgoutputMessage =
  | { tag: 'begin'; finalLsn: string; commitTime: bigint; xid: number }
  | { tag: 'commit'; commitLsn: string; endLsn: string; commitTime: bigint }
  | { tag: 'origin'; lsn: string; name: string }
  | { tag: 'relation'; relation: Relation }
  | { tag: 'type'; oid: number; schema: string; name: string }
  | { tag: 'insert'; relationOid: number; new: Tuple }
  | { tag: 'update'; relationOid: number; key: Tuple | null; old: Tuple | null; new: Tuple }
  | { tag: 'delete'; relationOid: number; key: Tuple | null; old: Tuple | null }
  | { tag: 'truncate'; cascade: boolean; restartIdentity: boolean; relationOids: number[] }
  | { tag: 'message'; transactional: boolean; lsn: string; prefix: string; content: string };

class Reader {
  constructor(
    private readonly buf: Buffer,
    private readonly encoding: TextEncoding = 'utf8',
    private pos = 0,
  ) {}
  u8(): number {
    return this.buf.readUInt8(this.pos++);
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  lsn(): string {
    const hi = this.u32();
    const lo = this.u32();
    // The high half changes every 4 GB of WAL: printed once.
    if (hi !== lastHi) {
      lastHi = hi;
      lastHiText = formatLsn(hi, 0).slice(0, -2);
    }
    return `${lastHiText}/${lo.toString(16).toUpperCase()}`;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  str(): string {
    const end = this.buf.indexOf(0, this.pos);
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** The next n bytes as text, decoded in place (no Buffer view per value). */
  text(n: number): string {
    const s = this.buf.toString(this.encoding, this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
  tuple(): Tuple {
    const n = this.i16();
    const out: Tuple = new Array(n);
    for (let i = 0; i < n; i++) {
      const kind = this.u8();
      if (kind === 0x6e /* n */) out[i] = null;
      else if (kind === 0x75 /* u */) out[i] = undefined;
      else if (kind === 0x74 /* t */) out[i] = this.text(this.i32());
      else throw new Error(`pgoutput: unexpected tuple column kind 0x${kind.toString(16)}`);
    }
    return out;
  }
}

/** The pgoutput message at `offset` of `buf` (its end is the buffer's). */
export function decodePgoutput(buf: Buffer, encoding: TextEncoding = 'utf8', offset = 0): PgoutputMessage {
  const r = new Reader(buf, encoding, offset);
  const tag = r.u8();
  switch (tag) {
    case 0x42 /* B */:
      return { tag: 'begin', finalLsn: r.lsn(), commitTime: r.i64(), xid: r.i32() };
    case 0x43 /* C */: {
      r.u8(); // flags
      return { tag: 'commit', commitLsn: r.lsn(), endLsn: r.lsn(), commitTime: r.i64() };
    }
    case 0x4f /* O */:
      return { tag: 'origin', lsn: r.lsn(), name: r.str() };
    case 0x52 /* R */: {
      const oid = r.u32();
      const schema = r.str();
      const name = r.str();
      const replicaIdentity = String.fromCharCode(r.u8()) as ReplicaIdentity;
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        const colName = r.str();
        const typeOid = r.u32();
        r.i32(); // typmod
        columns.push({ name: colName, key: (flags & 1) === 1, typeOid });
      }
      return { tag: 'relation', relation: { oid, schema, name, replicaIdentity, columns } };
    }
    case 0x59 /* Y */:
      return { tag: 'type', oid: r.u32(), schema: r.str(), name: r.str() };
    case 0x49 /* I */: {
      const relationOid = r.u32();
      r.u8(); // 'N'
      return { tag: 'insert', relationOid, new: r.tuple() };
    }
    case 0x55 /* U */: {
      const relationOid = r.u32();
      let kind = r.u8();
      let key: Tuple | null = null;
      let old: Tuple | null = null;
      if (kind === 0x4b /* K */) {
        key = r.tuple();
        kind = r.u8();
      } else if (kind === 0x4f /* O */) {
        old = r.tuple();
        kind = r.u8();
      }
      return { tag: 'update', relationOid, key, old, new: r.tuple() };
    }
    case 0x44 /* D */: {
      const relationOid = r.u32();
      const kind = r.u8();
      const t = r.tuple();
      return { tag: 'delete', relationOid, key: kind === 0x4b ? t : null, old: kind === 0x4f ? t : null };
    }
    case 0x54 /* T */: {
      const n = r.i32();
      const options = r.u8();
      const relationOids: number[] = [];
      for (let i = 0; i < n; i++) relationOids.push(r.u32());
      return { tag: 'truncate', cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2, relationOids };
    }
    case 0x4d /* M */: {
      const flags = r.u8();
      const lsn = r.lsn();
      const prefix = r.str();
      const content = r.bytes(r.i32()).toString('utf8');
      return { tag: 'message', transactional: (flags & 1) === 1, lsn, prefix, content };
    }
    default:
      throw new Error(`pgoutput: unknown message type 0x${tag.toString(16)}`);
  }
}
