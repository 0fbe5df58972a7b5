import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import { chargeIdempotencyKey } from '../../../functions/billing/payments/charge-attempt.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { type BillingApi, card, CARD_APPROVES, expectStatus, newClient, newClientWithLogin, newInvoice, startBillingApi } from '../../support/billing.js';
import { type DynamoFaults, injectDynamoFaults } from '../../support/faults.js';
import type { TestApi } from '../../support/stack.js';

/**
 * A card payment interrupted by DynamoDB failing right after the gateway approved it, over HTTP: the caller's answer,
 * the pending transaction, and `POST /v1/transactions/{id}/reconcile`.
 */
let stack: BillingApi;
let api: TestApi;
let gateway: LocalGateway;
let faults: DynamoFaults | undefined;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
  const real = getServices().gateway;
  if (!(real instanceof LocalGateway)) throw new Error('These tests count charges at the simulated gateway.');
  gateway = real;
});
afterEach(() => {
  faults?.restore();
  overrideServices({ gateway });
});
afterAll(async () => {
  await stack?.stop();
});

/** Pays with the client's stored card while DynamoDB refuses every write from the moment the gateway answers. */
async function payThroughOutage(clientId: string, body: Record<string, unknown>, options: { failedWrites?: number; idempotencyKey?: string } = {}) {
  const outage = injectDynamoFaults();
  faults = outage;
  overrideServices({
    gateway: {
      name: gateway.name,
      livemode: gateway.livemode,
      tokenize: (details) => gateway.tokenize(details),
      refund: (request) => gateway.refund(request),
      charge: async (request) => {
        const result = await gateway.charge(request);
        outage.failWrites(options.failedWrites ?? true);
        return result;
      },
    },
  });
  const headers = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : undefined;
  const answer = await api.staff('POST', `/v1/clients/${clientId}/payments`, body, headers);
  outage.restore();
  overrideServices({ gateway });
  return answer;
}

describe('POST /v1/transactions/{id}/reconcile', () => {
  it('a payment whose ledger write failed answers 503 payment_pending with its transactionId; reconcile settles it once', async () => {
    const client = await newClient(api);
    const invoice = await newInvoice(api, client.id, 7000);
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    expectStatus(account, 201);

    const paid = await payThroughOutage(client.id, {
      currency: 'USD',
      sendReceipt: false,
      source: { paymentAccountId: account.body.id },
      apply: [{ invoiceId: invoice.id, amount: 7000 }],
      otherAmount: 500,
    });
    expectStatus(paid, 503);
    expect(paid.body).toMatchObject({ code: 'payment_pending', transactionId: expect.stringMatching(/^txn_/), requestId: expect.any(String) });
    expect(Number(paid.headers.get('retry-after'))).toBeGreaterThan(0);
    const id: string = paid.body.transactionId;

    const pending = await api.staff('GET', `/v1/transactions/${id}`);
    expectStatus(pending, 200);
    expect(pending.body).toMatchObject({ status: 'pending', amount: 7500, applications: [], credit: 0 });
    for (const action of ['refund', 'void']) {
      const refused = await api.staff('POST', `/v1/transactions/${id}/${action}`, {});
      expectStatus(refused, 409);
      expect(refused.body).toMatchObject({ code: 'transaction_pending', transactionId: id });
    }

    const reconciled = await api.staff('POST', `/v1/transactions/${id}/reconcile`);
    expectStatus(reconciled, 200);
    expect(reconciled.body).toMatchObject({ id, status: 'succeeded', amount: 7500, applications: [{ invoiceId: invoice.id, amount: 7000 }], credit: 500 });
    expect((await api.staff('GET', `/v1/invoices/${invoice.id}`)).body).toMatchObject({ status: 'paid', paid: 7000 });

    const again = await api.staff('POST', `/v1/transactions/${id}/reconcile`);
    expectStatus(again, 200);
    expect(again.body).toEqual(reconciled.body);
    const key = chargeIdempotencyKey(api.stack.facts.companyId, id);
    expect(gateway.chargeRequestsFor(key)).toBe(2);
    expect(gateway.succeededCharges().filter((c) => c.idempotencyKey === key)).toHaveLength(1);
  });

  it('a pending answer is replayed for its Idempotency-Key: a retry does not charge again', async () => {
    const client = await newClient(api);
    const body = { currency: 'USD', sendReceipt: false, source: { newCard: card(CARD_APPROVES) }, apply: [], otherAmount: 900 };
    const idempotencyKey = `pending-${client.id}`;
    // Only the ledger write fails: DynamoDB is back when the answer is stored under the key.
    const paid = await payThroughOutage(client.id, body, { failedWrites: 1, idempotencyKey });
    expectStatus(paid, 503);
    expect(paid.body.code).toBe('payment_pending');

    const retried = await api.staff('POST', `/v1/clients/${client.id}/payments`, body, { 'idempotency-key': idempotencyKey });
    expectStatus(retried, 503);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.body.transactionId).toBe(paid.body.transactionId);
    const listed = await api.staff('GET', `/v1/clients/${client.id}/transactions`);
    expect(listed.body.data.map((t: { id: string }) => t.id)).toEqual([paid.body.transactionId]);
    expect(gateway.chargeRequestsFor(chargeIdempotencyKey(api.stack.facts.companyId, paid.body.transactionId))).toBe(1);
  });

  it('is for staff only, and an unknown transaction is 404', async () => {
    const { token } = await newClientWithLogin(api);
    expectStatus(await api.call('POST', '/v1/transactions/txn_unknown/reconcile', { token }), 403);
    expectStatus(await api.staff('POST', '/v1/transactions/txn_unknown/reconcile'), 404);
  });
});

describe('deleting a client with a pending payment', () => {
  it('is refused with 409 payment_pending until the payment is reconciled, so money the gateway took is never deleted unrecorded', async () => {
    const client = await newClient(api);
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    expectStatus(account, 201);
    const paid = await payThroughOutage(client.id, {
      currency: 'USD',
      sendReceipt: false,
      source: { paymentAccountId: account.body.id },
      apply: [],
      otherAmount: 1200,
    });
    expectStatus(paid, 503);
    const id: string = paid.body.transactionId;

    const refused = await api.staff('DELETE', `/v1/clients/${client.id}`);
    expectStatus(refused, 409);
    expect(refused.body.code).toBe('payment_pending');
    // Nothing was deleted, and the client takes writes again.
    expectStatus(await api.staff('GET', `/v1/transactions/${id}`), 200);
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/notes`, { summary: 'still here' }), 201);

    expectStatus(await api.staff('POST', `/v1/transactions/${id}/reconcile`), 200);
    expectStatus(await api.staff('DELETE', `/v1/clients/${client.id}`), 204);
    expectStatus(await api.staff('GET', `/v1/clients/${client.id}`), 404);
  });
});
