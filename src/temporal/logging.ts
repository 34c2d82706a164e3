/**
 * Structured logs (PGTRANSIT_LOG_FORMAT=json, `pgtransit worker --log-json`): one JSON object a
 * line on stdout, each with the migration, database, phase and table it concerns (null when a
 * line concerns none, as the worker's own). Activities get them from their input through an
 * interceptor; workflow lines from the workflow id. Nothing secret is in an activity's input
 * (connections are references), and only these four fields of it are logged.
 */
import type { ActivityInterceptorsFactory, LogEntry, LogLevel } from '@temporalio/worker';
import type { Chunk, DatabaseScope } from '../model/activities';

export type LogFormat = 'text' | 'json';

/** The phase an activity works in (apply rounds of catch_up show as incremental: the activity cannot tell them apart). */
const ACTIVITY_PHASE: Record<string, string> = {
  probeServer: 'precheck',
  assessDatabase: 'precheck',
  assessServers: 'precheck',
  prepareTarget: 'prepare',
  copyRoles: 'prepare',
  installDdlCapture: 'prepare',
  createPublication: 'prepare',
  holdSnapshot: 'prepare',
  planChunks: 'full_load',
  copyChunk: 'full_load',
  applyMapping: 'post_data',
  applyChanges: 'incremental',
  fenceSource: 'fencing',
  verifyFence: 'draining',
  copySequences: 'finalizing',
  refreshMaterializedViews: 'finalizing',
  syncLargeObjects: 'finalizing',
  compareTables: 'finalizing',
  unfenceSource: 'incremental',
  dropReplication: 'finalizing',
  dropDdlCapture: 'finalizing',
  dropState: 'finalizing',
};

export interface LogContext {
  migration: string | null;
  database: string | null;
  phase: string | null;
  table: string | null;
}

type ActivityArg = Partial<DatabaseScope> & {
  section?: string;
  chunk?: Chunk;
  fence?: unknown;
  migration?: string;
  database?: string;
  phase?: string;
};

/** What an activity's log lines carry, from its type and its input. */
export function activityLogContext(activityType: string, arg: unknown): LogContext {
  const raw = (arg && typeof arg === 'object' ? arg : {}) as ActivityArg & { notification?: ActivityArg };
  const a = raw.notification ?? raw;
  let phase = a.phase ?? ACTIVITY_PHASE[activityType] ?? null;
  if (activityType === 'restoreSchema') phase = a.section === 'post-data' ? 'post_data' : 'schema';
  if (activityType === 'applyChanges' && a.fence) phase = 'draining';
  return {
    migration: a.plan?.name ?? a.migration ?? null,
    database: a.database ?? null,
    phase,
    table: a.chunk ? `${a.chunk.schema}.${a.chunk.name}` : null,
  };
}

/** Migration and database from a workflow id: `migration-<name>[/<database>]`, `precheck-<name>`. */
export function workflowLogContext(workflowId: string): Pick<LogContext, 'migration' | 'database'> {
  const m = /^(?:migration|precheck|verify)-([^/]+?)(?:-\d{13})?(?:\/(.+))?$/.exec(workflowId);
  if (!m) return { migration: null, database: null };
  const database = m[2] && m[2] !== 'precheck' ? m[2] : null;
  return { migration: m[1]!, database };
}

/** Adds the context of each activity to its log lines. */
export const activityLogInterceptor: ActivityInterceptorsFactory = (ctx) => {
  let context: LogContext | undefined;
  return {
    inbound: {
      execute(input, next) {
        context = activityLogContext(ctx.info.activityType, input.args[0]);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next({ ...input, ...(context ?? {}) });
      },
    },
  };
};

const LEVELS: LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** One JSON line per entry; `write` is stdout's unless given. */
export function jsonLogFunction(write: (line: string) => void = (l) => process.stdout.write(l)): (e: LogEntry) => void {
  return (entry) => {
    const meta = { ...(entry.meta ?? {}) } as Record<string, unknown>;
    const fromId: Partial<LogContext> = typeof meta.workflowId === 'string' ? workflowLogContext(meta.workflowId) : {};
    const known = (k: keyof LogContext) => (meta[k] as string | null | undefined) ?? fromId[k] ?? null;
    const line = {
      time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
      level: entry.level,
      message: entry.message,
      ...meta,
      migration: known('migration'),
      database: known('database'),
      phase: known('phase'),
      table: known('table'),
    };
    write(`${JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}\n`);
  };
}

export function logFormatFrom(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const f = env.PGTRANSIT_LOG_FORMAT?.trim().toLowerCase();
  if (!f || f === 'text') return 'text';
  if (f === 'json') return 'json';
  throw new Error(`PGTRANSIT_LOG_FORMAT=${env.PGTRANSIT_LOG_FORMAT}: not a log format; use json or text`);
}

export function logLevelFrom(env: NodeJS.ProcessEnv, fallback: LogLevel): LogLevel {
  const l = env.PGTRANSIT_LOG_LEVEL?.trim().toUpperCase();
  if (!l) return fallback;
  if (!(LEVELS as string[]).includes(l))
    throw new Error(`PGTRANSIT_LOG_LEVEL=${env.PGTRANSIT_LOG_LEVEL}: not a level; use one of ${LEVELS.join(', ')}`);
  return l as LogLevel;
}
