/**
 * Determinism: every history recorded from a real run (test/workflow/histories, see
 * record.ts there) replays against today's workflow code. A change that would break
 * a running migration on upgrade fails here; put it behind patched().
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { installRuntime } from '../../src/temporal/worker';
import { workflowBundle } from '../helpers/temporal';

const dir = join(__dirname, 'histories');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('replay of recorded histories', () => {
  it('has histories of every workflow type', () => {
    const types = new Set(
      files.map((f) => {
        const { history } = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
          history: { events: { workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }[] };
        };
        return history.events[0]!.workflowExecutionStartedEventAttributes!.workflowType.name;
      }),
    );
    assert.deepEqual([...types].sort(), [
      'migrateDatabaseWorkflow',
      'migrationWorkflow',
      'precheckWorkflow',
      'verifyWorkflow',
    ]);
  });

  for (const file of files) {
    it(`replays ${file.replace(/\.json$/, '')}`, async () => {
      installRuntime('ERROR');
      const { workflowId, history } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        workflowId: string;
        history: unknown;
      };
      await Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(), replayName: file },
        historyFromJSON(history),
        workflowId,
      );
    });
  }
});
