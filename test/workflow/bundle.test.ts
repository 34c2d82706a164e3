/** The workflow wall: what workflows/ may not import fails in CI, not in production. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ESLint } from 'eslint';
import { workflowBundle } from '../helpers/temporal';

const root = join(__dirname, '..', '..');
const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never;

describe('workflow bundle', () => {
  it('bundles workflows/ with bundleWorkflowCode', async () => {
    const bundle = await workflowBundle();
    assert.match(bundle.code, /precheckWorkflow/);
  });

  it('fails to bundle a workflow that imports pg', async () => {
    const dir = mkdtempSync(join(root, 'node_modules', '.wf-bad-'));
    const file = join(dir, 'index.ts');
    writeFileSync(file, `import pg from 'pg';\nexport async function badWorkflow() { return typeof pg.Client; }\n`);
    await assert.rejects(bundleWorkflowCode({ workflowsPath: file, logger: quiet }));
  });

  it('ESLint forbids pg, node built-ins and the worker package in workflows/', async () => {
    const eslint = new ESLint({ cwd: root });
    const code = [
      `import pg from 'pg';`,
      `import { readFileSync } from 'node:fs';`,
      `import { Worker } from '@temporalio/worker';`,
      `export const x = [pg, readFileSync, Worker, process.env];`,
      '',
    ].join('\n');
    const [result] = await eslint.lintText(code, { filePath: join(root, 'workflows', 'bad.ts') });
    const messages = result!.messages.map((m) => m.message).join('\n');
    assert.match(messages, /Workflows never talk to PostgreSQL/);
    assert.match(messages, /no Node built-ins/);
    assert.match(messages, /Workflows may import @temporalio\/workflow only/);
    assert.match(messages, /cannot read the environment/);
  });

  it('ESLint passes on the real workflows/', async () => {
    const eslint = new ESLint({ cwd: root });
    const results = await eslint.lintFiles(['workflows/**/*.ts']);
    assert.equal(
      results.reduce((n, r) => n + r.errorCount, 0),
      0,
    );
  });
});
