/**
 * One round of change capture: START_REPLICATION on the slot, decode pgoutput, apply
 * (apply.ts), acknowledge only what the target committed (position.ts). A round ends after
 * `maxSeconds`, on the switchover's fence, on cancellation, or with an error; the next round
 * resumes from the slot. A transaction larger than a batch is applied in parts inside one
 * open target transaction, and the round does not end in the middle of it.
 */
import pg from 'pg';
import { PgTransitError, ErrorType } from '../../errors';
import type { Fence, RoundResult, StreamProgress, TableCounts } from '../../model/activities';
import { compareLsn, lsnToBigInt } from '../../model/lsn';
import { APPLICATION_NAME, FENCE_PREFIX, ddlCaptureNames } from '../../model/names';
import type { Plan } from '../../plan/plan';
import { connect, resolveEndpoint, withConnection, type Endpoint } from '../connect';
import {
  BATCH_CHANGES,
  FIRST_BATCH_CHANGES,
  FLUSH_DELAY_MS,
  KEEPALIVE_REQUEST_MS,
  QUEUED_MESSAGES,
  REDECODE_CHECK_MS,
  REDECODE_LIMIT_BYTES,
  ROUND_HARD_DEADLINE_FACTOR,
  SUBBATCH_CHANGES,
  WALSENDER_BUSY_RETRY,
  pollUntil,
} from '../limits';
import { PORTABLE_TEXT, PORTABLE_TEXT_SETTINGS } from '../session';
import { SqlState, codeOf } from '../sqlstate';
import { supportsLogicalMessages } from '../versions';
import { Applier, type Change, type SourceTransaction } from './apply';
import { parseDdlMessage } from './ddl-apply';
import { decodePgoutput, type PgoutputMessage, type Relation } from './pgoutput';
import { ackPosition } from './position';
import { ReplicationStream, XLOG_HEADER } from './replication';

/** START_REPLICATION with pgoutput's options: protocol 1, the publication, logical messages where the source has them. */
function startCommand(slot: string, publication: string, messages: boolean): string {
  const opts = [`proto_version '1'`, `publication_names '${publication.replace(/'/g, "''")}'`];
  if (messages) opts.push(`messages 'true'`);
  return `START_REPLICATION SLOT ${pg.escapeIdentifier(slot)} LOGICAL 0/0 (${opts.join(', ')})`;
}

export interface RoundOptions {
  source: Endpoint;
  target: Endpoint;
  plan: Plan;
  database: string;
  targetDatabase: string;
  slot: string;
  publication: string;
  sourceMajor: number;
  lateTables: string[];
  lateHorizonLsn: string | null;
  maxSeconds: number;
  /** Stop once the fence is applied: the marker's content (14+) or its LSN (older sources). */
  fence?: Fence | null;
  /**
   * Stop at a verification point (verify-point.ts): every transaction committed before it is
   * applied, none at or after it (the round ends at the first such Begin, or at a keepalive
   * past it with nothing in flight); the result's pointReached says it got there.
   */
  stopBefore?: string;
  /**
   * The fence's check: the stream is read from the fence on and nothing is applied; any
   * transaction with changes committed after it means a writer escaped the fence.
   */
  afterFence?: boolean;
  signal?: AbortSignal;
  /** Past maxSeconds, the stream stays open while a restart would decode more WAL than this again (limits.ts). */
  redecodeLimitBytes?: number;
  onProgress?: (p: { appliedLsn: string | null; transactions: number }) => void;
  /** Every `reportEverySeconds` while the stream is open: how far it got, and the lag now. */
  reportEverySeconds?: number;
  onReport?: (p: Omit<StreamProgress, 'stream' | 'attempt'>) => void;
}

/** Microseconds since 2000-01-01 (PostgreSQL epoch) to ISO time. */
const PG_EPOCH_MS = 946684800000;
function pgTime(t: bigint): string {
  return new Date(Number(t / 1000n) + PG_EPOCH_MS).toISOString();
}

/** A transaction being received; `large` once its first part was applied. */
type Receiving = SourceTransaction & { large: boolean };

