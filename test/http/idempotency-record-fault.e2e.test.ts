import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { faultReport, startFaults, stopFaults } from '../../functions/faults/faults.js';
import { startTestApi, type TestApi } from '../support/stack.js';

/**
 * The route did its work and the idempotency record could not be completed (DynamoDB failed past the SDK's retries):
 * the caller still gets the route's answer, not a 503 for work that was done, which a retry would do a second time
 * once the key's lock expired (found by the fault workload, test/faults/workload.e2e.test.ts).
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

describe('a POST whose idempotency record cannot be completed', () => {
  it('answers what the route did', async () => {
    // Creating a group writes with a Put; the completion of its key is the request's only UpdateItem.
    startFaults({ rate: 1, seed: 23, kinds: ['server'], targets: ['dynamodb'], operations: ['UpdateItemCommand'], callShare: 1, limit: 1 });
    const name = `Faulty ${randomUUID().slice(0, 8)}`;
    const created = await api.staff('POST', '/v1/client-groups', { name }, { 'idempotency-key': randomUUID() });
    expect(faultReport()?.wholeCalls).toBe(1);
    stopFaults();
    expect(created.status).toBe(201);
    expect((await api.staff('GET', `/v1/client-groups/${created.body.id}`)).body).toMatchObject({ name });
  });
});
