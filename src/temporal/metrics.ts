/**
 * Migration metrics, emitted by the activities through the SDK runtime's meter: with
 * PGTRANSIT_METRICS_PORT set they are served on the runtime's own Prometheus endpoint, next to
 * the SDK's metrics (one port to scrape; without it they go nowhere). Labels are the migration,
 * its source database and, where it applies, the table and the kind of change: never a host,
 * a user or anything from a connection string. The workflows add the phase, the stall, the
 * switchover's outcome and downtime (workflows/observe.ts) through the workflow meter.
 */
import { Runtime } from '@temporalio/worker';
import type { MetricCounter, MetricGauge, MetricTags } from '@temporalio/common';
import type { TableCounts } from '../model/activities';

type Labels = { migration: string; database: string } & MetricTags;

interface Instruments {
  rowsCopied: MetricCounter;
  bytesCopied: MetricCounter;
  chunksCopied: MetricCounter;
  changesApplied: MetricCounter;
  conflicts: MetricCounter;
  transactionsApplied: MetricCounter;
  lagBytes: MetricGauge;
  lagSeconds: MetricGauge;
  retainedWalBytes: MetricGauge;
  streamReportTime: MetricGauge;
  activityRetries: MetricCounter;
}

let instruments: Instruments | undefined;

/** Created at first use, inside an activity: the runtime (and its exporter) is installed by then. */
function metrics(): Instruments {
  if (instruments) return instruments;
  const m = Runtime.instance().metricMeter;
  instruments = {
    rowsCopied: m.createCounter('pgtransit_rows_copied', 'rows', 'Rows copied by the full load'),
    bytesCopied: m.createCounter('pgtransit_bytes_copied', 'bytes', 'Bytes of COPY data copied by the full load'),
    chunksCopied: m.createCounter(
      'pgtransit_chunks_copied',
      'chunks',
      'Chunks of the full load committed on the target',
    ),
    changesApplied: m.createCounter(
      'pgtransit_changes_applied',
      'changes',
      'Changes applied to the target, by table and kind (insert, update, delete, truncate)',
    ),
    conflicts: m.createCounter('pgtransit_conflicts', 'changes', 'Changes that met a conflict on the target'),
    transactionsApplied: m.createCounter(
      'pgtransit_transactions_applied',
      'transactions',
      'Source transactions applied to the target',
    ),
    lagBytes: m.createGauge('pgtransit_lag_bytes', 'int', 'bytes', 'WAL between the source and what is applied'),
    lagSeconds: m.createGauge(
      'pgtransit_lag_seconds',
      'float',
      'seconds',
      'Age of the newest source commit not applied yet',
    ),
    retainedWalBytes: m.createGauge(
      'pgtransit_retained_wal_bytes',
      'int',
      'bytes',
      'WAL the slot retains on the source',
    ),
    streamReportTime: m.createGauge(
      'pgtransit_stream_report_timestamp_seconds',
      'float',
      'seconds',
      'When the change stream last reported (Unix time)',
    ),
    activityRetries: m.createCounter(
      'pgtransit_activity_retries',
      'attempts',
      'Activity attempts that failed and will be tried again',
    ),
  };
  return instruments;
}

export function chunkCopied(l: Labels & { table: string }, rows: number, bytes: number): void {
  const m = metrics();
  m.rowsCopied.add(rows, l);
  m.bytesCopied.add(bytes, l);
  m.chunksCopied.add(1, l);
}

export interface StreamMeasure {
  lagBytes: number;
  lagSeconds: number;
  retainedWalBytes?: number;
}

/**
 * The counters of one change-stream attempt: its reports and result carry cumulative counts,
 * and only what is new since the last one is added.
 */
export function streamMetrics(l: Labels) {
  let seen: { transactions: number; counts: Record<string, TableCounts> } = { transactions: 0, counts: {} };
  return (transactions: number, counts: Record<string, TableCounts>, measure: StreamMeasure): void => {
    const m = metrics();
    m.transactionsApplied.add(Math.max(0, transactions - seen.transactions), l);
    for (const [table, c] of Object.entries(counts)) {
      const before = seen.counts[table];
      for (const kind of ['insert', 'update', 'delete', 'truncate'] as const) {
        const d = c[kind] - (before?.[kind] ?? 0);
        if (d > 0) m.changesApplied.add(d, { ...l, table, kind });
      }
      const d = c.conflicts - (before?.conflicts ?? 0);
      if (d > 0) m.conflicts.add(d, { ...l, table });
    }
    seen = { transactions, counts: JSON.parse(JSON.stringify(counts)) as Record<string, TableCounts> };
    m.lagBytes.set(Math.max(0, measure.lagBytes), l);
    m.lagSeconds.set(Math.max(0, measure.lagSeconds), l);
    if (measure.retainedWalBytes !== undefined) m.retainedWalBytes.set(measure.retainedWalBytes, l);
    m.streamReportTime.set(Date.now() / 1000, l);
  };
}

export function activityRetried(l: Labels & { activity: string; type: string }): void {
  metrics().activityRetries.add(1, l);
}
