/**
 * The migration plan: what to move, from where to where, and how.
 *
 * Validated with zod in the CLI and again inside the workflows (a plan started
 * from `temporal workflow start` or the UI never passed through the CLI). This
 * module is bundled into workflow code: no Node, no pg.
 */
import { z } from 'zod';

/** `env:NAME` or `file:PATH`, resolved on the worker; never the secret itself. */
const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;
const PLAIN_URL = /^postgres(ql)?:\/\//;

/**
 * A connection URL reference. A literal URL is accepted only when it carries no
 * password (the password then comes from PGPASSWORD or ~/.pgpass on the worker).
 */
export const connectionUrl = z.string().superRefine((value, ctx) => {
  if (SECRET_REF.test(value)) return;
  if (PLAIN_URL.test(value)) {
    if (urlHasPassword(value)) {
      ctx.addIssue({
        code: 'custom',
        message:
          'a literal password in a connection URL would be stored in the workflow history; ' +
          'put the URL in an environment variable or a file on the worker and write env:NAME or file:PATH here',
      });
    }
    return;
  }
  ctx.addIssue({
    code: 'custom',
    message:
      'not a connection reference: write env:NAME, file:PATH (both resolved on the worker) or a postgres:// URL without a password',
  });
});

function urlHasPassword(url: string): boolean {
  // postgres://user:password@host/... ; also ?password=... in the query string
  const authority = url.replace(PLAIN_URL, '').split(/[/?#]/, 1)[0] ?? '';
  const at = authority.lastIndexOf('@');
  if (at >= 0 && authority.slice(0, at).includes(':')) return true;
  return /[?&]password=/i.test(url);
}

const IDENT_GLOB = /^[^.]+$/;
/** `schema.table`, each part a name or a glob with `*` and `?`. */
const QUALIFIED_GLOB = /^[^.]+\.[^.]+$/;

const schemaPattern = z
  .string()
  .min(1)
  .regex(IDENT_GLOB, 'a schema name or glob without a dot, e.g. public or sales_*');
const tablePattern = z
  .string()
  .min(1)
  .regex(QUALIFIED_GLOB, 'expected schema.table (globs allowed: public.*, sales.order_?)');
const qualifiedName = z
  .string()
  .min(1)
  .regex(QUALIFIED_GLOB, 'expected schema.table')
  .refine((s) => !/[*?]/.test(s), 'a mapping names one table: no * or ?');
const identifier = z
  .string()
  .min(1)
  .max(63, 'PostgreSQL names are at most 63 bytes')
  .refine((s) => !/[*?]/.test(s), 'a mapping names one schema: no * or ?');

const connection = z.strictObject({
  url: connectionUrl,
});

const selection = z.strictObject({
  schemas: z.array(schemaPattern).optional(),
  tables: z.array(tablePattern).optional(),
});

export const planSchema = z
  .strictObject({
    name: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,46}[a-z0-9]$/,
        'not a valid name: use lowercase letters, digits and hyphens, 2 to 48 characters, starting with a letter and ' +
          'ending with a letter or digit (workflow ids, slot and publication names derive from it)',
      )
      .describe(
        "The migration's name: workflow ids (migration-<name>, precheck-<name>) and slot/publication names derive from it",
      ),
    source: connection.describe(
      'The server to migrate from; url is env:NAME, file:PATH or a postgres:// URL without a password',
    ),
    target: connection.describe(
      'The server to migrate to; url is env:NAME, file:PATH or a postgres:// URL without a password',
    ),
    databases: z
      .array(z.string().min(1).max(63))
      .min(
        1,
        'an empty list migrates nothing: list at least one database, or leave databases out to migrate the one in the source URL',
      )
      .optional()
      .describe('Source databases to migrate (default: the one in the source URL)'),
    include: selection
      .optional()
      .describe('Schemas and schema.table globs to migrate (default: every non-system table)'),
    exclude: selection.optional().describe('Schemas and schema.table globs to leave out'),
    mapping: z
      .strictObject({
        schemas: z.record(identifier, identifier).optional(),
        tables: z.record(qualifiedName, qualifiedName).optional(),
      })
      .optional()
      .describe('Renames on the target; a table mapping wins over its schema mapping'),
    mode: z
      .enum(['full', 'full+cdc'])
      .default('full+cdc')
      .describe('full: schema and data once; full+cdc: then change capture until switchover'),
    roles: z.boolean().default(false).describe('Copy the roles that own or are granted the selected objects'),
    fullLoad: z
      .strictObject({
        parallelism: z
          .number()
          .int()
          .min(1)
          .max(64)
          .default(4)
          .describe('Chunks copied at once, and pg_restore jobs for post-data'),
        chunkSizeMB: z
          .number()
          .int()
          .min(1)
          .max(65536)
          .default(256)
          .describe('A table larger than this is split into chunks of about this size'),
      })
      .prefault({})
      .describe('The full load: how many chunks at once, and how large'),
    cdc: z
      .strictObject({
        conflictPolicy: z
          .enum(['error', 'ignore', 'overwrite'])
          .default('error')
          .describe(
            'When a change does not fit the target row: stop (error), skip and count (ignore), or upsert / delete-if-present (overwrite)',
          ),
        roundSeconds: z
          .number()
          .int()
          .min(1)
          .max(600)
          .default(5)
          .describe('Change capture reports to the workflow (status, lag, counts) every this many seconds'),
        streamSeconds: z
          .number()
          .int()
          .min(1)
          .max(3600)
          .default(300)
          .describe(
            'One change stream stays open this long, applying batch after batch, before the workflow records it and opens the next',
          ),
        roundsPerRun: z
          .number()
          .int()
          .min(1)
          .max(5000)
          .default(500)
          .describe('Rounds before the workflow continues as new, keeping its history bounded'),
        ddl: z
          .enum(['replicate', 'stop'])
          .optional()
          .describe(
            'DDL on the source during change capture. replicate: event triggers on the source (a schema pgtransit_ddl_*, ' +
              'removed at the end; needs superuser and a 14+ source) write each statement into the stream and it is replayed ' +
              'on the target in order, new selected tables followed; a statement that cannot be replayed stops the apply ' +
              'naming it. stop: a column change stops that table as schema drift until the operator repeats it on the target. ' +
              'Unset: replicate where the source allows it, else stop (the assessment says which)',
          ),
      })
      .prefault({})
      .describe('Change capture (mode full+cdc)'),
    switchover: z
      .strictObject({
        maxLagBytes: z
          .number()
          .int()
          .min(0)
          .default(1024 * 1024)
          .describe('The switchover is refused while the change stream lags by more than this many bytes of WAL'),
        verify: z
          .enum(['count', 'checksum'])
          .default('count')
          .describe('Inside the switchover: compare row counts (count), or counts and row checksums (checksum)'),
        verifyBeforeFence: z
          .boolean()
          .default(true)
          .describe(
            'Compare every table at a known LSN while the application still writes (both sides read in snapshots ' +
              'holding the same source transactions); inside the fence only the rows changed since are compared',
          ),
        keepSlot: z
          .boolean()
          .default(false)
          .describe('Keep the replication slot and publication on the source after the switchover'),
        refreshMaterializedViews: z
          .boolean()
          .default(true)
          .describe(
            'Refresh the target’s materialized views during the switchover as the source has them (logical decoding does not carry REFRESH)',
          ),
        drainTimeoutSeconds: z
          .number()
          .int()
          .min(10)
          .max(86400)
          .default(600)
          .describe(
            'The switchover fails, and un-fences the source, when the change stream has not reached the fence within this many seconds',
          ),
        timeoutSeconds: z
          .number()
          .int()
          .min(5)
          .max(86400)
          .default(60)
          .describe(
            'The time budget of the fenced window: when draining, sequences, large objects, views and verification take ' +
              'longer, the switchover is abandoned, the source un-fenced, and the migration goes back to incremental',
          ),
        reverse: z
          .boolean()
          .optional()
          .describe(
            'Rollback without loss: at the switchover a slot and publication on the target capture every later write, ' +
              'streamed back to the fenced source until pgtransit rollback (back to the source) or pgtransit finish',
          ),
        pooler: z
          .strictObject({
            admin: connectionUrl.describe(
              'PgBouncer’s admin console: env:NAME or file:PATH holding postgres://USER@HOST:PORT/pgbouncer (USER in admin_users)',
            ),
            configFile: z
              .string()
              .min(1)
              .describe(
                'The file on the worker’s host holding the application’s [databases] entry (pgbouncer.ini or a file it ' +
                  '%includes): the switchover rewrites its host, port and dbname to the target’s, then RELOADs',
              ),
            databases: z
              .record(z.string(), z.string().min(1))
              .optional()
              .describe('The pooler’s entry for a source database, when it is not named like the database'),
          })
          .optional()
          .describe(
            'The application reaches the source through PgBouncer: the switchover PAUSEs its entry before the fence, ' +
              'repoints it at the target and RESUMEs, so clients wait instead of failing; on failure it resumes on the source',
          ),
      })
      .prefault({})
      .describe('The switchover: when it is allowed, what it verifies, what it leaves on the source'),
    verify: z
      .strictObject({
        every: z
          .string()
          .regex(/^[1-9][0-9]*(s|m|h|d)$/, 'a duration: a whole number and s, m, h or d (for example 6h)')
          .nullable()
          .default(null)
          .describe(
            'During change capture, compare every table this often (6h, 30m) at a known LSN while the application ' +
              'writes, as the switchover does before its fence; the latest result is in status, a difference is warned of',
          ),
        checksum: z
          .boolean()
          .default(true)
          .describe('The scheduled comparison checks row checksums too (false: row counts only)'),
      })
      .prefault({})
      .describe('Scheduled comparisons of source and target while the migration streams'),
    notify: z
      .strictObject({
        webhook: z
          .string()
          .regex(
            /^(env|file):.+$/,
            'a reference to the webhook URL, env:NAME or file:PATH (resolved on the worker: a webhook URL is a secret)',
          )
          .optional()
          .describe(
            'Where notifications are POSTed as JSON: env:NAME or file:PATH holding the URL (phase changes, stalls, lag, repeating retries, the switchover)',
          ),
        lagBytes: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('Notify once each time the change stream lag rises above this many bytes of WAL'),
      })
      .optional()
      .describe('Notifications to a webhook (Slack, a pager, a chat bot)'),
  })
  .superRefine((plan, ctx) => {
    const databases = plan.databases ?? [];
    const seen = new Set<string>();
    databases.forEach((db, i) => {
      if (seen.has(db))
        ctx.addIssue({
          code: 'custom',
          path: ['databases', i],
          message: `database "${db}" is listed twice; list each database once`,
        });
      seen.add(db);
    });
    if (plan.target.url === plan.source.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['target', 'url'],
        message:
          'the same as source.url: the migration would copy each database onto itself; point target.url at the target server',
      });
    }
    // A mapping onto its own name renames nothing: a typo of the name meant, most likely.
    for (const kind of ['schemas', 'tables'] as const) {
      for (const [from, to] of Object.entries(plan.mapping?.[kind] ?? {})) {
        if (from !== to) continue;
        ctx.addIssue({
          code: 'custom',
          path: ['mapping', kind, from],
          message:
            `maps ${from} onto itself; remove the entry (a ${kind === 'schemas' ? 'schema' : 'table'} keeps its ` +
            'name unless mapped), or correct the name it maps to',
        });
      }
    }
    if (plan.verify?.every && plan.mode === 'full')
      ctx.addIssue({
        code: 'custom',
        path: ['verify', 'every'],
        message:
          'mode full ends after the full load: nothing streams to compare on a schedule; use mode full+cdc, or remove verify.every',
      });
    if (plan.switchover?.reverse) {
      if (plan.mode === 'full')
        ctx.addIssue({
          code: 'custom',
          path: ['switchover', 'reverse'],
          message: 'mode full has no switchover to reverse; use mode full+cdc, or remove switchover.reverse',
        });
      const mapped = Object.keys(plan.mapping?.schemas ?? {}).length + Object.keys(plan.mapping?.tables ?? {}).length;
      if (mapped > 0)
        ctx.addIssue({
          code: 'custom',
          path: ['switchover', 'reverse'],
          message:
            'the reverse stream does not map names back: with a mapping, its changes would name tables the source ' +
            'does not have; remove the mapping, or switchover.reverse',
        });
    }
    const targets = new Map<string, string>();
    for (const [from, to] of Object.entries(plan.mapping?.tables ?? {})) {
      const other = targets.get(to);
      if (other) {
        ctx.addIssue({
          code: 'custom',
          path: ['mapping', 'tables', from],
          message: `"${from}" and "${other}" would both become "${to}"; map each table to its own name`,
        });
      }
      targets.set(to, from);
    }
  });

