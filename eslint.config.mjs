// The workflow wall: workflow code is replayed deterministically inside a sandbox,
// so it may not reach the database, the file system, the clock of the host or the
// worker/client packages. Anything that does lives in activities/ or src/.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tools/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflows are deterministic: no Node built-ins. Do this in an activity.' })),
            { name: 'pg', message: 'Workflows never talk to PostgreSQL: call an activity.' },
            { name: 'pg-copy-streams', message: 'Workflows never talk to PostgreSQL: call an activity.' },
            { name: 'pg-logical-replication', message: 'Workflows never talk to PostgreSQL: call an activity.' },
            { name: '@temporalio/worker', message: 'Workflows may import @temporalio/workflow only.' },
            { name: '@temporalio/client', message: 'Workflows may import @temporalio/workflow only.' },
            { name: '@temporalio/activity', message: 'Workflows may import @temporalio/workflow only.' },
          ],
          patterns: [
            { group: ['../src/postgres/*', '../src/temporal/*', '../src/cli/*', '../src/dev/*'], message: 'Workflows import src/plan only (and types from activities/).', allowTypeImports: true },
            { group: ['../activities/*', '../activities'], message: 'Import activity types only: import type { ... }.', allowTypeImports: true },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Workflows cannot read the environment: pass values in the input.' }],
    },
  },
);
