/**
 * Tunables, each with its unit, in one place. Timeouts and retry policies of
 * activities live in workflows/activity-options.ts; plan defaults in src/plan/plan.ts.
 */

/** After terminating the application's sessions, how long the fence waits for their transactions to end. */
export const FENCE_WRITER_WAIT = { attempts: 300, intervalMs: 100 } as const;
/** Dropping the slot: how long to wait for its walsender to let go. */
export const SLOT_RELEASE_WAIT = { attempts: 30, intervalMs: 200 } as const;
/** Starting the stream while the previous round's walsender still holds the slot (55006). */
export const WALSENDER_BUSY_RETRY = { attempts: 50, intervalMs: 200 } as const;

/** Change capture: apply once this many changes of committed transactions are pending ... */
export const BATCH_CHANGES = 5000;
/**
 * ... except a round's first batch, sent at this many: the target starts (its first statements
 * are the slowest) while the rest of the backlog is still arriving.
 */
export const FIRST_BATCH_CHANGES = 500;
/** ... and a transaction still open on the source in parts of this many changes (memory stays bounded). */
export const SUBBATCH_CHANGES = 5000;
/** ... or this long after the first pending commit (milliseconds). */
export const FLUSH_DELAY_MS = 20;
/** Decoded messages waiting to be handled before the stream's socket is paused. */
export const QUEUED_MESSAGES = 20000;
/** How often a round asks the server for a keepalive (milliseconds). */
export const KEEPALIVE_REQUEST_MS = 1000;
/** A round ends this long past its deadline even if the stream never proved current (× maxSeconds, at least 60 s). */
export const ROUND_HARD_DEADLINE_FACTOR = 10;
/**
 * A stream past its time stays open while a new one would decode this much WAL again: the
 * slot's restart point is held back (a transaction open for long on the source), and the
 * walsender of the next stream would re-read everything since it began. Checked every
 * REDECODE_CHECK_MS; the hard deadline still ends it.
 */
export const REDECODE_LIMIT_BYTES = 64 * 1024 * 1024;
export const REDECODE_CHECK_MS = 5000;

/** A copy reports progress (a heartbeat) every this many bytes. */
export const COPY_PROGRESS_BYTES = 8 << 20;
/** Large objects are read and written in pieces of this many bytes. */
export const LARGE_OBJECT_PIECE_BYTES = 8 << 20;
/** Large objects per chunk of the full load. */
export const LARGE_OBJECTS_PER_CHUNK = 1000;
/** A table is split into at most this many chunks. */
export const MAX_CHUNKS_PER_TABLE = 256;

/** Output a pg_dump or pg_restore may print before it is cut off (bytes). */
export const TOOL_OUTPUT_BYTES = 1 << 28;

/** Free space on the target against the selected data: below 1× fails, below 1.5× warns. */
export const DISK_WARN_FACTOR = 1.5;
/** What to advise when free space cannot be read: the data plus room for WAL and index builds. */
export const DISK_ADVISE_FACTOR = 1.2;

/** Sequences read in one query. */
export const SEQUENCES_PER_QUERY = 200;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls `probe` until it returns something other than undefined, at most `attempts`
 * times, `intervalMs` apart; undefined when it never did.
 */
export async function pollUntil<T>(
  probe: (attempt: number) => Promise<T | undefined>,
  o: { attempts: number; intervalMs: number },
): Promise<T | undefined> {
  for (let attempt = 0; attempt < o.attempts; attempt++) {
    const v = await probe(attempt);
    if (v !== undefined) return v;
    if (attempt < o.attempts - 1) await sleep(o.intervalMs);
  }
  return undefined;
}
