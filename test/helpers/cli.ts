/** The pgtransit command line as an operator runs it: bin/pgtransit.js in a process of its own, against the test stack's Temporal. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Stack } from './stack';

const run = promisify(execFile);
const BIN = join(__dirname, '..', '..', 'bin', 'pgtransit.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(stack: Stack, ...args: string[]): Promise<CliResult> {
  const env = { ...process.env, TEMPORAL_ADDRESS: stack.temporal.env.address, PGTRANSIT_TASK_QUEUE: stack.taskQueue };
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
