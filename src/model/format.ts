/** Numbers for people: bytes and durations as the reports and the CLI print them. */

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

export function formatSeconds(s: number): string {
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${s % 60}s`
      : `${s}s`;
}

/** A plan's duration (verify.every: 90s, 30m, 6h, 1d) in seconds. */
export function durationSeconds(d: string): number {
  const m = /^([1-9][0-9]*)(s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d} (a whole number and s, m, h or d)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}
