/**
 * Settings of pgtransit's own sessions. Under these, a value's text form is the same
 * on every server and reads back as itself: a database's own DateStyle (e.g. 'SQL, DMY')
 * would otherwise swap days and months on a target that reads MDY, and
 * extra_float_digits = 0 would round floats. Binary COPY does not need them; text COPY,
 * the change stream (pgoutput formats values under the walsender's settings) and
 * comparisons do.
 */
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

/** As startup options, for sessions (replication) that take no SET before they stream. */
export const PORTABLE_TEXT_OPTIONS = Object.entries(PORTABLE)
  .map(([k, v]) => `-c ${k}=${v.replace(/ /g, '\\ ')}`)
  .join(' ');
