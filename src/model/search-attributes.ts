/**
 * The custom search attributes pgtransit keeps current on its workflows, so that
 * `temporal workflow list --query "PgtransitPhase='incremental'"` and the Web UI filter
 * migrations. Registered by the namespace setup (temporal-config/), by `pgtransit dev` and the
 * test servers (SEARCH_ATTRIBUTE_FLAGS, src/temporal/search-attributes.ts). Values never carry
 * credentials: hosts and database names only. Here, not in src/temporal, because workflows set them.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const PgtransitPhase = defineSearchAttributeKey('PgtransitPhase', SearchAttributeType.KEYWORD);
export const PgtransitSourceHost = defineSearchAttributeKey('PgtransitSourceHost', SearchAttributeType.KEYWORD);
export const PgtransitSourceDatabase = defineSearchAttributeKey('PgtransitSourceDatabase', SearchAttributeType.KEYWORD);
export const PgtransitTargetHost = defineSearchAttributeKey('PgtransitTargetHost', SearchAttributeType.KEYWORD);
export const PgtransitTargetDatabase = defineSearchAttributeKey('PgtransitTargetDatabase', SearchAttributeType.KEYWORD);
/** The replication lag in coarse steps (none, <1MB, <16MB, <256MB, >=256MB), for filters that do not churn. */
export const PgtransitLagBucket = defineSearchAttributeKey('PgtransitLagBucket', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [
  PgtransitPhase,
  PgtransitSourceHost,
  PgtransitSourceDatabase,
  PgtransitTargetHost,
  PgtransitTargetDatabase,
  PgtransitLagBucket,
] as const;

/** The patch that started keeping the search attributes current (patched() marker in history). */
export const SEARCH_ATTRIBUTES_PATCH = 'search-attributes';

const MB = 1024 * 1024;

/** The lag bucket of a lag in bytes (none when nothing is behind). */
export function lagBucket(lagBytes: number): string {
  if (lagBytes <= 0) return 'none';
  if (lagBytes < MB) return '<1MB';
  if (lagBytes < 16 * MB) return '<16MB';
  if (lagBytes < 256 * MB) return '<256MB';
  return '>=256MB';
}

/** What a workflow shows; undefined fields are left as they are. */
export interface SearchAttributeValues {
  phase?: string;
  sourceHost?: string;
  sourceDatabase?: string;
  targetHost?: string;
  targetDatabase?: string;
  lagBucket?: string;
}

export const KEYS: Record<keyof SearchAttributeValues, (typeof SEARCH_ATTRIBUTES)[number]> = {
  phase: PgtransitPhase,
  sourceHost: PgtransitSourceHost,
  sourceDatabase: PgtransitSourceDatabase,
  targetHost: PgtransitTargetHost,
  targetDatabase: PgtransitTargetDatabase,
  lagBucket: PgtransitLagBucket,
};
