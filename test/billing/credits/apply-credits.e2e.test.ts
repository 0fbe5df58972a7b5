import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../../support/stack.js';
import { type BillingApi, expectStatus, getInvoice, newClient, newInvoice, startBillingApi } from '../../support/billing.js';

/** Applying credit across more invoices than one DynamoDB transaction holds. */
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

describe('credit over many invoices', () => {
  it('credits/apply reaches every open invoice even when more than one DynamoDB transaction holds', async () => {
    const client = await newClient(api, { taxExempt: true });
    const invoices: any[] = [];
    for (let i = 0; i < 110; i++)
      invoices.push(await newInvoice(api, client.id, 100, { dateDue: `2030-01-${String((i % 28) + 1).padStart(2, '0')}`, dateBilled: '2030-01-01' }));
    // Credit from three payments, the last only partly used.
    for (const amount of [5000, 5000, 3000])
      expectStatus(await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'cash', amount, currency: 'USD' }), 201);
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
