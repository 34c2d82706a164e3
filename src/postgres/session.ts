/**
 * Settings of pgtransit's own sessions.
 *
 * Timeouts: a database or role default (ALTER DATABASE ... SET statement_timeout, or
 * idle_in_transaction_session_timeout) must not end a chunk's COPY, a verification, the
 * apply, or the exported snapshot's session, which stays idle in a transaction for the
 * whole load and cannot take a SET once it has exported the snapshot.
 *
 * Portable text: under these, a value's text form is the same on every server and reads
 * back as itself: a database's own DateStyle (e.g. 'SQL, DMY') would otherwise swap days
 * and months on a target that reads MDY, and extra_float_digits = 0 would round floats.
 * Binary COPY does not need them; text COPY, the change stream (pgoutput formats values
 * under the walsender's settings) and comparisons do.
 */

/** Known to every server pgtransit supports (10+): given at connection start. */
export const NO_TIMEOUTS: Record<string, string> = {
  statement_timeout: '0',
  lock_timeout: '0',
  idle_in_transaction_session_timeout: '0',
};

/** Newer timeouts, set once connected when the server knows them (major -> settings). */
export const NO_TIMEOUTS_BY_MAJOR: [number, Record<string, string>][] = [
  [14, { idle_session_timeout: '0' }],
  [17, { transaction_timeout: '0' }],
];

const PORTABLE: Record<string, string> = {
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  TimeZone: 'UTC',
  extra_float_digits: '3',
  bytea_output: 'hex',
  lc_monetary: 'C',
};

/** As SET statements, for a session that is already open. */
export const PORTABLE_TEXT_SETTINGS = Object.entries(PORTABLE)
  .map(([k, v]) => `SET ${k} = '${v}'`)
  .join('; ');

/** The portable settings for a session's start (replication sessions take no SET before they stream). */
export const PORTABLE_TEXT = PORTABLE;

/** `-c name=value` startup options (libpq's PGOPTIONS syntax: spaces escaped). */
export function startupOptions(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `-c ${k}=${v.replace(/\\/g, '\\\\').replace(/ /g, '\\ ')}`)
    .join(' ');
}
