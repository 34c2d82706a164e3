/** WAL positions written as X/Y. Pure: shared by workflows and the stream. */

export function formatLsn(hi: number, lo: number): string {
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

export function lsnToBigInt(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

export function bigIntToLsn(v: bigint): string {
  return formatLsn(Number(v >> 32n), Number(v & 0xffffffffn));
}

/** Each half is 32 bits: compared as numbers, without a bigint (the apply compares one per transaction). */
export function compareLsn(a: string, b: string): number {
  const i = a.indexOf('/');
  const j = b.indexOf('/');
  const x = parseHalf(a, 0, i);
  const y = parseHalf(b, 0, j);
  if (x !== y) return x < y ? -1 : 1;
  const u = parseHalf(a, i + 1, a.length);
  const v = parseHalf(b, j + 1, b.length);
  return u < v ? -1 : u > v ? 1 : 0;
}

function parseHalf(lsn: string, from: number, to: number): number {
  const half = lsn.slice(from, to);
  if (from > to || !/^[0-9a-fA-F]{1,8}$/.test(half))
    throw new SyntaxError(`not a WAL position: ${JSON.stringify(lsn)}`);
  return parseInt(half, 16);
}
