import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../support/stack.js';
import { type BillingApi, expectStatus, listAll, newClient, startBillingApi } from '../support/billing.js';

/**
 * Services through the automation's run API on the local stack (the synthesised state machine run in-process):
 * a preview, the renewal it previews, a suspension for the unpaid renewal and its lifting once paid.
 */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
  expectStatus(
    await api.staff('PATCH', '/v1/settings', {
      invoiceDaysBeforeRenewal: 0,
      suspendServicesDaysAfterDue: 2,
      voidInvoicesDaysAfterDue: 'never',
      enableAutoDebit: false,
    }),
    200,
  );
});
afterAll(async () => {
  await stack?.stop();
});

async function run(date: string, tasks: string[], dryRun = false) {
  const started = await api.staff('POST', '/v1/automation/runs', { date, tasks, dryRun });
  expectStatus(started, 202);
  for (let i = 0; i < 400; i++) {
    const res = await api.staff('GET', `/v1/automation/runs/${started.body.id}`);
    if (res.body.finishedAt) return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the run did not finish');
}

const serviceOf = async (id: string) => (await api.staff('GET', `/v1/services/${id}`)).body;
const invoicesOf = (clientId: string) => listAll(api, `/v1/invoices?clientId=${clientId}`);

describe('services in the daily run', () => {
  it('preview, renew once, suspend when past due, lift when paid', async () => {
    const pkg = (await api.staff('POST', '/v1/packages', { name: 'VPS', pricing: [{ term: 1, period: 'month', price: 2500, currency: 'USD' }] })).body;
    const client = await newClient(api);
    const svc = (await api.staff('POST', `/v1/clients/${client.id}/services`, { packageId: pkg.id, pricingId: pkg.pricing[0].id, startDate: '2031-01-10' }))
      .body;
    const [first] = await invoicesOf(client.id);
    expectStatus(
      await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
        type: 'check',
        currency: 'USD',
        amount: 2500,
        apply: [{ invoiceId: first.id, amount: 2500 }],
      }),
      201,
    );

    const preview = await run('2031-02-10', ['renewals'], true);
    expect(preview.planned).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          task: 'renewals',
          objectId: svc.id,
          action: 'invoice_created',
          details: expect.objectContaining({ total: 2500, dateDue: '2031-02-10', lines: [expect.objectContaining({ amount: 2500 })] }),
        }),
      ]),
    );
    expect(await invoicesOf(client.id)).toHaveLength(1);

    await run('2031-02-10', ['renewals']);
    await run('2031-02-10', ['renewals']);
    const invoices = await invoicesOf(client.id);
    expect(invoices.map((i) => [i.dateDue, i.status])).toEqual(
      expect.arrayContaining([
        ['2031-01-10', 'paid'],
        ['2031-02-10', 'open'],
      ]),
    );
    expect(invoices).toHaveLength(2);

    await run('2031-02-12', ['suspensions']);
    expect(await serviceOf(svc.id)).toMatchObject({ status: 'suspended', suspendedBy: 'automation', renewDate: '2031-02-10' });

    const renewal = invoices.find((i) => i.dateDue === '2031-02-10');
    expectStatus(
      await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
        type: 'check',
        currency: 'USD',
        amount: 2500,
        apply: [{ invoiceId: renewal.id, amount: 2500 }],
      }),
      201,
    );
    await run('2031-02-13', ['suspensions']);
    expect(await serviceOf(svc.id)).toMatchObject({ status: 'active', suspendedBy: null, renewDate: '2031-03-10' });
  });
});
