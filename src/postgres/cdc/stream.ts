/**
 * One round of change capture: START_REPLICATION on the slot, decode pgoutput,
 * apply in batches (src/postgres/apply.ts), acknowledge only what the target
 * committed. A round ends after `maxSeconds`, on the switchover's fence, on
 * cancellation, or with an error; the next round resumes from the slot.
 */
import type pg from 'pg';
import { LogicalReplicationService } from 'pg-logical-replication';
import { PgTransitError, ErrorType } from '../../errors';
import type { Fence, RoundResult, TableCounts } from '../../model/activities';
import { compareLsn, lsnToBigInt } from '../../model/lsn';
import { APPLICATION_NAME, FENCE_PREFIX } from '../../model/names';
import type { Plan } from '../../plan/plan';
import { connect, resolveEndpoint, type Endpoint } from '../connect';
import {
  BATCH_CHANGES,
  FLUSH_DELAY_MS,
  KEEPALIVE_REQUEST_MS,
  ROUND_HARD_DEADLINE_FACTOR,
  WALSENDER_BUSY_RETRY,
  pollUntil,
} from '../limits';
import { PORTABLE_TEXT_OPTIONS, PORTABLE_TEXT_SETTINGS } from '../session';
import { SqlState, codeOf } from '../sqlstate';
import { supportsLogicalMessages } from '../versions';
import { Applier, type SourceTransaction } from './apply';
import { decodePgoutput, type PgoutputMessage } from './pgoutput';
import { ackPosition } from './position';

/** The library's plugin shape, with our decoder (values stay text). */
class RawPgoutput {
  constructor(readonly options: { publication: string; messages: boolean }) {}
  get name(): string {
    return 'pgoutput';
  }
  parse(buffer: Buffer): PgoutputMessage {
    return decodePgoutput(buffer);
  }
  start(client: pg.Client, slot: string, lsn: string): Promise<unknown> {
    const opts = [`proto_version '1'`, `publication_names '${this.options.publication.replace(/'/g, "''")}'`];
    if (this.options.messages) opts.push(`messages 'true'`);
    return client.query(`START_REPLICATION SLOT ${client.escapeIdentifier(slot)} LOGICAL ${lsn} (${opts.join(', ')})`);
  }
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
  signal?: AbortSignal;
  onProgress?: (p: { appliedLsn: string | null; transactions: number }) => void;
}

/** Microseconds since 2000-01-01 (PostgreSQL epoch) to ISO time. */
function pgTime(t: bigint): string {
  return new Date(Number(t / 1000n) + 946684800000).toISOString();
}

