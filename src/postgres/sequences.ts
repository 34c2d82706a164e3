/**
 * Reading sequences on the source: post-data sets the target's sequences to these values
 * after the load, and the switchover copies them again once the source is fenced.
 */
import type pg from 'pg';
import { classify } from './classify';
import { SEQUENCES_PER_QUERY } from './limits';

export interface SequenceState {
  schema: string;
  name: string;
  /** The table whose column owns the sequence (serial, identity, OWNED BY), when one does: in any schema. */
  ownerTable: string | null;
  ownerSchema: string | null;
  ownerColumn: string | null;
  /** Created by an extension (CREATE EXTENSION makes it on the target). */
  extensionMember: boolean;
  value: string;
  /** false: never called (nextval returns `value` itself). */
  isCalled: boolean;
}

/** Every sequence of `schemas` with its current value, in schema and name order. */
export async function readSequences(client: pg.Client, schemas: string[]): Promise<SequenceState[]> {
  const { rows } = await client.query<{
    schema: string;
    name: string;
    owner_table: string | null;
    owner_schema: string | null;
    owner_column: string | null;
    extension_member: boolean;
  }>(
    `SELECT n.nspname AS schema, c.relname AS name, o.relname AS owner_table, o.nspname AS owner_schema, o.attname AS owner_column,
            EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') AS extension_member
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN LATERAL (
         SELECT t.relname, tn.nspname, a.attname FROM pg_depend d
           JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
           LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
          LIMIT 1) o ON true
      WHERE c.relkind = 'S' AND n.nspname = ANY($1) ORDER BY 1, 2`,
    [schemas],
  );
  const out: SequenceState[] = [];
  for (let i = 0; i < rows.length; i += SEQUENCES_PER_QUERY) {
    const batch = rows.slice(i, i + SEQUENCES_PER_QUERY);
    const sql = batch
      .map(
        (q, k) =>
          `SELECT ${k} AS k, last_value::text AS v, is_called FROM ${client.escapeIdentifier(q.schema)}.${client.escapeIdentifier(q.name)}`,
      )
      .join(' UNION ALL ');
    try {
      const { rows: values } = await client.query<{ k: number; v: string; is_called: boolean }>(sql);
      for (const v of values.sort((a, b) => a.k - b.k)) {
        const r = batch[v.k]!;
        out.push({
          schema: r.schema,
          name: r.name,
          ownerTable: r.owner_table,
          ownerSchema: r.owner_schema,
          ownerColumn: r.owner_column,
          extensionMember: r.extension_member,
          value: v.v,
          isCalled: v.is_called,
        });
      }
    } catch (e) {
      throw classify('query', `reading the values of ${batch.length} sequences`, e);
    }
  }
  return out;
}
