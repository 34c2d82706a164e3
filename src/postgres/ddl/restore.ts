/**
 * Restoring a section on the target. What already exists there is left out (by the
 * archive's table of contents), so a retried step picks up where the failed one stopped.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import type { RestoreResult, Section } from '../../model/activities';
import type { QualifiedName } from '../../plan/selection';
import { durableToolOptions, resolveEndpoint, withConnection, type Endpoint } from '../connect';
import { pgProgram, runTool } from './run-tool';
import { existing, foreignSchemaComments, parseToc } from './toc';

export interface SequenceValue extends QualifiedName {
  /** null: never called (the restored sequence is already in that state). */
  lastValue: string | null;
}

/** Beside the post-data archive: the sequences' values read with it. */
export const sequencesFile = (archive: string) => `${archive}.sequences.json`;

/** An indexed column's storage on the source, and its type's (see dump.ts indexedStorage). */
export interface ColumnStorage extends QualifiedName {
  column: string;
  storage: string;
  typeStorage: string;
}

/** Beside the post-data archive: indexed columns whose storage the index build must not follow. */
export const storageFile = (archive: string) => `${archive}.storage.json`;

const STORAGE: Record<string, string> = { p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' };

/**
 * Runs `fn` with the columns at their type's storage, then sets the source's: the indexes
 * are built as the source's were (compressing what the source compressed), and the columns
 * (and, as ALTER ... SET STORAGE does, their indexes) end with the source's storage.
 */
async function withTypeStorage<T>(
  target: Endpoint,
  targetDatabase: string,
  columns: ColumnStorage[],
  fn: () => Promise<T>,
): Promise<T> {
  if (columns.length === 0) return fn();
  const set = (to: (c: ColumnStorage) => string) =>
    withConnection(target, { database: targetDatabase }, async ({ client }) => {
      for (const c of columns) {
        const table = `${client.escapeIdentifier(c.schema)}.${client.escapeIdentifier(c.name)}`;
        await client.query(
          `ALTER TABLE ONLY ${table} ALTER COLUMN ${client.escapeIdentifier(c.column)} SET STORAGE ${STORAGE[to(c)]}`,
        );
      }
    });
  await set((c) => c.typeStorage);
  try {
    return await fn();
  } finally {
    await set((c) => c.storage);
  }
}

/** Sets the target's sequences to the values read beside the post-data archive. */
async function applySequences(client: pg.Client, values: SequenceValue[]): Promise<void> {
  const called = values.filter((v) => v.lastValue !== null);
  await client.query(
    `SELECT setval(c.oid, v.last_value, true)
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS v(schema, name, last_value)
       JOIN pg_namespace n ON n.nspname = v.schema JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = v.name AND c.relkind = 'S'`,
    [called.map((v) => v.schema), called.map((v) => v.name), called.map((v) => v.lastValue)],
  );
}

/**
 * A table's post-data built while the load goes on: its indexes and its key, unique and
 * exclusion constraints, which need no other table (foreign keys, triggers, rules and the
 * rest wait for the section).
 */
export const TABLE_INDEX_ENTRIES = ['INDEX', 'CONSTRAINT'];

export interface RestoreOptions {
  target: Endpoint;
  targetDatabase: string;
  archive: string;
  section: Section;
  /** Restore owners and grants (roles were copied); otherwise the target role owns everything. */
  keepOwnership: boolean;
  jobs: number;
  targetMajor: number;
  dir: string;
  signal?: AbortSignal;
  /** Only the archive's entries of these kinds (TocEntry.desc). */
  only?: string[];
}

/**
 * Restores a section. pre-data runs as one transaction (all or nothing); post-data
 * runs with `jobs` parallel pg_restore workers, which build indexes concurrently and
 * order constraints, foreign keys, triggers and materialized view refreshes by their
 * dependencies.
 */
export async function restoreSection(o: RestoreOptions): Promise<RestoreResult> {
  const { libpqEnv } = resolveEndpoint(o.target, { database: o.targetDatabase });
  const restore = pgProgram('pg_restore', 0);
  const toc = parseToc(await runTool(restore, ['-l', o.archive], {}, 'pg_restore -l'));
  let raised = false;
  const skip = await withConnection(o.target, { database: o.targetDatabase }, async (c) => {
    raised = c.raisedSynchronousCommit;
    return new Set([...(await existing(c.client, toc)), ...(await foreignSchemaComments(c.client, toc))]);
  });
  // pg_restore's sessions commit durably too: a target that crashed right after would otherwise lose tables it had "restored".
  Object.assign(libpqEnv, durableToolOptions(raised));
  const list = join(o.dir, `${o.section}.list`);
  const entries = toc.filter((e) => !skip.has(e.line) && (!o.only || o.only.includes(e.desc)));
  if (entries.length === 0) return { restored: 0, skipped: skip.size };
  writeFileSync(list, entries.map((e) => e.line).join('\n') + '\n');
  const common = ['-L', list, '--exit-on-error', ...(o.keepOwnership ? [] : ['--no-owner', '--no-acl'])];
  if (o.section === 'pre-data') {
    await runTool(
      restore,
      [...common, '--single-transaction', '-d', o.targetDatabase, o.archive],
      libpqEnv,
      'pg_restore --section=pre-data',
      o.signal,
    );
  } else {
    const storage = existsSync(storageFile(o.archive))
      ? (JSON.parse(readFileSync(storageFile(o.archive), 'utf8')) as ColumnStorage[])
      : [];
    await withTypeStorage(o.target, o.targetDatabase, storage, () =>
      runTool(
        restore,
        [...common, '-j', String(Math.max(1, o.jobs)), '-d', o.targetDatabase, o.archive],
        libpqEnv,
        'pg_restore --section=post-data',
        o.signal,
      ),
    );
    if (existsSync(sequencesFile(o.archive))) {
      const values = JSON.parse(readFileSync(sequencesFile(o.archive), 'utf8')) as SequenceValue[];
      await withConnection(o.target, { database: o.targetDatabase }, ({ client }) => applySequences(client, values));
    }
  }
  return { restored: entries.length, skipped: skip.size };
}

/** A scratch folder for archives, removed afterwards. */
export async function withScratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'pgtransit-schema-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
