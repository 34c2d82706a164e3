/**
 * Activities: thin wrappers that call src/postgres, heartbeat, and map errors. Their
 * names are recorded in workflow history: never rename one.
 */
import { Context } from '@temporalio/activity';
import type { Plan } from '../src/plan/schema';
import { replicationNames } from '../src/plan/schema';
import type { CheckItem, ServerSummary } from '../src/plan/report';
import * as assess from '../src/postgres/assess';
import type { DatabaseAssessment } from '../src/postgres/assess';
import { withConnection } from '../src/postgres/connect';
import { listLoadTables, planChunks as splitTables, type Chunk } from '../src/postgres/chunks';
import { copyChunk as copyOneChunk, type CopyResult } from '../src/postgres/copy';
import { createPublication as createPub, dropReplication as dropRepl } from '../src/postgres/replication';
import { copyRoles as copyRoleList, type RolesResult } from '../src/postgres/roles';
import * as schema from '../src/postgres/schema';
import { holdSnapshot as holdOne, slotExists, type SnapshotInfo } from '../src/postgres/snapshot';
import { dropStateSchema, ensureStateSchema } from '../src/postgres/state';
import { targetName, displayName } from '../src/plan/selection';
import { compareTables as compare, type TableComparison } from '../src/postgres/compare';
import { streamRound, type RoundResult } from '../src/postgres/stream';
import { copySequences as copySeqs, fenceSource as fence, unfenceSource as unfence, type FenceResult, type SequenceCopy } from '../src/postgres/switchover';
import { run } from './failures';

/** Where one database goes: the activities' common input. */
export interface DatabaseScope {
  plan: Plan;
  database: string;
  targetDatabase: string;
}

export interface TablePlan {
  table: string;
  /** The partition root (the name the change stream uses for a partition's rows). */
  root: string;
  targetTable: string;
  estRows: number;
  estBytes: number;
}

/** The signal holdSnapshot sends to its workflow: ready (with the snapshot) or lost. */
export type SnapshotSignal = { ready: SnapshotInfo } | { lost: string };

export interface ActivityDeps {
  assess: Pick<typeof assess, 'probeServer' | 'assessDatabase' | 'assessServers' | 'endpoints'>;
}

