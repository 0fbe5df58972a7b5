import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import { getServices } from '../../../functions/services.js';
import { createCompany, type TestApi } from '../../support/stack.js';
import {
  type BillingApi,
  card,
  CARD_APPROVES,
  CARD_DECLINES,
  CARD_FAILS,
  creditsOf,
  expectProblem,
  expectStatus,
  getInvoice,
  newClient,
  newInvoice,
  startBillingApi,
  transactionsOf,
  uniq,
} from '../../support/billing.js';

/** `Idempotency-Key` on payments (API.md, Conventions → Idempotency): a replay acts once and answers the same. */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

const withKey = (key: string) => ({ 'idempotency-key': key });
const charges = () => (getServices().gateway as LocalGateway).succeededCharges().length;

describe('idempotent payments', () => {
  it('replaying POST /payments returns the same 201 and body and charges once', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 5000);
    const key = uniq('pay-');
    const body = { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 2000 }], otherAmount: 100 };
    const chargedBefore = charges();
    const first = await api.staff('POST', `/v1/clients/${client.id}/payments`, body, withKey(key));
    expectStatus(first, 201);
    const again = await api.staff('POST', `/v1/clients/${client.id}/payments`, body, withKey(key));
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    // The same body with keys in another order is the same request.
    const reordered = await api.staff(
      'POST',
      `/v1/clients/${client.id}/payments`,
      { otherAmount: 100, apply: body.apply, currency: 'USD', source: body.source },
      withKey(key),
    );
    expect(reordered.status).toBe(201);
    expect(reordered.body).toEqual(first.body);

    expect(await transactionsOf(api, client.id)).toHaveLength(1);
    expect(charges() - chargedBefore).toBe(1);
    expect(await getInvoice(api, inv.id)).toMatchObject({ paid: 2000, due: 3000 });
    expect(await creditsOf(api, client.id)).toEqual({ USD: 100 });
  });

  it('replaying POST /payments/record returns the same 201 and records once', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 5000);
    const key = uniq('rec-');
    const body = { type: 'check', reference: '1001', amount: 6000, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 5000 }] };
    const first = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, body, withKey(key));
    expectStatus(first, 201);
    for (let i = 0; i < 3; i++) {
      const again = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, body, withKey(key));
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
    }
    expect(await transactionsOf(api, client.id)).toHaveLength(1);
    expect(await creditsOf(api, client.id)).toEqual({ USD: 1000 });
    expect(await getInvoice(api, inv.id)).toMatchObject({ status: 'paid', due: 0 });
  });

  it('a declined (402) attempt replays as the same 402 and records one declined transaction', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 5000);
    const key = uniq('dec-');
    const body = { source: { newCard: card(CARD_DECLINES) }, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 5000 }] };
    const first = await api.staff('POST', `/v1/clients/${client.id}/payments`, body, withKey(key));
    expectProblem(first, 402);
    const again = await api.staff('POST', `/v1/clients/${client.id}/payments`, body, withKey(key));
    expect(again.status).toBe(402);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const txns = await transactionsOf(api, client.id);
    expect(txns).toHaveLength(1);
    expect(txns[0]).toMatchObject({ id: first.body.transactionId, status: 'declined' });
  });

  it('a transient failure (502) is not kept: a retry with the key acts again', async () => {
    const client = await newClient(api);
    const key = uniq('fail-');
    const body = { source: { newCard: card(CARD_FAILS) }, currency: 'USD', otherAmount: 500 };
    const first = await api.staff('POST', `/v1/clients/${client.id}/payments`, body, withKey(key));
    expectStatus(first, 502);
    const again = await api.staff('POST', `/v1/clients/${client.id}/payments`, body, withKey(key));
    expectStatus(again, 502);
    expect(again.body.transactionId).not.toBe(first.body.transactionId);
    expect((await transactionsOf(api, client.id)).map((t) => t.status)).toEqual(['failed', 'failed']);
  });

  it('the same key with a different body, path or method → 422, acting on nothing', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 5000);
    const key = uniq('mix-');
    const body = { type: 'cash', amount: 1000, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 1000 }] };
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/payments/record`, body, withKey(key)), 201);
    expectProblem(await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { ...body, amount: 1001 }, withKey(key)), 422);
    expectProblem(
      await api.staff(
        'POST',
        `/v1/clients/${client.id}/payments`,
        { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', otherAmount: 1000 },
        withKey(key),
      ),
      422,
    );
    const other = await newClient(api);
    expectProblem(await api.staff('POST', `/v1/clients/${other.id}/payments/record`, body, withKey(key)), 422);
    expect(await transactionsOf(api, client.id)).toHaveLength(1);
    expect(await transactionsOf(api, other.id)).toHaveLength(0);
    expect(await getInvoice(api, inv.id)).toMatchObject({ paid: 1000, due: 4000 });
  });

  it('the same key sent three times at once acts once: the others get 409 or the same response', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 5000);
    const key = uniq('twin-');
    const body = { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 1000 }] };
    const results = await Promise.all([1, 2, 3].map(() => api.staff('POST', `/v1/clients/${client.id}/payments`, body, withKey(key))));
    for (const res of results) expect([201, 409]).toContain(res.status);
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const res of created) expect(res.body).toEqual(created[0].body);
    expect(await transactionsOf(api, client.id)).toHaveLength(1);
    expect((await getInvoice(api, inv.id)).paid).toBe(1000);
    const later = await api.staff('POST', `/v1/clients/${client.id}/payments`, body, withKey(key));
    expect(later.status).toBe(201);
    expect(later.body).toEqual(created[0].body);
  });

  it('keys are scoped to the company', async () => {
    const key = uniq('scoped-');
    const client = await newClient(api);
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'cash', amount: 100, currency: 'USD' }, withKey(key)), 201);
    const other = await createCompany(api, 'Other Co', 'EUR');
    const theirs = await api.call('POST', '/v1/clients', { token: other.staffToken, body: { company: 'Their client' } });
    expectStatus(theirs, 201);
    const res = await api.call('POST', `/v1/clients/${theirs.body.id}/payments/record`, {
      token: other.staffToken,
      headers: withKey(key),
      body: { type: 'cash', amount: 100, currency: 'EUR' },
    });
    expectStatus(res, 201);
    expect(res.body.clientId).toBe(theirs.body.id);
  });

  it('rejects a key longer than 255 characters', async () => {
    const client = await newClient(api);
    expectProblem(
      await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'cash', amount: 100, currency: 'USD' }, withKey('k'.repeat(256))),
      400,
    );
    expect(await transactionsOf(api, client.id)).toHaveLength(0);
  });
});
