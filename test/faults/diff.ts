/**
 * Row-level comparison for the fault suite: per table, rows the target lacks (lost), rows
 * it holds more often than the source (duplicated) and rows whose key matches but whose
 * values differ (different); keyless tables are compared as multisets of whole rows.
 */
import pg from 'pg';

export interface TableDiff {
  table: string;
  sourceRows: number;
  targetRows: number;
  lost: number;
  duplicated: number;
  different: number;
}

async function tables(c: pg.Client): Promise<{ table: string; key: string[] }[]> {
  const { rows } = await c.query<{ t: string; key: string[] | null }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS t,
            (SELECT array_agg(quote_ident(a.attname) ORDER BY k.ord)
               FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
              WHERE i.indrelid = c.oid AND i.indisprimary) AS key
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtransit')
        AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1`,
  );
  return rows.map((r) => ({ table: r.t, key: r.key ?? [] }));
}

/** key (or whole row) -> row hash counts. */
async function hashes(c: pg.Client, table: string, key: string[]): Promise<Map<string, string[]>> {
  const k = key.length ? `ROW(${key.map((x) => `t.${x}`).join(', ')})::text` : `md5(t::text)`;
  const { rows } = await c.query<{ k: string; h: string }>(`SELECT ${k} AS k, md5(t::text) AS h FROM ONLY ${table} t`);
  const m = new Map<string, string[]>();
  for (const r of rows) {
    const list = m.get(r.k);
    if (list) list.push(r.h);
    else m.set(r.k, [r.h]);
  }
  return m;
}

export async function diffDatabases(sourceUrl: string, targetUrl: string): Promise<TableDiff[]> {
  const s = new pg.Client({ connectionString: sourceUrl });
  const t = new pg.Client({ connectionString: targetUrl });
  await Promise.all([s.connect(), t.connect()]);
  try {
    const out: TableDiff[] = [];
    for (const { table, key } of await tables(s)) {
      const [a, b] = await Promise.all([hashes(s, table, key), hashes(t, table, key)]);
      const d: TableDiff = { table, sourceRows: 0, targetRows: 0, lost: 0, duplicated: 0, different: 0 };
      for (const list of a.values()) d.sourceRows += list.length;
      for (const list of b.values()) d.targetRows += list.length;
      for (const [k, src] of a) {
        const tgt = b.get(k) ?? [];
        if (key.length) {
          if (tgt.length === 0) d.lost++;
          else if (tgt[0] !== src[0]) d.different++;
        } else d.lost += Math.max(0, src.length - tgt.length);
      }
      for (const [k, tgt] of b) {
        const src = a.get(k) ?? [];
        // A keyed row on the target only, or a whole row held more often than the source holds it.
        d.duplicated += Math.max(0, tgt.length - src.length);
      }
      out.push(d);
    }
    return out;
  } finally {
    await Promise.all([s.end(), t.end()]);
  }
}

/** Sequences whose last value differs, as "name: source/target". */
export async function diffSequences(sourceUrl: string, targetUrl: string): Promise<string[]> {
  const read = async (url: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const { rows } = await c.query<{ s: string; v: string | null }>(
        `SELECT format('%I.%I', schemaname, sequencename) AS s, last_value::text AS v FROM pg_sequences
          WHERE schemaname NOT IN ('pgtransit') ORDER BY 1`,
      );
      return new Map(rows.map((r) => [r.s, r.v]));
    } finally {
      await c.end();
    }
  };
  const [a, b] = await Promise.all([read(sourceUrl), read(targetUrl)]);
  return [...a].filter(([s, v]) => (b.get(s) ?? null) !== v).map(([s, v]) => `${s}: ${v}/${b.get(s) ?? 'missing'}`);
}
