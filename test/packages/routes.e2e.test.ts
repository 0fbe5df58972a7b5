import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renewServicesSource } from '../../functions/automation/tasks/renew-services.js';
import type { TestApi } from '../support/stack.js';
import { type BillingApi, errorPaths, expectProblem, expectStatus, listAll, newClient, newClientWithLogin, startBillingApi } from '../support/billing.js';

/** Packages and services through the HTTP API (API.md, "Packages and services"). */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
  expectStatus(await api.staff('PATCH', '/v1/settings', { currencies: ['USD', 'EUR'] }), 200);
});
afterAll(async () => {
  await stack?.stop();
});

async function newPackage(body: Record<string, unknown> = {}): Promise<any> {
  const res = await api.staff('POST', '/v1/packages', {
    name: 'Shared hosting',
    pricing: [
      { term: 1, period: 'month', price: 1000, setupFee: 500, currency: 'USD' },
      { term: 1, period: 'year', price: 10000, currency: 'EUR' },
      { term: 1, period: 'onetime', price: 2500, currency: 'USD' },
    ],
    ...body,
  });
  expectStatus(res, 201);
  return res.body;
}

const invoicesOf = (clientId: string) => listAll(api, `/v1/invoices?clientId=${clientId}`);
const record = (clientId: string, invoiceId: string, amount: number, currency = 'USD') =>
  api.staff('POST', `/v1/clients/${clientId}/payments/record`, { type: 'check', currency, amount, apply: [{ invoiceId, amount }] });

describe('packages', () => {
  it('are created with an id per pricing, listed, read and changed (If-Match)', async () => {
    const pkg = await newPackage();
    expect(pkg.id).toMatch(/^pkg_/);
    expect(pkg.pricing).toHaveLength(3);
    expect(pkg.pricing.every((p: any) => typeof p.id === 'string')).toBe(true);
    expect(pkg.pricing[1].setupFee).toBe(0);
    expect(pkg.version).toBe(1);

    expect((await listAll(api, '/v1/packages')).map((p) => p.id)).toContain(pkg.id);
    const read = await api.staff('GET', `/v1/packages/${pkg.id}`);
    expectStatus(read, 200);
    expect(read.body).toEqual(pkg);

    const changed = await api.staff(
      'PATCH',
      `/v1/packages/${pkg.id}`,
      {
        name: 'Hosting',
        pricing: [
          { ...pkg.pricing[0], price: 1200 },
          { term: 3, period: 'month', price: 2700, currency: 'USD' },
        ],
      },
      { 'If-Match': '1' },
    );
    expectStatus(changed, 200);
    expect(changed.body.name).toBe('Hosting');
    expect(changed.body.pricing[0]).toEqual({ ...pkg.pricing[0], price: 1200 });
    expect(changed.body.pricing[1].id).not.toBe(pkg.pricing[1].id);
    expect(changed.body.version).toBe(2);
    expectProblem(await api.staff('PATCH', `/v1/packages/${pkg.id}`, { name: 'Stale' }, { 'If-Match': '1' }), 409);
  });

  it('refuse bad pricing with the field named', async () => {
    const bad = await api.staff('POST', '/v1/packages', { name: 'X', pricing: [{ term: 0, period: 'month', price: 1.5, currency: 'USD' }] });
    expectProblem(bad, 400);
    expect(errorPaths(bad)).toEqual(expect.arrayContaining(['pricing.0.term', 'pricing.0.price']));
    const currency = await api.staff('POST', '/v1/packages', { name: 'X', pricing: [{ term: 1, period: 'month', price: 100, currency: 'JPY' }] });
    expectProblem(currency, 400);
    expect(errorPaths(currency)).toEqual(['pricing.0.currency']);
    expectProblem(await api.staff('POST', '/v1/packages', { name: 'X', pricing: [] }), 400);
    expectProblem(await api.staff('GET', '/v1/packages/pkg_nope'), 404);
  });
});

