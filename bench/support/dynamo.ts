import { pathToFileURL } from 'node:url';
import { startDynamoDbLocal, type DynamoDbLocal } from '../../bin/local/dynamodb-local.js';
import { formatTable, passes, type BenchOutcome } from './report.js';

/**
 * Where a benchmark finds DynamoDB Local: `npm run bench` (bench/index.ts) starts one, in memory, for every module
 * and names it in the SDK's own variable, `AWS_ENDPOINT_URL_DYNAMODB`; a module run on its own starts its own when
 * that is not set (see `runStandalone`). Each module makes its own tables in it, so modules never see each other's
 * data.
 */
export function benchDynamoEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint) throw new Error('AWS_ENDPOINT_URL_DYNAMODB is not set: run the benchmarks with `npm run bench`, or the module on its own with tsx.');
  return endpoint;
}

/** Starts DynamoDB Local in memory and points the SDK at it (local credentials, a region); the caller stops it. */
export async function startBenchDynamo(): Promise<DynamoDbLocal> {
  const dynamo = await startDynamoDbLocal();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
  });
  return dynamo;
}

/** True when `moduleUrl` (a module's `import.meta.url`) is the script node was started with. */
export const isEntry = (moduleUrl: string): boolean => process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl;

/**
 * Runs a benchmark module on its own (`npx tsx bench/reads.ts`): its own DynamoDB Local, then the table of its
 * budgets; the exit code is 1 when a budget fails.
 */
export async function runStandalone(moduleUrl: string, run: () => Promise<BenchOutcome>): Promise<void> {
  if (!isEntry(moduleUrl)) return;
  const dynamo = process.env.AWS_ENDPOINT_URL_DYNAMODB ? undefined : await startBenchDynamo();
  try {
    const outcome = await run();
    console.log(`\n${formatTable(outcome.results)}`);
    for (const note of outcome.notes ?? []) console.log(note);
    process.exitCode = outcome.results.every(passes) ? 0 : 1;
  } finally {
    await dynamo?.stop();
  }
}
