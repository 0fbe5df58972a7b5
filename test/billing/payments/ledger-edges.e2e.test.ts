import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../../support/stack.js';
import { createCompany } from '../../support/stack.js';
import {
  type BillingApi,
  CARD_APPROVES,
  card,
  expectProblem,
  expectStatus,
  getInvoice,
  newClient,
  newClientWithLogin,
  newInvoice,
  startBillingApi,
} from '../../support/billing.js';

/** Money rules at the edges: removed currencies, refunds after later credit, voids of invoices paid twice, foreign invoices. */
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

describe('a currency the company later removes', () => {
  it("the client's statement and payments of its open invoices still work", async () => {
    const other = await createCompany(api, 'Removal Co', 'USD');
    const as = (method: string, path: string, body?: unknown) => api.call(method, path, { token: other.staffToken, body });
    expectStatus(await as('PATCH', '/v1/settings', { currencies: ['USD', 'EUR'] }), 200);
    const created = await as('POST', '/v1/clients', { firstName: 'Euro', lastName: 'Client', currency: 'EUR', email: 'euro@example.com' });
    expectStatus(created, 201);
    const client = created.body;
    const inv = await as('POST', `/v1/clients/${client.id}/invoices`, { lines: [{ description: 'Work', quantity: 1, unitAmount: 5000, taxable: false }] });
    expectStatus(inv, 201);
    expect(inv.body.currency).toBe('EUR');
    expectStatus(await as('PATCH', '/v1/settings', { currencies: ['USD'] }), 200);

    const statement = await as('GET', `/v1/clients/${client.id}/statement`);
    expectStatus(statement, 200);
    expect(statement.body.currency).toBe('EUR');

    const paid = await as('POST', `/v1/clients/${client.id}/payments/record`, {
      type: 'check',
      amount: 2000,
      currency: 'EUR',
      apply: [{ invoiceId: inv.body.id, amount: 2000 }],
    });
    expectStatus(paid, 201);
    const charged = await as('POST', `/v1/clients/${client.id}/payments`, {
      source: { newCard: card(CARD_APPROVES) },
      currency: 'EUR',
      apply: [{ invoiceId: inv.body.id, amount: 3000 }],
    });
    expectStatus(charged, 201);
    // New money in the removed currency that pays no invoice is still refused.
    expectProblem(await as('POST', `/v1/clients/${client.id}/payments/record`, { type: 'check', amount: 2000, currency: 'EUR' }), 400);
    // A new invoice in it is refused too.
    expectProblem(await as('POST', `/v1/clients/${client.id}/invoices`, { lines: [{ description: 'Work', quantity: 1, unitAmount: 5000 }] }), 400);
  });
});

describe('ledger edges', () => {
  it('refund after credit was applied later, and after the invoice it paid was voided', async () => {
    const client = await newClient(api, { taxExempt: true });
    const a = await newInvoice(api, client.id, 1000);
    const charge = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      source: { newCard: card(CARD_APPROVES) },
      currency: 'USD',
      apply: [{ invoiceId: a.id, amount: 1000 }],
      otherAmount: 500,
    });
    expectStatus(charge, 201);
    const b = await newInvoice(api, client.id, 300);
    const applied = await api.staff('POST', `/v1/clients/${client.id}/credits/apply`, {});
    expectStatus(applied, 200);
    expect(applied.body.applied).toEqual([{ invoiceId: b.id, amount: 300 }]);
    // Void A: its 1000 come back as the charge's credit.
    expectStatus(await api.staff('POST', `/v1/invoices/${a.id}/void`), 200);
    const refund = await api.staff('POST', `/v1/transactions/${charge.body.id}/refund`, { amount: 1300 });
    expectStatus(refund, 200);
    expect(refund.body).toMatchObject({ refunded: 1300, credit: 0, status: 'partially_refunded' });
    expect(refund.body.applications).toEqual([{ invoiceId: b.id, amount: 200 }]);
    expect(await getInvoice(api, b.id)).toMatchObject({ status: 'open', paid: 200, due: 100 });
    const st = await api.staff('GET', `/v1/clients/${client.id}/statement`);
    expectStatus(st, 200);
    // Owed: B's 100 still due.
    expect(st.body.closingBalance).toBe(100);
  });

  it('voiding an invoice paid by two transactions credits each', async () => {
    const client = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, client.id, 1000);
    const one = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
      type: 'cash',
      amount: 400,
      currency: 'USD',
      apply: [{ invoiceId: inv.id, amount: 400 }],
    });
    const two = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      source: { newCard: card(CARD_APPROVES) },
      currency: 'USD',
      apply: [{ invoiceId: inv.id, amount: 600 }],
    });
    expectStatus(one, 201);
    expectStatus(two, 201);
    expectStatus(await api.staff('POST', `/v1/invoices/${inv.id}/void`), 200);
    const credits = await api.staff('GET', `/v1/clients/${client.id}/credits`);
    expect(credits.body.data).toEqual([{ currency: 'USD', amount: 1000 }]);
    expectProblem(await api.staff('POST', `/v1/clients/${client.id}/credits/apply`, { invoiceId: inv.id }), 409);
    const st = await api.staff('GET', `/v1/clients/${client.id}/statement`);
    expect(st.body.closingBalance).toBe(-1000);
  });

  it('a payment in another currency than the invoice is refused before charging', async () => {
    const client = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, client.id, 1000);
    const res = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      source: { newCard: card(CARD_APPROVES) },
      currency: 'EUR',
      apply: [{ invoiceId: inv.id, amount: 1000 }],
    });
    expect([400, 409]).toContain(res.status);
    const txns = await api.staff('GET', `/v1/clients/${client.id}/transactions`);
    expect(txns.body.data).toEqual([]);
  });

  it("another client's invoice id in apply is 404, for staff recording a payment and for a client token paying, and takes no money", async () => {
    const owner = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, owner.id, 1000);
    const { client: other, token } = await newClientWithLogin(api, { taxExempt: true });
    const recorded = await api.staff('POST', `/v1/clients/${other.id}/payments/record`, {
      type: 'cash',
      amount: 1000,
      currency: 'USD',
      apply: [{ invoiceId: inv.id, amount: 1000 }],
    });
    expectProblem(recorded, 404);
    const paid = await api.call('POST', `/v1/clients/${other.id}/payments`, {
      token,
      body: { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 1000 }] },
    });
    expectProblem(paid, 404);
    expect((await api.staff('GET', `/v1/clients/${other.id}/transactions`)).body.data).toEqual([]);
    expect((await getInvoice(api, inv.id)).paid).toBe(0);
  });
});
