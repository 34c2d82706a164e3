/**
 * Live progress for `pgtransit migrate`: the same lines drawn two ways. On a terminal the
 * block is redrawn in place; anywhere else (a log, a pipe, a test) each line is printed
 * plainly when it changes, the busy ones (table copies, lag) at most every few seconds.
 */
import { formatBytes, formatSeconds } from '../model/format';
import type { DatabaseStatus, TableProgress } from '../model/status';
import { bar, type FullStatus } from './migration';

export interface ProgressLine {
  /** Stable per thing shown (a table, a database's lag), so a plain view prints only what changed. */
  key: string;
  /** The database the line is about; plain lines are prefixed with it. */
  database?: string;
  text: string;
  /** Changes all the time (copied bytes, lag): printed plainly at most every `PLAIN_INTERVAL_MS`. */
  busy?: boolean;
}

/** How often a busy line is printed at most when stdout is not a terminal. */
export const PLAIN_INTERVAL_MS = 3000;

/** The steps running now (several run at once in some phases); none between steps and during change capture. */
function currentStep(d: DatabaseStatus): string | undefined {
  const running = d.steps.filter((s) => !s.endedAt).map((s) => s.step);
  return running.length ? `step ${running.join(', ')}` : undefined;
}

function tableLine(t: TableProgress, width: number): { text: string; done: boolean } {
  const done = t.chunksTotal > 0 && t.chunksDone === t.chunksTotal;
  // Chunks finish whole, so the bytes are the finer measure; only a finished table shows 100%.
  const fraction = done
    ? 1
    : Math.min(0.99, t.estBytes > 0 ? t.bytes / t.estBytes : t.chunksTotal ? t.chunksDone / t.chunksTotal : 0);
  const est = (n: number, f: (x: number) => string) => (n > 0 ? `/~${f(n)}` : '');
  const text =
    `${t.table.padEnd(width)} ${bar(fraction, 16)} ${t.rows}${est(t.estRows, String)} rows, ` +
    `${formatBytes(t.bytes)}${est(t.estBytes, formatBytes)}, chunks ${t.chunksDone}/${t.chunksTotal}` +
    (t.lateChunks ? ` (${t.lateChunks} late)` : '') +
    (t.targetTable !== t.table ? ` -> ${t.targetTable}` : '');
  return { text, done };
}

export function progressLines(s: FullStatus): ProgressLine[] {
  const m = s.migration;
  const lines: ProgressLine[] = [];
  const execution = s.execution === 'RUNNING' ? '' : ` [${s.execution}]`;
  const switching = m.switchover ? `, switchover ${m.switchover.state}` : '';
  lines.push({ key: 'migration', text: `migration ${m.name}: ${m.phase}${execution}${switching}` });
  if (m.error) lines.push({ key: 'error', text: `error: ${m.error}` });
  for (const d of s.databases) {
    const db = d.database;
    const readiness = m.databases.find((x) => x.database === db);
    const ready =
      d.phase === 'incremental' && readiness
        ? readiness.ready
          ? ', ready for switchover'
          : `, not ready for switchover${readiness.reason ? `: ${readiness.reason}` : ''}`
        : '';
    const step = currentStep(d);
    lines.push({
      key: `phase:${db}`,
      database: db,
      text: `${d.phase}${step ? `, ${step}` : ''}${ready}${d.targetDatabase !== db ? ` (-> ${d.targetDatabase})` : ''}`,
    });
    const width = Math.min(40, Math.max(0, ...d.tables.map((t) => t.table.length)));
    for (const t of d.tables) {
      const { text, done } = tableLine(t, width);
      // A finished table is printed at once.
      lines.push({ key: `table:${db}:${t.table}`, database: db, text, busy: !done });
    }
    const t = d.totals;
    if (t.chunksTotal > 0 && t.chunksDone < t.chunksTotal)
      lines.push({
        key: `load:${db}`,
        database: db,
        busy: true,
        text:
          `full load ${t.chunksDone}/${t.chunksTotal} chunks, ${t.rows} rows, ${formatBytes(t.bytes)} of ` +
          `~${formatBytes(t.estBytes)}${d.throughput ? `, ${formatBytes(d.throughput)}/s` : ''}` +
          (d.etaSeconds !== undefined ? `, ETA ${formatSeconds(d.etaSeconds)}` : ''),
      });
    if (d.cdc) {
      const c = d.cdc;
      lines.push({
        key: `lag:${db}`,
        database: db,
        busy: true,
        text:
          `change capture: ${c.paused ? 'PAUSED, ' : ''}${c.stalled ? 'STOPPED, ' : ''}lag ${c.lagBytes ?? '?'} bytes / ` +
          `${c.lagSeconds ?? '?'} s, ${c.transactions} transactions applied, slot retains ${formatBytes(c.retainedWalBytes ?? 0)}`,
      });
      if (c.stalled) lines.push({ key: `stalled:${db}`, database: db, text: `stopped: ${c.stalled.reason}` });
    }
    for (const r of Object.values(d.retrying ?? {}))
      lines.push({
        key: `retrying:${db}:${r.activity}`,
        database: db,
        text: `retrying ${r.activity}: ${r.error}, attempt ${r.attempt} since ${r.since}`,
      });
    for (const [i, w] of d.warnings.entries())
      lines.push({ key: `warning:${db}:${i}`, database: db, text: `warning: ${w}` });
    if (d.error) lines.push({ key: `error:${db}`, database: db, text: `error: ${d.error}` });
  }
  return lines;
}

