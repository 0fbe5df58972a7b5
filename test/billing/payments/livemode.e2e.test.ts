import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import { StripeGateway } from '../../../functions/adapters/gateway/stripe.js';
import type { TestApi } from '../../support/stack.js';
import { type BillingApi, card, CARD_APPROVES, CARD_DECLINES, expectStatus, newClient, newInvoice, startBillingApi } from '../../support/billing.js';

let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

describe('livemode', () => {
  it('is false on every transaction made through the simulated gateway or recorded beside it, in every answer', async () => {
    const client = await newClient(api);
    const invoice = await newInvoice(api, client.id, 1000);
    const charge = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      currency: 'USD',
      sendReceipt: false,
      source: { newCard: card(CARD_APPROVES) },
      apply: [{ invoiceId: invoice.id, amount: 400 }],
    });
    expectStatus(charge, 201);
    expect(charge.body.livemode).toBe(false);
    const declined = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      currency: 'USD',
      sendReceipt: false,
      source: { newCard: card(CARD_DECLINES) },
      apply: [{ invoiceId: invoice.id, amount: 100 }],
    });
    expectStatus(declined, 402);
    const offline = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'check', currency: 'USD', amount: 600 });
    expectStatus(offline, 201);
    expect(offline.body.livemode).toBe(false);
    expect((await api.staff('GET', `/v1/transactions/${charge.body.id}`)).body.livemode).toBe(false);
    const list = await api.staff('GET', `/v1/clients/${client.id}/transactions`);
    expect(list.body.data.map((t: { livemode: boolean }) => t.livemode)).toEqual([false, false, false]);
  });

  it('is a property of the gateway: the simulator is never live, Stripe is', () => {
    expect(new LocalGateway().livemode).toBe(false);
    expect(new StripeGateway({ secretKey: 'sk_live_x' }).livemode).toBe(true);
  });
});
