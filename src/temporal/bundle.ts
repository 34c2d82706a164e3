/** The workflow bundle built in a child process, so the worker's peak memory is its own work. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHILD = join(__dirname, 'bundle-child.js');

/**
 * Bundles `workflowsPath` in `node bundle-child.js` and returns the code's path. The caller
 * removes the directory once the worker has loaded it (the worker reads the file at create).
 * `failureConverterPath` is built into the bundle: the failure converter runs in the sandbox.
 */
export async function bundleInChildProcess(
  workflowsPath: string,
  options: { failureConverterPath?: string } = {},
): Promise<{ codePath: string; dispose(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'pgtransit-bundle-'));
  const codePath = join(dir, 'workflows.js');
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(
        process.execPath,
        [CHILD, workflowsPath, codePath, ...(options.failureConverterPath ? [options.failureConverterPath] : [])],
        { maxBuffer: 16 << 20 },
        (e, _out, err) =>
          e ? reject(new Error(`bundling the workflows failed: ${err.trim() || e.message}`)) : resolve(),
      ),
    );
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { codePath, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
