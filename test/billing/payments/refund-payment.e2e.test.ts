import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import { getServices } from '../../../functions/services.js';
import type { TestApi } from '../../support/stack.js';
import { type BillingApi, card, CARD_APPROVES, expectStatus, newClient, newInvoice, startBillingApi } from '../../support/billing.js';

/** A refund the ledger could not record in one DynamoDB transaction is refused before any money moves. */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

describe('a refund spread over more invoices than one transaction can hold', () => {
  it('is answered 422 and the gateway refunds nothing; a smaller refund works', async () => {
    const client = await newClient(api);
    const invoices = [];
    for (let i = 0; i < 100; i++) invoices.push(await newInvoice(api, client.id, 100));
    // One charge applied to 50 invoices; its credit then pays the other 50 (credit applications join the charge).
    const charge = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      currency: 'USD',
      sendReceipt: false,
      source: { newCard: card(CARD_APPROVES) },
      apply: invoices.slice(0, 50).map((inv) => ({ invoiceId: inv.id, amount: 100 })),
      otherAmount: 5000,
    });
    expectStatus(charge, 201);
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/credits/apply`, {}), 200);
    const gateway = getServices().gateway as LocalGateway;
    const reference = gateway.succeededCharges().find((c) => c.idempotencyKey.endsWith(charge.body.id))!.gatewayReference;

    const whole = await api.staff('POST', `/v1/transactions/${charge.body.id}/refund`, {});
    expectStatus(whole, 422);
    expect(whole.body.code).toBe('refund_too_spread');
    expect(gateway.refundedTotal(reference)).toBe(0);

    const part = await api.staff('POST', `/v1/transactions/${charge.body.id}/refund`, { amount: 3000 });
    expectStatus(part, 200);
    expect(part.body.refunded).toBe(3000);
    expect(gateway.refundedTotal(reference)).toBe(3000);
  }, 60_000);
});
