import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { planJsonSchema } from '../../src/plan/load';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'pgt-cli-'));

async function pgtransit(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [
      join(root, 'bin', 'pgtransit.js'),
      ...args,
    ]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('pgtransit plan', () => {
  it('check accepts the example plan', async () => {
    const r = await pgtransit('plan', 'check', '-f', join(root, 'examples', 'plan.yaml'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /plan shop-move is valid/);
  });

  it('check names every bad field and exits 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'name: shop-move\nsource: { url: "postgres://app:hunter2@db/shop" }\ntarget: { url: env:T }\nfullLoad: { parallelism: 0, extra: 1 }\n',
    );
    const r = await pgtransit('plan', 'check', '-f', file);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^source\.url: a literal password/m);
    assert.match(r.stderr, /^fullLoad: unknown field\(s\) "extra"/m);
    assert.match(r.stderr, /^fullLoad\.parallelism: /m);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  it('check reports a YAML syntax error with the file name', async () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    const r = await pgtransit('plan', 'check', '-f', file);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /broken\.yaml is not valid YAML/);
  });

  it('the committed JSON Schema is the one the code generates', () => {
    const committed = JSON.parse(readFileSync(join(root, 'schema', 'plan.schema.json'), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(planJsonSchema())), 'run npm run plan:schema');
  });

  it('unknown commands exit 1 with the usage', async () => {
    const r = await pgtransit('migrate-everything');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Usage:/);
  });
});
