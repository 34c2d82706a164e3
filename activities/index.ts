/**
 * Activities: thin wrappers that call src/postgres, heartbeat, and map errors. Their
 * names are recorded in workflow history: never rename one.
 */
import { Context } from '@temporalio/activity';
import { ErrorType, PgTransitError } from '../src/errors';
import type * as model from '../src/model/activities';
import { cdcProgressSignal, snapshotSignal } from '../src/model/messages';
import type { NotifyInput } from '../src/model/notify';
import type { DatabasePreview } from '../src/model/plan-diff';
import { replicationNames, reverseReplicationNames } from '../src/model/names';
import type { CheckItem, ServerSummary } from '../src/model/report';
import { poolerEntry, type Plan } from '../src/plan/plan';
import * as assess from '../src/postgres/assess';
import * as cdc from '../src/postgres/cdc/stream';
import * as ddlCapture from '../src/postgres/cdc/ddl-capture';
import * as poolers from '../src/postgres/pooler';
import * as chunks from '../src/postgres/chunks';
import * as compare from '../src/postgres/compare';
import * as changed from '../src/postgres/compare-changed';
import * as changedKeys from '../src/postgres/cdc/changed-keys';
import { endpoints, withConnection } from '../src/postgres/connect';
import * as copy from '../src/postgres/copy';
import * as largeObjects from '../src/postgres/large-objects';
import * as preview from '../src/postgres/preview';
import * as ddl from '../src/postgres/ddl';
import * as replication from '../src/postgres/replication';
import * as reverse from '../src/postgres/reverse';
import * as roles from '../src/postgres/roles';
import * as point from '../src/postgres/verify-point';
import * as snapshot from '../src/postgres/snapshot';
import * as state from '../src/postgres/state';
import * as switchover from '../src/postgres/switchover';
import { postNotification } from '../src/notify/webhook';
import { resolveSecretRef } from '../src/plan/secrets';
import * as metrics from '../src/temporal/metrics';
import { heartbeating, recovered, toFailure, type Heartbeating } from './failures';

/** Where the fence keeps the source's own read-only setting: the migration's state on the target. */
const keeper = (input: model.DatabaseScope): switchover.FenceKeeper => ({
  target: endpoints(input.plan).target,
  targetDatabase: input.targetDatabase,
  migration: input.plan.name,
});

/** What every read of a database's change stream needs: its servers, slot and publication, heartbeats. */
function streamOf(input: model.DatabaseScope & { sourceMajor: number }, signal: AbortSignal) {
  const ctx = Context.current();
  const { source, target } = endpoints(input.plan);
  const { slot, publication } = replicationNames(input.plan.name, input.database);
  return {
    source,
    target,
    plan: input.plan,
    database: input.database,
    targetDatabase: input.targetDatabase,
    slot,
    publication,
    sourceMajor: input.sourceMajor,
    signal,
    onProgress: (p: { appliedLsn: string | null; transactions: number }) => ctx.heartbeat(p),
  };
}

/** The assessment fails at once on a server that does not answer. */
const ASSESSING: Heartbeating = { waitForServers: false };

