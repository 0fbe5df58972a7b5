import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDynamoCalls } from '../../support/dynamo-calls.js';
import { recordDynamoKeys, repeatedReads } from '../../support/dynamo-keys.js';
import { type BillingApi, expectStatus, newClient, startBillingApi } from '../../support/billing.js';
import type { TestApi } from '../../support/stack.js';

/**
 * The DynamoDB calls of an invoice create (issue 13, "Writes": one transaction plus at most two reads, each item
 * once): the company and the client in one BatchGet, the invoice counter (its number is taken inside the transaction
 * conditioned on it), one transaction — the same for a draft, which takes no number.
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

const line = (amount: number) => ({ description: 'Work', quantity: 1, unitAmount: amount, taxable: false });

describe('the calls of an invoice create', () => {
  it.each([
    ['open', ['BatchGetItem', 'GetItem', 'TransactWriteItems']],
    ['draft', ['BatchGetItem', 'TransactWriteItems']],
  ] as const)('%s: the company with the client, then what the write needs, each item once', async (status, expected) => {
    const client = await newClient(api);
    const calls = recordDynamoCalls();
    const keys = recordDynamoKeys();
    let invoice: any;
    try {
      const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, { status, lines: [line(1000), line(250)] });
      expectStatus(res, 201);
      invoice = res.body;
    } finally {
      calls.stop();
      keys.stop();
    }
    expect(
      calls.calls.map((c) => c.command.replace(/Command$/, '')),
      keys.lines().join('\n'),
    ).toEqual(expected);
    expect(repeatedReads(keys.calls)).toEqual([]);
    const [context] = keys.calls.filter((c) => c.command === 'BatchGetItemCommand');
    expect(context.keys.map((k) => k.split('|')[1]).sort()).toEqual(['CLIENT', 'COMPANY']);
    expect(invoice.total).toBe(1250);
    expect((await api.staff('GET', `/v1/invoices/${invoice.id}`)).body).toEqual(invoice);
  });

  it('a client that does not exist is a 404', async () => {
    const res = await api.staff('POST', '/v1/clients/cl_missing/invoices', { lines: [line(100)] });
    expect(res.status).toBe(404);
  });
});