export async function streamRound(
  o: RoundOptions,
): Promise<RoundResult & { peakBufferedChanges: number; setwise: { writes: number; fallbacks: number } }> {
  const start = await slotStart(o.source, o.database, o.slot);
  const { client: target } = await connect(o.target, {
    database: o.targetDatabase,
    applicationName: APPLICATION_NAME.apply,
    // A policy that hides rows from the applying role must stop the apply, not skip rows.
    settings: { row_security: 'off' },
  });
  const applier = new Applier(target, {
    plan: o.plan,
    database: o.database,
    conflictPolicy: o.plan.cdc.conflictPolicy,
    lateTables: new Set(o.lateTables),
    lateHorizonLsn: o.lateHorizonLsn,
    sqlAscii: start.encoding === 'SQL_ASCII',
  });
  await applier.load();
  // pgoutput formats values under the walsender's settings; the apply reads them under the same ones.
  await target.query(PORTABLE_TEXT_SETTINGS);
  // 8-bit text of a SQL_ASCII source reaches a SQL_ASCII target as the same bytes (apply.ts sends them as such).
  if (start.encoding === 'SQL_ASCII') await target.query(`SET client_encoding = 'SQL_ASCII'`);
  const { config, facts } = resolveEndpoint(o.source, {
    database: o.database,
    replication: true,
    applicationName: APPLICATION_NAME.stream,
    settings: PORTABLE_TEXT,
  });
  // sslmode prefer or allow: TLS when the server offers it, as the session just opened found out.
  if ((facts.sslmode === 'prefer' || facts.sslmode === 'allow') && !start.tls) config.ssl = false;
  // A SQL_ASCII database holds bytes, not text: keep each byte as one character.
  const encoding = start.encoding === 'SQL_ASCII' ? 'latin1' : 'utf8';

  const relations = new Map<number, Relation>();
  const ddlPrefix = ddlCaptureNames(o.plan.name, o.database).prefix;
  let current: Receiving | null = null;
  let pending: SourceTransaction[] = [];
  let pendingChanges = 0;
  let peakBuffered = 0;
  // Never acknowledge a position before the slot's own (position.ts, rule 3): the first round of a
  // migration has applied nothing yet, and 0/0 would move the slot back.
  let processedLsn: string = maxLsn(applier.appliedLsn, start.confirmedLsn);
  let lastCommitTime: string | null = null;
  /** The source's WAL end, as its keepalives tell it (asked for every second). */
  let serverLsn: string | null = null;
  /** Changes of the large transaction applied so far, in its open target transaction. */
  let largeApplied = 0;
  let transactions = 0;
  let fenceApplied = false;
  let pointReached = false;
  let failure: unknown = null;
  /** The round is ending: no message is handled any more, and no part of a large transaction sent. */
  let halted = false;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  let lock: Promise<void> = Promise.resolve();
  /** One thing at a time on the target; a failure stops the round and nothing after it runs. */
  const serial = (fn: () => Promise<void>) => {
    const next = lock.then(async () => {
      if (failure) return;
      try {
        await fn();
      } catch (e) {
        fail(e);
      }
    });
    lock = next;
    return next;
  };
  const fail = (e: unknown) => {
    failure ??= e;
    finished();
  };

  const ack = (lsn: string, ping = false) => {
    if (failure) return;
    sendStandbyStatus(service, ackPosition(lsn), ping);
  };
  const fenceReached = () => {
    if (!o.fence) return false;
    // The fence's transaction committed after the marker: an applied position past the marker
    // means the fence is applied, even when an earlier attempt applied it and died (finding 5).
    if (applier.appliedLsn && compareLsn(applier.appliedLsn, o.fence.lsn) >= 0) return true;
    return !o.fence.id && compareLsn(processedLsn, o.fence.lsn) >= 0;
  };
  const committed = (txn: SourceTransaction, applied: number) => {
    transactions += applied;
    lastCommitTime = pgTime(txn.commitTime);
    processedLsn = txn.endLsn;
    delivered = true;
    ack(txn.endLsn);
    o.onProgress?.({ appliedLsn: applier.appliedLsn, transactions });
  };

  let flushTimer: NodeJS.Timeout | null = null;
  /** Inside serial: the committed transactions waiting, in one target transaction. */
  const applyPending = async () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    pendingChanges = 0;
    batchesApplied++;
    // Transactions sent again after a restart are skipped by the applier: count what it applied.
    const applied = await applier.applyBatch(batch);
    committed(batch[batch.length - 1]!, applied);
    if ((o.fence?.id && batch.some((t) => t.fence === o.fence!.id)) || fenceReached()) {
      fenceApplied = true;
      finished();
    }
  };
  const flush = () => serial(applyPending);

  /** The part of a large transaction being applied while the next one is received (at most one). */
  let partInFlight: { size: number; done: Promise<void> } | null = null;
  /** The full batch being applied while the next one is received (at most one). */
  let batchInFlight: { size: number; done: Promise<void> } | null = null;
  /** Batches applied in this round: the first is sent small (limits.ts). */
  let batchesApplied = 0;
  const note = () =>
    (peakBuffered = Math.max(
      peakBuffered,
      pendingChanges + (current?.changes.length ?? 0) + (partInFlight?.size ?? 0) + (batchInFlight?.size ?? 0),
    ));
  /** Takes a change in; a promise when the receiving must wait for the target first. */
  const received = (change: Change): Promise<void> | undefined => {
    const txn = current;
    if (!txn) return;
    if (o.afterFence) {
      // pgoutput sends committed transactions only: this one committed after the fence.
      const tables =
        change.tag === 'ddl'
          ? [`DDL ${change.ddl.tag}`]
          : (change.tag === 'truncate' ? change.relations : [change.relation]).map((r) => `${r.schema}.${r.name}`);
      throw new PgTransitError(
        ErrorType.SwitchoverFailed,
        `a transaction committed on the source after the fence (at ${txn.commitLsn}, changing ${tables.join(', ')}): a writer escaped ` +
          `the read-only default (a session that set default_transaction_read_only off, or began READ WRITE)`,
      );
    }
    txn.changes.push(change);
    note();
    if (txn.changes.length < SUBBATCH_CHANGES) return;
    // A large transaction: what came before it is committed first, then its parts are applied
    // in its own open target transaction, so memory stays bounded whatever its size. One part
    // is applied while the next is received: two parts in memory at most.
    const part = txn.changes;
    txn.changes = [];
    txn.large = true;
    const send = () => {
      if (halted) return;
      const done = serial(async () => {
        await applyPending();
        await applier.applyPart(txn, part);
        largeApplied += part.length;
      });
      partInFlight = { size: part.length, done };
      void done.then(() => {
        if (partInFlight?.done === done) partInFlight = null;
      });
    };
    if (!partInFlight) {
      send();
      return undefined;
    }
    return partInFlight.done.then(send);
  };
  const relationOf = (oid: number): Relation => {
    const r = relations.get(oid);
    if (!r) throw new PgTransitError(ErrorType.Transient, `change for relation ${oid} before its relation message`);
    return r;
  };

  /** Handles one message; a promise when the next must wait (the target is behind). */
  const handle = (msg: PgoutputMessage): Promise<void> | undefined => {
    if (pointReached) return undefined;
    switch (msg.tag) {
      case 'begin':
        if (o.stopBefore && compareLsn(msg.finalLsn, o.stopBefore) >= 0) {
          // Everything before the point arrived (commit order); this transaction and the rest wait for the next round.
          pointReached = true;
          return flush().then(finished);
        }
        current = {
          commitLsn: msg.finalLsn,
          endLsn: msg.finalLsn,
          commitTime: msg.commitTime,
          changes: [],
          large: false,
        };
        break;
      case 'relation':
        // Changes decoded from here on carry this layout; those received before keep theirs.
        relations.set(msg.relation.oid, msg.relation);
        break;
      case 'insert':
        return received({ tag: 'insert', relation: relationOf(msg.relationOid), new: msg.new });
      case 'update':
        return received({
          tag: 'update',
          relation: relationOf(msg.relationOid),
          key: msg.key,
          old: msg.old,
          new: msg.new,
        });
      case 'delete':
        return received({ tag: 'delete', relation: relationOf(msg.relationOid), key: msg.key, old: msg.old });
      case 'truncate':
        return received({
          tag: 'truncate',
          relations: msg.relationOids.map(relationOf),
          cascade: msg.cascade,
          restartIdentity: msg.restartIdentity,
        });
      case 'message':
        if (msg.prefix === FENCE_PREFIX && current) current.fence = msg.content;
        // A DDL statement of the source (ddl-capture.ts): applied in its place among the transaction's changes.
        else if (msg.prefix === ddlPrefix && msg.transactional && current)
          return received({ tag: 'ddl', ddl: parseDdlMessage(msg.lsn, msg.content) });
        break;
      case 'commit': {
        if (!current) break;
        const txn: Receiving = current;
        txn.endLsn = msg.endLsn;
        current = null;
        if (txn.large) {
          return serial(async () => {
            const applied = await applier.commitLarge(txn, txn.changes);
            largeApplied = 0;
            committed(txn, applied);
            if (fenceReached()) {
              fenceApplied = true;
              finished();
            }
          });
        }
        pending.push(txn);
        pendingChanges += txn.changes.length;
        if (txn.fence) return flush();
        if (pendingChanges >= (batchesApplied === 0 ? FIRST_BATCH_CHANGES : BATCH_CHANGES)) {
          // One full batch is applied while the next is received and decoded: the target and
          // the decoding overlap, and at most two batches are in memory.
          const send = () => {
            const done = flush();
            batchInFlight = { size: pendingChanges, done };
            void done.then(() => {
              if (batchInFlight?.done === done) batchInFlight = null;
            });
          };
          if (!batchInFlight) {
            send();
            return undefined;
          }
          return batchInFlight.done.then(send);
        }
        if (!flushTimer) flushTimer = setTimeout(() => void flush(), FLUSH_DELAY_MS);
        break;
      }
    }
    return undefined;
  };

  // Decoded messages wait here and are handled in order, synchronously until one must wait;
  // the socket is paused while many wait, so the walsender's output stays bounded too.
  const queue: PgoutputMessage[] = [];
  /** Messages handled in one go before the event loop runs again. */
  const PUMP_SLICE = 256;
  let head = 0;
  let pumping = false;
  const pump = async () => {
    pumping = true;
    try {
      let run = 0;
      while (head < queue.length && !failure && !halted) {
        const msg = queue[head]!;
        queue[head++] = undefined as never;
        const wait = handle(msg);
        if (wait) await wait;
        // Now and then let the target's replies in: the batch in flight goes on while this one is received.
        else if (++run % PUMP_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        if (head > 4096 && head * 2 > queue.length) {
          queue.splice(0, head);
          head = 0;
        }
      }
    } catch (e) {
      fail(e);
    } finally {
      queue.length = 0;
      head = 0;
      pumping = false;
      if (!halted) service.resume();
    }
  };
  // Decoded messages wait in the queue while earlier ones are handled; a keepalive may
  // overtake them. Until they are handled, their position is not ours.
  const allHandled = () => !pumping && head >= queue.length;
  const keepalive = (lsn: string, shouldRespond: boolean) => {
    if (!serverLsn || compareLsn(lsn, serverLsn) > 0) serverLsn = lsn;
    void serial(async () => {
      // Nothing received is waiting: everything the server sent up to `lsn` is applied. Not past a
      // verification point once reached: what came after it was received and dropped, to be sent again.
      if (!pointReached && !current && pending.length === 0 && !applier.inTransaction && allHandled()) {
        delivered = true;
        if (compareLsn(lsn, processedLsn) > 0) processedLsn = lsn;
        if (o.stopBefore && !pointReached && compareLsn(lsn, o.stopBefore) >= 0) {
          // The walsender decoded past the point and sent nothing before it that is not applied.
          pointReached = true;
          finished();
        }
      }
      if (fenceReached()) {
        fenceApplied = true;
        finished();
      }
      if (shouldRespond) ack(processedLsn);
    });
  };
  const service = new ReplicationStream(config, {
    data: (message) => {
      if (failure || halted) return;
      try {
        // Decoded at once: the message is a view of the driver's buffer, which it reuses.
        queue.push(decodePgoutput(message, encoding, XLOG_HEADER));
      } catch (e) {
        return fail(
          new PgTransitError(
            ErrorType.StreamUndecodable,
            `the source's change stream sent a message pgtransit cannot decode (${(e as Error).message}) after ${processedLsn}; ` +
              `this source's pgoutput is not supported`,
          ),
        );
      }
      if (queue.length - head > QUEUED_MESSAGES) service.pause();
      if (!pumping) void pump();
    },
    keepalive,
    error: fail,
  });

  const onAbort = () => finished();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  // Aborted before the stream was set up (the listener would never hear of it).
  if (o.signal?.aborted) finished();
  // A round ends after maxSeconds only once the stream has shown it is current (a keepalive
  // came back, or a transaction was applied): a restart re-decodes from the slot's restart
  // point, and a round that ended before delivering anything would leave the slot where it was.
  // It never ends inside a large transaction: that would undo its applied parts.
  let delivered = false;
  let started = false;
  const deadline = Date.now() + o.maxSeconds * 1000;
  const hardDeadline = Date.now() + Math.max(60, o.maxSeconds * ROUND_HARD_DEADLINE_FACTOR) * 1000;
  // Past its time, a stream whose restart would decode much WAL again stays open (limits.ts).
  let redecode = { checkedAt: 0, bytes: 0, checking: false };
  const checkRedecode = () => {
    if (redecode.checking || Date.now() - redecode.checkedAt < REDECODE_CHECK_MS) return;
    redecode.checking = true;
    void restartDistance(o.source, o.database, o.slot, processedLsn).then(
      (bytes) => (redecode = { checkedAt: Date.now(), bytes, checking: false }),
      () => (redecode = { checkedAt: Date.now(), bytes: 0, checking: false }),
    );
  };
  const timer = setInterval(() => {
    const now = Date.now();
    if (applier.inTransaction || current?.large) return;
    if (now >= hardDeadline) return finished();
    if (now < deadline || !delivered) return;
    if (redecode.checkedAt === 0 || now - redecode.checkedAt >= REDECODE_CHECK_MS) return checkRedecode();
    if (redecode.bytes <= (o.redecodeLimitBytes ?? REDECODE_LIMIT_BYTES)) finished();
  }, 100);
  // Ask for a keepalive every second: it carries the server's position, so an idle stream shows lag 0.
  const pinger = setInterval(() => ack(processedLsn, true), KEEPALIVE_REQUEST_MS);
  // A keepalive carries how far the walsender has decoded, not how far the source has written:
  // a walsender reading through WAL behind the source would show no lag. Reports read the source.
  const position = sourcePosition(o.source, o.database);
  let reporting = false;
  let closed = false;
  const report = async () => {
    const now = await position.read();
    // Unmeasured (the source does not answer now): no report rather than one understating the lag.
    if (!now || closed || failure) return;
    const sourceLsn = serverLsn && compareLsn(serverLsn, now) > 0 ? serverLsn : now;
    const bytes = Math.max(0, Number(lsnToBigInt(sourceLsn) - lsnToBigInt(processedLsn)));
    const secs = bytes > 0 && lastCommitTime ? Math.max(0, (Date.now() - Date.parse(lastCommitTime)) / 1000) : 0;
    o.onReport!({
      appliedLsn: applier.appliedLsn,
      processedLsn,
      sourceLsn,
      lagBytes: bytes,
      lagSeconds: secs,
      transactions,
      counts: structuredClone(Object.fromEntries(applier.counts)),
      largeTransaction: current?.large ? { commitLsn: current.commitLsn, changesApplied: largeApplied } : null,
    });
  };
  const reporter =
    o.onReport && o.reportEverySeconds
      ? setInterval(() => {
          // Reports start once the walsender streams: a report says source and target both work.
          if (failure || !started || reporting) return;
          reporting = true;
          void report().finally(() => (reporting = false));
        }, o.reportEverySeconds * 1000)
      : null;

  try {
    if (fenceReached()) {
      // An earlier attempt applied the fence already.
      fenceApplied = true;
      finished();
    } else if (!o.signal?.aborted) {
      // An error once the stream runs (the walsender gave up) ends the round with that error.
      const command = startCommand(o.slot, o.publication, supportsLogicalMessages(o.sourceMajor));
      // The walsender converts values to the client's encoding (node-postgres always asks for UTF8):
      // a SQL_ASCII database holds bytes that are not UTF-8, to be passed through untouched.
      const setup =
        encoding === 'latin1'
          ? (c: pg.Client) => c.query(`SET client_encoding = 'SQL_ASCII'`).then(() => undefined)
          : undefined;
      await startWithRetry(service, command, setup, o.slot, o.signal).then(({ running }) => {
        started = true;
        void running.catch(fail);
      }, fail);
      // While this attempt waited for the slot, an attempt Temporal had given up on (it still held the
      // slot) may have applied past the fence: the stream then starts beyond the marker, never to show it.
      if (o.fence && started)
        void serial(async () => {
          await applier.refresh();
          if (fenceReached()) {
            fenceApplied = true;
            finished();
          }
        });
    }
    await done;
    halted = true;
    // The committed transactions received are applied; what follows them is sent again next round.
    await flush();
  } finally {
    halted = true;
    // Work queued before the halt (a part waiting for the one before it) ends before the rollback below.
    for (let seen: Promise<void> | null = null; seen !== lock;) {
      seen = lock;
      await seen;
    }
    clearInterval(timer);
    clearInterval(pinger);
    if (reporter) clearInterval(reporter);
    closed = true;
    await position.close();
    if (flushTimer) clearTimeout(flushTimer);
    o.signal?.removeEventListener('abort', onAbort);
    // A large transaction cut off by a stop or an error is sent again from its start.
    await applier.rollback();
    await service.close();
    await target.end().catch(() => undefined);
  }
  if (failure) throw failure;

  const stats = await slotStats(o.source, o.database, o.slot);
  const lagBytes = Math.max(0, Number(lsnToBigInt(stats.sourceLsn) - lsnToBigInt(processedLsn)));
  const lagSeconds = lagBytes > 0 && lastCommitTime ? Math.max(0, (Date.now() - Date.parse(lastCommitTime)) / 1000) : 0;
  const counts: Record<string, TableCounts> = Object.fromEntries(applier.counts);
  return {
    appliedLsn: applier.appliedLsn,
    processedLsn,
    sourceLsn: stats.sourceLsn,
    lagBytes,
    lagSeconds,
    retainedWalBytes: stats.retainedWalBytes,
    transactions,
    counts,
    lastCommitTime,
    fenceApplied,
    ...(o.stopBefore ? { pointReached } : {}),
    peakBufferedChanges: peakBuffered,
    setwise: { ...applier.setwise },
  };
}

