import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../../support/stack.js';
import { type BillingApi, expectProblem, expectStatus, newClient, startBillingApi } from '../../support/billing.js';

/** Mail and PDFs of invoices and statements: bad input is a 4xx, large unicode documents render. */
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
    for (const body of [
      { subject: '{{#x}}', html: '<p>x</p>', text: 'x' },
      { subject: 'x', html: '{{/x}}', text: 'x' },
      { subject: 'x', html: '<p>{{x</p>', text: '{{{x}}' },
    ]) {
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