/** The plan as written (defaults optional). */
export type PlanInput = z.input<typeof planSchema>;
/** The plan after validation, defaults filled in. */
export type Plan = z.output<typeof planSchema>;

export interface PlanIssue {
  /** Dotted path of the offending field, e.g. `source.url` or `fullLoad.parallelism`. */
  path: string;
  message: string;
}

export type PlanParseResult = { ok: true; plan: Plan } | { ok: false; issues: PlanIssue[] };

export function parsePlan(input: unknown): PlanParseResult {
  const result = planSchema.safeParse(input, { error: planErrorMap });
  if (result.success) return { ok: true, plan: result.data };
  return { ok: false, issues: result.error.issues.map(describeIssue) };
}

const MISSING = 'missing';

/** How a missing required field is written, for the message that asks for it. */
const REQUIRED_EXAMPLE: Record<string, string> = {
  name: 'name: shop-move',
  source: 'source: { url: env:SOURCE_DATABASE_URL }',
  target: 'target: { url: env:TARGET_DATABASE_URL }',
  'source.url': 'url: env:SOURCE_DATABASE_URL',
  'target.url': 'url: env:TARGET_DATABASE_URL',
};

const EXPECTED: Record<string, string> = {
  object: 'an object (a YAML mapping)',
  record: 'an object (a YAML mapping)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * The messages zod would word on its own (the schema's own messages win): what is wrong and
 * what to write instead. Never the value itself, which may be a secret in the wrong field.
 */
const planErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      // describeIssue words this one: it knows the whole path, and so the example.
      if (issue.input === undefined) return MISSING;
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      const quoted = typeof issue.input === 'string' && ['number', 'int', 'boolean'].includes(issue.expected);
      const hint = quoted
        ? `write ${issue.expected === 'boolean' ? 'true or false' : 'the number'} without quotes`
        : `write ${expected} here`;
      return `expected ${expected}, got ${kindOf(issue.input)}; ${hint}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      const limit = `${issue.inclusive ? (small ? 'at least' : 'at most') : small ? 'more than' : 'less than'} ${bound}`;
      if (issue.origin === 'number' || issue.origin === 'int')
        return `too ${small ? 'small' : 'large'}: write a number of ${limit}`;
      if (issue.origin === 'string')
        return small && bound <= 1
          ? 'empty: write a value'
          : `too ${small ? 'short' : 'long'}: write ${limit} characters`;
      if (issue.origin === 'array') return `too ${small ? 'few' : 'many'} items: list ${limit}`;
      return undefined;
    }
    default:
      return undefined;
  }
};

function describeIssue(issue: z.core.$ZodIssue): PlanIssue {
  const path = issue.path.map(String).join('.') || '(plan)';
  if (issue.code === 'invalid_type' && issue.message === MISSING) {
    const example = REQUIRED_EXAMPLE[path];
    return {
      path,
      message: `missing: a required field; add it${example ? `, e.g. ${example}` : ''} (see schema/plan.schema.json)`,
    };
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        path,
        message: `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; see schema/plan.schema.json for the allowed fields`,
      };
    case 'invalid_value':
      return { path, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path, message: issue.message };
  }
}

export function formatPlanIssues(issues: PlanIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}

/** The PgBouncer entry of a source database (switchover.pooler): its `databases` map, else the same name. */
export function poolerEntry(pooler: NonNullable<Plan['switchover']['pooler']>, database: string): string {
  return pooler.databases?.[database] ?? database;
}
