import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDynamoCalls, type CallRecorder } from '../support/dynamo-calls.js';
import { recordDynamoKeys, repeatedReads, type KeyRecorder } from '../support/dynamo-keys.js';
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

const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);

async function recorded(run: () => Promise<void>): Promise<{ calls: CallRecorder; keys: KeyRecorder }> {
  const calls = recordDynamoCalls();
  const keys = recordDynamoKeys();
  try {
    await run();
  } finally {
    calls.stop();
    keys.stop();
  }
  return { calls, keys };
}

/** Reads of the billing table (the local identity provider's own table, Cognito's work in AWS, left out). */
const reads = (keys: KeyRecorder) => keys.calls.filter((c) => READS.has(c.command) && !c.keys.every((k) => k.startsWith('USER#')));
const shapes = (keys: KeyRecorder) =>
  reads(keys).map(
    (c) =>
      `${c.command.replace(/Command$/, '')} ${c.keys
        .map((k) => (k.includes('|') ? k.split('|')[1].replace(/#.*/, '#') : k.split(' ')[0]))
        .sort()
        .join(' ')}`,
  );

describe('the reads of a profile PATCH', () => {
  it('a city-only change: the profile Query and the group, one transaction — and the answer is what a GET shows', async () => {
    const client = await newClient(api);
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/notes`, { summary: 'Sticky', sticky: true }), 201);
    let patched: any;
    const { calls, keys } = await recorded(async () => {
      const res = await api.staff('PATCH', `/v1/clients/${client.id}`, { city: 'Shelbyville' });
      expectStatus(res, 200);
      patched = res.body;
    });
    expect(shapes(keys), keys.lines().join('\n')).toEqual(['Query LSI1', 'GetItem GROUP#']);
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
