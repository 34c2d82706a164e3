/**
 * The namespace setup of a pgtransit cluster: creates the namespace (when missing) and
 * registers pgtransit's custom search attributes (the contract in
 * src/temporal/search-attributes.ts) in it. Safe to run again. Run by the cluster test and by
 * docker-compose's namespace job, against the frontend:
 *
 *   TEMPORAL_ADDRESS=127.0.0.1:7233 TEMPORAL_NAMESPACE=default node --import tsx temporal-config/setup-namespace.ts
 *
 * TEMPORAL_RETENTION_DAYS (default 7) is how long closed migrations stay in history.
 * It waits for the frontend (up to TEMPORAL_SETUP_TIMEOUT_SECONDS, default 180), since a
 * fresh cluster takes a while to serve.
 */
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_FLAGS } from '../src/temporal/search-attributes';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

/** `Name=Type` as `temporal operator search-attribute create` takes it, to the API's enum. */
const TYPES: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  Text: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Bool: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export function searchAttributeTypes(): Record<string, temporal.api.enums.v1.IndexedValueType> {
  const out: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
  for (const flag of SEARCH_ATTRIBUTE_FLAGS) {
    const [name, type] = flag.split('=');
    const t = type === undefined ? undefined : TYPES[type];
    if (!name || t === undefined) throw new Error(`search attribute ${flag}: expected Name=Type with a known type`);
    out[name] = t;
  }
  return out;
}

export interface NamespaceSetup {
  address: string;
  namespace: string;
  retentionDays?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

/** gRPC status code of "namespace already exists". */
const GRPC_ALREADY_EXISTS = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Creates `namespace` when missing and registers the search attributes it lacks; returns the ones added. */
export async function setupNamespace(o: NamespaceSetup): Promise<string[]> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const deadline = Date.now() + (o.timeoutMs ?? 180_000);
  const wanted = searchAttributeTypes();
  // A fresh cluster refuses or fails calls until its services have joined and the namespace
  // cache has seen the new namespace: every step is retried until the deadline.
  const retry = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (Date.now() > deadline)
          throw new Error(`namespace setup: ${what} did not succeed in time: ${(e as Error).message}`);
        await sleep(1000);
      }
    }
  };
  const connection = await retry('connecting to the frontend', () =>
    Connection.connect({ address: o.address, connectTimeout: 5000 }),
  );
  try {
    await retry(`creating namespace ${o.namespace}`, async () => {
      try {
        await connection.workflowService.registerNamespace({
          namespace: o.namespace,
          description: 'pgtransit migrations',
          workflowExecutionRetentionPeriod: msToTs(`${o.retentionDays ?? 7} days`),
        });
        log(`namespace setup: created namespace ${o.namespace}`);
      } catch (e) {
        if (isGrpcServiceError(e) && e.code === GRPC_ALREADY_EXISTS) return;
        throw e;
      }
    });
    const added = await retry(`registering search attributes in ${o.namespace}`, async () => {
      const listed = await connection.operatorService.listSearchAttributes({ namespace: o.namespace });
      const present = { ...(listed.customAttributes ?? {}), ...(listed.systemAttributes ?? {}) };
      for (const [name, type] of Object.entries(wanted)) {
        if (name in present && present[name] !== type)
          throw new Error(`search attribute ${name} exists in ${o.namespace} with another type (${present[name]})`);
      }
      const missing = Object.fromEntries(Object.entries(wanted).filter(([name]) => !(name in present)));
      if (Object.keys(missing).length)
        await connection.operatorService.addSearchAttributes({ namespace: o.namespace, searchAttributes: missing });
      return Object.keys(missing);
    });
    log(
      added.length
        ? `namespace setup: registered ${added.join(', ')} in ${o.namespace}`
        : `namespace setup: ${o.namespace} already has pgtransit's search attributes`,
    );
    return added;
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  setupNamespace({
    address: process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233',
    namespace: process.env.TEMPORAL_NAMESPACE || 'default',
    retentionDays: Number(process.env.TEMPORAL_RETENTION_DAYS || 7),
    timeoutMs: Number(process.env.TEMPORAL_SETUP_TIMEOUT_SECONDS || 180) * 1000,
  }).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
