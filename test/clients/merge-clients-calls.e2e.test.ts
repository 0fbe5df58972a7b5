import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { db, tableName } from '../../functions/store/dynamo.js';
import { clientPk } from '../../functions/store/keys.js';
import { recordDynamoCalls } from '../support/dynamo-calls.js';
import { recordDynamoKeys, repeatedReads } from '../support/dynamo-keys.js';
import { type BillingApi, expectStatus, newClient, newInvoice, startBillingApi } from '../support/billing.js';
import type { TestApi } from '../support/stack.js';

/**
 * Merge and delete cost calls in proportion to the client's items ÷ 25 (issue 13, "Writes"): a merge moves many
 * items per transaction, a delete removes 25 per BatchWriteItem. Measured on a client of ~10 and of ~60 items.
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

/** Items in a client's partition besides the client item itself. */
async function itemsOf(clientId: string): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': clientPk(api.facts.companyId, clientId) },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    count += out.Items?.length ?? 0;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return count - 1;
}

/** A client with about `n` items: invoices (each with a pointer to rewrite), notes and contacts. */
async function clientWithItems(n: number): Promise<{ id: string; items: number }> {
  const client = await newClient(api);
  for (let i = 0; (await itemsOf(client.id)) < n; i++) {
    if (i % 3 === 0) await newInvoice(api, client.id, 100 + i);
    else if (i % 3 === 1) expectStatus(await api.staff('POST', `/v1/clients/${client.id}/notes`, { summary: `Note ${i}` }), 201);
    else
      expectStatus(
        await api.staff('POST', `/v1/clients/${client.id}/contacts`, { type: 'technical', firstName: 'C', lastName: String(i), email: `c${i}@example.com` }),
        201,
      );
  }
  return { id: client.id, items: await itemsOf(client.id) };
}

async function measure(run: () => Promise<void>): Promise<{ calls: number; repeated: string[] }> {
  const calls = recordDynamoCalls();
  const keys = recordDynamoKeys();
  try {
    await run();
  } finally {
    calls.stop();
    keys.stop();
  }
  expect(calls.totals().cancelled).toBe(0);
  return { calls: calls.calls.length, repeated: repeatedReads(keys.calls) };
}

/** What a merge or delete costs besides its batches: the reads and claims around them, the login, the profile answered. */
const CONSTANT = 12;

describe('merge and delete cost calls by items ÷ 25', () => {
  it('a merge of ~10 and of ~60 items: at most ceil(items/25) + a constant, and the larger one only a few calls more', async () => {
    const merged: Array<{ items: number; calls: number }> = [];
    for (const n of [10, 60]) {
      const source = await clientWithItems(n);
      const target = await newClient(api);
      const { calls, repeated } = await measure(async () =>
        expectStatus(await api.staff('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target.id }), 200),
      );
      expect(repeated).toEqual([]);
      expect(calls, `${source.items} items`).toBeLessThanOrEqual(Math.ceil(source.items / 25) + CONSTANT);
      expect(await itemsOf(target.id)).toBeGreaterThanOrEqual(source.items);
      merged.push({ items: source.items, calls });
    }
    const [small, large] = merged;
    // One transaction per item would be ~50 more calls; batched, the 50 more items are two or three transactions.
    expect(large.calls - small.calls).toBeLessThanOrEqual(Math.ceil((large.items - small.items) / 25) + 1);
  });

  it('a delete of ~10 and of ~60 items: at most ceil(items/25) + a constant, and the larger one only a few calls more', async () => {
    const deleted: Array<{ items: number; calls: number }> = [];
    for (const n of [10, 60]) {
      const client = await clientWithItems(n);
      const { calls, repeated } = await measure(async () => expectStatus(await api.staff('DELETE', `/v1/clients/${client.id}`), 204));
      expect(repeated).toEqual([]);
      expect(calls, `${client.items} items`).toBeLessThanOrEqual(Math.ceil(client.items / 25) + CONSTANT);
      expect(await itemsOf(client.id)).toBe(-1);
      deleted.push({ items: client.items, calls });
    }
    const [small, large] = deleted;
    // Each item and the pointers it owns are deleted 25 to a call: the invoices' pointers count too.
    expect(large.calls - small.calls).toBeLessThanOrEqual(Math.ceil((2 * (large.items - small.items)) / 25) + 1);
  });
});