export function createActivities(deps: ActivityDeps = { assess }) {
  const a = deps.assess;
  const ends = (plan: Plan) => assess.endpoints(plan);
  return {
    /** Connects to one server: who answers, which version, primary or standby. */
    async probeServer(input: { plan: Plan; side: 'source' | 'target' }): Promise<ServerSummary> {
      return run(() => a.probeServer(a.endpoints(input.plan)[input.side]));
    },
    /** Per-database items: selection, privileges, keys, target emptiness, extensions, encoding. */
    async assessDatabase(input: { plan: Plan; database: string; targetDatabase: string }): Promise<DatabaseAssessment> {
      return run(() => a.assessDatabase(input.plan, input.database, input.targetDatabase));
    },
    /** Server-wide items: versions, pg_dump, replication capacity and rights, target role and space. */
    async assessServers(input: { plan: Plan; databases: string[]; selectedBytes: number }): Promise<CheckItem[]> {
      return run(() => a.assessServers(input.plan, input.databases, input.selectedBytes));
    },

    /** Target database (created when missing), the state schema, and the source's extensions. */
    async prepareTarget(input: DatabaseScope): Promise<{ createdDatabase: boolean; extensions: string[] }> {
      return run(async () => {
        const { source, target } = ends(input.plan);
        const createdDatabase = await schema.ensureTargetDatabase(source, target, input.database, input.targetDatabase);
        await withConnection(target, { database: input.targetDatabase }, ({ client }) => ensureStateSchema(client));
        const extensions = await schema.createExtensions(source, target, input.database, input.targetDatabase);
        return { createdDatabase, extensions };
      });
    },

    /** Roles that own or are granted the selected objects (plan roles: true). */
    async copyRoles(input: DatabaseScope): Promise<RolesResult> {
      return run(async () => {
        const { source, target } = ends(input.plan);
        const schemas = await withConnection(source, { database: input.database }, async ({ client }) => (await schema.dumpScope(client, input.plan)).schemas);
        return copyRoleList(source, target, input.database, schemas, input.targetDatabase);
      });
    },

    /** The publication over the selected tables (full+cdc), created before the slot. */
    async createPublication(input: DatabaseScope): Promise<{ publication: string; created: boolean; tables: number }> {
      return run(async () => {
        const { publication } = replicationNames(input.plan.name, input.database);
        return { publication, ...(await createPub(ends(input.plan).source, input.plan, input.database, publication)) };
      });
    },

    /**
     * Exports the snapshot (creating the slot in full+cdc), signals it to the workflow,
     * and holds it until cancelled. A retry means the previous holder died: the
     * snapshot is gone, and the workflow is told so.
     */
    async holdSnapshot(input: DatabaseScope & { sourceMajor: number }): Promise<void> {
      const ctx = Context.current();
      const handle = ctx.client.workflow.getHandle(ctx.info.workflowExecution.workflowId, ctx.info.workflowExecution.runId);
      const send = (s: SnapshotSignal) => handle.signal('snapshot', s);
      return run(async (signal) => {
        const { source } = ends(input.plan);
        const slot = input.plan.mode === 'full+cdc' ? replicationNames(input.plan.name, input.database).slot : null;
        const previous = ctx.info.attempt > 1 || (slot !== null && (await withConnection(source, { database: input.database }, ({ client }) => slotExists(client, slot))));
        if (previous) {
          await send({ lost: `the snapshot holder was interrupted (attempt ${ctx.info.attempt})` });
          return;
        }
        await holdOne(source, { database: input.database, slot, serverMajor: input.sourceMajor, signal, onReady: (ready) => send({ ready }) });
      });
    },

    /** pg_dump of a section (pre-data in the snapshot) restored on the target. */
    async restoreSchema(input: DatabaseScope & { section: schema.Section; snapshot: string | null; sourceMajor: number; targetMajor: number }): Promise<{ restored: number; skipped: number }> {
      return run((signal) =>
        schema.withScratch(async (dir) => {
          const { source, target } = ends(input.plan);
          const archive = await schema.dumpSection(input.plan, { source, database: input.database, section: input.section, snapshot: input.snapshot, sourceMajor: input.sourceMajor, dir, signal });
          return schema.restoreSection({
            target,
            targetDatabase: input.targetDatabase,
            archive,
            section: input.section,
            keepOwnership: input.plan.roles,
            jobs: input.plan.fullLoad.parallelism,
            targetMajor: input.targetMajor,
            dir,
            signal,
          });
        }),
      );
    },

    /** The tables to copy, largest first, and their chunks. */
    async planChunks(input: DatabaseScope): Promise<{ tables: TablePlan[]; chunks: Chunk[] }> {
      return run(() =>
        withConnection(ends(input.plan).source, { database: input.database }, async ({ client }) => {
          const tables = await listLoadTables(client, input.plan);
          const chunks = await splitTables(client, tables, input.plan.fullLoad.chunkSizeMB * 1024 * 1024);
          return {
            tables: tables.map((t) => ({ table: `${t.schema}.${t.name}`, root: `${t.root.schema}.${t.root.name}`, targetTable: displayName(targetName(input.plan, t)), estRows: t.rows, estBytes: t.bytes })),
            chunks,
          };
        }),
      );
    },

    /** One chunk: rows and done-marker in one target transaction. */
    async copyChunk(input: DatabaseScope & { chunk: Chunk; snapshot: string | null }): Promise<CopyResult> {
      const ctx = Context.current();
      return run((signal) =>
        copyOneChunk(ends(input.plan).source, ends(input.plan).target, { migration: input.plan.name, database: input.database, targetDatabase: input.targetDatabase, chunk: input.chunk, snapshot: input.snapshot }, { signal, onProgress: (bytes) => ctx.heartbeat({ bytes }) }),
      );
    },

    /** Schema and table renames from the plan, after post-data, in one transaction. */
    async applyMapping(input: DatabaseScope): Promise<string[]> {
      return run(() => {
        const { source, target } = ends(input.plan);
        return schema.applyMapping(input.plan, source, target, input.database, input.targetDatabase);
      });
    },

    /** Drops the migration's slot and publication on the source (absent ones are fine). */
    async dropReplication(input: DatabaseScope): Promise<string[]> {
      return run(() => {
        const { slot, publication } = replicationNames(input.plan.name, input.database);
        return dropRepl(ends(input.plan).source, input.database, slot, publication);
      });
    },

    /**
     * One round of change capture: stream from the slot, apply, acknowledge after each
     * target commit. Ends after `maxSeconds`, at the switchover fence, or on cancellation.
     */
    async applyChanges(
      input: DatabaseScope & { sourceMajor: number; lateTables: string[]; lateHorizonLsn: string | null; maxSeconds: number; fence: { id: string; lsn: string } | null },
    ): Promise<RoundResult> {
      const ctx = Context.current();
      return run((signal) => {
        const { source, target } = ends(input.plan);
        const { slot, publication } = replicationNames(input.plan.name, input.database);
        return streamRound({
          source,
          target,
          plan: input.plan,
          database: input.database,
          targetDatabase: input.targetDatabase,
          slot,
          publication,
          sourceMajor: input.sourceMajor,
          lateTables: input.lateTables,
          lateHorizonLsn: input.lateHorizonLsn,
          maxSeconds: input.maxSeconds,
          fence: input.fence,
          signal,
          onProgress: (p) => ctx.heartbeat(p),
        });
      }, 1_000);
    },

    /** Switchover step 1: the source database read-only, sessions ended, writers drained, fence marker written. */
    async fenceSource(input: DatabaseScope & { id: string; sourceMajor: number }): Promise<FenceResult> {
      return run(() => fence(ends(input.plan).source, input.database, input.id, input.sourceMajor));
    },

    /** Undoes the fence: the application may write to the source again. */
    async unfenceSource(input: DatabaseScope): Promise<void> {
      return run(() => unfence(ends(input.plan).source, input.database));
    },

    /** Every sequence's value copied to the target. */
    async copySequences(input: DatabaseScope): Promise<SequenceCopy[]> {
      return run(() => {
        const { source, target } = ends(input.plan);
        return copySeqs(input.plan, source, target, input.database, input.targetDatabase);
      });
    },

    /** Row counts (and checksums when asked) of every table on both sides. */
    async compareTables(input: DatabaseScope & { checksum: boolean }): Promise<TableComparison[]> {
      return run(() => {
        const { source, target } = ends(input.plan);
        return compare(input.plan, source, target, input.database, input.targetDatabase, input.checksum);
      });
    },

    /** Removes the target's state schema when the migration is complete. */
    async dropState(input: DatabaseScope): Promise<void> {
      return run(() => withConnection(ends(input.plan).target, { database: input.targetDatabase }, ({ client }) => dropStateSchema(client)));
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
