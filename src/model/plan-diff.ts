/**
 * What `pgtransit plan diff` prints: the dry run of a plan (planDiffWorkflow). The zod schema
 * is the documented shape of `--json`; scripts may parse with it. Bundled into workflows.
 */
import { z } from 'zod';

export const checkItemSchema = z.object({
  id: z.string(),
  scope: z.enum(['source', 'target', 'pair', 'plan', 'worker']),
  database: z.string().optional(),
  status: z.enum(['pass', 'warn', 'fail']),
  observed: z.string(),
  fix: z.string().optional(),
});

/** One object of the schema step (pg_dump's table of contents), by its name on the target after mapping. */
export const targetObjectSchema = z.object({
  /** The archive entry's kind, lower case: schema, type, table, sequence, view, function, index, constraint, fk constraint, trigger... */
  type: z.string(),
  /** schema.name on the target (a function with its argument types; a constraint, trigger, rule or policy in its table's schema). */
  name: z.string(),
  /** The table a constraint, trigger, rule or policy is on, on the target. */
  table: z.string().optional(),
  /** schema.name on the source, when the mapping moves or renames it. */
  source: z.string().optional(),
  /** pre-data (before the load), post-data (after it), or mapping (a schema mapping.tables creates). */
  section: z.enum(['pre-data', 'post-data', 'mapping']),
});

export const copiedTableSchema = z.object({
  table: z.string(),
  targetTable: z.string(),
  estRows: z.number(),
  estBytes: z.number(),
  chunks: z.number(),
  /** whole (one COPY), key <column> (integer key ranges), ctid (block ranges), lo (large objects by OID). */
  split: z.string(),
});

export const excludedSchema = z.object({
  relation: z.string(),
  /** table, partitioned table, view, materialized view, sequence. */
  kind: z.string(),
  /** Where in the plan: exclude.tables.0, exclude.schemas.1; include (no include pattern matches it). */
  by: z.string(),
  /** The pattern at that place; null for `include`. */
  pattern: z.string().nullable(),
});

export const renameSchema = z.object({
  kind: z.enum(['schema', 'table']),
  from: z.string(),
  to: z.string(),
});

export const databasePreviewSchema = z.object({
  database: z.string(),
  targetDatabase: z.string(),
  target: z.object({
    /** The target database does not exist: the migration creates it. */
    createDatabase: z.boolean(),
    /** pgtransit's state schema (chunk markers, applied position), removed when the migration completes. */
    stateSchema: z.string(),
    /** Extensions of the source created on the target when missing (CREATE EXTENSION IF NOT EXISTS). */
    extensions: z.array(z.string()),
    /** What the schema step and the mapping would create. */
    objects: z.array(targetObjectSchema),
    /** Entries of the dump whose object the target has already under that name: left as they are. */
    existing: z.array(targetObjectSchema),
    /** Why the objects could not be listed (e.g. the plan leaves out what they need; no pg_dump). */
    objectsError: z.string().optional(),
  }),
  copy: z.object({
    tables: z.array(copiedTableSchema),
    totals: z.object({ tables: z.number(), estRows: z.number(), estBytes: z.number(), chunks: z.number() }),
  }),
  excluded: z.array(excludedSchema),
  renamed: z.array(renameSchema),
  roles: z.object({
    /** plan roles: true */
    copy: z.boolean(),
    create: z.array(z.string()),
    existing: z.array(z.string()),
  }),
  source: z.object({
    publication: z.string().nullable(),
    /** The tables the publication is FOR (partitions through their root). */
    publishedTables: z.array(z.string()),
    slot: z.string().nullable(),
    /** What else the migration does to the source, and when. */
    notes: z.array(z.string()),
  }),
});

export const planDiffSchema = z.object({
  plan: z.string(),
  mode: z.enum(['full', 'full+cdc']),
  checkedAt: z.string(),
  /** The migration would run: no assessment item fails. */
  ok: z.boolean(),
  assessment: z.object({
    summary: z.object({ pass: z.number(), warn: z.number(), fail: z.number() }),
    failing: z.array(checkItemSchema),
    warnings: z.array(checkItemSchema),
  }),
  databases: z.array(databasePreviewSchema),
});

export type TargetObject = z.infer<typeof targetObjectSchema>;
export type CopiedTable = z.infer<typeof copiedTableSchema>;
export type Excluded = z.infer<typeof excludedSchema>;
export type Rename = z.infer<typeof renameSchema>;
export type DatabasePreview = z.infer<typeof databasePreviewSchema>;
export type PlanDiff = z.infer<typeof planDiffSchema>;
