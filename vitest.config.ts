import { readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

/**
 * Three kinds of test, named by the file's suffix (`test/<path of the code>.<kind>.test.ts`):
 * - `unit`: pure code, no DynamoDB Local and no Java; `npm run test:unit` runs only these, in seconds.
 * - `integration`: functions called directly against DynamoDB Local (started once by the global setup), and CDK synth tests.
 * - `e2e`: HTTP against the local stack (test/support/stack.ts) on the same DynamoDB Local.
 * A test file without a kind suffix would run in no project: the config refuses to load until it has one.
 */
const withDynamoDbLocal = { globalSetup: ['test/support/global-setup.ts'], setupFiles: ['test/support/env.ts'] };
const kinds = ['unit', 'integration', 'e2e'] as const;

const unsuffixed = readdirSync('test', { recursive: true, encoding: 'utf8' }).filter(
  (f) => f.endsWith('.test.ts') && !kinds.some((kind) => f.endsWith(`.${kind}.test.ts`)),
);
if (unsuffixed.length) throw new Error(`Test files need a kind suffix (.unit/.integration/.e2e.test.ts): ${unsuffixed.join(', ')}`);

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more workers only fight over them (and DynamoDB Local).
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.unit.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.integration.test.ts'],
          ...withDynamoDbLocal,
        },
      },
      { extends: true, test: { name: 'e2e', include: ['test/**/*.e2e.test.ts'], ...withDynamoDbLocal } },
    ],
  },
});
