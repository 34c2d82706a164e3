/**
 * switchover.reverse with fake activities on the real dev server: the rollback and finish
 * Updates refused when there is nothing to roll back, the reverse objects made inside the
 * switchover and dropped when it fails, a rollback that un-fences the target when it cannot
 * complete, and the commands a rollback and a finish run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorType } from '../../src/errors';
import { finishUpdate, rollbackUpdate, switchoverUpdate } from '../../src/model/messages';
import { createFakes, failure } from '../helpers/fake-activities';
import { answered, makePlan, migrate, rejection, updateFailure } from '../helpers/fake-migration';
import { startTemporal, workflowBundle, type TemporalHarness } from '../helpers/temporal';

describe('switchover.reverse with mocked activities', () => {
  let temporal: TemporalHarness;
  before(async () => {
    [temporal] = await Promise.all([startTemporal(), workflowBundle()]);
  });
  after(() => temporal?.stop());

  it('refuses rollback and finish on a migration without switchover.reverse, and creates nothing of it', async () => {
    const fakes = createFakes();
    await migrate(temporal, fakes, makePlan('plain'), async ({ handle, status, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      const e = updateFailure(await rejection(answered(handle.executeUpdate(rollbackUpdate))));
      assert.match(e.message, /^rollback not possible now: the plan has no switchover\.reverse/);
      const f = updateFailure(await rejection(answered(handle.executeUpdate(finishUpdate))));
      assert.match(f.message, /^finish not possible now: the plan has no switchover\.reverse/);
      await answered(handle.executeUpdate(switchoverUpdate), 60_000);
      assert.equal(fakes.callsOf('prepareReverse').length, 0);
      assert.equal(((await handle.result()) as { phase: string }).phase, 'completed');
    });
  });

  it('refuses a rollback before the switchover, then streams back and rolls back after it', async () => {
    const fakes = createFakes();
    const plan = makePlan('back', { switchover: { reverse: true } });
    await migrate(temporal, fakes, plan, async ({ handle, status, db, until }) => {
      await until('ready', async () => (await status()).databases[0]?.ready === true);
      const e = updateFailure(await rejection(answered(handle.executeUpdate(rollbackUpdate))));
      assert.match(e.message, /^rollback not possible now: the switchover has not completed \(the migration is in/);
      assert.equal(fakes.callsOf('fenceTarget').length, 0, 'a refused rollback does nothing');

      const { reports } = await answered(handle.executeUpdate(switchoverUpdate), 60_000);
      assert.match(reports[0]!.sourceNote, /reverse stream/);
      const prepared = fakes.callsOf('prepareReverse');
      assert.equal(prepared.length, 1);
      const fenced = fakes.callsOf('fenceSource')[0]!;
      assert.ok(prepared[0]!.seq > fenced.seq, 'made while the source is fenced');
      assert.ok(
        prepared[0]!.seq < fakes.callsOf('dropReplication')[0]!.seq,
        'made before the switchover commits (and lets the application onto the target)',
      );
      await until('reverse', async () => (await status()).phase === 'reverse');
      await until('the reverse stream counted', async () => ((await db()).reverse?.rounds ?? 0) > 0);

      const rolled = await answered(handle.executeUpdate(rollbackUpdate), 60_000);
      assert.equal(rolled.reports.length, 1);
      const order = [
        'fenceTarget',
        'applyReverseChanges',
        'copySequencesBack',
        'compareTables',
        'reopenSource',
        'dropReverse',
      ] as const;
      const seqs = order.map((a) => {
        const calls = fakes
          .callsOf(a)
          .filter((c) => a !== 'applyReverseChanges' || ('fence' in c.input && c.input.fence));
        assert.ok(calls.length, `${a} ran`);
        return calls[calls.length - 1]!.seq;
      });
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        `in order: ${order.join(', ')}`,
      );
      assert.equal(fakes.callsOf('unfenceTarget').length, 0);
      assert.equal(((await handle.result()) as { phase: string }).phase, 'rolled_back');
      assert.equal((await status()).rollback?.state, 'completed');
    });
  });

  it('drops the reverse objects when the switchover fails after making them', async () => {
    const fakes = createFakes();
    fakes.on.prepareReverse = async () => {
      throw failure(ErrorType.PrivilegeMissing, 'must be owner of table items');
    };
    await migrate(
      temporal,
      fakes,
      makePlan('dropped', { switchover: { reverse: true } }),
      async ({ handle, status, db, until }) => {
        await until('ready', async () => (await status()).databases[0]?.ready === true);
        const e = updateFailure(await rejection(answered(handle.executeUpdate(switchoverUpdate), 60_000)));
        assert.match(e.message, /must be owner of table items/);
        assert.equal(fakes.callsOf('unfenceSource').length, 1);
        assert.equal(fakes.callsOf('dropReverse').length, 1, 'its slot would capture the forward apply');
        await until('incremental', async () => (await db()).phase === 'incremental');
        assert.equal((await db()).reverse, undefined);
      },
    );
  });

  it('un-fences the target and goes back to reverse when the rollback cannot complete', async () => {
    const fakes = createFakes();
    fakes.on.copySequencesBack = async () => {
      throw failure(ErrorType.PrivilegeMissing, 'permission denied for sequence tickets');
    };
    await migrate(
      temporal,
      fakes,
      makePlan('stays', { switchover: { reverse: true } }),
      async ({ handle, status, db, until }) => {
        await until('ready', async () => (await status()).databases[0]?.ready === true);
        await answered(handle.executeUpdate(switchoverUpdate), 60_000);
        await until('reverse', async () => (await status()).phase === 'reverse');
        const e = updateFailure(await rejection(answered(handle.executeUpdate(rollbackUpdate), 60_000)));
        assert.match(e.message, /rollback failed, the target was un-fenced.*permission denied for sequence tickets/);
        assert.equal(fakes.callsOf('unfenceTarget').length, 1);
        assert.equal(fakes.callsOf('reopenSource').length, 0, 'the source stays fenced');
        await until('back in reverse', async () => (await db()).phase === 'reverse');
        // The reverse stream goes on, and the migration can still be finished.
        const rounds = (await db()).reverse!.rounds;
        await until('streaming again', async () => (await db()).reverse!.rounds > rounds);
        const finished = await answered(handle.executeUpdate(finishUpdate), 60_000);
        assert.equal(finished.databases.length, 1);
        assert.equal(fakes.callsOf('dropReverse').length, 1);
        assert.equal(fakes.callsOf('reopenSource').length, 0, 'finish un-fences nothing on the source');
        assert.equal(((await handle.result()) as { phase: string }).phase, 'completed');
      },
    );
  });
});
