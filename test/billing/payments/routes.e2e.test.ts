import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestClock, useTestClock, useTestClockForThisTest } from '../../support/clock.js';
import type { TestApi } from '../../support/stack.js';
import {
  ach,
  ACH_APPROVES,
  ACH_DECLINES,
  type BillingApi,
  card,
  CARD_APPROVES,
  CARD_DECLINES,
  CARD_FAILS,
  creditsOf,
  errorPaths,
  expectedSummary,
  expectProblem,
  expectStatus,
  getInvoice,
  getTransaction,
  MASTERCARD,
  newClient,
  newClientWithLogin,
  newInvoice,
  nonZero,
  startBillingApi,
  summaryOf,
  transactionsOf,
} from '../../support/billing.js';

/** Payment accounts, payments, transactions, credits, summary and statements (API.md; seed 000 steps 1–3). */
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

const addAccount = (clientId: string, body: Record<string, unknown>) => api.staff('POST', `/v1/clients/${clientId}/payment-accounts`, body);
const pay = (clientId: string, body: Record<string, unknown>) =>
  api.staff('POST', `/v1/clients/${clientId}/payments`, { currency: 'USD', sendReceipt: false, ...body });
const record = (clientId: string, body: Record<string, unknown>) =>
  api.staff('POST', `/v1/clients/${clientId}/payments/record`, { type: 'check', currency: 'USD', ...body });

