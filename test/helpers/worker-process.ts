/** `pgtransit worker` as a separate process, so a test can kill it like a crashed machine. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

export interface WorkerProcess {
  pid: number;
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a worker on `taskQueue`; it inherits this process's environment (the env: URLs of the plans),
 * with `env` and `args` (flags of `pgtransit worker`) on top.
 */
export function spawnWorker(
  address: string,
  taskQueue: string,
  options: { env?: NodeJS.ProcessEnv; args?: string[] } = {},
): WorkerProcess {
  const child = spawn(process.execPath, [join(root, 'bin', 'pgtransit.js'), 'worker', ...(options.args ?? [])], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      PGTRANSIT_TASK_QUEUE: taskQueue,
      PGTRANSIT_LOG_LEVEL: process.env.PGTRANSIT_WORKER_LOG_LEVEL ?? 'ERROR',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    child,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
