import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/http/route-table.js';
import { routeKey } from '../../functions/http/route.js';
import { formatFailure, fuzzWorlds, runFuzz } from '../support/fuzz.js';
import { startTestApi, type TestApi } from '../support/stack.js';

/**
 * Generated requests for every route of the route table (test/support/fuzz.ts): paths with the company's real ids,
 * another company's and junk, query parameters, headers and bodies from each route's schemas, near-valid and not.
 * No answer may be a 5xx; every 4xx is a problem document of its status; every answer has a request id.
 * `npm run bench:fuzz` runs the same generator for 50,000 requests.
 *
 * The seed is printed; FUZZ_SEED=<seed> runs the same requests again (against a world built afresh, so a failure
 * that depends on what earlier requests changed may need the whole run).
 */

const CASES = Number(process.env.FUZZ_CASES ?? 3_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.stack.stop();
});

describe('fuzzed requests', () => {
  it(`never get a 5xx and always a problem document for an error (${CASES} requests)`, { timeout: 180_000 }, async () => {
    console.log(`fuzz seed ${seed} (FUZZ_SEED=${seed} to run it again)`);
    const result = await runFuzz({
      baseUrl: api.url,
      seed,
      count: CASES,
      batchSize: 250,
      concurrency: 6,
      world: fuzzWorlds(api.url, api.facts, 2),
      onAnswer: process.env.FUZZ_LOG
        ? (request, status, text) =>
            appendFileSync(process.env.FUZZ_LOG!, `${JSON.stringify({ ...request, body: request.body?.slice(0, 300), status, text: text.slice(0, 200) })}\n`)
        : undefined,
    });
    const statuses = [...result.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
    console.log(`fuzz: ${result.requests} requests, statuses ${statuses.join(' ')}`);
    const undeclared = [...result.undeclared.keys()].filter((key) => !key.endsWith('takes none of)'));
    if (undeclared.length)
      console.log(`error statuses the OpenAPI document does not declare (besides bodies sent to routes that take none): ${undeclared.join('; ')}`);
    expect(result.requests).toBe(CASES);
    // The generator reaches every route of the table.
    const missed = allRoutes.map(routeKey).filter((key) => !result.byRoute.has(key));
    expect(missed, `routes the fuzz never called (seed ${seed})`).toEqual([]);
    const shown = result.failures.slice(0, 15).map(formatFailure);
    expect(shown, `seed ${seed}: ${result.failures.length} failure(s)\n${shown.join('\n')}`).toEqual([]);
    // Still serving.
    expect((await api.call('GET', '/v1/health')).status).toBe(200);
  });
});