export function createActivities() {
  return {
    /** Connects to one server: who answers, which version, primary or standby. */
    async probeServer(input: { plan: Plan; side: model.Side }): Promise<ServerSummary> {
      return heartbeating(() => assess.probeServer(endpoints(input.plan)[input.side]), ASSESSING);
    },
    /** Per-database items: selection, privileges, keys, target emptiness, extensions, encoding. */
    async assessDatabase(input: model.DatabaseScope): Promise<model.DatabaseAssessment> {
      return heartbeating(() => assess.assessDatabase(input.plan, input.database, input.targetDatabase), ASSESSING);
    },
    /** Server-wide items: versions, pg_dump, replication capacity and rights, target role and space. */
    async assessServers(input: { plan: Plan; databases: string[]; selectedBytes: number }): Promise<CheckItem[]> {
      return heartbeating(() => assess.assessServers(input.plan, input.databases, input.selectedBytes), ASSESSING);
    },

    /**
     * The dry run of one database (pgtransit plan diff): what the schema step would create on the
     * target after mapping, what the load would copy, what is left out, roles, what the source gets.
     * Reads only.
     */
    async previewDatabase(input: model.DatabaseScope & { sourceMajor: number }): Promise<DatabasePreview> {
      return heartbeating(
        (signal) =>
          preview.previewDatabase({
            plan: input.plan,
            database: input.database,
            targetDatabase: input.targetDatabase,
            sourceMajor: input.sourceMajor,
            signal,
          }),
        ASSESSING,
      );
    },

    /** Target database (created when missing), the state schema, and the source's extensions. */
    async prepareTarget(input: model.DatabaseScope): Promise<model.PrepareTargetResult> {
      return heartbeating(async () => {
        const { source, target } = endpoints(input.plan);
        const createdDatabase = await ddl.ensureTargetDatabase(source, target, input.database, input.targetDatabase);
        await withConnection(target, { database: input.targetDatabase }, ({ client }) =>
          state.ensureStateSchema(client),
        );
        const extensions = await ddl.createExtensions(source, target, input.database, input.targetDatabase);
        return { createdDatabase, extensions };
      });
    },

    /** Roles that own or are granted the selected objects (plan roles: true). */
    async copyRoles(input: model.DatabaseScope): Promise<model.RolesResult> {
      return heartbeating(async () => {
        const { source, target } = endpoints(input.plan);
        const schemas = await withConnection(
          source,
          { database: input.database },
          async ({ client }) => (await ddl.dumpScope(client, input.plan)).schemas,
        );
        return roles.copyRoles(source, target, input.database, schemas, input.targetDatabase);
      });
    },

    /** The publication over the selected tables (full+cdc), created before the slot. */
    async createPublication(input: model.DatabaseScope): Promise<model.PublicationResult> {
      return heartbeating(async () => {
        const { publication } = replicationNames(input.plan.name, input.database);
        return {
          publication,
          ...(await replication.createPublication(
            endpoints(input.plan).source,
            input.plan,
            input.database,
            publication,
          )),
        };
      });
    },

    /**
     * Exports the snapshot (creating the slot in full+cdc), signals it to the workflow,
     * and holds it until cancelled. A retry means the previous holder died: the
     * snapshot is gone, and the workflow is told so (src/postgres/snapshot, step 2).
     */
    async holdSnapshot(input: model.HoldSnapshotInput): Promise<void> {
      const ctx = Context.current();
      const { workflowId, runId } = ctx.info.workflowExecution;
      const send = (s: model.SnapshotSignal) =>
        ctx.client.workflow.getHandle(workflowId, runId).signal(snapshotSignal, s);
      return heartbeating(async (signal) => {
        const { source } = endpoints(input.plan);
        const slot = input.plan.mode === 'full+cdc' ? replicationNames(input.plan.name, input.database).slot : null;
        if (await snapshot.holderInterrupted(source, input.database, slot, ctx.info.attempt)) {
          await send({ lost: `the snapshot holder was interrupted (attempt ${ctx.info.attempt})` });
          return;
        }
        await snapshot.holdSnapshot(source, {
          database: input.database,
          slot,
          serverMajor: input.sourceMajor,
          signal,
          onReady: (ready) => send({ ready }),
        });
      });
    },

    /** pg_dump of a section (pre-data in the snapshot) restored on the target; or of one table's indexes and keys. */
    async restoreSchema(input: model.RestoreSchemaInput): Promise<model.RestoreResult> {
      return heartbeating((signal) =>
        ddl.withScratch(async (dir) => {
          const { source, target } = endpoints(input.plan);
          const archive = await ddl.dumpSection(input.plan, {
            source,
            database: input.database,
            section: input.section,
            snapshot: input.snapshot,
            sourceMajor: input.sourceMajor,
            dir,
            signal,
            table: input.table,
          });
          if (archive === null) return { restored: 0, skipped: 0 };
          return ddl.restoreSection({
            target,
            targetDatabase: input.targetDatabase,
            archive,
            section: input.section,
            keepOwnership: input.plan.roles,
            // A table's own build runs beside the lanes still copying: one session, not a lane's worth.
            jobs: input.table ? 1 : input.plan.fullLoad.parallelism,
            targetMajor: input.targetMajor,
            dir,
            signal,
            only: input.table ? ddl.TABLE_INDEX_ENTRIES : undefined,
          });
        }),
      );
    },

    /** The tables to copy, largest first, and their chunks. */
    async planChunks(input: model.PlanChunksInput): Promise<model.LoadPlan> {
      return heartbeating(() =>
        withConnection(endpoints(input.plan).source, { database: input.database }, async ({ client }) => {
          // Inside the snapshot the load copies: a table created since is not in the restored pre-data either.
          await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
          let snapshotLost: string | undefined;
          if (input.snapshot) {
            await snapshot.importSnapshot(client, input.snapshot, 'planning the load').catch(async (e: Error) => {
              // Gone already: plan what is there now; every chunk is then copied late.
              if (!(e instanceof PgTransitError && e.type === ErrorType.SnapshotLost)) throw e;
              snapshotLost = e.message;
              await client.query('ROLLBACK; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
            });
          }
          const planned = await chunks.planLoad(client, input.plan);
          await client.query('COMMIT');
          return snapshotLost ? { ...planned, snapshotLost } : planned;
        }),
      );
    },

    /** One chunk: rows and done-marker in one target transaction. */
    async copyChunk(input: model.CopyChunkInput): Promise<model.CopyResult> {
      const ctx = Context.current();
      const { source, target } = endpoints(input.plan);
      const r = await heartbeating((signal) =>
        copy.copyChunk(
          source,
          target,
          {
            migration: input.plan.name,
            database: input.database,
            targetDatabase: input.targetDatabase,
            chunk: input.chunk,
            snapshot: input.snapshot,
            followedByChanges: input.plan.mode !== 'full',
          },
          { signal, onProgress: (bytes) => ctx.heartbeat({ bytes }) },
        ),
      );
      if (!r.skipped) {
        const table = `${input.chunk.schema}.${input.chunk.name}`;
        metrics.chunkCopied({ migration: input.plan.name, database: input.database, table }, r.rows, r.bytes);
      }
      ctx.log.info(r.skipped ? 'chunk already copied' : 'chunk copied', {
        chunk: r.chunkId,
        rows: r.rows,
        bytes: r.bytes,
        late: r.late,
      });
      return r;
    },

    /** Schema and table renames from the plan, after post-data, in one transaction. */
    async applyMapping(input: model.DatabaseScope): Promise<string[]> {
      return heartbeating(() => {
        const { source, target } = endpoints(input.plan);
        return ddl.applyMapping(input.plan, source, target, input.database, input.targetDatabase);
      });
    },

    /** Drops the migration's slot and publication on the source (absent ones are fine). */
    async dropReplication(input: model.DatabaseScope): Promise<string[]> {
      return heartbeating(() => {
        const { slot, publication } = replicationNames(input.plan.name, input.database);
        return replication.dropReplication(
          endpoints(input.plan).source,
          input.database,
          slot,
          publication,
          input.plan.name,
        );
      });
    },

    /** DDL capture (cdc.ddl: replicate): the event triggers on the source, installed before the publication and slot. */
    async installDdlCapture(input: model.DatabaseScope): Promise<model.DdlCaptureResult> {
      return heartbeating(() => {
        const { publication } = replicationNames(input.plan.name, input.database);
        return ddlCapture.installDdlCapture(endpoints(input.plan).source, input.plan, input.database, publication);
      });
    },

    /** Removes the DDL capture alone (completion with switchover.keepSlot keeps the slot, not the triggers). */
    async dropDdlCapture(input: model.DatabaseScope): Promise<string[]> {
      return heartbeating(() =>
        withConnection(endpoints(input.plan).source, { database: input.database, writable: true }, ({ client }) =>
          ddlCapture.dropDdlCapture(client, input.plan.name, input.database),
        ),
      );
    },

    /**
     * One round of change capture: stream from the slot, apply, acknowledge after each
     * target commit. Ends after `maxSeconds`, at the switchover fence, or on cancellation.
     */
    async applyChanges(input: model.ApplyChangesInput): Promise<model.RoundResult> {
      const ctx = Context.current();
      let working = false;
      const measure = metrics.streamMetrics({ migration: input.plan.name, database: input.database });
      return heartbeating(
        async (signal) => {
          const r = await cdc.streamRound({
            ...streamOf(input, signal),
            lateTables: input.lateTables,
            lateHorizonLsn: input.lateHorizonLsn,
            maxSeconds: input.maxSeconds,
            fence: input.fence,
            reportEverySeconds: input.progress?.everySeconds,
            onReport: (p) => {
              measure(p.transactions, p.counts, p);
              if (!working) {
                working = true;
                void recovered(ctx);
              }
              const { workflowId, runId } = ctx.info.workflowExecution;
              // Status only: a report that does not arrive is followed by the next one (or the result).
              void ctx.client.workflow
                .getHandle(workflowId, runId)
                .signal(cdcProgressSignal, { ...p, stream: input.progress!.stream, attempt: ctx.info.attempt })
                .catch(() => undefined);
            },
          });
          measure(r.transactions, r.counts, r);
          ctx.log.info(input.fence ? 'drain round ended' : 'change stream round ended', {
            transactions: r.transactions,
            lagBytes: r.lagBytes,
            appliedLsn: r.appliedLsn,
            fenceApplied: r.fenceApplied,
          });
          return { ...r, attempt: ctx.info.attempt };
        },
        { everyMs: 1_000, waitForServers: true },
      );
    },

    /** Switchover step 1: the source database read-only, sessions ended, writers drained, fence marker written. */
    async fenceSource(input: model.FenceInput): Promise<model.FenceResult> {
      const r = await heartbeating(() =>
        switchover.fenceSource(
          endpoints(input.plan).source,
          input.database,
          input.id,
          input.sourceMajor,
          keeper(input),
        ),
      );
      Context.current().log.info('source fenced: writes stopped', { fenceLsn: r.lsn });
      return r;
    },

    /** After the drain: nothing committed on the source after the fence marker (a writer that escaped the fence fails the switchover). */
    async verifyFence(input: model.VerifyFenceInput): Promise<{ checkedTo: string }> {
      return heartbeating(
        async (signal) => {
          const r = await cdc.streamRound({
            ...streamOf(input, signal),
            lateTables: [],
            lateHorizonLsn: null,
            maxSeconds: 1,
            fence: null,
            afterFence: true,
          });
          return { checkedTo: r.sourceLsn };
        },
        { everyMs: 1_000, waitForServers: true },
      );
    },

    /** Undoes the fence: the application may write to the source again. */
    async unfenceSource(input: model.DatabaseScope): Promise<void> {
      await heartbeating(() => switchover.unfenceSource(endpoints(input.plan).source, input.database, keeper(input)), {
        waitForServers: true,
        retryAll: true,
      });
      Context.current().log.info('source un-fenced: writable again');
    },

    /** Switchover through PgBouncer, step 1: the application's entry paused (transactions in flight finish first). */
    async pausePooler(input: model.DatabaseScope): Promise<{ pausedAt: string }> {
      const pooler = input.plan.switchover.pooler!;
      await heartbeating(() => poolers.pause(pooler, input.database));
      Context.current().log.info('pooler paused', { entry: poolerEntry(pooler, input.database) });
      return { pausedAt: new Date().toISOString() };
    },

    /** The pooler's entry pointed at the target (or back at the source), then RELOAD. */
    async repointPooler(
      input: model.DatabaseScope & { to: 'source' | 'target' },
    ): Promise<{ changed: boolean; now: string }> {
      const pooler = input.plan.switchover.pooler!;
      return heartbeating(
        () =>
          poolers.repoint(pooler, input.database, input.to, {
            endpoint: endpoints(input.plan).target,
            database: input.targetDatabase,
          }),
        { waitForServers: true, retryAll: input.to === 'source' },
      );
    },

    /** The pooler's entry resumed: the waiting clients go on. Retried until it succeeds. */
    async resumePooler(input: model.DatabaseScope): Promise<{ resumedAt: string }> {
      const pooler = input.plan.switchover.pooler!;
      await heartbeating(() => poolers.resume(pooler, input.database), { waitForServers: true, retryAll: true });
      Context.current().log.info('pooler resumed', { entry: poolerEntry(pooler, input.database) });
      return { resumedAt: new Date().toISOString() };
    },

    /** Every sequence's value copied to the target. */
    async copySequences(input: model.DatabaseScope): Promise<model.SequenceCopy[]> {
      return heartbeating(() => {
        const { source, target } = endpoints(input.plan);
        return switchover.copySequences(input.plan, source, target, input.database, input.targetDatabase);
      });
    },

    /** The target's materialized views refreshed as the source's are (switchover.refreshMaterializedViews). */
    async refreshMaterializedViews(input: model.DatabaseScope): Promise<string[]> {
      return heartbeating(() => {
        const { source, target } = endpoints(input.plan);
        return switchover.refreshMaterializedViews(input.plan, source, target, input.database, input.targetDatabase);
      });
    },

    /** Large objects created or unlinked on the fenced source since the full load, done on the target too. */
    async syncLargeObjects(input: model.DatabaseScope): Promise<model.LargeObjectSync> {
      return heartbeating(() => {
        const { source, target } = endpoints(input.plan);
        return largeObjects.syncLargeObjects(source, target, input.database, input.targetDatabase);
      });
    },

    /**
     * The comparison at a verification point while streaming (verify-point.ts): the stream is
     * brought to the point here, change tracking starts there, then both snapshots are compared.
     */
    async verifyAtPoint(input: model.VerifyAtPointInput): Promise<model.PointVerification> {
      return heartbeating(
        (signal) => {
          const { source, target } = endpoints(input.plan);
          return point.verifyAtPoint({
            plan: input.plan,
            source,
            target,
            database: input.database,
            targetDatabase: input.targetDatabase,
            sourceMajor: input.sourceMajor,
            checksum: input.checksum,
            signal,
            reach: (lsn) =>
              cdc.streamRound({
                ...streamOf(input, signal),
                lateTables: input.lateTables,
                lateHorizonLsn: input.lateHorizonLsn,
                maxSeconds: input.maxSeconds,
                fence: null,
                stopBefore: lsn,
              }),
            follow: (stop) =>
              cdc.streamRound({
                ...streamOf(input, AbortSignal.any([signal, stop])),
                lateTables: input.lateTables,
                lateHorizonLsn: input.lateHorizonLsn,
                // Until the comparison ends (the stop), however long it takes.
                maxSeconds: 7 * 24 * 3600,
                fence: null,
              }),
          });
        },
        { everyMs: 1_000, waitForServers: true },
      );
    },

    /** Inside the fence, after a verification point: only what the stream applied since it (compare-changed.ts). */
    async compareChanged(input: model.CompareInput): Promise<model.ChangedComparison> {
      return heartbeating(() => {
        const { source, target } = endpoints(input.plan);
        return withConnection(source, { database: input.database }, ({ client: s }) =>
          withConnection(target, { database: input.targetDatabase }, async ({ client: t }) => {
            await compare.comparableSessions(s, t);
            return changed.compareChanged(input.plan, input.database, s, t, input.checksum);
          }),
        );
      });
    },

    /** Row counts (and checksums when asked) of every table on both sides. */
    async compareTables(input: model.CompareInput): Promise<model.TableComparison[]> {
      return heartbeating(() => {
        const { source, target } = endpoints(input.plan);
        return compare.compareTables(
          input.plan,
          source,
          target,
          input.database,
          input.targetDatabase,
          input.checksum,
          input.rows,
        );
      });
    },

    /**
     * POSTs a notification to the plan's webhook. The reference is resolved here, on the worker:
     * the URL never enters history, and no error or log line names it.
     */
    async notify(input: NotifyInput): Promise<void> {
      const ctx = Context.current();
      try {
        const url = resolveSecretRef(input.webhook, 'notify.webhook', process.env, 'https://...');
        const status = await postNotification(url, input.notification, ctx.cancellationSignal);
        ctx.log.info('notification delivered', { kind: input.notification.kind, status });
      } catch (e) {
        const failure = toFailure(e);
        ctx.log.warn('notification not delivered', { kind: input.notification.kind, error: failure.message });
        throw failure;
      }
    },

    /**
     * switchover.reverse, at the switchover (source fenced and drained): the source's state schema,
     * and on the target a publication and a new slot capturing every write from now on.
     */
    async prepareReverse(input: model.DatabaseScope): Promise<model.ReversePrepared> {
      const r = await heartbeating(() => reverse.prepareReverse(input.plan, input.database, input.targetDatabase));
      Context.current().log.info('reverse replication prepared on the target', { slot: r.slot, startLsn: r.startLsn });
      return r;
    },

    /**
     * One round of the reverse stream: the target's slot applied to the fenced source, exactly once
     * (its applied position in the source's state schema). Ends as applyChanges does.
     */
    async applyReverseChanges(input: model.ApplyReverseInput): Promise<model.RoundResult> {
      const ctx = Context.current();
      const { target, source } = reverse.reverseEndpoints(input.plan);
      const { slot, publication } = reverseReplicationNames(input.plan.name, input.targetDatabase);
      return heartbeating(
        async (signal) => {
          const r = await cdc.streamRound({
            // The stream reads the target and applies to the source: the roles of the two swap.
            source: target,
            target: source,
            plan: input.plan,
            database: input.targetDatabase,
            targetDatabase: input.database,
            slot,
            publication,
            sourceMajor: input.targetMajor,
            lateTables: [],
            lateHorizonLsn: null,
            maxSeconds: input.maxSeconds,
            fence: input.fence,
            signal,
            onProgress: (p) => ctx.heartbeat(p),
            reportEverySeconds: input.progress?.everySeconds,
            onReport: (p) => {
              const { workflowId, runId } = ctx.info.workflowExecution;
              void ctx.client.workflow
                .getHandle(workflowId, runId)
                .signal(cdcProgressSignal, { ...p, stream: input.progress!.stream, attempt: ctx.info.attempt })
                .catch(() => undefined);
            },
          });
          ctx.log.info(input.fence ? 'reverse drain round ended' : 'reverse stream round ended', {
            transactions: r.transactions,
            lagBytes: r.lagBytes,
            appliedLsn: r.appliedLsn,
            fenceApplied: r.fenceApplied,
          });
          return { ...r, attempt: ctx.info.attempt };
        },
        { everyMs: 1_000, waitForServers: true },
      );
    },

    /** The rollback's fence: the target database read-only, its sessions ended, the marker written. */
    async fenceTarget(input: model.FenceTargetInput): Promise<model.FenceResult> {
      const r = await heartbeating(() =>
        switchover.fenceSource(
          endpoints(input.plan).target,
          input.targetDatabase,
          input.id,
          input.targetMajor,
          reverse.reverseKeeper(input.plan, input.database, 'target'),
        ),
      );
      Context.current().log.info('target fenced: writes stopped', { fenceLsn: r.lsn });
      return r;
    },

    /** A rollback that did not complete: the application may write to the target again. */
    async unfenceTarget(input: model.DatabaseScope): Promise<void> {
      await heartbeating(
        () =>
          switchover.unfenceSource(
            endpoints(input.plan).target,
            input.targetDatabase,
            reverse.reverseKeeper(input.plan, input.database, 'target'),
          ),
        { waitForServers: true, retryAll: true },
      );
      Context.current().log.info('target un-fenced: writable again');
    },

    /** The rollback: every sequence's value on the target set on the source. */
    async copySequencesBack(input: model.DatabaseScope): Promise<model.SequenceCopy[]> {
      return heartbeating(() => {
        const { target, source } = reverse.reverseEndpoints(input.plan);
        return switchover.copySequences(input.plan, target, source, input.targetDatabase, input.database);
      });
    },

    /** The rollback: large objects created or unlinked on the target since the switchover, done on the source. */
    async syncLargeObjectsBack(input: model.DatabaseScope): Promise<model.LargeObjectSync> {
      return heartbeating(() => {
        const { target, source } = reverse.reverseEndpoints(input.plan);
        return largeObjects.syncLargeObjects(target, source, input.targetDatabase, input.database);
      });
    },

    /** The rollback: the source's materialized views refreshed as the target has them. */
    async refreshMaterializedViewsBack(input: model.DatabaseScope): Promise<string[]> {
      return heartbeating(() => {
        const { target, source } = reverse.reverseEndpoints(input.plan);
        return switchover.refreshMaterializedViews(input.plan, target, source, input.targetDatabase, input.database);
      });
    },

    /** The rollback's end: the source writable for everyone, with its own read-only setting back. */
    async reopenSource(input: model.DatabaseScope): Promise<void> {
      await heartbeating(
        () =>
          switchover.unfenceSource(
            endpoints(input.plan).source,
            input.database,
            reverse.reverseKeeper(input.plan, input.database, 'source'),
          ),
        { waitForServers: true, retryAll: true },
      );
      Context.current().log.info('source un-fenced after the rollback: writable again');
    },

    /** Ends reverse replication: the target's slot and publication, the source's state schema. */
    async dropReverse(input: model.DatabaseScope): Promise<string[]> {
      return heartbeating(() => reverse.dropReverse(input.plan, input.database, input.targetDatabase));
    },

    /** A switchover that verified at a point did not complete: the apply stops noting changed keys. */
    async stopTracking(input: model.DatabaseScope): Promise<void> {
      return heartbeating(() =>
        withConnection(endpoints(input.plan).target, { database: input.targetDatabase }, ({ client }) =>
          changedKeys.stopTracking(client, input.plan.name, input.database),
        ),
      );
    },

    /** Removes the target's state schema when the migration is complete. */
    async dropState(input: model.DatabaseScope): Promise<void> {
      return heartbeating(() =>
        withConnection(endpoints(input.plan).target, { database: input.targetDatabase }, ({ client }) =>
          state.dropStateSchema(client),
        ),
      );
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
