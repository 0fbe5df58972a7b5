import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import { reconcileStalePayments } from '../../../functions/billing/payments/reconcile-handler.js';
import { faultReport, startFaults, stopFaults } from '../../../functions/faults/faults.js';
import { getServices } from '../../../functions/services.js';
import {
  CARD_APPROVES,
  card,
  expectProblem,
  expectStatus,
  getInvoice,
  getTransaction,
  newClient,
  newInvoice,
  startBillingApi,
  type BillingApi,
} from '../../support/billing.js';

/**
 * A charge the gateway made whose answer never came (the adapters' GatewayOutcomeUnknownError; Stripe when it times
 * out): the payment is answered 503 `payment_pending`, never "failed, nothing was charged" (which would have the payer
 * pay again under a new key), and the reconciler replays it with the same key: one charge, recorded once.
 */
let stack: BillingApi;
beforeAll(async () => {
  stack = await startBillingApi();
});
afterAll(async () => {
  await stack?.stop();
});
afterEach(() => {
  stopFaults();
});

describe('a payment whose charge answer is lost', () => {
  it('stays pending, then the reconciler records the one charge the gateway made', async () => {
    const { api } = stack;
    const client = await newClient(api);
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    expectStatus(account, 201);
    const invoice = await newInvoice(api, client.id, 4200);
    startFaults({ rate: 1, seed: 19, kinds: ['lost'], targets: ['gateway'], operations: ['charge'], limit: 1 });
    const paid = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      source: { paymentAccountId: account.body.id },
      currency: 'USD',
      apply: [{ invoiceId: invoice.id, amount: 4200 }],
    });
    expect(faultReport()?.injected.gateway.lost).toBe(1);
    stopFaults();
    expectProblem(paid, 503);
    expect(paid.body.code).toBe('payment_pending');
    const key = `billow:${api.facts.companyId}:${paid.body.transactionId}`;
    const gateway = getServices().gateway as LocalGateway;
    expect(gateway.succeededCharges().filter((c) => c.idempotencyKey === key)).toHaveLength(1);

    await reconcileStalePayments(new Date(Date.now() + 10 * 60 * 1000));
    expect(await getTransaction(api, paid.body.transactionId)).toMatchObject({ status: 'succeeded', amount: 4200 });
    expect(await getInvoice(api, invoice.id)).toMatchObject({ status: 'paid', due: 0 });
    // Replayed with its own key: asked twice, charged once.
    expect(gateway.chargeRequestsFor(key)).toBe(2);
    expect(gateway.succeededCharges().filter((c) => c.idempotencyKey === key)).toHaveLength(1);
  });
});