function maxLsn(a: string | null, b: string | null): string {
  if (!a) return b ?? '0/0';
  if (!b) return a;
  return compareLsn(a, b) >= 0 ? a : b;
}

/**
 * A standby status update (position.ts, rules 3 and 4): written, flushed and applied all at the
 * position given (not one past it), stamped in microseconds since the PostgreSQL epoch.
 */
function sendStandbyStatus(service: ReplicationStream, lsn: string | null, ping: boolean): void {
  if (lsn === null) return;
  const position = lsnToBigInt(lsn);
  const message = Buffer.alloc(34);
  message[0] = 0x72; // 'r'
  message.writeBigUInt64BE(position, 1); // written
  message.writeBigUInt64BE(position, 9); // flushed
  message.writeBigUInt64BE(position, 17); // applied
  message.writeBigInt64BE(BigInt(Date.now() - PG_EPOCH_MS) * 1000n, 25);
  message[33] = ping ? 1 : 0;
  try {
    service.send(message);
  } catch {
    // The stream is going away; the next round acknowledges again.
  }
}

/** The walsender of the previous round may hold the slot for a moment after it ended. */
async function startWithRetry(
  service: ReplicationStream,
  command: string,
  setup: ((client: pg.Client) => Promise<void>) | undefined,
  slot: string,
  signal?: AbortSignal,
): Promise<{ running: Promise<unknown> }> {
  let refused: unknown = null;
  let stream: Promise<unknown> | null = null;
  const started = await pollUntil(async () => {
    let begun: Promise<void>;
    let running: Promise<unknown>;
    try {
      ({ begun, running } = await service.open(command, setup));
    } catch (e) {
      refused = e;
      return false;
    }
    const outcome = await Promise.race([
      begun.then(() => 'started' as const),
      running.then(
        () => 'ended' as const,
        (e: unknown) => e,
      ),
    ]);
    if (outcome === 'started') {
      stream = running;
      return true;
    }
    refused = outcome;
    if (codeOf(outcome) === SqlState.ObjectInUse && !signal?.aborted) return undefined;
    return false;
  }, WALSENDER_BUSY_RETRY);
  // Wrapped: an async function returning the promise itself would wait for the stream to end.
  if (started && stream) return { running: stream };
  const message = (refused as Error | null)?.message ?? '';
  if (codeOf(refused) === SqlState.UndefinedObject) {
    throw new PgTransitError(
      ErrorType.SlotLost,
      `replication slot ${slot} does not exist on the source any more; the migration must start again`,
    );
  }
  // An invalidated slot (max_slot_wal_keep_size, idle_replication_slot_timeout) cannot stream again.
  if (codeOf(refused) === SqlState.ObjectNotInPrerequisiteState && /replication slot/i.test(message)) {
    throw new PgTransitError(
      ErrorType.SlotLost,
      `replication slot ${slot} was invalidated on the source (${message}); the WAL it needed is gone, so the migration must start ` +
        `again (raise max_slot_wal_keep_size first)`,
    );
  }
  throw refused instanceof Error
    ? refused
    : new PgTransitError(ErrorType.Transient, `the change stream ended before it started`);
}

