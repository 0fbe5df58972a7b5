import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../support/stack.js';
import { createCompany } from '../support/stack.js';
import { type BillingApi, CARD_APPROVES, card, errorPaths, expectProblem, expectStatus, getInvoice, newClient, newClientWithLogin, newInvoice, startBillingApi } from '../billing/helpers.js';

/** Review probes: inputs that must never get a 5xx, and money rules at the edges. */
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

describe('amounts beyond a safe integer', () => {
  it('a line amount that overflows is a 400 naming the line, not a 500', async () => {
    const client = await newClient(api, { taxExempt: true });
    const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, { lines: [{ description: 'Big', quantity: 1e9, unitAmount: 1e12 }] });
    expectProblem(res, 400);
    expect(errorPaths(res).some((p) => p.startsWith('lines'))).toBe(true);
  });

  it('a total that overflows through tax or many lines is a 400', async () => {
    const taxed = await newClient(api, { country: 'AQ' });
    const tax = await api.staff('POST', `/v1/clients/${taxed.id}/invoices`, { lines: [{ description: 'Big', quantity: 9000, unitAmount: 1e12 }] });
    expectProblem(tax, 400);
    const plain = await newClient(api, { taxExempt: true });
    const lines = Array.from({ length: 10 }, () => ({ description: 'Big', quantity: 1000, unitAmount: 1e12 }));
    expectProblem(await api.staff('POST', `/v1/clients/${plain.id}/invoices`, { lines }), 400);
    // The same through PATCH of a draft and a recurring series.
    const draft = await newInvoice(api, plain.id, 100, { status: 'draft' });
    expectProblem(await api.staff('PATCH', `/v1/invoices/${draft.id}`, { lines }), 400);
  });
});

describe('item size', () => {
  it('200 lines of 1,000 three-byte characters never get a 5xx', async () => {
    const client = await newClient(api, { taxExempt: true });
    const description = '価'.repeat(1000);
    const lines = Array.from({ length: 200 }, () => ({ description, quantity: 1, unitAmount: 100 }));
    const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, { lines, recurring: { term: 1, period: 'month' } });
    expect(res.status).toBeLessThan(500);
    expectProblem(res, 400);
  });

  it('200 lines of 1,000 ASCII characters are accepted, with a series', async () => {
    const client = await newClient(api, { taxExempt: true });
    const description = 'x'.repeat(1000);
    const lines = Array.from({ length: 200 }, () => ({ description, quantity: '55/60', unitAmount: 100 }));
    const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, { lines, recurring: { term: 1, period: 'month' } });
    expectStatus(res, 201);
    const pdf = await api.staff('GET', `/v1/invoices/${res.body.id}/pdf`);
    expectStatus(pdf, 200);
  });
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

    const paid = await as('POST', `/v1/clients/${client.id}/payments/record`, { type: 'check', amount: 2000, currency: 'EUR', apply: [{ invoiceId: inv.body.id, amount: 2000 }] });
    expectStatus(paid, 201);
    const charged = await as('POST', `/v1/clients/${client.id}/payments`, { source: { newCard: card(CARD_APPROVES) }, currency: 'EUR', apply: [{ invoiceId: inv.body.id, amount: 3000 }] });
    expectStatus(charged, 201);
    // New money in the removed currency that pays no invoice is still refused.
    expectProblem(await as('POST', `/v1/clients/${client.id}/payments/record`, { type: 'check', amount: 2000, currency: 'EUR' }), 400);
    // A new invoice in it is refused too.
    expectProblem(await as('POST', `/v1/clients/${client.id}/invoices`, { lines: [{ description: 'Work', quantity: 1, unitAmount: 5000 }] }), 400);
  });
});