export async function streamRound(o: RoundOptions): Promise<RoundResult> {
  const { client: target } = await connect(o.target, {
    database: o.targetDatabase,
    applicationName: APPLICATION_NAME.apply,
  });
  const applier = new Applier(target, {
    plan: o.plan,
    database: o.database,
    conflictPolicy: o.plan.cdc.conflictPolicy,
    lateTables: new Set(o.lateTables),
    lateHorizonLsn: o.lateHorizonLsn,
  });
  await applier.load();
  // pgoutput formats values under the walsender's settings; the apply reads them under the same ones.
  await target.query(PORTABLE_TEXT_SETTINGS);
  const { config } = resolveEndpoint(o.source, {
    database: o.database,
    replication: true,
    applicationName: APPLICATION_NAME.stream,
  });
  config.options = PORTABLE_TEXT_OPTIONS;
  const service = new LogicalReplicationService(config, {
    acknowledge: { auto: false, timeoutSeconds: 0 },
    flowControl: { enabled: true },
  });
  const plugin = new RawPgoutput({ publication: o.publication, messages: supportsLogicalMessages(o.sourceMajor) });

  let current: SourceTransaction | null = null;
  let pending: SourceTransaction[] = [];
  let pendingChanges = 0;
  let processedLsn: string | null = applier.appliedLsn;
  let lastCommitTime: string | null = null;
  let transactions = 0;
  let fenceApplied = false;
  let failure: unknown = null;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  let lock: Promise<void> = Promise.resolve();
  const serial = (fn: () => Promise<void>) => {
    const next = lock.then(fn);
    lock = next.catch(() => undefined);
    return next;
  };
  const fail = (e: unknown) => {
    failure ??= e;
    finished();
  };

  // Only positions the target has committed are acknowledged (cdc/position.ts, rules 3 and 4).
  const ack = (lsn: string | null, ping = false) => {
    if (lsn || ping) void service.acknowledge(ackPosition(lsn), ping).catch(() => undefined);
  };

  let flushTimer: NodeJS.Timeout | null = null;
  const flush = () =>
    serial(async () => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
      if (pending.length === 0 || failure) return;
      const batch = pending;
      pending = [];
      pendingChanges = 0;
      // Transactions sent again after a restart are skipped by the applier: count what it applied.
      transactions += await applier.applyBatch(batch);
      const last = batch[batch.length - 1]!;
      lastCommitTime = pgTime(last.commitTime);
      processedLsn = last.endLsn;
      delivered = true;
      ack(last.endLsn);
      o.onProgress?.({ appliedLsn: applier.appliedLsn, transactions });
      if ((o.fence?.id && batch.some((t) => t.fence === o.fence!.id)) || lsnFenceReached()) {
        fenceApplied = true;
        finished();
      }
    }).catch(fail);

  service.on('data', async (_lsn: string, msg: PgoutputMessage) => {
    if (failure) return;
    try {
      switch (msg.tag) {
        case 'begin':
          current = { commitLsn: msg.finalLsn, endLsn: msg.finalLsn, commitTime: msg.commitTime, changes: [] };
          break;
        case 'relation':
          await serial(() => applier.relation(msg.relation));
          break;
        case 'insert':
        case 'update':
        case 'delete':
        case 'truncate':
          current?.changes.push(msg);
          break;
        case 'message':
          if (msg.prefix === FENCE_PREFIX && current) current.fence = msg.content;
          break;
        case 'commit': {
          if (!current) break;
          const txn: SourceTransaction = current;
          txn.endLsn = msg.endLsn;
          current = null;
          pending.push(txn);
          pendingChanges += txn.changes.length;
          if (pendingChanges >= BATCH_CHANGES || txn.fence) await flush();
          else if (!flushTimer) flushTimer = setTimeout(() => void flush(), FLUSH_DELAY_MS);
          break;
        }
      }
    } catch (e) {
      fail(e);
    }
  });
  // The library queues decoded messages while the handler runs (flow control); a
  // keepalive may overtake them. Until they are handled, their position is not ours.
  const libraryIdle = () => {
    const internals = service as unknown as { _messageQueue?: unknown[]; _processing?: boolean };
    return (internals._messageQueue?.length ?? 0) === 0 && !internals._processing;
  };
  const lsnFenceReached = () =>
    o.fence && !o.fence.id && processedLsn !== null && compareLsn(processedLsn, o.fence.lsn) >= 0;
  service.on('heartbeat', (lsn: string, _ts: number, shouldRespond: boolean) => {
    void serial(async () => {
      // Nothing received is waiting: everything the server sent up to `lsn` is applied.
      if (!current && pending.length === 0 && libraryIdle()) {
        delivered = true;
        if (processedLsn === null || compareLsn(lsn, processedLsn) > 0) processedLsn = lsn;
      }
      if (lsnFenceReached()) {
        fenceApplied = true;
        finished();
      }
      if (shouldRespond) ack(processedLsn);
    });
  });
  service.on('error', fail);

  const onAbort = () => finished();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  // A round ends after maxSeconds only once the stream has shown it is current (a keepalive
  // came back, or a transaction was applied): a restart re-decodes from the slot's restart
  // point, and a round that ended before delivering anything would leave the slot where it was.
  let delivered = false;
  const deadline = Date.now() + o.maxSeconds * 1000;
  const hardDeadline = Date.now() + Math.max(60, o.maxSeconds * ROUND_HARD_DEADLINE_FACTOR) * 1000;
  const timer = setInterval(() => {
    const now = Date.now();
    if ((now >= deadline && delivered) || now >= hardDeadline) finished();
  }, 100);
  // Ask for a keepalive every second: it carries the server's position, so an idle stream shows lag 0.
  const pinger = setInterval(() => ack(processedLsn, true), KEEPALIVE_REQUEST_MS);

  try {
    await startWithRetry(service, plugin, o.slot, o.signal).catch(fail);
    await done;
    await flush();
    await lock;
  } finally {
    clearInterval(timer);
    clearInterval(pinger);
    if (flushTimer) clearTimeout(flushTimer);
    o.signal?.removeEventListener('abort', onAbort);
    await service.stop().catch(() => undefined);
    service.removeAllListeners();
    await target.end().catch(() => undefined);
  }
  if (failure) throw failure;

  const stats = await slotStats(o.source, o.database, o.slot);
  const processed = processedLsn ?? stats.confirmedLsn ?? stats.sourceLsn;
  const lagBytes = Math.max(0, Number(lsnToBigInt(stats.sourceLsn) - lsnToBigInt(processed)));
  const lagSeconds = lagBytes > 0 && lastCommitTime ? Math.max(0, (Date.now() - Date.parse(lastCommitTime)) / 1000) : 0;
  const counts: Record<string, TableCounts> = Object.fromEntries(applier.counts);
  return {
    appliedLsn: applier.appliedLsn,
    processedLsn: processed,
    sourceLsn: stats.sourceLsn,
    lagBytes,
    lagSeconds,
    retainedWalBytes: stats.retainedWalBytes,
    transactions,
    counts,
    lastCommitTime,
    fenceApplied,
  };
}

/** The walsender of the previous round may hold the slot for a moment after it ended. */
async function startWithRetry(
  service: LogicalReplicationService,
  plugin: RawPgoutput,
  slot: string,
  signal?: AbortSignal,
): Promise<void> {
  let refused: unknown = null;
  const started = await pollUntil(async () => {
    const start = new Promise<void>((resolve) => service.once('start', () => resolve()));
    const running = service.subscribe(plugin, slot, '0/0');
    const outcome = await Promise.race([
      start.then(() => 'started' as const),
      running.then(
        () => 'ended' as const,
        (e: unknown) => e,
      ),
    ]);
    if (outcome === 'started') {
      running.catch(() => undefined);
      return true;
    }
    refused = outcome;
    if (codeOf(outcome) === SqlState.ObjectInUse && !signal?.aborted) return undefined;
    return false;
  }, WALSENDER_BUSY_RETRY);
  if (started) return;
  if (codeOf(refused) === SqlState.UndefinedObject)
    throw new PgTransitError(
      ErrorType.SlotLost,
      `replication slot ${slot} does not exist on the source any more; the migration must start again`,
    );
  throw refused instanceof Error
    ? refused
    : new PgTransitError(ErrorType.Transient, `the change stream ended before it started`);
}

export interface SlotStats {
  sourceLsn: string;
  confirmedLsn: string | null;
  retainedWalBytes: number;
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
