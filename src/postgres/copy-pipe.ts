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
 * socket's buffers that hold whole messages only: a message split between two reads is
 * joined (only it), so the target's stream stays framed however the pipe ends. The
 * other messages (CopyOutResponse, notices) are dropped; at CopyDone, or an
 * ErrorResponse, the connection goes back to node-postgres with the rest of the buffer.
 */
class CopyOutMessages extends Readable {
  rowCount = 0;
  /** Bytes of the rows (the CopyData messages' contents) so far. */
  bytes = 0;
  private connection?: Connection;
  private pgOnData?: (b: Buffer) => void;
  /** The start of a message the next reads complete, and its size so far. */
  private carry: Buffer[] = [];
  private carried = 0;
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
    let buf = chunk;
    if (this.carried > 0) {
      if (this.carried + buf.length < HEADER) {
        this.carry.push(buf);
        this.carried += buf.length;
        return;
      }
      const head = this.carry[0]!.length >= HEADER ? this.carry[0]! : Buffer.concat([...this.carry, buf]);
      const size = 1 + head.readUInt32BE(1);
      if (this.carried + buf.length < size) {
        this.carry.push(buf);
        this.carried += buf.length;
        return;
      }
      const take = size - this.carried;
      const message = Buffer.concat([...this.carry, buf.subarray(0, take)]);
      this.carry = [];
      this.carried = 0;
      buf = buf.subarray(take);
      if (message[0] === COPY_DATA) {
        this.bytes += size - HEADER;
        this.forward(message);
      } else if (!this.control(message, buf)) return;
    }
    let pos = 0;
    let run = 0;
    while (buf.length - pos >= HEADER) {
      const end = pos + 1 + buf.readUInt32BE(pos + 1); // the length counts itself, not the code
      if (end > buf.length) break;
      if (buf[pos] === COPY_DATA) {
        this.bytes += end - pos - HEADER;
        pos = end;
        continue;
      }
      this.forward(buf.subarray(run, pos));
      if (!this.control(buf.subarray(pos, end), buf.subarray(end))) return;
      pos = run = end;
    }
    this.forward(buf.subarray(run, pos));
    if (pos < buf.length) {
      this.carry.push(buf.subarray(pos));
      this.carried = buf.length - pos;
    }
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
