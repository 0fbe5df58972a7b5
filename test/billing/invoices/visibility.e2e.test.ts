import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApi } from '../../support/stack.js';
import {
  type BillingApi,
  card,
  CARD_APPROVES,
  CARD_DECLINES,
  expectStatus,
  listAll,
  newClient,
  newClientWithLogin,
  newInvoice,
  startBillingApi,
} from '../../support/billing.js';

/** Rules around what a payment keeps and what a client sees. */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

describe('saving new card details with a payment', () => {
  it('keeps an approved card as a payment account named on the transaction', async () => {
    const client = await newClient(api);
    const paid = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      currency: 'USD',
      sendReceipt: false,
      source: { newCard: card(CARD_APPROVES), save: true },
      otherAmount: 500,
    });
    expectStatus(paid, 201);
    const accounts = await listAll(api, `/v1/clients/${client.id}/payment-accounts`);
    expect(accounts).toHaveLength(1);
    expect(paid.body.paymentAccountId).toBe(accounts[0].id);
  });

  it('does not keep a card whose charge was declined', async () => {
    const client = await newClient(api);
    const declined = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      currency: 'USD',
      sendReceipt: false,
      source: { newCard: card(CARD_DECLINES), save: true },
      otherAmount: 500,
    });
    expectStatus(declined, 402);
    expect(await listAll(api, `/v1/clients/${client.id}/payment-accounts`)).toEqual([]);
  });
});

describe('draft invoices', () => {
  it('are hidden from the client until they are opened', async () => {
    const { client, token } = await newClientWithLogin(api);
    const draft = await newInvoice(api, client.id, 1000, { status: 'draft' });
    const open = await newInvoice(api, client.id, 2000);
    expectStatus(await api.call('GET', `/v1/invoices/${draft.id}`, { token }), 404);
    expectStatus(await api.call('GET', `/v1/invoices/${draft.id}/pdf`, { token }), 404);
    const listed = await api.call('GET', '/v1/invoices', { token });
    expect(listed.body.data.map((i: { id: string }) => i.id)).toEqual([open.id]);
    expect((await api.call('GET', '/v1/invoices?status=draft', { token })).body.data).toEqual([]);
    // Staff still see it, and once opened the client does too.
    expectStatus(await api.staff('GET', `/v1/invoices/${draft.id}`), 200);
    expectStatus(await api.staff('PATCH', `/v1/invoices/${draft.id}`, { status: 'open' }), 200);
    expectStatus(await api.call('GET', `/v1/invoices/${draft.id}`, { token }), 200);
  });
});

describe('merging clients with auto-debit accounts', () => {
  const addCard = async (clientId: string, autoDebit: boolean) => {
    const res = await api.staff('POST', `/v1/clients/${clientId}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES), autoDebit });
    expectStatus(res, 201);
    return res.body;
  };

  it("gives the target the source's auto-debit account when it has none", async () => {
    const source = await newClient(api);
    const target = await newClient(api);
    const account = await addCard(source.id, true);
    expectStatus(await api.staff('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target.id }), 200);
    const profile = await api.staff('GET', `/v1/clients/${target.id}`);
    expect(profile.body.autoDebitAccountId).toBe(account.id);
    expect((await api.staff('GET', `/v1/clients/${target.id}/payment-accounts/${account.id}`)).body.autoDebit).toBe(true);
  });

  it('keeps the target account when both have one, and the moved one stops auto-debiting', async () => {
    const source = await newClient(api);
    const target = await newClient(api);
    const moved = await addCard(source.id, true);
    const kept = await addCard(target.id, true);
    expectStatus(await api.staff('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target.id }), 200);
    expect((await api.staff('GET', `/v1/clients/${target.id}`)).body.autoDebitAccountId).toBe(kept.id);
    expect((await api.staff('GET', `/v1/clients/${target.id}/payment-accounts/${moved.id}`)).body.autoDebit).toBe(false);
  });
});
