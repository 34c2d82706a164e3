/** `pgtransit migrate`: bad flags refused before anything starts, and the progress it prints. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { progressLines, progressView } from '../../src/cli/progress';
import type { FullStatus } from '../../src/cli/migration';
import type { DatabaseStatus } from '../../src/model/status';

const root = join(__dirname, '..', '..');

async function migrate(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [join(root, 'bin', 'pgtransit.js'), 'migrate', ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('pgtransit migrate flags', () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'pgt-migrate-flags-'));
  // Nothing listens here: a flag accepted by mistake would start a dev server and leave its state file.
  const env = { TEMPORAL_ADDRESS: '127.0.0.1:1', PGTRANSIT_STATE_DIR: stateDir };
  const cases: [string[], RegExp][] = [
    [[], /^pgtransit migrate needs the plan: -f PLAN\nusage: pgtransit migrate -f PLAN/],
    [
      ['-f', join(root, 'examples', 'plan.yaml'), '--switchover', 'later'],
      /^--switchover later: must be ask .*auto .*manual/,
    ],
    [['-f', join(root, 'examples', 'plan.yaml'), '--yes'], /^pgtransit migrate: Unknown option '--yes'\nusage:/],
    [['-f', join(root, 'examples', 'plan.yaml'), 'now'], /^pgtransit migrate: Unexpected argument 'now'/],
    [['-f', join(root, 'examples', 'plan.yaml'), '--ui-port', 'x'], /^--ui-port x: not a port number/],
    [['-f', join(stateDir, 'missing.yaml')], /^cannot read plan file .*missing\.yaml/],
  ];
  for (const [args, message] of cases) {
    it(`refuses ${args.map((a) => a.replace(root, '.').replace(stateDir, 'STATE')).join(' ') || 'no arguments'} with exit 2, starting nothing`, async () => {
      const r = await migrate(args, env);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
      assert.equal(existsSync(join(stateDir, 'temporal.sqlite')), false);
    });
  }
});

function database(over: Partial<DatabaseStatus>): DatabaseStatus {
  return {
    workflowId: 'migration-m/app',
    database: 'app',
    targetDatabase: 'app',
    phase: 'full_load',
    startedAt: '2026-01-01T00:00:00Z',
    updatedAt: '2026-01-01T00:00:00Z',
    tables: [],
    totals: { chunksDone: 0, chunksTotal: 0, lateChunks: 0, rows: 0, bytes: 0, estBytes: 0 },
    steps: [],
    warnings: [],
    ...over,
  };
}

function status(d: DatabaseStatus, ready = false): FullStatus {
  return {
    execution: 'RUNNING',
    pending: [],
    databases: [d],
    migration: {
      workflowId: 'migration-m',
      name: 'm',
      mode: 'full+cdc',
      phase: d.phase,
      startedAt: '2026-01-01T00:00:00Z',
      databases: [{ database: 'app', workflowId: d.workflowId, phase: d.phase, ready }],
    },
  };
}

const loading = database({
  steps: [{ step: 'copy', startedAt: '2026-01-01T00:00:01Z' }],
  tables: [
    {
      table: 'public.orders',
      targetTable: 'public.orders',
      estRows: 10000,
      estBytes: 4 * 1024 * 1024,
      rows: 5000,
      bytes: 2 * 1024 * 1024,
      chunksDone: 2,
      chunksTotal: 4,
      lateChunks: 0,
    },
    {
      table: 'public.users',
      targetTable: 'app.customers',
      estRows: 0,
      estBytes: 8192,
      rows: 30,
      bytes: 9000,
      chunksDone: 1,
      chunksTotal: 1,
      lateChunks: 1,
    },
  ],
  totals: {
    chunksDone: 3,
    chunksTotal: 5,
    lateChunks: 1,
    rows: 5030,
    bytes: 2 * 1024 * 1024 + 9000,
    estBytes: 4202496,
  },
});

describe('migrate progress lines', () => {
  it('per table: bar, rows and bytes against the estimate, chunks; the running step; the lag', () => {
    const texts = progressLines(status(loading)).map((l) => `${l.key} | ${l.text}`);
    assert.deepEqual(texts.slice(0, 4), [
      'migration | migration m: full_load',
      'phase:app | full_load, step copy',
      'table:app:public.orders | public.orders [########........]  50% 5000/~10000 rows, 2.0 MB/~4.0 MB, chunks 2/4',
      'table:app:public.users | public.users  [################] 100% 30 rows, 8.8 kB/~8.0 kB, chunks 1/1 (1 late) -> app.customers',
    ]);
    assert.match(texts[4]!, /^load:app \| full load 3\/5 chunks, 5030 rows/);

    const incremental = database({
      phase: 'incremental',
      steps: [{ step: 'copy', startedAt: '2026-01-01T00:00:01Z', endedAt: '2026-01-01T00:00:09Z' }],
      cdc: {
        paused: false,
        appliedLsn: '0/10',
        lagBytes: 4096,
        lagSeconds: 2,
        transactions: 17,
        rounds: 3,
        tables: {},
      },
    });
    const lines = progressLines(status(incremental, true));
    assert.equal(lines.find((l) => l.key === 'phase:app')!.text, 'incremental, ready for switchover');
    assert.match(
      lines.find((l) => l.key === 'lag:app')!.text,
      /^change capture: lag 4096 bytes \/ 2 s, 17 transactions applied/,
    );
  });

  it('without a terminal: a line per change, busy lines at most every few seconds, the last state on close', () => {
    let out = '';
    const sink = Object.assign(
      new Writable({
        write(chunk, _enc, done) {
          out += chunk;
          done();
        },
      }),
      { isTTY: false },
    ) as unknown as NodeJS.WriteStream;
    const view = progressView(sink);
    view.show(progressLines(status(loading)));
    const first = out.split('\n').filter(Boolean);
    assert.equal(first.length, 5);
    assert.ok(first.every((l) => /^\d\d:\d\d:\d\d /.test(l)));
    assert.match(first[2]!, /^\d\d:\d\d:\d\d app: public\.orders .* 50% /);

    out = '';
    view.show(progressLines(status(loading)));
    assert.equal(out, '', 'nothing changed, nothing printed');

    const more = structuredClone(loading);
    more.tables[0]!.bytes = 3 * 1024 * 1024;
    view.show(progressLines(status(more)));
    assert.equal(out, '', 'a busy line that changed a moment ago waits');
    more.phase = 'post_data';
    view.show(progressLines(status(more)));
    assert.match(out, /app: post_data, step copy\n/);
    assert.doesNotMatch(out, /public\.orders/);
    out = '';
    view.close();
    assert.match(out, /app: public\.orders .* 75% /, 'close prints what was held back');
  });
});
