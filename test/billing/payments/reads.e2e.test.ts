import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db } from '../../../functions/store/dynamo.js';
import type { TestApi } from '../../support/stack.js';
import { type BillingApi, card, CARD_APPROVES, expectStatus, newClient, newInvoice, startBillingApi } from '../../support/billing.js';

/** What a payment reads does not grow with the client's history: it never queries all invoices or transactions. */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

function historyQueries(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls
    .map((call) => call[0])
    .filter((command): command is QueryCommand => command instanceof QueryCommand)
    .map((command) => String(command.input.ExpressionAttributeValues?.[':p'] ?? ''))
    .filter((prefix) => prefix === 'INV#' || prefix === 'TXN#');
}

describe('reads of a payment', () => {
  it('touches only the invoices it names, its own transaction and the balances', async () => {
    const client = await newClient(api);
    const history = await Promise.all(Array.from({ length: 12 }, () => newInvoice(api, client.id, 1000)));
    for (const inv of history.slice(0, 6)) {
      expectStatus(
        await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
          type: 'check',
          currency: 'USD',
          amount: 1000,
          apply: [{ invoiceId: inv.id, amount: 1000 }],
        }),
        201,
      );
    }
    const target = history[11];
    const spy = vi.spyOn(db(), 'send');
    expectStatus(
      await api.staff('POST', `/v1/clients/${client.id}/payments`, {
        currency: 'USD',
        sendReceipt: false,
        source: { newCard: card(CARD_APPROVES) },
        apply: [{ invoiceId: target.id, amount: 400 }],
      }),
      201,
    );
    const offline = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
      type: 'cash',
      currency: 'USD',
      amount: 600,
      apply: [{ invoiceId: target.id, amount: 600 }],
    });
    expectStatus(offline, 201);
    expectStatus(await api.staff('POST', `/v1/transactions/${offline.body.id}/void`), 200);
    expect(historyQueries(spy)).toEqual([]);
    spy.mockRestore();
  });
});
