/** The assessment's checks: unique ids of the documented form, each in the README's table. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_CHECKS, SERVER_CHECKS } from '../../src/postgres/assess';

const ids = [...DATABASE_CHECKS, ...SERVER_CHECKS].map((c) => c.id);

describe('assessment checks', () => {
  it('have unique ids of the form scope.name, matching their scope', () => {
    assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids.filter((id, i) => ids.indexOf(id) !== i)}`);
    for (const c of [...DATABASE_CHECKS, ...SERVER_CHECKS]) {
      assert.match(c.id, /^(source|target|pair|plan|worker)\.[a-z_]+$/);
      assert.equal(c.id.split('.')[0], c.scope, `${c.id} has scope ${c.scope}`);
    }
  });

  it('are each documented in the README', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('### The assessment'));
    const missing = ids.filter((id) => !table.includes(`\`${id}\``));
    assert.deepEqual(missing, [], 'add a row for each to the README table under "The assessment"');
  });
});
