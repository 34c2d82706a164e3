/**
 * COPY from one server into another with the protocol's CopyData messages forwarded as
 * they arrive: the source's `COPY ... TO STDOUT` sends each row in a CopyData message,
 * and a CopyData message is also what `COPY ... FROM STDIN` takes, byte for byte. The
 * source's socket is read in the buffers the kernel gives, message boundaries are found
 * from the 5-byte headers, and runs of whole or partial CopyData messages go to the
 * target's socket as slices of those buffers: no row is parsed, copied or framed again
 * (pg-copy-streams takes every row out of its message and frames it anew, which on a
 * table of narrow rows costs more CPU than both servers' COPY).
 *
 * Backpressure: the source's socket is paused while the target's is full.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';

/** The parts of node-postgres' connection a COPY takes over (as pg-copy-streams does). */
interface Connection {
  stream: NodeJS.ReadableStream & NodeJS.WritableStream & { pause(): void; resume(): void };
  query(text: string): void;
  sendCopyFail(message: string): void;
}

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'
/** A message's code and length. */
const HEADER = 5;

/**
 * `COPY ... TO STDOUT` read as CopyData messages (header included), in slices of the
 * socket's buffers, each slice whole messages only, so the target's stream stays framed
 * however the pipe ends. A CopyData message the read ends inside is cut there: its header
 * is rewritten to the bytes this read holds, and the rest of its row follows, as it
 * arrives, in messages of its own (the target reads the COPY's data as one stream, so a
 * row may span messages); memory stays at a read's size whatever the rows' size. The
 * other messages (CopyOutResponse, notices) are dropped; at CopyDone, or an
 * ErrorResponse, the connection goes back to node-postgres with the rest of the buffer.
 */
class CopyOutMessages extends Readable {
  rowCount = 0;
  /** Bytes of the rows (the CopyData messages' contents) so far. */
  bytes = 0;
  private connection?: Connection;
  private pgOnData?: (b: Buffer) => void;
  /** A header the last read ended inside, or a (small) message other than CopyData. */
  private carry: Buffer | null = null;
  /** Bytes of a cut CopyData message still to come. */
  private rest = 0;
  /** The pipe failed on the target's side: the source's rows are read to the end and dropped. */
  private discarding = false;
  private detached = false;
  private more = true;
  private readonly onData = (b: Buffer) => this.receive(b);

  constructor(
    readonly text: string,
    private readonly onBytes?: (total: number) => void,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  submit(connection: Connection): void {
    this.connection = connection;
    const listeners = connection.stream.listeners('data') as ((b: Buffer) => void)[];
    if (listeners.length !== 1)
      throw new Error(`copy: expected one reader of the connection, found ${listeners.length}`);
    this.pgOnData = listeners[0]!;
    connection.stream.removeListener('data', this.pgOnData);
    connection.stream.on('data', this.onData);
    connection.query(this.text);
  }

  override _read(): void {
    this.connection?.stream.resume();
  }

  private forward(data: Buffer): void {
    if (data.length > 0 && !this.discarding) this.more = this.push(data) && this.more;
  }

  /** A message other than CopyData; false when the COPY has ended (the connection is node-postgres' again). */
  private control(message: Buffer, rest: Buffer): boolean {
    const code = message[0];
    if (code === COPY_DONE) {
      this.detach(rest);
      if (!this.discarding) this.push(null);
      return false;
    }
    if (code === ERROR_RESPONSE) {
      this.detach(Buffer.concat([message, rest]));
      return false;
    }
    return true; // CopyOutResponse, notices, parameter status: not forwarded
  }

  private receive(chunk: Buffer): void {
    this.more = true;
    // A carried header (at most 4 bytes) or control message is small: joining it copies this read once.
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    let pos = 0;
    if (this.rest > 0) {
      // The cut message goes on: this part in a message of its own (one buffer, so it is never split).
      pos = Math.min(this.rest, buf.length);
      this.rest -= pos;
      const header = Buffer.alloc(HEADER);
      header[0] = COPY_DATA;
      header.writeUInt32BE(pos + 4, 1);
      this.forward(Buffer.concat([header, buf.subarray(0, pos)]));
    }
    let run = pos;
    while (buf.length - pos >= HEADER) {
      const length = buf.readUInt32BE(pos + 1); // counts itself, not the code
      const end = pos + 1 + length;
      if (buf[pos] === COPY_DATA) {
        this.bytes += length - 4;
        if (end <= buf.length) {
          pos = end;
          continue;
        }
        const here = buf.length - pos - HEADER;
        if (here === 0) {
          this.bytes -= length - 4; // counted again when its header is read whole
          break;
        }
        buf.writeUInt32BE(here + 4, pos + 1);
        this.rest = length - 4 - here;
        pos = buf.length;
        break;
      }
      if (end > buf.length) break;
      this.forward(buf.subarray(run, pos));
      if (!this.control(buf.subarray(pos, end), buf.subarray(end))) return;
      pos = run = end;
    }
    this.forward(buf.subarray(run, pos));
    if (pos < buf.length) this.carry = Buffer.from(buf.subarray(pos));
    this.onBytes?.(this.bytes);
    if (!this.more && !this.discarding) this.connection?.stream.pause();
  }

  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    if (this.connection && !this.detached) {
      // The session stays usable: what the source still sends is read and dropped up to CopyDone.
      this.discarding = true;
      this.connection.stream.resume();
    }
    cb(e);
  }

