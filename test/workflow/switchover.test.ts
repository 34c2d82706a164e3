/**
 * The switchover's edges with fake activities on the real dev server: a drain that never
 * reaches the fence, a fence that fails half-way, an un-fence that has to be retried, a
 * verification whose time limit grows with the data, a writer that escaped the fence, and
 * several databases that switch over together or not at all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ErrorType } from '../../src/errors';
import { switchoverUpdate } from '../../src/model/messages';
import { createFakes, failure, heartbeatFor } from '../helpers/fake-activities';
import { answered, makePlan, migrate, rejection, updateFailure } from '../helpers/fake-migration';
import { startTemporal, workflowBundle, type TemporalHarness } from '../helpers/temporal';

describe('switchover with mocked activities', () => {
  let temporal: TemporalHarness;
  before(async () => {
    [temporal] = await Promise.all([startTemporal(), workflowBundle()]);
  });
  after(() => temporal?.stop());

  it('fails and un-fences when the drain does not reach the fence within switchover.drainTimeoutSeconds', async () => {
    const fakes = createFakes();
    fakes.on.applyChanges = async (input) => {
      await new Promise((r) => setTimeout(r, Math.min(input.maxSeconds, 1) * 1000));
      const at = '0/5000000';
      return {
        appliedLsn: at,
        processedLsn: at,
        sourceLsn: '0/9000000',
        lagBytes: 100,
        lagSeconds: 1,
        retainedWalBytes: 0,
        transactions: 0,
        counts: {},
        lastCommitTime: null,
        fenceApplied: false,
      };
    };
    const plan = makePlan('drain', { switchover: { drainTimeoutSeconds: 10, maxLagBytes: 1000 } });
    await migrate(temporal, fakes, plan, async ({ handle, status, db, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      const e = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate), 60_000)));
      assert.match(e.message, /did not reach the fence within switchover\.drainTimeoutSeconds \(10 s\)/);
      assert.equal(fakes.callsOf('unfenceSource').length, 1, 'un-fenced');
      const drains = fakes.callsOf('applyChanges').filter((c) => c.input.fence);
      assert.ok(
        drains.every((c) => c.input.maxSeconds <= 10),
        'no drain round outlives the drain’s own limit',
      );
      assert.equal((await db()).phase, 'incremental');
    });
  });

  it('un-fences when the fence fails half-way, and keeps trying to un-fence until it can', async () => {
    const fakes = createFakes();
    fakes.on.fenceSource = async () => {
      throw failure(ErrorType.PrivilegeMissing, 'must be a superuser to terminate superuser process');
    };
    let unfenceAttempts = 0;
    fakes.on.unfenceSource = async () => {
      if (++unfenceAttempts < 3)
        throw ApplicationFailure.create({ type: ErrorType.Transient, message: 'connection refused' });
    };
    await migrate(temporal, fakes, makePlan('fence'), async ({ handle, status, db, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      const e = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate), 60_000)));
      assert.match(
        e.message,
        /must be a superuser to terminate superuser process/,
        'the fence’s own failure, not the un-fence’s',
      );
      assert.equal(unfenceAttempts, 3, 'the un-fence was retried until it succeeded');
      const d = await until('back in incremental', async () => ((await db()).phase === 'incremental' ? db() : null));
      assert.ok(d.steps.some((s) => s.step === 'unfenceSource' && s.endedAt));
    });
  });

  it('gives the verification a time limit that grows with the data, and fails when a writer escaped the fence', async () => {
    const fakes = createFakes();
    let limitMs = 0;
    fakes.on.compareTables = async () => {
      limitMs = Context.current().info.startToCloseTimeoutMs;
      return [];
    };
    fakes.on.verifyFence = async () => {
      throw failure(
        ErrorType.SwitchoverFailed,
        'a transaction committed on the source after the fence (at 0/7000000, changing public.customers)',
      );
    };
    // The comparison inside the fence (switchover.verifyBeforeFence: false) is the one that grows with the data.
    const plan = makePlan('verify', { switchover: { verifyBeforeFence: false } });
    await migrate(temporal, fakes, plan, async ({ handle, status, db, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      const e = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate), 60_000)));
      assert.ok(limitMs >= 3600_000, `the verification may take at least an hour, got ${limitMs} ms`);
      assert.match(e.message, /committed on the source after the fence/);
      assert.equal(fakes.callsOf('unfenceSource').length, 1);
      assert.equal(fakes.callsOf('dropReplication').length, 0, 'nothing finished');
      await until('back in incremental', async () => (await db()).phase === 'incremental');
    });
  });

  it('abandons the switchover past switchover.timeoutSeconds after the fence, naming the step, un-fences, and the next attempt completes', async () => {
    const fakes = createFakes();
    let slow = true;
    fakes.on.compareTables = async (input) => {
      if (slow) await heartbeatFor(Infinity);
      return fakes.defaults.compareTables(input);
    };
    const plan = makePlan('budget', { switchover: { timeoutSeconds: 5, verifyBeforeFence: false } });
    await migrate(temporal, fakes, plan, async ({ handle, status, db, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      const e = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate), 60_000)));
      assert.match(
        e.message,
        /took longer than switchover\.timeoutSeconds \(5 s\) after the fence, in verify; it was abandoned/,
      );
      const verify = fakes.callsOf('compareTables')[0]!;
      await until('the verification cancelled', async () => verify.outcome === 'cancelled', 15_000);
      assert.equal(fakes.callsOf('unfenceSource').length, 1, 'un-fenced');
      assert.equal(fakes.callsOf('dropReplication').length, 0, 'nothing finished');
      await until('back in incremental', async () => (await db()).phase === 'incremental');
      await until('ready again', async () => (await status()).databases[0]?.ready === true);
      slow = false;
      const { reports } = await answered(handle.executeUpdate(switchoverUpdate), 60_000);
      assert.equal(reports.length, 1);
      assert.equal((await handle.result()).phase, 'completed');
    });
  });

  it('switches several databases over together: one that fails un-fences all, and the next attempt completes all', async () => {
    const fakes = createFakes();
    let fixed = false;
    fakes.on.copySequences = async ({ database }) => {
      if (database === 'b' && !fixed)
        throw failure(ErrorType.SwitchoverFailed, 'relation "invoice_numbers" does not exist on the target');
      return [];
    };
    const plan = makePlan('multi', { databases: ['a', 'b'] });
    await migrate(
      temporal,
      fakes,
      plan,
      async ({ handle, status, until }) => {
        await until('both ready', async () => {
          const s = await status();
          return s.databases.length === 2 && s.databases.every((d) => d.ready);
        });
        const e = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate), 60_000)));
        assert.match(e.message, /b: .*invoice_numbers/);
        const s = await status();
        assert.equal(s.switchover?.state, 'failed', 'the state ends, never stuck at running');
        const unfenced = new Set(fakes.callsOf('unfenceSource').map((c) => c.input.database));
        assert.deepEqual([...unfenced].sort(), ['a', 'b'], 'both sources un-fenced');
        assert.equal(fakes.callsOf('dropReplication').length, 0, 'neither database finished');
        await until('both ready again', async () => (await status()).databases.every((d) => d.ready));
        fixed = true;
        const { reports } = await answered(handle.executeUpdate(switchoverUpdate), 60_000);
        assert.deepEqual(reports.map((r) => r.database).sort(), ['a', 'b']);
        assert.equal((await answered(handle.result())).phase, 'completed');
        assert.deepEqual(
          fakes
            .callsOf('dropReplication')
            .map((c) => c.input.database)
            .sort(),
          ['a', 'b'],
        );
        assert.equal((await status()).switchover?.state, 'completed');
      },
      'a',
    );
  });

  it('verifies before the fence: a difference at the point fails without fencing; DDL since the point compares everything inside', async () => {
    const fakes = createFakes();
    let differ = true;
    fakes.on.verifyAtPoint = async (input) => {
      const r = await fakes.defaults.verifyAtPoint(input);
      if (!differ) return r;
      return { ...r, compared: [{ ...r.compared[0]!, targetRows: 1, equal: false }] };
    };
    // DDL replayed since the point: nothing to compare by keys.
    fakes.on.compareChanged = async () => ({ since: null, compared: [], keys: 0, keyedTables: 0, wholeTables: 0 });
    await migrate(temporal, fakes, makePlan('point'), async ({ handle, status, db, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      const e = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate), 60_000)));
      assert.match(e.message, /\(before the fence, nothing was fenced\) found differences/);
      for (const never of ['pausePooler', 'fenceSource', 'unfenceSource', 'compareChanged'] as const)
        assert.equal(fakes.callsOf(never).length, 0, never);
      await until('back in incremental', async () => (await db()).phase === 'incremental');
      await until('ready again', async () => (await status()).databases[0]?.ready === true);
      differ = false;
      const { reports } = await answered(handle.executeUpdate(switchoverUpdate), 60_000);
      assert.equal(reports.length, 1);
      const [pointCall] = fakes.callsOf('verifyAtPoint').slice(-1);
      const [fence] = fakes.callsOf('fenceSource');
      assert.ok(pointCall!.endSeq! < fence!.seq, 'the point before the fence');
      assert.equal(fakes.callsOf('compareChanged').length, 1);
      assert.equal(fakes.callsOf('compareTables').length, 1, 'everything compared inside the fence after DDL');
      const steps = (await db()).steps.map((x) => x.step);
      assert.ok(steps.includes('catchUp'), steps.join(', '));
    });
  });
  it('verify.every compares on its schedule while streaming (a long round stopped for it), the latest result in status, a difference warned of', async () => {
    const fakes = createFakes();
    let differ = false;
    fakes.on.verifyAtPoint = async (input) => {
      const r = await fakes.defaults.verifyAtPoint(input);
      return differ ? { ...r, compared: [{ ...r.compared[0]!, targetRows: 1, equal: false }] } : r;
    };
    const plan = makePlan('every', { verify: { every: '3s' } });
    await migrate(temporal, fakes, plan, async ({ handle, status, db, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      // From here a round would last a minute: the schedule has to stop it.
      fakes.roundMs = 60_000;
      const first = await until('a scheduled verification', async () => (await db()).verification?.latest);
      assert.equal(first.equal, true, JSON.stringify(first));
      assert.ok(first.tables > 0 && first.lsn, JSON.stringify(first));
      assert.equal(fakes.callsOf('verifyAtPoint')[0]!.input.checksum, true, 'verify.checksum defaults to true');
      assert.ok(fakes.callsOf('stopTracking').length >= 1, 'the tracking stops after each comparison');
      differ = true;
      const d = await until('a difference', async () => {
        const x = await db();
        return x.verification?.latest?.equal === false ? x : null;
      });
      assert.match(d.verification!.latest!.differences.join(), /source \d+ rows, target 1/);
      assert.ok(
        d.warnings.some((w) => /scheduled verification at .* found differences/.test(w)),
        d.warnings.join('\n'),
      );
      assert.equal(d.phase, 'incremental', 'the stream goes on');
      assert.equal(fakes.callsOf('fenceSource').length, 0, 'nothing fenced by a scheduled comparison');
      // Each comparison held the slot alone: no round ran at the same time.
      const points = fakes.callsOf('verifyAtPoint');
      const rounds = fakes.callsOf('applyChanges');
      for (const pt of points.filter((x) => x.endSeq !== undefined))
        assert.ok(
          rounds.every((r) => r.endSeq === undefined || r.endSeq < pt.seq || r.seq > pt.endSeq!),
          'a round overlapped a comparison',
        );
      differ = false;
      fakes.roundMs = 300;
      const { reports } = await answered(handle.executeUpdate(switchoverUpdate), 60_000);
      assert.equal(reports.length, 1);
      assert.ok((await db()).verification!.runs >= 2);
    });
  });
});
