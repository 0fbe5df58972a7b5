import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Company } from '../../../functions/domain/company.js';
import type { Invoice } from '../../../functions/domain/invoice.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { requireCompany } from '../../../functions/store/companies.js';
import { work } from '../invoices/fixtures.js';
import type { ApiResponse, TestApi } from '../../support/stack.js';
import { type BillingApi, card, CARD_APPROVES, expectStatus, startBillingApi } from '../../support/billing.js';
import { clientWithHistory, readsOf, within10Percent } from '../history.js';

/**
 * What the money requests read does not grow with the client's history: each request below, made through the API,
 * costs the same DynamoDB calls and items read (counted by DynamoDB before any filter, whatever the key prefix) for a
 * client with 5 invoices and for one with 100.
 */
let stack: BillingApi;
let api: TestApi;
let company: Company;
let few: { clientId: string; invoices: Invoice[] };
let many: { clientId: string; invoices: Invoice[] };

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
  company = await requireCompany(api.facts.companyId);
  [few, many] = await Promise.all([clientWithHistory(company, 5), clientWithHistory(company, 100)]);
  // One invoice in June 2031 each: a statement of that month has the same one line for both.
  for (const c of [few, many]) {
    await createInvoice({ companyId: company.id, clientId: c.clientId, dateBilled: '2031-06-15', dateDue: '2031-06-15', lines: work(700) });
  }
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

type Client = typeof few;

/** Makes the request for both clients and checks that they cost the same; returns both responses. */
async function sameCost(request: (c: Client) => Promise<ApiResponse>, status = 200) {
  const responses: ApiResponse[] = [];
  const costs = [];
  for (const c of [few, many]) {
    costs.push(
      await readsOf(async () => {
        const res = await request(c);
        expectStatus(res, status);
        responses.push(res);
      }),
    );
  }
  const [a, b] = costs;
  expect(b.calls, 'DynamoDB calls').toBe(a.calls);
  expect(within10Percent(a.itemsRead, b.itemsRead), `items read: ${a.itemsRead} with 5 invoices, ${b.itemsRead} with 100`).toBe(true);
  return responses;
}

/** The last (open) invoice of the client's history. */
const lastOpen = (c: Client) => c.invoices[c.invoices.length - 1];

// In order: the fixtures (a client with few invoices, one with many) are built once, and the later tests spend what
// the earlier ones measure (payments, credit, a void change what is open).
describe('reads of money requests do not grow with the history', { shuffle: false }, () => {
  it('a card payment and an offline payment on one invoice, and voiding the offline one', async () => {
    await sameCost(
      (c) =>
        api.staff('POST', `/v1/clients/${c.clientId}/payments`, {
          currency: 'USD',
          sendReceipt: false,
          source: { newCard: card(CARD_APPROVES) },
          apply: [{ invoiceId: lastOpen(c).id, amount: 400 }],
        }),
      201,
    );
    const offline = await sameCost(
      (c) =>
        api.staff('POST', `/v1/clients/${c.clientId}/payments/record`, {
          type: 'cash',
          currency: 'USD',
          amount: 600,
          apply: [{ invoiceId: lastOpen(c).id, amount: 600 }],
        }),
      201,
    );
    const ids = new Map([
      [few.clientId, offline[0].body.id as string],
      [many.clientId, offline[1].body.id as string],
    ]);
    await sameCost((c) => api.staff('POST', `/v1/transactions/${ids.get(c.clientId)}/void`));
  });

  it('a statement, the summary and the open invoices of the client', async () => {
    const statements = await sameCost((c) => api.staff('GET', `/v1/clients/${c.clientId}/statement?from=2031-06-01&to=2031-06-30`));
    expect(statements.map((s) => s.body.lines.length)).toEqual([1, 1]);
    await sameCost((c) => api.staff('GET', `/v1/clients/${c.clientId}/statement?from=2020-01-01&to=2020-01-31`));
    await sameCost((c) => api.staff('GET', `/v1/clients/${c.clientId}/summary`));
    const open = await sameCost((c) => api.staff('GET', `/v1/invoices?clientId=${c.clientId}&status=open`));
    expect(open.map((r) => r.body.data.length)).toEqual([3, 3]);
  });

  it('credits/apply and voiding a paid invoice', async () => {
    const applied = await sameCost((c) => api.staff('POST', `/v1/clients/${c.clientId}/credits/apply`, {}));
    expect(applied.map((r) => r.body.applied)).toEqual([[], []]);
    await sameCost((c) => api.staff('POST', `/v1/invoices/${c.invoices[0].id}/void`));
    // The voided invoice's 1000 is credit now, and applying it reaches an open invoice.
    const reapplied = await sameCost((c) => api.staff('POST', `/v1/clients/${c.clientId}/credits/apply`, {}));
    expect(reapplied.map((r) => r.body.applied.reduce((n: number, a: { amount: number }) => n + a.amount, 0))).toEqual([1000, 1000]);
  });
});
