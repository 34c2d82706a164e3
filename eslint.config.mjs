// The workflow wall: workflow code is replayed deterministically inside a sandbox,
// so it may not reach the database, the file system, the clock of the host or the
// worker/client packages. Anything that does lives in activities/ or src/.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.tools/**', 'test/corpus/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Prettier wraps code at 120; what it cannot wrap (long strings) stops here.
      'max-len': ['error', { code: 160, ignoreUrls: true }],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', process: 'readonly', __dirname: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({
              name,
              message: 'Workflows are deterministic: no Node built-ins. Do this in an activity.',
            })),
            { name: 'pg', message: 'Workflows never talk to PostgreSQL: call an activity.' },
            { name: 'pg-copy-streams', message: 'Workflows never talk to PostgreSQL: call an activity.' },
            { name: 'pg-logical-replication', message: 'Workflows never talk to PostgreSQL: call an activity.' },
            { name: '@temporalio/worker', message: 'Workflows may import @temporalio/workflow only.' },
            { name: '@temporalio/client', message: 'Workflows may import @temporalio/workflow only.' },
            { name: '@temporalio/activity', message: 'Workflows may import @temporalio/workflow only.' },
          ],
          patterns: [
            {
              group: [
                '**/src/postgres',
                '**/src/postgres/**',
                '**/src/temporal/**',
                '**/src/cli/**',
                '**/src/dev/**',
                '**/src/plan/load',
                '**/src/plan/secrets',
              ],
              message:
                'Workflows import src/model, the pure src/plan modules and src/errors only (types included): shared types belong in src/model.',
            },
            {
              group: ['**/activities/*', '**/activities'],
              message: 'Import activity types only: import type { ... }.',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflows cannot read the environment: pass values in the input.' },
      ],
    },
  },
);
