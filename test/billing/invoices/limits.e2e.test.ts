import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../../support/stack.js';
import { type BillingApi, errorPaths, expectProblem, expectStatus, getInvoice, newClient, newInvoice, startBillingApi } from '../../support/billing.js';

/** Invoices at the limits: amounts beyond a safe integer, items near DynamoDB's 400 KB, series lines that could never be invoiced. */
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
