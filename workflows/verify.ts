/** verifyWorkflow: compares source and target table by table, at any time. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { VerifyInput, VerifyReport } from '../src/model/workflows';
import { inspection } from './activity-options';
import { surface, validatePlan } from './failures';

const comparing = proxyActivities<Activities>({ ...inspection, startToCloseTimeout: '12 hours' });

export async function verifyWorkflow(input: VerifyInput): Promise<VerifyReport> {
  const plan = validatePlan(input.plan);
  const databases = await Promise.all(
    input.databases.map(async (d) => ({
      ...d,
      tables: await comparing.compareTables({
        plan,
        database: d.database,
        targetDatabase: d.targetDatabase,
        checksum: input.checksum,
        ...(input.rows ? { rows: input.rows } : {}),
      }),
    })),
  ).catch(surface);
  return {
    equal: databases.every((d) => d.tables.every((t) => t.equal)),
    checksum: input.checksum || input.rows !== undefined,
    databases,
  };
}
