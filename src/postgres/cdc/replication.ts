/**
 * A logical replication connection: START_REPLICATION on a walsender session, its CopyBoth
 * stream read message by message. XLogData payloads go to `data` as they arrive (no LSN text,
 * event or promise per message: a backlog is hundreds of thousands of them); primary
 * keepalives to `keepalive`. Standby status updates are written by the caller (`send`).
 */
import pg from 'pg';
import { formatLsn } from '../../model/lsn';

export interface ReplicationHandlers {
  /**
   * One XLogData message, its payload (the pgoutput message) from `XLOG_HEADER` on: no view is
   * made of it per message. It is a view of the driver's buffer, valid only during the call.
   */
  data(message: Buffer): void;
  /** A primary keepalive: the server's WAL end, and whether it asks for a reply now. */
  keepalive(walEnd: string, replyRequested: boolean): void;
  /** The session failed once the stream ran. */
  error(e: unknown): void;
}

interface Connection {
  on(event: 'copyData', fn: (msg: { chunk: Buffer }) => void): void;
  once(event: 'replicationStart', fn: () => void): void;
  removeAllListeners(event?: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream?: { pause?(): void; resume?(): void };
}

const XLOG_DATA = 0x77; // 'w'
const KEEPALIVE = 0x6b; // 'k'
/** 'w', WAL start, WAL end, send time: where an XLogData message's payload begins. */
export const XLOG_HEADER = 25;

export class ReplicationStream {
  private client: pg.Client | null = null;
  private connection: Connection | null = null;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly handlers: ReplicationHandlers,
  ) {}

  /**
   * Opens the walsender session and sends `command` (after `setup`, on the same session).
   * `begun` resolves when the server starts streaming; `running` settles when the stream ends
   * (rejected with the server's error, such as a slot held by another walsender).
   */
  async open(
    command: string,
    setup?: (client: pg.Client) => Promise<void>,
  ): Promise<{ begun: Promise<void>; running: Promise<unknown> }> {
    await this.close();
    // A walsender session that also takes SQL (the SET of setup).
    const client = new pg.Client({ ...this.config, replication: 'database' } as pg.ClientConfig);
    this.client = client;
    client.on('error', (e) => this.handlers.error(e));
    await client.connect();
    const connection = (client as unknown as { connection: Connection }).connection;
    this.connection = connection;
    const begun = new Promise<void>((resolve) => connection.once('replicationStart', () => resolve()));
    // The client's own reader of CopyData hands each message to the query, which ignores it:
    // one call and a copy of the listener list per message saved.
    connection.removeAllListeners('copyData');
    connection.on('copyData', ({ chunk }) => {
      const kind = chunk[0];
      if (kind === XLOG_DATA) this.handlers.data(chunk);
      else if (kind === KEEPALIVE) {
        this.handlers.keepalive(formatLsn(chunk.readUInt32BE(1), chunk.readUInt32BE(5)), chunk[17] !== 0);
      }
    });
    if (setup) await setup(client);
    const running = client.query(command).catch((e: unknown) => {
      // The session ended by close(): the stream's end, not a failure.
      if (this.client === client) throw e;
    });
    return { begun, running };
  }

  /** A CopyData message to the server (a standby status update); false when the stream is gone. */
  send(chunk: Buffer): boolean {
    if (!this.connection) return false;
    this.connection.sendCopyFromChunk(chunk);
    return true;
  }

  pause(): void {
    this.connection?.stream?.pause?.();
  }

  resume(): void {
    this.connection?.stream?.resume?.();
  }

  /** Ends the session; the stream's `running` then settles without an error. */
  async close(): Promise<void> {
    const client = this.client;
    const connection = this.connection;
    this.client = null;
    this.connection = null;
    if (!client) return;
    // A paused socket never sees the server's end of the session, and end() would wait for it forever.
    connection?.stream?.resume?.();
    await client.end().catch(() => undefined);
    connection?.removeAllListeners();
    client.removeAllListeners();
  }
}
