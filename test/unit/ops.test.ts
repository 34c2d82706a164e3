/**
 * The Grafana dashboard and the Prometheus rules in ops/ name only metrics pgtransit emits
 * (the e2e observability test scrapes them from a worker), and every rule is complete.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');

/** The metrics pgtransit creates: the names given to createCounter/createGauge. */
const emitted = new Set(
  [read('src/temporal/metrics.ts'), read('workflows/observe.ts')].flatMap((src) =>
    [...src.matchAll(/create(?:Counter|Gauge|Histogram)\(\s*'(pgtransit_[a-z_]+)'/g)].map((m) => m[1]!),
  ),
);

const referenced = (text: string): string[] => [...new Set(text.match(/pgtransit_[a-z_]+/g) ?? [])];

describe('ops/ dashboards and alerts', () => {
  it('finds the metrics in the code', () => {
    assert.ok(emitted.size >= 12, [...emitted].join(' '));
  });

  it('alerts.yml: each rule has a name, an expression, a severity and a summary, over metrics pgtransit emits', () => {
    const rules = (parse(read('ops/prometheus/alerts.yml')) as { groups: { rules: Record<string, unknown>[] }[] })
      .groups[0]!.rules;
    const names = rules.map((r) => r.alert);
    for (const needed of [
      'PgtransitApplyStalled',
      'PgtransitFullLoadStalled',
      'PgtransitLagHigh',
      'PgtransitRetriesRepeating',
      'PgtransitSwitchoverFailed',
    ])
      assert.ok(names.includes(needed), `${needed} in ${names.join(', ')}`);
    for (const r of rules) {
      assert.equal(typeof r.expr, 'string', String(r.alert));
      assert.ok((r.labels as { severity?: string })?.severity, `${String(r.alert)} has a severity`);
      assert.ok((r.annotations as { summary?: string })?.summary, `${String(r.alert)} has a summary`);
      for (const m of referenced(r.expr as string))
        assert.ok(emitted.has(m), `${String(r.alert)}: ${m} is not emitted`);
    }
  });

  it('the Grafana dashboard parses and its queries name metrics pgtransit emits', () => {
    const dash = JSON.parse(read('ops/grafana/pgtransit.json')) as {
      panels: { type: string; title: string; targets?: { expr: string }[] }[];
    };
    const queries = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    assert.ok(queries.length >= 12);
    const used = new Set(queries.flatMap((q) => referenced(q.expr)));
    for (const m of used) assert.ok(emitted.has(m), `${m} is not emitted`);
    // Every migration metric has a panel.
    for (const m of emitted) assert.ok(used.has(m), `no panel shows ${m}`);
  });
});