describe('edges that must stay 4xx', () => {
  it('a statement whose from is after today is a 400 naming from', async () => {
    const client = await newClient(api);
    const res = await api.staff('GET', `/v1/clients/${client.id}/statement?from=2999-01-01`);
    expectProblem(res, 400);
    expect(errorPaths(res)).toEqual(['from']);
  });

  it('a zero-total invoice is created paid and can be voided', async () => {
    const client = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, client.id, 0);
    expect(inv.status).toBe('paid');
    expectStatus(await api.staff('POST', `/v1/invoices/${inv.id}/void`), 200);
    expect((await getInvoice(api, inv.id)).status).toBe('void');
    expectProblem(await api.staff('POST', `/v1/invoices/${inv.id}/void`), 409);
  });
});

describe('recurring series lines', () => {
  it('PATCH refuses lines that could never be invoiced (negative total, overflow)', async () => {
    const client = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, client.id, 1000, { recurring: { term: 1, period: 'month' } });
    const path = `/v1/recurring-invoices/${inv.recurringInvoiceId}`;
    expectProblem(await api.staff('PATCH', path, { lines: [{ description: 'Only a discount', quantity: -1, unitAmount: 100 }] }), 400);
    expectProblem(await api.staff('PATCH', path, { lines: [{ description: 'Big', quantity: 1e9, unitAmount: 1e12 }] }), 400);
    const ok = await api.staff('PATCH', path, { lines: [{ description: 'Fine', quantity: 2, unitAmount: 100 }] });
    expectStatus(ok, 200);
    expect(ok.body.lines).toEqual([{ description: 'Fine', quantity: '2', unitAmount: 100, taxable: true }]);
  });
});

describe('ledger edges', () => {
  it('refund after credit was applied later, and after the invoice it paid was voided', async () => {
    const client = await newClient(api, { taxExempt: true });
    const a = await newInvoice(api, client.id, 1000);
    const charge = await api.staff('POST', `/v1/clients/${client.id}/payments`, { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: a.id, amount: 1000 }], otherAmount: 500 });
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
    expect((await getInvoice(api, b.id))).toMatchObject({ status: 'open', paid: 200, due: 100 });
    const st = await api.staff('GET', `/v1/clients/${client.id}/statement`);
    expectStatus(st, 200);
    // Owed: B's 100 still due.
    expect(st.body.closingBalance).toBe(100);
  });

  it('voiding an invoice paid by two transactions credits each', async () => {
    const client = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, client.id, 1000);
    const one = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'cash', amount: 400, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 400 }] });
    const two = await api.staff('POST', `/v1/clients/${client.id}/payments`, { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 600 }] });
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
    const res = await api.staff('POST', `/v1/clients/${client.id}/payments`, { source: { newCard: card(CARD_APPROVES) }, currency: 'EUR', apply: [{ invoiceId: inv.id, amount: 1000 }] });
    expect([400, 409]).toContain(res.status);
    const txns = await api.staff('GET', `/v1/clients/${client.id}/transactions`);
    expect(txns.body.data).toEqual([]);
  });

  it("another client's invoice id in apply is 404, for staff recording a payment and for a client token paying, and takes no money", async () => {
    const owner = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, owner.id, 1000);
    const { client: other, token } = await newClientWithLogin(api, { taxExempt: true });
    const recorded = await api.staff('POST', `/v1/clients/${other.id}/payments/record`, { type: 'cash', amount: 1000, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 1000 }] });
    expectProblem(recorded, 404);
    const paid = await api.call('POST', `/v1/clients/${other.id}/payments`, { token, body: { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 1000 }] } });
    expectProblem(paid, 404);
    expect((await api.staff('GET', `/v1/clients/${other.id}/transactions`)).body.data).toEqual([]);
    expect((await getInvoice(api, inv.id)).paid).toBe(0);
  });
});

