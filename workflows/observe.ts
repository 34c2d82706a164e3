/**
 * What the workflows show outside their status query: the search attributes (so `temporal
 * workflow list` and the Web UI filter migrations), the gauges and counters only the workflow
 * knows (phase, stall, switchover), and the notifications to the plan's webhook. The attributes
 * and the notifications are commands in history, so both sit behind their patches; the
 * workflow meter emits nothing while a history replays.
 */
import {
  CancellationScope,
  condition,
  metricMeter,
  patched,
  proxyActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NOTIFY_PATCH, type Notification } from '../src/model/notify';
import { KEYS, SEARCH_ATTRIBUTES_PATCH, type SearchAttributeValues } from '../src/model/search-attributes';
import type { Plan } from '../src/plan/plan';
import { notifying } from './activity-options';
import { messageOf } from './failures';

const notifier = proxyActivities<Activities>(notifying);

/** Created at first use, inside a workflow (the meter belongs to the running workflow). */
const meter = () => ({
  phase: metricMeter.createGauge('pgtransit_database_phase', 'int', '', 'The database workflow is in this phase (1)'),
  stalled: metricMeter.createGauge(
    'pgtransit_apply_stalled',
    'int',
    '',
    'Applying changes stopped on an error only the operator can fix (1)',
  ),
  switchovers: metricMeter.createCounter('pgtransit_switchovers', 'switchovers', 'Switchovers that ended, by outcome'),
  downtime: metricMeter.createGauge(
    'pgtransit_switchover_downtime_seconds',
    'float',
    'seconds',
    'Write downtime of the last switchover (fence to done)',
  ),
});

/** Search attributes kept current: only what changed is upserted. */
export class SearchAttributes {
  private shown: SearchAttributeValues = {};

  show(values: SearchAttributeValues): void {
    const changed = (Object.keys(values) as (keyof SearchAttributeValues)[]).filter(
      (k) => values[k] !== undefined && values[k] !== this.shown[k],
    );
    if (!changed.length || !patched(SEARCH_ATTRIBUTES_PATCH)) return;
    upsertSearchAttributes(changed.map((k) => ({ key: KEYS[k], value: values[k]! })));
    Object.assign(this.shown, values);
  }
}

/** One database's gauges: its phase (1, and 0 for the one it left) and whether applying is stalled. */
export class DatabaseGauges {
  private phase?: string;

  constructor(private readonly tags: { migration: string; database: string }) {}

  set(phase: string, stalled: boolean): void {
    const m = meter();
    if (this.phase !== phase) {
      if (this.phase) m.phase.set(0, { ...this.tags, phase: this.phase });
      this.phase = phase;
    }
    m.phase.set(1, { ...this.tags, phase });
    m.stalled.set(stalled ? 1 : 0, this.tags);
  }
}

export function switchoverEnded(
  migration: string,
  outcome: 'completed' | 'failed',
  reports: { database: string; writeDowntimeMs: number }[],
): void {
  const m = meter();
  m.switchovers.add(1, { migration, outcome });
  for (const r of reports) m.downtime.set(r.writeDowntimeMs / 1000, { migration, database: r.database });
}

/**
 * Notifications to notify.webhook: sent and never awaited by the migration. A webhook that
 * fails shows as one warning (kept current), not as a failure or a wait.
 */
export class Notifier {
  private pending = 0;
  private failures = 0;

  constructor(
    private readonly plan: Plan,
    private readonly warnings: () => string[],
  ) {}

  send(n: Omit<Notification, 'migration' | 'at'>): void {
    const webhook = this.plan.notify?.webhook;
    if (!webhook || !patched(NOTIFY_PATCH)) return;
    const notification: Notification = { ...n, migration: this.plan.name, at: new Date().toISOString() };
    this.pending++;
    // Not cancelled with the migration: the notification of its cancellation must still go out.
    void CancellationScope.nonCancellable(() => notifier.notify({ webhook, notification }))
      .catch((e: unknown) => this.failed(n.kind, messageOf(e)))
      .finally(() => this.pending--);
  }

  /** Before the run ends or continues as new: the last notifications go out (within a bound). */
  async flush(): Promise<void> {
    if (this.pending) await CancellationScope.nonCancellable(() => condition(() => this.pending === 0, '1 minute'));
  }

  private failed(kind: string, error: string): void {
    this.failures++;
    const w = this.warnings();
    const line = `notifications: ${this.failures} not delivered to notify.webhook, the last (${kind}): ${error}`;
    const i = w.findIndex((x) => x.startsWith('notifications: '));
    if (i >= 0) w[i] = line;
    else w.push(line);
  }
}
