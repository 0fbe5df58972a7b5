import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readShapes, recordCallsAndKeys, repeatedReads } from '../support/dynamo-keys.js';
import { type BillingApi, expectStatus, newClient, startBillingApi } from '../support/billing.js';
import type { TestApi } from '../support/stack.js';

/**
 * The DynamoDB reads of a profile PATCH (issue 13, "Writes": one transaction plus at most two reads, each item once):
 * the profile's Query (client, balances, sticky notes) before the change, which plans with its client, then the group
 * for the answer — built from what the change wrote, not read back.
 */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

describe('the reads of a profile PATCH', () => {
  it('a city-only change: the profile Query and the group, one transaction — and the answer is what a GET shows', async () => {
    const client = await newClient(api);
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/notes`, { summary: 'Sticky', sticky: true }), 201);
    let patched: any;
    const { calls, keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('PATCH', `/v1/clients/${client.id}`, { city: 'Shelbyville' });
      expectStatus(res, 200);
      patched = res.body;
    });
    expect(readShapes(keys), keys.lines().join('\n')).toEqual(['Query LSI1', 'GetItem GROUP#']);
    expect(repeatedReads(keys.calls)).toEqual([]);
    expect(calls.calls.filter((c) => c.command === 'TransactWriteItemsCommand')).toHaveLength(1);
    expect([patched.city, patched.version, patched.stickyNotes.length]).toEqual(['Shelbyville', client.version + 1, 1]);
    expect((await api.staff('GET', `/v1/clients/${client.id}`)).body).toEqual(patched);
  });

  it('a stale If-Match is still a 409 and changes nothing', async () => {
    const client = await newClient(api);
    const res = await api.staff('PATCH', `/v1/clients/${client.id}`, { city: 'Capital City' }, { 'if-match': String(client.version + 5) });
    expect(res.status).toBe(409);
    expect((await api.staff('GET', `/v1/clients/${client.id}`)).body.city).toBe(client.city);
  });
});