describe('services', () => {
  it('an active service is invoiced for its first term at once, due on its start date, renewDate = start + term', async () => {
    const pkg = await newPackage();
    const client = await newClient(api);
    const res = await api.staff('POST', `/v1/clients/${client.id}/services`, {
      packageId: pkg.id,
      pricingId: pkg.pricing[0].id,
      quantity: '3/2',
      startDate: '2031-01-31',
    });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({
      clientId: client.id,
      packageId: pkg.id,
      package: { id: pkg.id, name: 'Shared hosting' },
      pricingId: pkg.pricing[0].id,
      quantity: '3/2',
      status: 'active',
      suspendedBy: null,
      startDate: '2031-01-31',
      renewDate: '2031-02-28',
      version: 1,
    });
    const invoices = await invoicesOf(client.id);
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ status: 'open', dateDue: '2031-01-31', currency: 'USD', total: 1500 + 500 });
    expect(invoices[0].lines.map((l: any) => [l.quantity, l.unitAmount, l.amount])).toEqual([
      ['3/2', 1000, 1500],
      ['1', 500, 500],
    ]);

    // Paying the first term does not move renewDate: it is already one term after the start.
    expectStatus(await record(client.id, invoices[0].id, 2000), 201);
    const after = await api.staff('GET', `/v1/services/${res.body.id}`);
    expect(after.body.renewDate).toBe('2031-02-28');
    expect(after.body.version).toBe(2);
  });

  it('a pending service has no invoice until it is activated', async () => {
    const pkg = await newPackage();
    const client = await newClient(api);
    const res = await api.staff('POST', `/v1/clients/${client.id}/services`, {
      packageId: pkg.id,
      pricingId: pkg.pricing[1].id,
      status: 'pending',
      startDate: '2031-03-01',
    });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({ status: 'pending', renewDate: null, quantity: '1' });
    expect(await invoicesOf(client.id)).toEqual([]);

    const active = await api.staff('POST', `/v1/services/${res.body.id}/activate`, {});
    expectStatus(active, 200);
    expect(active.body).toMatchObject({ status: 'active', startDate: '2031-03-01', renewDate: '2032-03-01' });
    const invoices = await invoicesOf(client.id);
    expect(invoices).toHaveLength(1);
    expect(invoices[0]).toMatchObject({ currency: 'EUR', total: 10000, dateDue: '2031-03-01' });
    expectProblem(await api.staff('POST', `/v1/services/${res.body.id}/activate`, {}), 409);
  });

  it('a one-time service is invoiced once and has no renewDate', async () => {
    const pkg = await newPackage();
    const client = await newClient(api);
    const res = await api.staff('POST', `/v1/clients/${client.id}/services`, { packageId: pkg.id, pricingId: pkg.pricing[2].id });
    expectStatus(res, 201);
    expect(res.body.renewDate).toBeNull();
    expect((await invoicesOf(client.id)).map((i) => i.total)).toEqual([2500]);
  });

  it('suspend, unsuspend and cancel move the status and suspendedBy; wrong moves are 409', async () => {
    const pkg = await newPackage();
    const client = await newClient(api);
    const svc = (await api.staff('POST', `/v1/clients/${client.id}/services`, { packageId: pkg.id, pricingId: pkg.pricing[0].id })).body;
    expectProblem(await api.staff('POST', `/v1/services/${svc.id}/unsuspend`), 409);
    const suspended = await api.staff('POST', `/v1/services/${svc.id}/suspend`);
    expectStatus(suspended, 200);
    expect(suspended.body).toMatchObject({ status: 'suspended', suspendedBy: 'staff' });
    expectProblem(await api.staff('POST', `/v1/services/${svc.id}/suspend`), 409);
    const unsuspended = await api.staff('POST', `/v1/services/${svc.id}/unsuspend`);
    expect(unsuspended.body).toMatchObject({ status: 'active', suspendedBy: null });
    const canceled = await api.staff('POST', `/v1/services/${svc.id}/cancel`);
    expectStatus(canceled, 200);
    expect(canceled.body.status).toBe('canceled');
    expect(canceled.body.canceledOn).toEqual(expect.any(String));
    expectProblem(await api.staff('POST', `/v1/services/${svc.id}/cancel`), 409);
    expectProblem(await api.staff('POST', `/v1/services/${svc.id}/suspend`), 409);
    expectProblem(await api.staff('POST', '/v1/services/svc_nope/cancel'), 404);
  });

  it('refuses an unknown package or pricing and a bad quantity, naming the field', async () => {
    const pkg = await newPackage();
    const client = await newClient(api);
    expectProblem(await api.staff('POST', `/v1/clients/${client.id}/services`, { packageId: 'pkg_nope', pricingId: 'x' }), 404);
    const pricing = await api.staff('POST', `/v1/clients/${client.id}/services`, { packageId: pkg.id, pricingId: 'prc_nope' });
    expectProblem(pricing, 400);
    expect(errorPaths(pricing)).toEqual(['pricingId']);
    const quantity = await api.staff('POST', `/v1/clients/${client.id}/services`, { packageId: pkg.id, pricingId: pkg.pricing[0].id, quantity: '-1' });
    expectProblem(quantity, 400);
    expect(errorPaths(quantity)).toEqual(['quantity']);
    expectProblem(await api.staff('POST', '/v1/clients/cl_nope/services', { packageId: pkg.id, pricingId: pkg.pricing[0].id }), 404);
  });

  it('a client token sees its own services only', async () => {
    const pkg = await newPackage();
    const { client, token } = await newClientWithLogin(api);
    const other = await newClient(api);
    const mine = (await api.staff('POST', `/v1/clients/${client.id}/services`, { packageId: pkg.id, pricingId: pkg.pricing[0].id })).body;
    const theirs = (await api.staff('POST', `/v1/clients/${other.id}/services`, { packageId: pkg.id, pricingId: pkg.pricing[0].id })).body;

    const list = await api.call('GET', `/v1/clients/${client.id}/services`, { token });
    expectStatus(list, 200);
    expect(list.body.data.map((s: any) => s.id)).toEqual([mine.id]);
    expectStatus(await api.call('GET', `/v1/services/${mine.id}`, { token }), 200);
    expectProblem(await api.call('GET', `/v1/services/${theirs.id}`, { token }), 404);
    expectProblem(await api.call('GET', `/v1/clients/${other.id}/services`, { token }), 404);
    expectProblem(await api.call('POST', `/v1/services/${mine.id}/cancel`, { token }), 403);
    expectProblem(await api.call('POST', `/v1/clients/${client.id}/services`, { token, body: { packageId: pkg.id, pricingId: pkg.pricing[0].id } }), 403);
    expectProblem(await api.call('GET', '/v1/packages', { token }), 403);
  });
});