/** Where progress goes: redrawn on a terminal, appended otherwise. `note` prints a line that stays. */
export interface ProgressView {
  show(lines: ProgressLine[]): void;
  note(text: string): void;
  /** Drawn below the block on a terminal (the switchover question); undefined removes it. */
  setFooter(draw: (() => void) | undefined): void;
  /** The footer's line was ended with Enter (the cursor moved down a line). */
  answered(): void;
  /** Leaves the last block on the screen and stops redrawing. */
  close(): void;
}

export function progressView(out: NodeJS.WriteStream = process.stdout): ProgressView {
  return out.isTTY ? new TerminalView(out) : new PlainView(out);
}

const time = () => new Date().toISOString().slice(11, 19);

class PlainView implements ProgressView {
  private readonly printed = new Map<string, { text: string; at: number }>();
  constructor(private readonly out: NodeJS.WritableStream) {}

  private latest: ProgressLine[] = [];

  show(lines: ProgressLine[], flush = false): void {
    this.latest = lines;
    const now = Date.now();
    for (const line of lines) {
      const last = this.printed.get(line.key);
      if (last?.text === line.text) continue;
      // A busy line that changed is held back a little, unless it is new.
      if (!flush && last && line.busy && now - last.at < PLAIN_INTERVAL_MS) continue;
      this.printed.set(line.key, { text: line.text, at: now });
      this.out.write(`${time()} ${line.database ? `${line.database}: ` : ''}${line.text}\n`);
    }
  }

  note(text: string): void {
    this.out.write(`${time()} ${text}\n`);
  }

  setFooter(): void {}
  answered(): void {}

  /** The last state, lines held back included. */
  close(): void {
    this.show(this.latest, true);
    this.latest = [];
  }
}

class TerminalView implements ProgressView {
  private drawn = 0;
  private lines: ProgressLine[] = [];
  private footer: (() => void) | undefined;
  constructor(private readonly out: NodeJS.WriteStream) {}

  private clear(): void {
    // The cursor sits on the line below the block (where the footer is, if any).
    this.out.write(`\r${this.drawn ? `\x1b[${this.drawn}A` : ''}\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    const width = Math.max(20, (this.out.columns ?? 120) - 1);
    let database: string | undefined;
    const rows: string[] = [];
    for (const line of this.lines) {
      if (line.database && line.database !== database) {
        database = line.database;
        if (line.key !== `phase:${database}`) rows.push(`database ${database}`);
      }
      const text =
        line.key === `phase:${line.database}`
          ? `database ${line.database}: ${line.text}`
          : line.database
            ? `  ${line.text}`
            : line.text;
      rows.push(text.length > width ? `${text.slice(0, width - 1)}…` : text);
    }
    this.out.write(rows.map((r) => `${r}\n`).join(''));
    this.drawn = rows.length;
    this.footer?.();
  }

  show(lines: ProgressLine[]): void {
    this.lines = lines;
    this.clear();
    this.draw();
  }

  note(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    this.draw();
  }

  setFooter(draw: (() => void) | undefined): void {
    this.footer = draw;
    this.clear();
    this.draw();
  }

  answered(): void {
    this.drawn++;
  }

  close(): void {
    this.footer = undefined;
    this.clear();
    this.draw();
    this.lines = [];
    this.drawn = 0;
  }
}