interface SlotStart {
  confirmedLsn: string | null;
  encoding: string;
  /** Whether a session to the source runs over TLS (what sslmode prefer settles on). */
  tls: boolean;
}

/** Where the slot says the stream starts, the source database's encoding, and whether its sessions use TLS. */
async function slotStart(source: Endpoint, database: string, slot: string): Promise<SlotStart> {
  return withConnection(source, { database, applicationName: APPLICATION_NAME.monitor }, async ({ client, tls }) => {
    const { rows } = await client.query<{ confirmed: string | null; encoding: string }>(
      `SELECT (SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1) AS confirmed,
              pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = current_database()`,
      [slot],
    );
    return { confirmedLsn: rows[0]!.confirmed, encoding: rows[0]!.encoding, tls };
  });
}

/** How much WAL a stream started now would decode before reaching `processedLsn`. */
async function restartDistance(
  source: Endpoint,
  database: string,
  slot: string,
  processedLsn: string,
): Promise<number> {
  return withConnection(source, { database, applicationName: APPLICATION_NAME.monitor }, async ({ client }) => {
    const { rows } = await client.query<{ bytes: string | null }>(
      `SELECT pg_wal_lsn_diff($2::pg_lsn, restart_lsn)::bigint::text AS bytes FROM pg_replication_slots WHERE slot_name = $1`,
      [slot, processedLsn],
    );
    return Math.max(0, Number(rows[0]?.bytes ?? 0));
  });
}

