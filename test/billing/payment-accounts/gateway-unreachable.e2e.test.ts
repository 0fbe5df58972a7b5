import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { faultReport, startFaults, stopFaults } from '../../../functions/faults/faults.js';
import { CARD_APPROVES, card, expectProblem, newClient } from '../../support/billing.js';
import { startTestApi, type TestApi } from '../../support/stack.js';

/**
 * Adding a payment account while the gateway cannot be reached to tokenise the details: a 502 problem the OpenAPI
 * document declares for the route (found by the fault workload, test/faults/workload.e2e.test.ts: the route
 * answered a 502 its document did not list, so a generated client could not expect it), and no account is kept.
 */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stack.stop();
});
afterEach(() => {
  stopFaults();
});

describe('POST /v1/clients/{id}/payment-accounts with the gateway unreachable', () => {
  it('answers a declared 502 problem with the request id and keeps nothing', async () => {
    const client = await newClient(api);
    startFaults({ rate: 1, seed: 5, kinds: ['timeout'], targets: ['gateway'], operations: ['tokenize'], limit: 1 });
    // test/support/stack.ts refuses a status the route's OpenAPI operation does not declare.
    const res = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    expect(faultReport()?.injected.gateway.timeout).toBe(1);
    expectProblem(res, 502);
    expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
    stopFaults();
    expect((await api.staff('GET', `/v1/clients/${client.id}/payment-accounts`)).body.data).toEqual([]);
  });
});