describe('renewals', () => {
  it('a renewal invoice is due on the renew date; paying it advances renewDate by one term', async () => {
    const pkg = await newPackage();
    const client = await newClient(api);
    const svc = (await api.staff('POST', `/v1/clients/${client.id}/services`, { packageId: pkg.id, pricingId: pkg.pricing[0].id, startDate: '2031-05-31' }))
      .body;
    // The automation's renewals (the same use cases the API uses), run in this process against the stack's table.
    const page = await renewServicesSource.page({ companyId: api.facts.companyId, runId: 'run_test', date: '2031-06-30', dryRun: false }, null, 100);
    expect(page.actions.filter((a) => a.objectId === svc.id).map((a) => a.outcome)).toEqual(['done']);
    const renewal = (await invoicesOf(client.id)).find((i) => i.dateDue === '2031-06-30');
    expect(renewal).toMatchObject({ status: 'open', total: 1000 });

    expect((await api.staff('GET', `/v1/services/${svc.id}`)).body.renewDate).toBe('2031-06-30');
    expectStatus(await record(client.id, renewal.id, 1000), 201);
    expect((await api.staff('GET', `/v1/services/${svc.id}`)).body.renewDate).toBe('2031-07-31');
  });
});

describe('merge and delete', () => {
  it('a merge carries services into the target; a delete removes them', async () => {
    const pkg = await newPackage();
    const source = await newClient(api);
    const target = await newClient(api);
    const svc = (await api.staff('POST', `/v1/clients/${source.id}/services`, { packageId: pkg.id, pricingId: pkg.pricing[0].id })).body;
    expectStatus(await api.staff('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target.id }), 200);
    const moved = await api.staff('GET', `/v1/services/${svc.id}`);
    expectStatus(moved, 200);
    expect(moved.body.clientId).toBe(target.id);
    expect((await listAll(api, `/v1/clients/${target.id}/services`)).map((s) => s.id)).toEqual([svc.id]);
    // The first invoice moved too, and paying it there still reaches the service.
    const [invoice] = await invoicesOf(target.id);
    expectStatus(await record(target.id, invoice.id, invoice.total), 201);
    expect((await api.staff('GET', `/v1/services/${svc.id}`)).body.version).toBe(2);

    expectStatus(await api.staff('DELETE', `/v1/clients/${target.id}`), 204);
    expectProblem(await api.staff('GET', `/v1/services/${svc.id}`), 404);
  });
});