  private detach(rest: Buffer): void {
    this.detached = true;
    const c = this.connection!;
    c.stream.removeListener('data', this.onData);
    c.stream.on('data', this.pgOnData!);
    if (rest.length > 0) this.pgOnData!(rest);
    process.nextTick(() => c.stream.resume());
  }

  handleCommandComplete(msg: { text?: string }): void {
    this.rowCount = Number(/COPY (\d+)/.exec(msg?.text ?? '')?.[1] ?? 0);
  }
  handleReadyForQuery(): void {}
  handleError(e: Error): void {
    this.destroy(e);
  }
}

/** `COPY ... FROM STDIN` fed with CopyData messages as they are (see CopyOutMessages). */
class CopyInMessages extends Writable {
  rowCount = 0;
  private connection?: Connection;
  private ready = false;
  private pending: (() => void) | null = null;
  private finished: ((e?: Error | null) => void) | null = null;
  private failed: ((e?: Error | null) => void) | null = null;
  /** The server ended the COPY (ReadyForQuery or an error): nothing more to tell it. */
  private ended = false;

  constructor(readonly text: string) {
    super({ highWaterMark: 1 << 20 });
  }

  submit(connection: Connection): void {
    this.connection = connection;
    connection.query(this.text);
  }

  /** Runs `f` once the server takes the data. */
  private whenReady(f: () => void): void {
    if (this.ready) f();
    else this.pending = f;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.whenReady(() => {
      if (this.connection!.stream.write(chunk)) cb();
      else this.connection!.stream.once('drain', () => cb());
    });
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.finished = cb;
    this.whenReady(() => this.connection!.stream.write(Buffer.from([COPY_DONE, 0, 0, 0, 4])));
  }

  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    // Nothing to stop: the COPY was not sent, has ended (success or error), or is ending.
    if (this.ended || !this.connection || this.finished !== null) return cb(e);
    // The source failed or the copy was stopped: CopyFail rolls the COPY back, the server answers with an error.
    this.failed = () => cb(e);
    this.whenReady(() => this.connection!.sendCopyFail(e?.message ?? 'copy stopped'));
  }

  handleCopyInResponse(): void {
    this.ready = true;
    const f = this.pending;
    this.pending = null;
    f?.();
  }
  handleCommandComplete(msg: { text?: string }): void {
    this.rowCount = Number(/COPY (\d+)/.exec(msg?.text ?? '')?.[1] ?? 0);
  }
  handleReadyForQuery(): void {
    this.ended = true;
    const cb = this.finished;
    this.finished = null;
    cb?.();
  }
  handleError(e: Error): void {
    this.ended = true;
    const cb = this.failed ?? this.finished;
    this.failed = this.finished = null;
    if (cb) cb(e);
    else this.destroy(e);
  }
}

/**
 * Runs `COPY ... TO STDOUT` on `from` into `COPY ... FROM STDIN` on `to` (same format on
 * both); `onBytes` hears the bytes of the rows forwarded so far, as they go.
 */
export async function pipeCopy(
  from: pg.Client,
  copyOut: string,
  to: pg.Client,
  copyIn: string,
  onBytes?: (total: number) => void,
): Promise<{ rows: number; bytes: number }> {
  const out = new CopyOutMessages(copyOut, onBytes);
  const inp = new CopyInMessages(copyIn);
  // A submittable is queued and returned as it is: the pipeline reports its failures.
  from.query(out as never);
  to.query(inp as never);
  await pipeline(out, inp);
  return { rows: inp.rowCount, bytes: out.bytes };
}