describe('drafts stay hidden from client tokens', () => {
  it('paying a draft by id with a client token is 404, as reading it is', async () => {
    const { client, token } = await newClientWithLogin(api, { taxExempt: true });
    const draft = await newInvoice(api, client.id, 1000, { status: 'draft' });
    expectProblem(await api.call('GET', `/v1/invoices/${draft.id}`, { token }), 404);
    const res = await api.call('POST', `/v1/clients/${client.id}/payments`, { token, body: { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: draft.id, amount: 1000 }] } });
    expectProblem(res, 404);
    // Staff still get the 409 (not open).
    expectProblem(await api.staff('POST', `/v1/clients/${client.id}/payments`, { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: draft.id, amount: 1000 }] }), 409);
  });
});

describe('email and documents never 5xx', () => {
  it('a contact of another client is a 400 and nothing is sent; bad mustache is a 400', async () => {
    const owner = await newClient(api);
    const contact = await api.staff('POST', `/v1/clients/${owner.id}/contacts`, { type: 'billing', firstName: 'A', lastName: 'B', email: 'ab@example.com' });
    expectStatus(contact, 201);
    const other = await newClient(api);
    const res = await api.staff('POST', `/v1/clients/${other.id}/emails`, { contactIds: [contact.body.id], subject: 'Hi', html: '<p>Hi</p>' });
    expect([400, 404]).toContain(res.status);
    const log = await api.staff('GET', `/v1/clients/${other.id}/emails`);
    expect(log.body.data).toEqual([]);
    for (const body of [{ subject: '{{#x}}', html: '<p>x</p>', text: 'x' }, { subject: 'x', html: '{{/x}}', text: 'x' }, { subject: 'x', html: '<p>{{x</p>', text: '{{{x}}' }]) {
      const put = await api.staff('PUT', '/v1/email-templates/invoice_delivery', body);
      expectProblem(put, 400);
    }
  });

  it('a large invoice with emoji and unicode is delivered with its PDF, and its statement renders', async () => {
    const client = await newClient(api, { taxExempt: true, firstName: 'Zoë 😀', company: '株式会社' });
    const lines = Array.from({ length: 200 }, (_, i) => ({ description: `${i} 😀 ünïcødé 価格 ${'long '.repeat(150)}`, quantity: '1/3', unitAmount: 100 }));
    const inv = await api.staff('POST', `/v1/clients/${client.id}/invoices`, { lines });
    expectStatus(inv, 201);
    expectStatus(await api.staff('GET', `/v1/invoices/${inv.body.id}/pdf`), 200);
    expectStatus(await api.staff('POST', `/v1/invoices/${inv.body.id}/deliver`), 202);
    expectStatus(await api.staff('GET', `/v1/clients/${client.id}/statement?format=pdf`), 200);
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/statement/send`), 202);
  });
});

describe('credit over many invoices', () => {
  it('credits/apply reaches every open invoice even when more than one DynamoDB transaction holds', async () => {
    const client = await newClient(api, { taxExempt: true });
    const invoices: any[] = [];
    for (let i = 0; i < 110; i++) invoices.push(await newInvoice(api, client.id, 100, { dateDue: `2030-01-${String((i % 28) + 1).padStart(2, '0')}`, dateBilled: '2030-01-01' }));
    // Credit from three payments, the last only partly used.
    for (const amount of [5000, 5000, 3000]) expectStatus(await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'cash', amount, currency: 'USD' }), 201);
    const res = await api.staff('POST', `/v1/clients/${client.id}/credits/apply`, {});
    expectStatus(res, 200);
    expect(res.body.applied).toHaveLength(110);
    expect(res.body.applied.reduce((s: number, a: any) => s + a.amount, 0)).toBe(11000);
    expect(new Set(res.body.applied.map((a: any) => a.invoiceId)).size).toBe(110);
    const credits = await api.staff('GET', `/v1/clients/${client.id}/credits`);
    expect(credits.body.data).toEqual([{ currency: 'USD', amount: 2000 }]);
    for (const inv of invoices.slice(0, 5)) expect((await getInvoice(api, inv.id)).status).toBe('paid');
  }, 60_000);
});
