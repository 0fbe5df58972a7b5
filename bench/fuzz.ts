/**
 * `npm run bench:fuzz [-- <count>] [-- --seed <seed>]`: the request fuzzer of test/http/fuzz.e2e.test.ts
 * (test/support/fuzz.ts: every route of the route table, real ids and junk, headers and bodies from each route's
 * schemas) for 50,000 requests by default, against the local stack in this process on a DynamoDB Local of its own
 * (in memory; the one named by AWS_ENDPOINT_URL_DYNAMODB when set).
 *
 * Prints the number of requests, the statuses they got and every failure (a 5xx, a 4xx that is not a problem document
 * of its status, an answer without x-request-id) with its seed, batch and request; the exit code is 1 on any failure.
 * The objects the fuzz names are made afresh every 2,000 requests (it deletes and merges what it names).
 */
import '../bin/local/preamble.js';
import { startBenchDynamo } from './support/dynamo.js';
import { startBenchStack } from './support/stack.js';
import { formatFailure, fuzzWorlds, runFuzz } from '../test/support/fuzz.js';

function parseArgs(argv: readonly string[]): { count: number; seed: number } {
  let count = 50_000;
  let seed = Date.now() % 2 ** 31;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--seed') seed = Number(argv[++i]);
    else count = Number(arg);
    if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(seed)) {
      throw new Error(`Usage: npm run bench:fuzz [-- <count>] [-- --seed <seed>] (got ${argv.join(' ')})`);
    }
  }
  return { count, seed };
}

const { count, seed } = parseArgs(process.argv.slice(2));
const dynamo = process.env.AWS_ENDPOINT_URL_DYNAMODB ? undefined : await startBenchDynamo();
let failed = true;
try {
  const stack = await startBenchStack();
  try {
    console.log(`fuzz: ${count} requests, seed ${seed} (npm run bench:fuzz -- ${count} --seed ${seed} to run them again)`);
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    let lastPrinted = 0;
    const result = await runFuzz({
      baseUrl: stack.facts.apiUrl,
      seed,
      count,
      batchSize: 250,
      concurrency: 8,
      world: fuzzWorlds(stack.facts.apiUrl, stack.facts, 8),
      onBatch: (done) => {
        if (done - lastPrinted >= 5_000 || done === count) {
          lastPrinted = done;
          console.log(`  ${done} requests, ${seconds().toFixed(0)} s`);
        }
      },
    });
    const statuses = [...result.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    console.log(`\nfuzz: ${result.requests} requests in ${seconds().toFixed(1)} s (${(result.requests / seconds()).toFixed(0)}/s), seed ${seed}`);
    console.log(`statuses: ${statuses.join(' ')}`);
    console.log(
      `routes called: ${[...result.byRoute.keys()].filter((k) => k !== '(outside the table)').length}, requests outside the table: ${result.byRoute.get('(outside the table)') ?? 0}`,
    );
    // Not a failure of the property (each is a problem document), but the OpenAPI document does not list it.
    if (result.undeclared.size) {
      const withBody = [...result.undeclared].filter(([key]) => key.endsWith('takes none of)'));
      const others = [...result.undeclared].filter(([key]) => !key.endsWith('takes none of)'));
      console.log(
        `\nerror statuses the OpenAPI document does not declare for the route: ${withBody.reduce((n, [, c]) => n + c, 0)} to a body sent to a route that takes none (${withBody.length} route/status pairs), and:`,
      );
      for (const [key, n] of others.sort((x, y) => y[1] - x[1])) console.log(`  ${key} ×${n}`);
    }
    if (result.failures.length) {
      console.log(`\n${result.failures.length} FAILURE(S), seed ${seed}:`);
      for (const failure of result.failures.slice(0, 50)) console.log(formatFailure(failure));
    } else {
      console.log('failures: none (no 5xx, every 4xx a problem document of its status, every answer with x-request-id)');
    }
    failed = result.failures.length > 0;
  } finally {
    await stack.stop();
  }
} finally {
  await dynamo?.stop();
}
process.exitCode = failed ? 1 : 0;
