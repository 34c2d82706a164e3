/**
 * migrationWorkflow and migrateDatabaseWorkflow on the real Temporal dev server with
 * mocked activities (samples-typescript `workflows-mocks`): the branches a real database
 * makes slow or hard to reach (snapshot lost, switchover refused or failed, conflict
 * stall, pause, continue-as-new), asserted through the queries, the result and failure
 * chain, and what the fakes were called with. No PostgreSQL anywhere.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Context } from '@temporalio/activity';
import { ErrorType } from '../../src/errors';
import {
  cdcProgressSignal,
  pauseSignal,
  resumeSignal,
  switchoverRequestSignal,
  switchoverUpdate,
} from '../../src/model/messages';
import { replicationNames } from '../../src/model/names';
import {
  FAKE_CHUNKS,
  FAKE_SNAPSHOT,
  FAKE_TABLES,
  copied,
  createFakes,
  failure,
  gate,
  heartbeatFor,
} from '../helpers/fake-activities';
import { answered, makePlan, migrate, rejection, updateFailure } from '../helpers/fake-migration';
import { startTemporal, workflowBundle, type TemporalHarness } from '../helpers/temporal';
import { sleep } from '../helpers/wait';

const TOTAL_ROWS = FAKE_CHUNKS.reduce((n, c) => n + c.estRows, 0);
const TOTAL_BYTES = FAKE_CHUNKS.reduce((n, c) => n + c.estBytes, 0);

describe('migrationWorkflow with mocked activities', () => {
  let temporal: TemporalHarness;

  before(async () => {
    [temporal] = await Promise.all([startTemporal(), workflowBundle()]);
  });

  after(async () => {
    await temporal?.stop();
  });

  it('copies the rest late when the snapshot is lost during the load, and streams those tables idempotently up to the late horizon', async () => {
    const fakes = createFakes();
    // Late copies end at these WAL positions; the highest is neither the last one nor the highest as a string.
    const horizons: Record<string, string> = {
      'public.events_2024/1': '0/9F00000',
      'public.events_2024/2': '0/10000000',
      'public.items/1': '0/FFFFF00',
    };
    fakes.on.copyChunk = async ({ chunk, snapshot }) => {
      if (snapshot !== null && chunk.id === 'public.events_2024/1') {
        throw failure(
          ErrorType.SnapshotLost,
          `chunk ${chunk.id}: the exported snapshot is gone (invalid snapshot identifier: "${snapshot}")`,
        );
      }
      return copied(chunk, snapshot, snapshot === null ? horizons[chunk.id]! : null);
    };
    const plan = makePlan('snap-lost');
    await migrate(temporal, fakes, plan, async ({ db, until }) => {
      const first = await until('the first round of change capture', async () => fakes.callsOf('applyChanges')[0]);
      // The precheck and the database run as children named after the migration.
      assert.ok(fakes.callsOf('probeServer').every((c) => c.workflowId === `migration-${plan.name}/precheck`));
      assert.equal(first.workflowId, `migration-${plan.name}/app`);

      // The chunk that met the lost snapshot is copied again outside it, and so is every later chunk.
      assert.deepEqual(
        fakes.callsOf('copyChunk').map((c) => [c.input.chunk.id, c.input.snapshot, c.outcome]),
        [
          ['public.customers/1', FAKE_SNAPSHOT.snapshot, 'completed'],
          ['public.events_2024/1', FAKE_SNAPSHOT.snapshot, 'failed'],
          ['public.events_2024/1', null, 'completed'],
          ['public.events_2024/2', null, 'completed'],
          ['public.items/1', null, 'completed'],
        ],
      );
      const s = await db();
      assert.deepEqual(s.snapshot, {
        lsn: FAKE_SNAPSHOT.lsn,
        slot: replicationNames(plan.name, 'app').slot,
        lost: true,
      });
      assert.equal(s.warnings.filter((w) => /snapshot lost/.test(w)).length, 1, JSON.stringify(s.warnings));
      assert.match(
        s.warnings.find((w) => /snapshot lost/.test(w))!,
        /chunk public\.events_2024\/1: the exported snapshot is gone/,
      );
      assert.deepEqual(s.totals, {
        chunksDone: 4,
        chunksTotal: 4,
        lateChunks: 3,
        rows: TOTAL_ROWS,
        bytes: TOTAL_BYTES,
        estBytes: FAKE_TABLES.reduce((n, t) => n + t.estBytes, 0),
      });
      assert.deepEqual(Object.fromEntries(s.tables.map((t) => [t.table, [t.chunksDone, t.lateChunks]])), {
        'public.events_2024': [2, 2],
        'public.customers': [1, 0],
        'public.items': [1, 1],
      });
      assert.equal(s.lateHorizonLsn, '0/10000000');

      // The change stream gets every name the late tables' changes may arrive under (a partition and its root), and the horizon.
      assert.deepEqual([...first.input.lateTables].sort(), ['public.events', 'public.events_2024', 'public.items']);
      assert.equal(first.input.lateHorizonLsn, '0/10000000');
      assert.equal(first.input.fence, null);
      // The schema was dumped inside the snapshot; post-data needs none.
      assert.deepEqual(
        fakes.callsOf('restoreSchema').map((c) => [c.input.section, c.input.snapshot]),
        [
          ['pre-data', FAKE_SNAPSHOT.snapshot],
          ['post-data', null],
        ],
      );
      assert.equal(fakes.callsOf('dropReplication').length, 0, 'a lost snapshot is not a failure: the slot stays');
    });
  });

  it('dumps the schema again outside the snapshot when it is lost before pre-data could read it, and copies every table late', async () => {
    const fakes = createFakes();
    fakes.on.restoreSchema = async (input) => {
      if (input.section === 'pre-data' && input.snapshot !== null)
        throw failure(
          ErrorType.SnapshotLost,
          `pg_dump --section=pre-data of app: the exported snapshot is gone (invalid snapshot identifier: "${input.snapshot}")`,
        );
      return fakes.defaults.restoreSchema(input);
    };
    const plan = makePlan('snap-lost-schema');
    await migrate(temporal, fakes, plan, async ({ db, until }) => {
      await until('the first round of change capture', async () => fakes.callsOf('applyChanges')[0]);
      assert.deepEqual(
        fakes.callsOf('restoreSchema').map((c) => [c.input.section, c.input.snapshot, c.outcome]),
        [
          ['pre-data', FAKE_SNAPSHOT.snapshot, 'failed'],
          ['pre-data', null, 'completed'],
          ['post-data', null, 'completed'],
        ],
      );
      assert.ok(
        fakes.callsOf('copyChunk').every((c) => c.input.snapshot === null),
        'no chunk is copied in the lost snapshot',
      );
      const s = await db();
      assert.equal(s.snapshot?.lost, true);
      assert.equal(s.totals.lateChunks, FAKE_CHUNKS.length);
      assert.match(
        s.warnings.join('\n'),
        /snapshot lost \(pg_dump --section=pre-data of app: the exported snapshot is gone/,
      );
      assert.equal(fakes.callsOf('dropReplication').length, 0, 'the migration goes on');
    });
  });

  describe('the switchover Update is refused when it cannot be done', () => {
    it('before incremental, and the refused request never fences later', async () => {
      const fakes = createFakes();
      const load = gate();
      fakes.on.copyChunk = async ({ chunk, snapshot }) => {
        await load.wait();
        return copied(chunk, snapshot);
      };
      await migrate(temporal, fakes, makePlan('early'), async ({ handle, status, db, until }) => {
        await until('the load to start', async () => fakes.callsOf('copyChunk').length > 0);
        assert.equal((await db()).phase, 'full_load');

        const refused = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate))));
        assert.match(refused.message, /^switchover not possible now: app: .*not incremental/);
        // The fire-and-forget form is refused the same way, and says so in status.
        await handle.signal(switchoverRequestSignal);
        const st = await until('the request to be rejected', async () => (await status()).switchover);
        assert.equal(st.state, 'failed');
        assert.match(st.error ?? '', /^rejected: app: .*not incremental/);

        // Let the migration reach incremental and run a few rounds: nothing queued a switchover.
        load.open();
        await until('incremental', async () => (await status()).databases[0]?.ready === true);
        const rounds = fakes.callsOf('applyChanges').length;
        await until('more rounds', async () => fakes.callsOf('applyChanges').length >= rounds + 2);
        assert.equal(fakes.callsOf('fenceSource').length, 0);
        assert.ok(fakes.callsOf('applyChanges').every((c) => c.input.fence === null));
      });
    });

    it('for mode full, which completes after the load without change capture', async () => {
      const fakes = createFakes();
      const load = gate();
      fakes.on.copyChunk = async ({ chunk, snapshot }) => {
        await load.wait();
        return copied(chunk, snapshot);
      };
      // customers in two chunks: its indexes are built during the load; events_2024 (two chunks too) is a partition.
      const [customers, ...rest] = FAKE_CHUNKS;
      const half = {
        estBytes: customers!.estBytes / 2,
        estRows: customers!.estRows / 2,
        parts: 2,
        kind: 'key' as const,
        column: 'id',
      };
      fakes.on.planChunks = async () => ({
        tables: FAKE_TABLES,
        chunks: [
          { ...customers!, ...half, id: 'public.customers/1', part: 1, lo: null, hi: '75001' },
          { ...customers!, ...half, id: 'public.customers/2', part: 2, lo: '75001', hi: null },
          ...rest,
        ],
      });
      const plan = makePlan('full', { mode: 'full' });
      await migrate(temporal, fakes, plan, async ({ handle, db, until }) => {
        await until('the load to start', async () => fakes.callsOf('copyChunk').length > 0);
        const refused = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate))));
        assert.match(refused.message, /^switchover not possible now: mode full has no switchover/);

        load.open();
        const result = await answered(handle.result());
        assert.deepEqual(result, {
          phase: 'completed',
          databases: [
            {
              database: 'app',
              phase: 'completed',
              rows: TOTAL_ROWS,
              bytes: TOTAL_BYTES,
              lateChunks: 0,
              slot: null,
              lsn: FAKE_SNAPSHOT.lsn,
            },
          ],
        });
        assert.equal((await db()).phase, 'completed');
        for (const never of ['createPublication', 'applyChanges', 'fenceSource', 'dropReplication'] as const)
          assert.equal(fakes.callsOf(never).length, 0, never);
        assert.equal(fakes.callsOf('dropState').length, 1);
        assert.ok(fakes.callsOf('copyChunk').every((c) => c.input.snapshot === FAKE_SNAPSHOT.snapshot));
        // The table in two chunks gets its indexes once both are copied, before post-data; the others (a partition) in post-data.
        const restores = fakes.callsOf('restoreSchema');
        assert.deepEqual(
          restores.map((c) => [
            c.input.section,
            c.input.table ? `${c.input.table.schema}.${c.input.table.name}` : null,
          ]),
          [
            ['pre-data', null],
            ['post-data', 'public.customers'],
            ['post-data', null],
          ],
        );
        const lastChunk = Math.max(
          ...fakes
            .callsOf('copyChunk')
            .filter((c) => c.input.chunk.name === 'customers')
            .map((c) => c.endSeq!),
        );
        assert.ok(restores[1]!.seq > lastChunk, 'built after the table is copied');
        assert.match(
          (await db()).steps.find((x) => x.step === 'copy')!.detail!,
          /indexes of 1 table built during the copy/,
        );
      });
    });
  });

  it('un-fences the source when the switchover fails, returns to incremental, and a second switchover completes', async () => {
    const fakes = createFakes();
    const denied = 'permission denied for sequence public.customers_id_seq';
    fakes.on.copySequences = async () => {
      throw failure(ErrorType.PrivilegeMissing, denied);
    };
    await migrate(temporal, fakes, makePlan('unfence'), async ({ handle, status, db, until }) => {
      await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);

      const failed = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate))));
      assert.equal(failed.type, ErrorType.SwitchoverFailed);
      assert.match(failed.message, /un-fenced/);
      assert.match(failed.message, new RegExp(denied));
      const [fence, ...moreFences] = fakes.callsOf('fenceSource');
      const unfences = fakes.callsOf('unfenceSource');
      assert.ok(fence && moreFences.length === 0);
      assert.equal(unfences.length, 1);
      assert.ok(unfences[0]!.seq > fence.endSeq!, 'unfenceSource runs after fenceSource');
      assert.equal(fakes.callsOf('copySequences').length, 1, 'a non-retryable failure is not retried');
      // The drain ran to the fence fenceSource returned.
      const drains = fakes.callsOf('applyChanges').filter((c) => c.input.fence !== null);
      assert.deepEqual(
        drains.map((c) => c.input.fence),
        [{ id: fence.result!.id, lsn: fence.result!.lsn }],
      );
      for (const never of ['compareTables', 'dropReplication', 'dropState'] as const)
        assert.equal(fakes.callsOf(never).length, 0, never);

      const back = await until('back in incremental', async () => {
        const s = await db();
        return s.phase === 'incremental' && s.warnings.length > 0 && s;
      });
      assert.ok(
        back.warnings.some((w) => w.startsWith('switchover failed: ') && w.includes(denied)),
        JSON.stringify(back.warnings),
      );
      assert.ok(back.steps.some((x) => x.step === 'unfenceSource' && x.endedAt));
      assert.equal((await status()).switchover?.state, 'failed');
      // Change capture goes on after the un-fence.
      await until('a round after the un-fence', async () =>
        fakes
          .callsOf('applyChanges')
          .some((c) => c.seq > unfences[0]!.seq && c.input.fence === null && c.outcome === 'completed'),
      );

      fakes.on.copySequences = undefined;
      const { reports } = await answered(handle.executeUpdate(switchoverUpdate));
      const second = fakes.callsOf('fenceSource')[1];
      assert.ok(second);
      assert.equal(reports.length, 1);
      assert.deepEqual(
        { ...reports[0]!, fencedAt: undefined, doneAt: undefined, writeDowntimeMs: undefined, sourceNote: undefined },
        {
          database: 'app',
          fencedAt: undefined,
          doneAt: undefined,
          writeDowntimeMs: undefined,
          terminatedSessions: 2,
          fenceLsn: second.result!.lsn,
          tablesVerified: FAKE_TABLES.length,
          verify: 'count',
          sequencesCopied: 1,
          slotKept: false,
          sourceNote: undefined,
        },
      );
      const result = await answered(handle.result());
      assert.equal(result.phase, 'completed');
      assert.equal(result.databases[0]?.phase, 'completed');
      assert.equal(fakes.callsOf('unfenceSource').length, 1, 'a switchover that completes leaves the source fenced');
      assert.equal(fakes.callsOf('dropReplication').length, 1);
      assert.equal(fakes.callsOf('dropState').length, 1);
      // Verified before each fence (at a point), then inside it only what changed since.
      assert.equal(fakes.callsOf('verifyAtPoint').length, 2);
      assert.deepEqual(
        fakes.callsOf('compareChanged').map((c) => c.input.checksum),
        [false],
      );
      const done = await db();
      assert.equal(done.phase, 'completed');
      assert.deepEqual(done.switchover, reports[0]);
      assert.equal((await status()).switchover?.state, 'completed');
    });
  });

  it('leaves no error behind once a switchover completes after a failed one', async () => {
    // The failed attempt stays in warnings; `error` (what `pgtransit status` prints as "error:") is the current state.
    const fakes = createFakes();
    fakes.on.copySequences = async () => {
      throw failure(ErrorType.PrivilegeMissing, 'permission denied for sequence public.customers_id_seq');
    };
    await migrate(temporal, fakes, makePlan('stale-error'), async ({ handle, status, db, until }) => {
      await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);
      await rejection(answered(handle.executeUpdate(switchoverUpdate)));
      await until('back in incremental', async () => {
        const s = await db();
        return s.phase === 'incremental' && s.warnings.length > 0;
      });
      fakes.on.copySequences = undefined;
      await answered(handle.executeUpdate(switchoverUpdate));
      assert.equal((await answered(handle.result())).phase, 'completed');
      const done = await db();
      assert.equal(done.phase, 'completed');
      assert.ok(
        done.warnings.some((w) => w.startsWith('switchover failed: ')),
        'the failed attempt stays in the warnings',
      );
      assert.equal(done.error, undefined, `the completed database still reports an error: ${done.error}`);
    });
  });

  it('installs DDL capture before the publication, and removes it at completion even when the slot is kept', async () => {
    const fakes = createFakes();
    const plan = makePlan('ddl-keep', { switchover: { keepSlot: true } });
    await migrate(temporal, fakes, plan, async ({ handle, status, db, until }) => {
      await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);
      await answered(handle.executeUpdate(switchoverUpdate));
      assert.equal((await answered(handle.result())).phase, 'completed');
      const steps = (await db()).steps.map((x) => x.step);
      assert.ok(steps.indexOf('installDdlCapture') >= 0, steps.join(', '));
      assert.ok(steps.indexOf('installDdlCapture') < steps.indexOf('createPublication'), steps.join(', '));
      assert.equal(fakes.callsOf('dropReplication').length, 0, 'the slot is kept');
      assert.equal(fakes.callsOf('dropDdlCapture').length, 1, 'the event triggers are not');
    });
  });

  it('cdc.ddl: stop installs no DDL capture', async () => {
    const fakes = createFakes();
    await migrate(
      temporal,
      fakes,
      makePlan('ddl-stop', { cdc: { roundSeconds: 1, ddl: 'stop' } }),
      async ({ handle, status, until }) => {
        await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);
        await answered(handle.executeUpdate(switchoverUpdate));
        assert.equal((await answered(handle.result())).phase, 'completed');
        assert.equal(fakes.callsOf('installDdlCapture').length, 0);
        assert.equal(fakes.callsOf('dropDdlCapture').length, 0);
        assert.equal(fakes.callsOf('dropReplication').length, 1);
      },
    );
  });

  it('stalls on an apply conflict without retrying, and applies again after resume', async () => {
    const fakes = createFakes();
    const conflict =
      'conflict on public.customers: UPDATE of (id)=(42) found no row on the target (cdc.conflictPolicy error)';
    const details = { table: 'public.customers', kind: 'update', key: { id: '42' }, lsn: '0/3004A10' };
    await migrate(temporal, fakes, makePlan('stall'), async ({ handle, status, db, until }) => {
      await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);
      fakes.on.applyChanges = async () => {
        throw failure(ErrorType.ApplyConflict, conflict, details);
      };

      const s = await until('the stall', async () => {
        const d = await db();
        return d.cdc?.stalled && d;
      });
      assert.deepEqual(s.cdc!.stalled, { reason: conflict, type: ErrorType.ApplyConflict, details });
      assert.equal(s.error, conflict);
      const entry = await until('the parent to hear of it', async () =>
        (await status()).databases.find((d) => d.ready === false),
      );
      assert.match(entry.reason ?? '', /^applying stopped: conflict on public\.customers/);
      assert.match(
        updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate)))).message,
        /applying stopped/,
      );

      // Stalled means stopped: neither the retry policy nor the workflow loop tries again.
      const failedCalls = fakes.callsOf('applyChanges').filter((c) => c.outcome === 'failed');
      assert.equal(failedCalls.length, 1);
      const count = fakes.callsOf('applyChanges').length;
      await sleep(2_000);
      assert.equal(fakes.callsOf('applyChanges').length, count);

      // The operator fixed the row: resume (sent to the parent, forwarded to the database).
      fakes.on.applyChanges = undefined;
      await handle.signal(resumeSignal);
      await until('rounds again', async () =>
        fakes.callsOf('applyChanges').some((c) => c.seq > failedCalls[0]!.seq && c.outcome === 'completed'),
      );
      const resumed = await until('the stall to clear', async () => {
        const d = await db();
        return !d.cdc?.stalled && d;
      });
      assert.equal(resumed.error, undefined);
      await until('ready again', async () => (await status()).databases[0]?.ready === true);
    });
  });

  it('continues as new during change capture, carrying the status', async () => {
    const fakes = createFakes();
    await migrate(
      temporal,
      fakes,
      makePlan('can', { cdc: { roundSeconds: 1, roundsPerRun: 2 } }),
      async ({ plan, child, db, until }) => {
        const runs = () => [...new Set(fakes.callsOf('applyChanges').map((c) => c.runId))];
        await until('rounds in a second run', async () => runs().length >= 2);
        const [firstRun, secondRun] = runs() as [string, string];
        assert.equal(fakes.callsOf('prepareTarget')[0]?.runId, firstRun, 'the load ran in the first run');
        const old = await temporal.env.client.workflow.getHandle(child.workflowId, firstRun).describe();
        assert.equal(old.status.name, 'CONTINUED_AS_NEW');
        const latest = await child.describe();
        assert.notEqual(latest.runId, firstRun);
        assert.equal(latest.status.name, 'RUNNING');

        const s = await db();
        assert.equal(s.phase, 'incremental');
        assert.equal(s.totals.chunksDone, s.totals.chunksTotal);
        assert.deepEqual(
          [s.totals.chunksTotal, s.totals.rows, s.totals.bytes],
          [FAKE_CHUNKS.length, TOTAL_ROWS, TOTAL_BYTES],
        );
        assert.deepEqual(s.snapshot, {
          lsn: FAKE_SNAPSHOT.lsn,
          slot: replicationNames(plan.name, 'app').slot,
          lost: false,
        });
        assert.ok(
          s.steps.some((x) => x.step === 'copy' && x.endedAt),
          "the first run's steps are carried",
        );
        assert.ok(s.cdc!.rounds >= 2, `rounds ${s.cdc!.rounds}`);

        const later = await until('more rounds in later runs', async () => {
          const d = await db();
          return d.cdc!.rounds >= s.cdc!.rounds + 3 && d;
        });
        assert.notEqual((await child.describe()).runId, secondRun, 'it went on continuing as new');
        assert.equal(later.totals.rows, TOTAL_ROWS);
        assert.equal(
          later.cdc!.tables['public.customers']!.insert,
          later.cdc!.rounds,
          'per-table counts add up across runs',
        );
        // Nothing of the load is redone by a new run.
        for (const once of [
          'prepareTarget',
          'installDdlCapture',
          'createPublication',
          'holdSnapshot',
          'planChunks',
        ] as const)
          assert.equal(fakes.callsOf(once).length, 1, once);
        assert.equal(fakes.callsOf('copyChunk').length, FAKE_CHUNKS.length);
      },
    );
  });

  for (const stop of ['switchover', 'pause'] as const) {
    it(`a round stopped for a ${stop} whose worker dies before it answers does not end the migration`, async () => {
      const fakes = createFakes();
      // A round that hears of its cancellation and then falls silent, as a killed worker does:
      // the server times its heartbeat out and does not retry it (its cancellation was requested).
      const silent: number[] = [];
      fakes.on.applyChanges = async (input) => {
        if (input.fence || fakes.roundMs !== Infinity) return fakes.defaults.applyChanges(input);
        const { cancellationSignal } = Context.current();
        await heartbeatFor(Infinity).catch(() => undefined);
        fakes.roundMs = 300;
        silent.push(Date.now());
        await sleep(8_000);
        throw cancellationSignal.reason;
      };
      await migrate(
        temporal,
        fakes,
        makePlan(`silent-${stop}`, { cdc: { roundSeconds: 60 } }),
        async ({ handle, status, db, until }) => {
          await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);
          fakes.roundMs = Infinity;
          const from = fakes.callsOf('applyChanges').length;
          await until('a long round', async () => {
            const c = fakes.callsOf('applyChanges')[from];
            return c && !c.outcome && (await db()).cdc?.streaming && c;
          });
          if (stop === 'switchover') {
            const r = await answered(handle.executeUpdate(switchoverUpdate), 60_000);
            assert.equal(r.reports.length, 1);
            assert.equal((await handle.result()).phase, 'completed');
          } else {
            await handle.signal(pauseSignal);
            await until(
              'the silent round to time out',
              async () => silent.length === 1 && Date.now() - silent[0]! > 7_000,
              30_000,
            );
            await sleep(1_000);
            const d = await db();
            assert.equal(d.phase, 'incremental', d.error);
            assert.equal(d.cdc?.paused, true);
            await handle.signal(resumeSignal);
            await until('a new round', async () => fakes.callsOf('applyChanges').length > from + 1);
            assert.equal((await db()).phase, 'incremental');
          }
        },
      );
    });
  }

  it('tells the migration when a long stream’s reports cross the lag bound, so the switchover is refused up front', async () => {
    const fakes = createFakes();
    let lagBytes = 0;
    fakes.on.applyChanges = async (input) => {
      if (input.fence || !input.progress) return fakes.defaults.applyChanges(input);
      const ctx = Context.current();
      const { workflowId, runId } = ctx.info.workflowExecution;
      const report = () =>
        ctx.client.workflow.getHandle(workflowId, runId).signal(cdcProgressSignal, {
          stream: input.progress!.stream,
          attempt: ctx.info.attempt,
          appliedLsn: '0/3000000',
          processedLsn: '0/3000000',
          sourceLsn: '0/3000000',
          lagBytes,
          lagSeconds: lagBytes ? 5 : 0,
          transactions: 0,
          counts: {},
          largeTransaction: null,
        });
      // The stream stays open, reporting every 200 ms, until cancelled.
      const beat = setInterval(() => void report().catch(() => undefined), 200);
      try {
        await heartbeatFor(Infinity);
      } finally {
        clearInterval(beat);
      }
      throw new Error('unreachable');
    };
    const plan = makePlan('ready-reports', { cdc: { roundSeconds: 1, streamSeconds: 600 } });
    await migrate(temporal, fakes, plan, async ({ handle, status, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      lagBytes = 50 * 1024 * 1024;
      const entry = await until('the migration hears the lag', async () =>
        (await status()).databases.find((d) => d.ready === false),
      );
      assert.match(entry.reason ?? '', /lag 52428800 bytes is above switchover\.maxLagBytes/);
      const refused = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate))));
      assert.match(refused.message, /switchover not possible now: app: lag 52428800 bytes is above/);
      assert.equal(fakes.callsOf('fenceSource').length, 0, 'refused before anything was fenced');
      lagBytes = 0;
      await until('ready again', async () => (await status()).databases[0]?.ready === true);
    });
  });

  it('pause cancels the running round at once, and resume starts a new one', async () => {
    const fakes = createFakes();
    await migrate(
      temporal,
      fakes,
      makePlan('pause', { cdc: { roundSeconds: 60 } }),
      async ({ handle, status, db, until }) => {
        await until('ready for switchover', async () => (await status()).databases[0]?.ready === true);
        // From now on a round only ends at its 60 s limit, or when cancelled.
        fakes.roundMs = Infinity;
        const from = fakes.callsOf('applyChanges').length;
        const running = await until('a long round', async () => {
          const c = fakes.callsOf('applyChanges')[from];
          return c && !c.outcome && (await db()).cdc?.streaming && c;
        });
        await handle.signal(pauseSignal);
        // Cancelled, not ended by its 60 s limit (the heartbeat throttle delays it by up to 0.8 x heartbeatTimeout).
        await until('the round to see its cancellation', async () => running.outcome === 'cancelled', 15_000);
        assert.equal(running.cancelReason, 'CANCELLED');
        const s = await until('paused', async () => {
          const d = await db();
          return d.cdc?.paused && !d.cdc.streaming && d;
        });
        assert.equal(s.cdc!.stalled, undefined);
        const entry = await until('the parent to hear of it', async () =>
          (await status()).databases.find((d) => d.ready === false),
        );
        assert.equal(entry.reason, 'paused');
        const count = fakes.callsOf('applyChanges').length;
        await sleep(1_000);
        assert.equal(fakes.callsOf('applyChanges').length, count, 'no round while paused');

        await handle.signal(resumeSignal);
        await until('a new round', async () => fakes.callsOf('applyChanges').length > count);
        assert.equal((await db()).cdc?.paused, false);
      },
    );
  });
});