export interface SlotStats {
  sourceLsn: string;
  confirmedLsn: string | null;
  retainedWalBytes: number;
}

/** The source's current WAL position, on one monitoring session kept while the stream runs (null when unreadable). */
function sourcePosition(
  source: Endpoint,
  database: string,
): { read(): Promise<string | null>; close(): Promise<void> } {
  let client: pg.Client | null = null;
  let closed = false;
  const drop = async () => {
    const c = client;
    client = null;
    await c?.end().catch(() => undefined);
  };
  return {
    async read() {
      try {
        if (!client) {
          const c = (await connect(source, { database, applicationName: APPLICATION_NAME.monitor })).client;
          // Closed while connecting: the session is not kept.
          if (closed) {
            await c.end().catch(() => undefined);
            return null;
          }
          client = c;
        }
        const { rows } = await client.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`);
        return rows[0]!.lsn;
      } catch {
        await drop();
        return null;
      }
    },
    async close() {
      closed = true;
      await drop();
    },
  };
}

export async function slotStats(source: Endpoint, database: string, slot: string): Promise<SlotStats> {
  const { client } = await connect(source, { database, applicationName: APPLICATION_NAME.monitor });
  try {
    const { rows } = await client.query<{ now: string; confirmed: string | null; retained: string | null }>(
      `SELECT pg_current_wal_lsn()::text AS now, s.confirmed_flush_lsn::text AS confirmed,
              pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint AS retained
         FROM (SELECT 1) one LEFT JOIN pg_replication_slots s ON s.slot_name = $1`,
      [slot],
    );
    return {
      sourceLsn: rows[0]!.now,
      confirmedLsn: rows[0]!.confirmed,
      retainedWalBytes: Number(rows[0]!.retained ?? 0),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
