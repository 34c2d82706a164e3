/** The pgoutput v1 decoder, message by message, from bytes laid out as the protocol documents them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodePgoutput } from '../../src/postgres/cdc/pgoutput';

/** A tiny writer for protocol messages. */
class Out {
  private parts: Buffer[] = [];
  u8(v: number) {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  ch(c: string) {
    return this.u8(c.charCodeAt(0));
  }
  i16(v: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }
  i64(v: bigint) {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  lsn(hi: number, lo: number) {
    return this.u32(hi).u32(lo);
  }
  str(s: string) {
    this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0]));
    return this;
  }
  /** A tuple: null, undefined (unchanged TOAST) or text. */
  tuple(values: (string | null | undefined)[]) {
    this.i16(values.length);
    for (const v of values) {
      if (v === null) this.ch('n');
      else if (v === undefined) this.ch('u');
      else {
        const b = Buffer.from(v, 'utf8');
        this.ch('t').i32(b.length);
        this.parts.push(b);
      }
    }
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

describe('decodePgoutput', () => {
  it('decodes Begin and Commit with their positions and times', () => {
    assert.deepEqual(decodePgoutput(new Out().ch('B').lsn(0x1, 0xabcdef).i64(12345n).i32(777).done()), {
      tag: 'begin',
      finalLsn: '1/ABCDEF',
      commitTime: 12345n,
      xid: 777,
    });
    assert.deepEqual(decodePgoutput(new Out().ch('C').u8(0).lsn(0, 0x10).lsn(0, 0x40).i64(99n).done()), {
      tag: 'commit',
      commitLsn: '0/10',
      endLsn: '0/40',
      commitTime: 99n,
    });
  });

  it('decodes a Relation with its replica identity, key flags and type oids', () => {
    const buf = new Out().ch('R').u32(16400).str('public').str('orders').ch('f').i16(2);
    buf.u8(1).str('id').u32(20).i32(-1);
    buf.u8(0).str('note').u32(25).i32(-1);
    assert.deepEqual(decodePgoutput(buf.done()), {
      tag: 'relation',
      relation: {
        oid: 16400,
        schema: 'public',
        name: 'orders',
        replicaIdentity: 'f',
        columns: [
          { name: 'id', key: true, typeOid: 20 },
          { name: 'note', key: false, typeOid: 25 },
        ],
      },
    });
  });

  it('keeps values as text, NULL as null and unchanged TOAST as undefined', () => {
    const m = decodePgoutput(new Out().ch('I').u32(7).ch('N').tuple(['1', null, undefined, 'é ünïcode']).done());
    assert.equal(m.tag, 'insert');
    if (m.tag !== 'insert') return;
    assert.equal(m.relationOid, 7);
    assert.equal(m.new.length, 4);
    assert.equal(m.new[0], '1');
    assert.equal(m.new[1], null);
    assert.equal(m.new[2], undefined);
    assert.ok(2 in m.new, 'unchanged TOAST is a present undefined, not a hole');
    assert.equal(m.new[3], 'é ünïcode');
  });

  it('decodes an UPDATE with the old key (K), the old row (O), or the new row only', () => {
    const withKey = decodePgoutput(
      new Out().ch('U').u32(1).ch('K').tuple(['1', null]).ch('N').tuple(['2', 'x']).done(),
    );
    assert.deepEqual(withKey, { tag: 'update', relationOid: 1, key: ['1', null], old: null, new: ['2', 'x'] });
    const withOld = decodePgoutput(new Out().ch('U').u32(1).ch('O').tuple(['1', 'a']).ch('N').tuple(['1', 'b']).done());
    assert.deepEqual(withOld, { tag: 'update', relationOid: 1, key: null, old: ['1', 'a'], new: ['1', 'b'] });
    const plain = decodePgoutput(new Out().ch('U').u32(1).ch('N').tuple(['1', 'c']).done());
    assert.deepEqual(plain, { tag: 'update', relationOid: 1, key: null, old: null, new: ['1', 'c'] });
  });

  it('decodes a DELETE by key (K) or by the whole old row (O)', () => {
    assert.deepEqual(decodePgoutput(new Out().ch('D').u32(3).ch('K').tuple(['5', null]).done()), {
      tag: 'delete',
      relationOid: 3,
      key: ['5', null],
      old: null,
    });
    assert.deepEqual(decodePgoutput(new Out().ch('D').u32(3).ch('O').tuple(['5', 'z']).done()), {
      tag: 'delete',
      relationOid: 3,
      key: null,
      old: ['5', 'z'],
    });
  });

  it('decodes TRUNCATE with CASCADE and RESTART IDENTITY flags', () => {
    assert.deepEqual(decodePgoutput(new Out().ch('T').i32(2).u8(3).u32(10).u32(11).done()), {
      tag: 'truncate',
      cascade: true,
      restartIdentity: true,
      relationOids: [10, 11],
    });
    const plain = decodePgoutput(new Out().ch('T').i32(1).u8(0).u32(10).done());
    assert.deepEqual(plain, { tag: 'truncate', cascade: false, restartIdentity: false, relationOids: [10] });
  });

  it('decodes a transactional logical message (the switchover fence)', () => {
    const content = Buffer.from('fence migration-x/app@2026', 'utf8');
    const buf = new Out().ch('M').u8(1).lsn(0, 0x2000).str('pgtransit').i32(content.length).done();
    assert.deepEqual(decodePgoutput(Buffer.concat([buf, content])), {
      tag: 'message',
      transactional: true,
      lsn: '0/2000',
      prefix: 'pgtransit',
      content: 'fence migration-x/app@2026',
    });
  });

  it('decodes Type and Origin messages', () => {
    assert.deepEqual(decodePgoutput(new Out().ch('Y').u32(16500).str('public').str('mood').done()), {
      tag: 'type',
      oid: 16500,
      schema: 'public',
      name: 'mood',
    });
    assert.deepEqual(decodePgoutput(new Out().ch('O').lsn(2, 0x10).str('node_a').done()), {
      tag: 'origin',
      lsn: '2/10',
      name: 'node_a',
    });
  });

  it('refuses what it does not know instead of guessing', () => {
    assert.throws(() => decodePgoutput(new Out().ch('Z').done()), /unknown message type 0x5a/);
    assert.throws(
      () => decodePgoutput(new Out().ch('I').u32(1).ch('N').i16(1).ch('b').done()),
      /unexpected tuple column kind 0x62/,
    );
  });
});
