/** What each PostgreSQL major can do, by name, so that no gate is a bare number. */

/** The oldest source pgtransit migrates from: logical decoding with pgoutput. */
export const MIN_SOURCE_MAJOR = 10;

/** extra_float_digits > 0 prints the shortest exact text of a float (before: 17 significant digits). */
export const hasShortestFloatText = (major: number) => major >= 12;
/** Generated columns (attgenerated): the target computes them, COPY leaves them out. */
export const hasGeneratedColumns = (major: number) => major >= 12;
/** A partitioned table in a publication (its partitions, present and future, follow it). */
export const supportsPartitionedPublication = (major: number) => major >= 13;
/** TID Range Scan: a ctid range is read without a scan of the whole table. */
export const supportsTidRangeScan = (major: number) => major >= 14;
/** pgoutput's `messages` option: logical messages (the fence marker) in the stream. */
export const supportsLogicalMessages = (major: number) => major >= 14;
/** CREATE_REPLICATION_SLOT ... (SNAPSHOT 'export'); older servers spell it EXPORT_SNAPSHOT. */
export const supportsReplicationOptionList = (major: number) => major >= 15;
/** Database locale providers (datlocprovider), and the ICU provider for CREATE DATABASE. */
export const hasLocaleProvider = (major: number) => major >= 15;
/** CREATE DATABASE ... ICU_RULES. */
export const hasIcuRules = (major: number) => major >= 16;
/** The builtin locale provider, and datlocale replacing daticulocale. */
export const hasBuiltinLocale = (major: number) => major >= 17;
