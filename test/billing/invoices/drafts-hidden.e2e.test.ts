import { afterAll, beforeAll, describe, it } from 'vitest';
import type { TestApi } from '../../support/stack.js';
import { type BillingApi, CARD_APPROVES, card, expectProblem, expectStatus, newClientWithLogin, newInvoice, startBillingApi } from '../../support/billing.js';

/** Drafts stay hidden from client tokens, whichever route names them. */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
  expectStatus(await api.staff('PATCH', '/v1/settings', { currencies: ['USD', 'EUR'], taxRates: [{ name: 'Huge', percent: '100', country: 'AQ' }] }), 200);
});
afterAll(async () => {
  await stack?.stop();
});

describe('drafts stay hidden from client tokens', () => {
  it('paying a draft by id with a client token is 404, as reading it is', async () => {
    const { client, token } = await newClientWithLogin(api, { taxExempt: true });
    const draft = await newInvoice(api, client.id, 1000, { status: 'draft' });
    expectProblem(await api.call('GET', `/v1/invoices/${draft.id}`, { token }), 404);
    const res = await api.call('POST', `/v1/clients/${client.id}/payments`, {
      token,
      body: { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: draft.id, amount: 1000 }] },
    });
    expectProblem(res, 404);
    // Staff still get the 409 (not open).
    expectProblem(
      await api.staff('POST', `/v1/clients/${client.id}/payments`, {
        source: { newCard: card(CARD_APPROVES) },
        currency: 'USD',
        apply: [{ invoiceId: draft.id, amount: 1000 }],
      }),
      409,
    );
  });
});
