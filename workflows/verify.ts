/** verifyWorkflow: compares source and target table by table, at any time. */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { TableComparison } from '../src/postgres/compare';
import { inspection } from './activity-options';
import { validatePlan, surface } from './precheck';
import type { PlanInput } from '../src/plan/schema';

const act = proxyActivities<Activities>({ ...inspection, startToCloseTimeout: '12 hours' });

export interface VerifyInput {
  plan: PlanInput;
  databases: { database: string; targetDatabase: string }[];
  checksum: boolean;
}

export interface VerifyReport {
  equal: boolean;
  checksum: boolean;
  databases: { database: string; targetDatabase: string; tables: TableComparison[] }[];
}

export async function verifyWorkflow(input: VerifyInput): Promise<VerifyReport> {
  const plan = validatePlan(input.plan);
  const databases = await Promise.all(
    input.databases.map(async (d) => ({ ...d, tables: await act.compareTables({ plan, database: d.database, targetDatabase: d.targetDatabase, checksum: input.checksum }) })),
  ).catch(surface);
  return { equal: databases.every((d) => d.tables.every((t) => t.equal)), checksum: input.checksum, databases };
}
