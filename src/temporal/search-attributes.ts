/**
 * Registering pgtransit's search attributes (src/model/search-attributes.ts) on the servers it
 * starts, and checking them on a server it did not: an attribute the namespace lacks fails every
 * workflow task that sets it, which looks like a stuck migration, so the worker refuses to start.
 */
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../model/search-attributes';

export { SEARCH_ATTRIBUTES } from '../model/search-attributes';

/** `name=Keyword` pairs, as `temporal server start-dev --search-attribute` and `temporal operator search-attribute create` take them. */
export const SEARCH_ATTRIBUTE_FLAGS: string[] = SEARCH_ATTRIBUTES.map((k) => `${k.name}=Keyword`);

/** The command that registers them (all, or those named) on an existing cluster. */
export function registerCommand(namespace: string, names: string[] = SEARCH_ATTRIBUTES.map((k) => k.name)): string {
  return (
    `temporal operator search-attribute create --namespace ${namespace} ` +
    names.map((name) => `--name ${name} --type Keyword`).join(' ')
  );
}

/**
 * The pgtransit search attributes the namespace lacks; null when the server does not say
 * (an API key without the operator's rights: the worker then starts, and says so).
 */
export async function missingSearchAttributes(
  connection: NativeConnection,
  namespace: string,
): Promise<string[] | null> {
  let custom: Record<string, unknown>;
  try {
    const r = await connection.operatorService.listSearchAttributes({ namespace });
    custom = { ...(r.customAttributes ?? {}), ...(r.systemAttributes ?? {}) };
  } catch {
    return null;
  }
  return SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !(name in custom));
}

/**
 * The dev server registers pgtransit's search attributes only in a state file it creates: one
 * written by an older pgtransit lacks them, and a worker refuses such a namespace. A command that
 * owns the server it started (pgtransit dev, pgtransit migrate) adds what is missing; returns the names added.
 */
export async function registerSearchAttributes(
  connection: Pick<NativeConnection, 'operatorService'>,
  namespace: string,
): Promise<string[]> {
  const operator = connection.operatorService;
  const listed = await operator.listSearchAttributes({ namespace });
  const present = { ...listed.customAttributes, ...listed.systemAttributes };
  const missing = SEARCH_ATTRIBUTES.map((k) => k.name).filter((name) => !(name in present));
  if (missing.length) {
    const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
    await operator.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((n) => [n, keyword])),
    });
  }
  return missing;
}

/** Refuses to start a worker whose namespace would fail its workflow tasks, naming the fix. */
export async function checkSearchAttributes(
  connection: NativeConnection,
  namespace: string,
  warn: (line: string) => void,
): Promise<void> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing === null) {
    warn(
      `could not list the search attributes of namespace ${namespace}; if ${SEARCH_ATTRIBUTES.map((k) => k.name).join(', ')} ` +
        `are not registered, migrations' workflow tasks fail. Register them with: ${registerCommand(namespace)}`,
    );
    return;
  }
  if (missing.length) {
    throw new Error(
      `namespace ${namespace} lacks pgtransit's search attributes ${missing.join(', ')}: workflow tasks that set them would fail. ` +
        `Register them once with: ${registerCommand(namespace, missing)}`,
    );
  }
}