describe('payment accounts', () => {
  it('rejects a card failing Luhn or expired, and a bad routing number, naming the field', async () => {
    const client = await newClient(api);
    const luhn = await addAccount(client.id, { type: 'card', card: card('4242424242424241') });
    expectProblem(luhn, 400);
    expect(errorPaths(luhn)).toContain('card.number');
    const expired = await addAccount(client.id, { type: 'card', card: { number: CARD_APPROVES, expMonth: 1, expYear: 2020 } });
    expectProblem(expired, 400);
    expect(errorPaths(expired)).toContain('card.expYear');
    const month = await addAccount(client.id, { type: 'card', card: { number: CARD_APPROVES, expMonth: 13, expYear: 2040 } });
    expectProblem(month, 400);
    expect(errorPaths(month)).toContain('card.expMonth');
    const routing = await addAccount(client.id, { type: 'ach', ach: { accountNumber: ACH_APPROVES, routingNumber: '110000001', accountType: 'checking' } });
    expectProblem(routing, 400);
    expect(errorPaths(routing)).toContain('ach.routingNumber');
    for (const res of [luhn, expired, routing]) {
      expect(res.text).not.toContain('4242424242424241');
      expect(res.text).not.toContain(CARD_APPROVES);
      expect(res.text).not.toContain(ACH_APPROVES);
    }
    expect((await api.staff('GET', `/v1/clients/${client.id}/payment-accounts`)).body.data).toEqual([]);
  });

  it('stores a card and an ACH account showing only brand, last4 and expiry', async () => {
    const client = await newClient(api);
    const cardRes = await addAccount(client.id, { type: 'card', card: card(CARD_APPROVES, { cvc: '123' }) });
    expectStatus(cardRes, 201);
    expect(cardRes.body).toMatchObject({ type: 'card', brand: 'visa', last4: '4242', expMonth: 12, status: 'active', autoDebit: false });
    expect(cardRes.body.id).toMatch(/^pa_/);
    expect(cardRes.body).not.toHaveProperty('number');
    expect(cardRes.body).not.toHaveProperty('cvc');
    expect(cardRes.body).not.toHaveProperty('secret');
    expect(cardRes.text).not.toContain(CARD_APPROVES);

    const achRes = await addAccount(client.id, { type: 'ach', ach: ach(ACH_APPROVES) });
    expectStatus(achRes, 201);
    expect(achRes.body).toMatchObject({ type: 'ach', last4: '6789', status: 'active', autoDebit: false });
    expect(achRes.text).not.toContain(ACH_APPROVES);

    const list = await api.staff('GET', `/v1/clients/${client.id}/payment-accounts`);
    expectStatus(list, 200);
    expect(list.body.data.map((a: any) => a.id).sort()).toEqual([cardRes.body.id, achRes.body.id].sort());
    expect(list.text).not.toContain(CARD_APPROVES);
    expect(list.text).not.toContain(ACH_APPROVES);
    const one = await api.staff('GET', `/v1/clients/${client.id}/payment-accounts/${cardRes.body.id}`);
    expect(one.body).toEqual(cardRes.body);
  });

  it('auto-debit sets the profile’s autoDebitAccountId, moves between accounts, and delete clears it', async () => {
    const client = await newClient(api);
    const a = (await addAccount(client.id, { type: 'card', card: card(CARD_APPROVES) })).body;
    const b = (await addAccount(client.id, { type: 'card', card: card(MASTERCARD), autoDebit: true })).body;
    expect(b).toMatchObject({ autoDebit: true, brand: 'mastercard', last4: '4444' });
    expect((await api.staff('GET', `/v1/clients/${client.id}`)).body.autoDebitAccountId).toBe(b.id);

    const set = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts/${a.id}/auto-debit`);
    expectStatus(set, 200);
    expect(set.body).toMatchObject({ id: a.id, autoDebit: true });
    expect((await api.staff('GET', `/v1/clients/${client.id}`)).body.autoDebitAccountId).toBe(a.id);
    expect((await api.staff('GET', `/v1/clients/${client.id}/payment-accounts/${b.id}`)).body.autoDebit).toBe(false);

    expectStatus(await api.staff('DELETE', `/v1/clients/${client.id}/payment-accounts/${a.id}`), 204);
    expect((await api.staff('GET', `/v1/clients/${client.id}`)).body.autoDebitAccountId).toBeNull();
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/payment-accounts/${a.id}`), 404);
    expectProblem(await api.staff('DELETE', `/v1/clients/${client.id}/payment-accounts/${a.id}`), 404);
    // Deleting another account leaves the auto-debit account alone.
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/payment-accounts/${b.id}/auto-debit`), 200);
    const c = (await addAccount(client.id, { type: 'ach', ach: ach(ACH_APPROVES) })).body;
    expectStatus(await api.staff('DELETE', `/v1/clients/${client.id}/payment-accounts/${c.id}`), 204);
    expect((await api.staff('GET', `/v1/clients/${client.id}`)).body.autoDebitAccountId).toBe(b.id);
  });

  it('a client manages only its own accounts', async () => {
    const { client, token } = await newClientWithLogin(api);
    const other = await newClient(api);
    const mine = await api.call('POST', `/v1/clients/${client.id}/payment-accounts`, { token, body: { type: 'card', card: card(CARD_APPROVES) } });
    expectStatus(mine, 201);
    expectProblem(await api.call('POST', `/v1/clients/${other.id}/payment-accounts`, { token, body: { type: 'card', card: card(CARD_APPROVES) } }), 404);
    expectProblem(await api.call('GET', `/v1/clients/${other.id}/payment-accounts`, { token }), 404);
  });
});

describe('making payments', () => {
  it('pays with a stored card: applications made, otherAmount becomes credit, paid invoices become paid', async () => {
    // 03:30 UTC on 15 March is still the 14th in New York, the seeded company's time zone: the charge's date.
    useTestClockForThisTest('2025-03-15T03:30:00Z');
    const client = await newClient(api);
    const i1 = await newInvoice(api, client.id, 10000);
    const i2 = await newInvoice(api, client.id, 5000);
    const account = (await addAccount(client.id, { type: 'card', card: card(CARD_APPROVES) })).body;
    const res = await pay(client.id, {
      source: { paymentAccountId: account.id },
      apply: [
        { invoiceId: i1.id, amount: 10000 },
        { invoiceId: i2.id, amount: 2000 },
      ],
      otherAmount: 500,
    });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({
      clientId: client.id,
      kind: 'charge',
      method: 'card',
      amount: 12500,
      currency: 'USD',
      status: 'succeeded',
      applications: [
        { invoiceId: i1.id, amount: 10000 },
        { invoiceId: i2.id, amount: 2000 },
      ],
      credit: 500,
      refunded: 0,
      paymentAccountId: account.id,
      date: '2025-03-14',
    });
    expect(res.body.id).toMatch(/^txn_/);
    expect(await getInvoice(api, i1.id)).toMatchObject({ status: 'paid', paid: 10000, due: 0 });
    expect(await getInvoice(api, i2.id)).toMatchObject({ status: 'open', paid: 2000, due: 3000 });
    expect(await creditsOf(api, client.id)).toEqual({ USD: 500 });
    expect(await getTransaction(api, res.body.id)).toEqual(res.body);
  });

  it('pays with a new card saved as an account, and with a new card not saved', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 3000);
    const saved = await pay(client.id, { source: { newCard: card(MASTERCARD, { cvc: '321' }), save: true }, apply: [{ invoiceId: inv.id, amount: 1000 }] });
    expectStatus(saved, 201);
    expect(saved.body.paymentAccountId).toMatch(/^pa_/);
    const accounts = (await api.staff('GET', `/v1/clients/${client.id}/payment-accounts`)).body.data;
    expect(accounts).toEqual([expect.objectContaining({ id: saved.body.paymentAccountId, brand: 'mastercard', last4: '4444', status: 'active' })]);

    const unsaved = await pay(client.id, { source: { newCard: card(CARD_APPROVES) }, apply: [{ invoiceId: inv.id, amount: 2000 }] });
    expectStatus(unsaved, 201);
    expect(unsaved.body.paymentAccountId).toBeNull();
    expect((await api.staff('GET', `/v1/clients/${client.id}/payment-accounts`)).body.data).toHaveLength(1);
    expect(await getInvoice(api, inv.id)).toMatchObject({ status: 'paid', due: 0, paid: 3000 });

    // The saved account pays again.
    const other = await pay(client.id, { source: { paymentAccountId: saved.body.paymentAccountId }, otherAmount: 700 });
    expectStatus(other, 201);
    expect(other.body).toMatchObject({ amount: 700, credit: 700, applications: [] });

    const badCard = await pay(client.id, { source: { newCard: card('4242424242424241') }, otherAmount: 100 });
    expectProblem(badCard, 400);
    expect(errorPaths(badCard)).toContain('source.newCard.number');
  });

  it('pays by ACH (new and stored); a declining ACH account → 402', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 4000);
    const fresh = await pay(client.id, { source: { newAch: ach(ACH_APPROVES), save: true }, apply: [{ invoiceId: inv.id, amount: 1500 }] });
    expectStatus(fresh, 201);
    expect(fresh.body.method).toBe('ach');
    const stored = await pay(client.id, { source: { paymentAccountId: fresh.body.paymentAccountId }, apply: [{ invoiceId: inv.id, amount: 2500 }] });
    expectStatus(stored, 201);
    expect((await getInvoice(api, inv.id)).status).toBe('paid');
    const declining = (await addAccount(client.id, { type: 'ach', ach: ach(ACH_DECLINES) })).body;
    const declined = await pay(client.id, { source: { paymentAccountId: declining.id }, otherAmount: 100 });
    expectProblem(declined, 402);
    expect(declined.body.transactionId).toMatch(/^txn_/);
  });

  it('a decline → 402 with transactionId; the declined attempt is listed and nothing is applied', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 2000);
    const res = await pay(client.id, { source: { newCard: card(CARD_DECLINES) }, apply: [{ invoiceId: inv.id, amount: 2000 }], otherAmount: 300 });
    expectProblem(res, 402);
    const txnId = res.body.transactionId;
    expect(txnId).toMatch(/^txn_/);
    const txn = await getTransaction(api, txnId);
    expect(txn).toMatchObject({ id: txnId, status: 'declined', amount: 2300, kind: 'charge', applications: [], credit: 0, refunded: 0 });
    expect((await transactionsOf(api, client.id)).map((t) => t.id)).toEqual([txnId]);
    expect(await getInvoice(api, inv.id)).toMatchObject({ status: 'open', paid: 0, due: 2000 });
    expect(await creditsOf(api, client.id)).toEqual({});
    expect(nonZero(await summaryOf(api, client.id))).toEqual({ USD: { invoiced: 2000, paid: 0, due: 2000, credit: 0 } });
    // A declined attempt cannot be refunded or voided.
    expectProblem(await api.staff('POST', `/v1/transactions/${txnId}/refund`, {}), 409);
  });

  it('a transient gateway failure → 502 with transactionId; the attempt is failed', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 2000);
    const res = await pay(client.id, { source: { newCard: card(CARD_FAILS) }, apply: [{ invoiceId: inv.id, amount: 2000 }] });
    expectStatus(res, 502);
    expect(res.body.transactionId).toMatch(/^txn_/);
    expect(res.body.requestId).toEqual(expect.any(String));
    expect(await getTransaction(api, res.body.transactionId)).toMatchObject({ status: 'failed', applications: [], credit: 0 });
    expect(await getInvoice(api, inv.id)).toMatchObject({ status: 'open', due: 2000 });
    expect(await creditsOf(api, client.id)).toEqual({});
  });

  it('applications: not open → 409, over due → 409, apply over the payment → 400, nothing → 400', async () => {
    const client = await newClient(api);
    const account = (await addAccount(client.id, { type: 'card', card: card(CARD_APPROVES) })).body;
    const open = await newInvoice(api, client.id, 1000);
    const draft = await newInvoice(api, client.id, 1000, { status: 'draft' });
    const voided = await newInvoice(api, client.id, 1000);
    expectStatus(await api.staff('POST', `/v1/invoices/${voided.id}/void`), 200);
    const paid = await newInvoice(api, client.id, 1000);
    expectStatus(await record(client.id, { amount: 1000, apply: [{ invoiceId: paid.id, amount: 1000 }] }), 201);
    const eur = await newInvoice(api, client.id, 1000, { currency: 'EUR' });
    const before = (await transactionsOf(api, client.id)).length;

    for (const target of [draft, voided, paid]) {
      expectProblem(await pay(client.id, { source: { paymentAccountId: account.id }, apply: [{ invoiceId: target.id, amount: 500 }] }), 409);
      expectProblem(await record(client.id, { amount: 500, apply: [{ invoiceId: target.id, amount: 500 }] }), 409);
    }
    expectProblem(await pay(client.id, { source: { paymentAccountId: account.id }, apply: [{ invoiceId: open.id, amount: 1001 }] }), 409);
    expectProblem(await record(client.id, { amount: 2000, apply: [{ invoiceId: open.id, amount: 1001 }] }), 409);
    // Two applications to one invoice add up.
    expectProblem(
      await record(client.id, {
        amount: 2000,
        apply: [
          { invoiceId: open.id, amount: 600 },
          { invoiceId: open.id, amount: 600 },
        ],
      }),
      409,
    );
    const over = await record(client.id, { amount: 500, apply: [{ invoiceId: open.id, amount: 600 }] });
    expectProblem(over, 400);
    expect(errorPaths(over)).toContain('apply');
    expectProblem(await pay(client.id, { source: { paymentAccountId: account.id }, apply: [] }), 400);
    expectProblem(await pay(client.id, { source: { paymentAccountId: account.id }, otherAmount: 0 }), 400);
    expectProblem(await record(client.id, { amount: 0 }), 400);
    expectProblem(await record(client.id, { amount: -5 }), 400);
    expectProblem(await record(client.id, { amount: 10.5 }), 400);
    expectProblem(await record(client.id, { amount: 500, apply: [{ invoiceId: eur.id, amount: 500 }] }), 400);
    expectProblem(await pay(client.id, { source: { paymentAccountId: 'pa_nope' }, otherAmount: 100 }), 400);
    expectProblem(await record(client.id, { amount: 500, apply: [{ invoiceId: 'inv_nope', amount: 500 }] }), 404);
    expectProblem(await record(client.id, { amount: 500, currency: 'GBP' }), 400);
    // Nothing was recorded, nothing applied, nothing charged.
    expect(await transactionsOf(api, client.id)).toHaveLength(before);
    expect(await getInvoice(api, open.id)).toMatchObject({ status: 'open', due: 1000, paid: 0 });
    expect(await creditsOf(api, client.id)).toEqual({});
  });

  it('a client pays its own invoices, and only its own', async () => {
    const { client, token } = await newClientWithLogin(api);
    const other = await newClient(api);
    const inv = await newInvoice(api, client.id, 1200);
    const res = await api.call('POST', `/v1/clients/${client.id}/payments`, {
      token,
      body: { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', apply: [{ invoiceId: inv.id, amount: 1200 }] },
    });
    expectStatus(res, 201);
    expect((await api.call('GET', `/v1/transactions/${res.body.id}`, { token })).status).toBe(200);
    expectProblem(
      await api.call('POST', `/v1/clients/${other.id}/payments`, {
        token,
        body: { source: { newCard: card(CARD_APPROVES) }, currency: 'USD', otherAmount: 100 },
      }),
      404,
    );
    expectStatus(await api.call('POST', `/v1/clients/${client.id}/payments/record`, { token, body: { type: 'cash', amount: 100, currency: 'USD' } }), 403);
    const otherTxn = await record(other.id, { amount: 100 });
    expectProblem(await api.call('GET', `/v1/transactions/${otherTxn.body.id}`, { token }), 404);
    expectProblem(await api.call('GET', `/v1/clients/${other.id}/transactions`, { token }), 404);
    expectProblem(await api.call('GET', `/v1/clients/${other.id}/credits`, { token }), 404);
  });
});

describe('payment emails', () => {
  const templates = async (clientId: string) =>
    ((await api.staff('GET', `/v1/clients/${clientId}/emails`)).body.data as Array<{ template: string | null }>).map((m) => m.template);

  it('a payment sends a receipt unless sendReceipt is false; a decline sends a notice', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 3000);
    expectStatus(
      await api.staff('POST', `/v1/clients/${client.id}/payments`, {
        source: { newCard: card(CARD_APPROVES) },
        currency: 'USD',
        apply: [{ invoiceId: inv.id, amount: 1000 }],
      }),
      201,
    );
    expect(await templates(client.id)).toEqual(['payment_receipt']);
    expectStatus(await pay(client.id, { source: { newCard: card(CARD_APPROVES) }, apply: [{ invoiceId: inv.id, amount: 1000 }], sendReceipt: false }), 201);
    expect(await templates(client.id)).toEqual(['payment_receipt']);
    expectStatus(await pay(client.id, { source: { newCard: card(CARD_DECLINES) }, apply: [{ invoiceId: inv.id, amount: 1000 }] }), 402);
    expect((await templates(client.id)).sort()).toEqual(['payment_declined', 'payment_receipt']);
    const other = await newClient(api);
    expect(await templates(other.id)).toEqual([]);
  });
});

describe('offline payments, voids and refunds', () => {
  it('records an offline payment; the unapplied remainder is credit', async () => {
    const client = await newClient(api);
    const inv = await newInvoice(api, client.id, 5000);
    const res = await record(client.id, {
      type: 'money_order',
      reference: 'MO-77',
      amount: 8000,
      date: '2030-01-15',
      apply: [{ invoiceId: inv.id, amount: 5000 }],
    });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({
      kind: 'offline',
      method: 'money_order',
      reference: 'MO-77',
      amount: 8000,
      credit: 3000,
      refunded: 0,
      status: 'succeeded',
      date: '2030-01-15',
      applications: [{ invoiceId: inv.id, amount: 5000 }],
      paymentAccountId: null,
    });
    expect(await getInvoice(api, inv.id)).toMatchObject({ status: 'paid', due: 0 });
    expect(await creditsOf(api, client.id)).toEqual({ USD: 3000 });
  });

  it('voiding an offline payment reopens its invoices and removes its credit; a charge → 409', async () => {
    const client = await newClient(api);
    const a = await newInvoice(api, client.id, 5000);
    const b = await newInvoice(api, client.id, 2000);
    const keep = await record(client.id, { amount: 400 });
    const txn = (
      await record(client.id, {
        amount: 8000,
        apply: [
          { invoiceId: a.id, amount: 5000 },
          { invoiceId: b.id, amount: 1000 },
        ],
      })
    ).body;
    expect(await creditsOf(api, client.id)).toEqual({ USD: 2400 });

    const voided = await api.staff('POST', `/v1/transactions/${txn.id}/void`);
    expectStatus(voided, 200);
    expect(voided.body).toMatchObject({ id: txn.id, status: 'voided', applications: [], credit: 0 });
    expect(await getInvoice(api, a.id)).toMatchObject({ status: 'open', paid: 0, due: 5000 });
    expect(await getInvoice(api, b.id)).toMatchObject({ status: 'open', paid: 0, due: 2000 });
    expect(await creditsOf(api, client.id)).toEqual({ USD: 400 });
    expectProblem(await api.staff('POST', `/v1/transactions/${txn.id}/void`), 409);
    expect((await getTransaction(api, keep.body.id)).status).toBe('succeeded');

    const charge = await pay(client.id, { source: { newCard: card(CARD_APPROVES) }, apply: [{ invoiceId: b.id, amount: 2000 }] });
    expectStatus(charge, 201);
    expectProblem(await api.staff('POST', `/v1/transactions/${charge.body.id}/void`), 409);
    expect((await getInvoice(api, b.id)).status).toBe('paid');
    expectProblem(await api.staff('POST', '/v1/transactions/txn_nope/void'), 404);
  });

  it('refunds a charge partly then fully: credit first, then applications last-requested first', async () => {
    const client = await newClient(api);
    const a = await newInvoice(api, client.id, 2000);
    const b = await newInvoice(api, client.id, 3000);
    const charge = (
      await pay(client.id, {
        source: { newCard: card(CARD_APPROVES) },
        apply: [
          { invoiceId: a.id, amount: 2000 },
          { invoiceId: b.id, amount: 3000 },
        ],
        otherAmount: 1000,
      })
    ).body;
    expect(charge.amount).toBe(6000);

    const partial = await api.staff('POST', `/v1/transactions/${charge.id}/refund`, { amount: 1500 });
    expectStatus(partial, 200);
    expect(partial.body).toMatchObject({
      status: 'partially_refunded',
      refunded: 1500,
      credit: 0,
      applications: [
        { invoiceId: a.id, amount: 2000 },
        { invoiceId: b.id, amount: 2500 },
      ],
    });
    expect(await getInvoice(api, a.id)).toMatchObject({ status: 'paid', due: 0 });
    expect(await getInvoice(api, b.id)).toMatchObject({ status: 'open', paid: 2500, due: 500 });
    expect(await creditsOf(api, client.id)).toEqual({});

    const tooMuch = await api.staff('POST', `/v1/transactions/${charge.id}/refund`, { amount: 4501 });
    expectProblem(tooMuch, 422);
    expectProblem(await api.staff('POST', `/v1/transactions/${charge.id}/refund`, { amount: 0 }), 400);

    const rest = await api.staff('POST', `/v1/transactions/${charge.id}/refund`, {});
    expectStatus(rest, 200);
    expect(rest.body).toMatchObject({ status: 'refunded', refunded: 6000, credit: 0, applications: [] });
    expect(await getInvoice(api, a.id)).toMatchObject({ status: 'open', paid: 0, due: 2000 });
    expect(await getInvoice(api, b.id)).toMatchObject({ status: 'open', paid: 0, due: 3000 });
    expectProblem(await api.staff('POST', `/v1/transactions/${charge.id}/refund`, {}), 422);
    expectProblem(await api.staff('POST', `/v1/transactions/${charge.id}/refund`, { amount: 1 }), 422);

    const offline = await record(client.id, { amount: 500 });
    expectProblem(await api.staff('POST', `/v1/transactions/${offline.body.id}/refund`, { amount: 100 }), 409);
    expect(nonZero(await summaryOf(api, client.id))).toEqual(nonZero(await expectedSummary(api, client.id)));
  });

  it('a refund that reaches into applications takes the last-requested one first, across invoices', async () => {
    const client = await newClient(api);
    const a = await newInvoice(api, client.id, 1000);
    const b = await newInvoice(api, client.id, 1000);
    const c = await newInvoice(api, client.id, 1000);
    const charge = (
      await pay(client.id, {
        source: { newCard: card(CARD_APPROVES) },
        apply: [
          { invoiceId: b.id, amount: 1000 },
          { invoiceId: a.id, amount: 1000 },
          { invoiceId: c.id, amount: 500 },
        ],
        otherAmount: 200,
      })
    ).body;
    const res = await api.staff('POST', `/v1/transactions/${charge.id}/refund`, { amount: 1900 });
    expectStatus(res, 200);
    // 200 credit, then c (500), then a (1000), then 200 of b.
    expect(res.body.applications).toEqual([{ invoiceId: b.id, amount: 800 }]);
    expect((await getInvoice(api, b.id)).due).toBe(200);
    expect((await getInvoice(api, a.id)).due).toBe(1000);
    expect((await getInvoice(api, c.id)).due).toBe(1000);
  });
});

describe('credits', () => {
  it('applies loose credit to open invoices, oldest due date first; a fully paid invoice is paid', async () => {
    const client = await newClient(api);
    const later = await newInvoice(api, client.id, 4000, { dateBilled: '2030-01-01', dateDue: '2030-03-01' });
    const older = await newInvoice(api, client.id, 5000, { dateBilled: '2030-01-01', dateDue: '2030-01-15' });
    const eur = await newInvoice(api, client.id, 1000, { currency: 'EUR', dateDue: '2020-01-01', dateBilled: '2020-01-01' });
    expectStatus(await record(client.id, { amount: 3000, date: '2029-12-01' }), 201);
    expectStatus(await record(client.id, { amount: 4000, date: '2029-12-02' }), 201);
    expectStatus(await record(client.id, { amount: 250, currency: 'EUR' }), 201);
    expect(await creditsOf(api, client.id)).toEqual({ USD: 7000, EUR: 250 });

    const res = await api.staff('POST', `/v1/clients/${client.id}/credits/apply`, { currency: 'USD' });
    expectStatus(res, 200);
    expect(res.body.applied).toEqual([
      { invoiceId: older.id, amount: 5000 },
      { invoiceId: later.id, amount: 2000 },
    ]);
    expect(await getInvoice(api, older.id)).toMatchObject({ status: 'paid', due: 0, paid: 5000 });
    expect(await getInvoice(api, later.id)).toMatchObject({ status: 'open', due: 2000, paid: 2000 });
    expect(await getInvoice(api, eur.id)).toMatchObject({ status: 'open', due: 1000 });
    expect(await creditsOf(api, client.id)).toEqual({ EUR: 250 });
    // The oldest payment's credit went first and each payment still adds up.
    for (const t of await transactionsOf(api, client.id)) {
      expect(t.applications.reduce((s: number, x: any) => s + x.amount, 0) + t.credit + t.refunded).toBe(t.amount);
    }

    const nothing = await api.staff('POST', `/v1/clients/${client.id}/credits/apply`, {});
    expectStatus(nothing, 200);
    expect(nothing.body.applied).toEqual([]);

    const one = await api.staff('POST', `/v1/clients/${client.id}/credits/apply`, { invoiceId: eur.id });
    expectStatus(one, 200);
    expect(one.body.applied).toEqual([{ invoiceId: eur.id, amount: 250 }]);
    expect(await getInvoice(api, eur.id)).toMatchObject({ status: 'open', due: 750 });
    expect(await creditsOf(api, client.id)).toEqual({});
    expectProblem(await api.staff('POST', `/v1/clients/${client.id}/credits/apply`, { invoiceId: older.id }), 409);
  });

  it('a client reads its credits', async () => {
    const { client, token } = await newClientWithLogin(api);
    expectStatus(await record(client.id, { amount: 900 }), 201);
    const res = await api.call('GET', `/v1/clients/${client.id}/credits`, { token });
    expectStatus(res, 200);
    expect(res.body.data).toEqual([{ currency: 'USD', amount: 900 }]);
  });
});

describe('summary', () => {
  it('reports invoiced, paid, due and credit per currency, on /summary and the profile', async () => {
    const { client, token } = await newClientWithLogin(api);
    const a = await newInvoice(api, client.id, 10000);
    const b = await newInvoice(api, client.id, 3000);
    const c = await newInvoice(api, client.id, 2000, { currency: 'EUR' });
    await newInvoice(api, client.id, 9999, { status: 'draft' });
    const v = await newInvoice(api, client.id, 7777);
    expectStatus(await api.staff('POST', `/v1/invoices/${v.id}/void`), 200);
    expectStatus(
      await pay(client.id, {
        source: { newCard: card(CARD_APPROVES) },
        apply: [
          { invoiceId: a.id, amount: 4000 },
          { invoiceId: b.id, amount: 3000 },
        ],
        otherAmount: 600,
      }),
      201,
    );
    expectStatus(await record(client.id, { amount: 2500, currency: 'EUR', apply: [{ invoiceId: c.id, amount: 500 }] }), 201);

    const summary = await summaryOf(api, client.id);
    expect(summary).toEqual({
      USD: { invoiced: 13000, paid: 7000, due: 6000, credit: 600 },
      EUR: { invoiced: 2000, paid: 500, due: 1500, credit: 2000 },
    });
    expect(summary).toEqual(await expectedSummary(api, client.id));
    const profile = await api.staff('GET', `/v1/clients/${client.id}`);
    expect(profile.body.summary.data).toEqual((await api.staff('GET', `/v1/clients/${client.id}/summary`)).body.data);
    const own = await api.call('GET', `/v1/clients/${client.id}/summary`, { token });
    expectStatus(own, 200);
    expect(own.body.data).toEqual(profile.body.summary.data);
  });
});

describe('statements', () => {
  let client: any;
  let token: string;
  let inv1: any;
  let inv2: any;
  let inv3: any;

  // What the system takes as today while these run (03:30 UTC, so still the 14th in New York), so "today" and
  // "the last 30 days" are dates the test can name.
  const TODAY = '2025-03-14';
  let clock: TestClock;
  afterAll(() => clock.restore());

  beforeAll(async () => {
    clock = useTestClock('2025-03-15T03:30:00Z');
    ({ client, token } = await newClientWithLogin(api));
    inv1 = await newInvoice(api, client.id, 10000, { dateBilled: '2024-01-05', dateDue: '2024-01-20' });
    expectStatus(await record(client.id, { amount: 4000, date: '2024-01-10', reference: 'CHK-1', apply: [{ invoiceId: inv1.id, amount: 4000 }] }), 201);
    inv2 = await newInvoice(api, client.id, 3000, { dateBilled: '2024-02-01', dateDue: '2024-02-15' });
    inv3 = await newInvoice(api, client.id, 2000, { dateBilled: '2024-02-03', dateDue: '2024-02-15' });
    await newInvoice(api, client.id, 5555, { status: 'draft', dateBilled: '2024-02-04' });
    expectStatus(await api.staff('POST', `/v1/invoices/${inv3.id}/void`), 200);
    const toVoid = await record(client.id, { amount: 1000, date: '2024-02-10', reference: 'CHK-2' });
    expectStatus(toVoid, 201);
    expectStatus(await api.staff('POST', `/v1/transactions/${toVoid.body.id}/void`), 200);
    const charge = await pay(client.id, { source: { newCard: card(CARD_APPROVES) }, apply: [{ invoiceId: inv2.id, amount: 3000 }] });
    expectStatus(charge, 201);
    expectStatus(await pay(client.id, { source: { newCard: card(CARD_DECLINES) }, otherAmount: 999 }), 402);
    expectStatus(await api.staff('POST', `/v1/transactions/${charge.body.id}/refund`, { amount: 1000 }), 200);
    // Another currency stays out of a USD statement.
    expectStatus(await record(client.id, { amount: 1234, currency: 'EUR', date: '2024-02-11' }), 201);
  });

  function expectConsistent(statement: any): void {
    let balance = statement.openingBalance;
    let date = '';
    for (const line of statement.lines) {
      expect(line.date >= date, `dates in order at ${line.date}`).toBe(true);
      expect(line.date >= statement.from && line.date <= statement.to).toBe(true);
      balance += line.amount;
      expect(line.balance).toBe(balance);
      date = line.date;
    }
    expect(statement.closingBalance).toBe(balance);
  }

  const typesAndAmounts = (statement: any) => statement.lines.map((l: any) => `${l.type} ${l.amount}`).sort();

  it('an old period: opening 0, the invoice adds, the payment subtracts', async () => {
    const res = await api.staff('GET', `/v1/clients/${client.id}/statement?from=2024-01-01&to=2024-01-31`);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ currency: 'USD', from: '2024-01-01', to: '2024-01-31', openingBalance: 0, closingBalance: 6000 });
    expect(res.body.lines).toEqual([
      { date: '2024-01-05', type: 'invoice', reference: expect.any(String), description: expect.any(String), amount: 10000, balance: 10000 },
      { date: '2024-01-10', type: 'payment', reference: 'CHK-1', description: expect.any(String), amount: -4000, balance: 6000, livemode: false },
    ]);
  });

  it('a period to today: opening balance carried, invoices, payments, voids and refunds in date order', async () => {
    const res = await api.staff('GET', `/v1/clients/${client.id}/statement?from=2024-02-01&to=${TODAY}`);
    expectStatus(res, 200);
    const s = res.body;
    expect(s.openingBalance).toBe(6000);
    expectConsistent(s);
    expect(s.lines.slice(0, 3).map((l: any) => [l.date, l.type, l.amount])).toEqual([
      ['2024-02-01', 'invoice', 3000],
      ['2024-02-03', 'invoice', 2000],
      ['2024-02-10', 'payment', -1000],
    ]);
    expect(typesAndAmounts(s)).toEqual(['invoice 2000', 'invoice 3000', 'payment -1000', 'payment -3000', 'refund 1000', 'void -2000', 'void 1000'].sort());
    // What is owed now: 6000 on inv1, 1000 on inv2 after the refund.
    expect(s.closingBalance).toBe(7000);
    const summary = await summaryOf(api, client.id);
    expect(s.closingBalance).toBe(summary.USD.due - summary.USD.credit);
  });

  it('defaults to the last 30 days and the client’s currency', async () => {
    const res = await api.staff('GET', `/v1/clients/${client.id}/statement`);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ currency: 'USD', to: TODAY, from: '2025-02-13', openingBalance: 10000, closingBalance: 7000 });
    expectConsistent(res.body);
    expect(typesAndAmounts(res.body)).toEqual(['payment -3000', 'refund 1000', 'void -2000', 'void 1000'].sort());
  });

  it('keeps currencies apart', async () => {
    const res = await api.staff('GET', `/v1/clients/${client.id}/statement?currency=EUR&from=2024-01-01&to=${TODAY}`);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ currency: 'EUR', openingBalance: 0, closingBalance: -1234 });
    expect(res.body.lines).toHaveLength(1);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/statement?from=2024-03-01&to=2024-02-01`), 400);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/statement?currency=GBP`), 400);
  });

  it('a period with no lines has opening = closing', async () => {
    const res = await api.staff('GET', `/v1/clients/${client.id}/statement?from=2024-01-21&to=2024-01-31`);
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ openingBalance: 6000, closingBalance: 6000, lines: [] });
  });

  it('renders as a PDF with ?format=pdf or Accept: application/pdf; a client reads only its own', async () => {
    const byQuery = await api.staff('GET', `/v1/clients/${client.id}/statement?format=pdf&from=2024-01-01&to=${TODAY}`);
    expectStatus(byQuery, 200);
    expect(byQuery.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(byQuery.text.slice(0, 4)).toBe('%PDF');
    const byAccept = await api.call('GET', `/v1/clients/${client.id}/statement`, { token: api.facts.staffToken, headers: { accept: 'application/pdf' } });
    expectStatus(byAccept, 200);
    expect(byAccept.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(byAccept.text.slice(0, 4)).toBe('%PDF');

    const own = await api.call('GET', `/v1/clients/${client.id}/statement?from=2024-01-01&to=2024-01-31`, { token });
    expectStatus(own, 200);
    expect(own.body.closingBalance).toBe(6000);
    const other = await newClient(api);
    expectProblem(await api.call('GET', `/v1/clients/${other.id}/statement`, { token }), 404);
  });
});
