import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { LocalEnvelopeCipher } from '../../functions/adapters/crypto/local.js';
import { ledgerViolations } from '../../functions/domain/ledger.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { clientPk, paymentAccountSk } from '../../functions/store/keys.js';
import { loadLedger } from '../../functions/store/ledger.js';
import type { TestApi } from '../support/stack.js';
import {
  type BillingApi,
  card,
  CARD_APPROVES,
  creditsOf,
  expectedSummary,
  expectProblem,
  expectStatus,
  getInvoice,
  getTransaction,
  listAll,
  MASTERCARD,
  newClient,
  newInvoice,
  startBillingApi,
  summaryOf,
  transactionsOf,
} from '../support/billing.js';

/** Merging and deleting clients that have money (API.md, Clients → merge and DELETE). */
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

const record = (clientId: string, body: Record<string, unknown>) =>
  api.staff('POST', `/v1/clients/${clientId}/payments/record`, { type: 'check', currency: 'USD', ...body });
const pay = (clientId: string, body: Record<string, unknown>) =>
  api.staff('POST', `/v1/clients/${clientId}/payments`, { currency: 'USD', sendReceipt: false, ...body });

describe('merging a client with money into another', () => {
  it('moves invoices, payments, credit and payment accounts; the source is gone', async () => {
    const source = await newClient(api, { firstName: 'Source' });
    const target = await newClient(api, { firstName: 'Target' });

    // The source: USD and EUR invoices, an offline payment with credit, a saved card and a charge with EUR credit.
    const s1 = await newInvoice(api, source.id, 10000);
    const s2 = await newInvoice(api, source.id, 5000, { currency: 'EUR' });
    const s3 = await newInvoice(api, source.id, 2000);
    const sDraft = await newInvoice(api, source.id, 100, { status: 'draft' });
    const offline = await record(source.id, {
      amount: 5500,
      apply: [
        { invoiceId: s1.id, amount: 3000 },
        { invoiceId: s3.id, amount: 2000 },
      ],
    });
    expectStatus(offline, 201);
    const account = await api.staff('POST', `/v1/clients/${source.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES, { cvc: '123' }) });
    expectStatus(account, 201);
    const charge = await pay(source.id, {
      currency: 'EUR',
      source: { paymentAccountId: account.body.id },
      apply: [{ invoiceId: s2.id, amount: 2000 }],
      otherAmount: 300,
    });
    expectStatus(charge, 201);
    const declined = await pay(source.id, { source: { newCard: card('4000000000000002') }, otherAmount: 100 });
    expectStatus(declined, 402);
    expect(await creditsOf(api, source.id)).toEqual({ USD: 500, EUR: 300 });
    const series = await api.staff('POST', `/v1/clients/${source.id}/invoices`, {
      lines: [{ description: 'Monthly', quantity: 1, unitAmount: 700 }],
      recurring: { term: 1, period: 'month' },
    });
    expectStatus(series, 201);

    // The target: its own USD credit, a USD invoice and a card.
    const t1 = await newInvoice(api, target.id, 2000);
    expectStatus(await record(target.id, { amount: 1000 }), 201);
    const targetCard = await api.staff('POST', `/v1/clients/${target.id}/payment-accounts`, { type: 'card', card: card(MASTERCARD) });
    expectStatus(targetCard, 201);
    const sourceSummary = await summaryOf(api, source.id);
    const targetSummary = await summaryOf(api, target.id);
    const sourceTxns = await transactionsOf(api, source.id);

    const merged = await api.staff('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target.id });
    expectStatus(merged, 200);
    expect(merged.body.id).toBe(target.id);

    // The source is gone.
    expectProblem(await api.staff('GET', `/v1/clients/${source.id}`), 404);
    expectProblem(await api.staff('GET', `/v1/clients/${source.id}/transactions`), 404);
    expect(await listAll(api, `/v1/invoices?clientId=${source.id}`)).toEqual([]);

    // Invoices moved, as they were.
    const listed = await listAll(api, `/v1/invoices?clientId=${target.id}`);
    expect(listed.map((i) => i.id).sort()).toEqual([s1.id, s2.id, s3.id, sDraft.id, series.body.id, t1.id].sort());
    for (const id of [s1.id, s2.id, s3.id, sDraft.id]) {
      const inv = await getInvoice(api, id);
      expect(inv.clientId).toBe(target.id);
      expectStatus(await api.staff('GET', `/v1/invoices/${id}/pdf`), 200);
    }
    expect(await getInvoice(api, s1.id)).toMatchObject({ status: 'open', paid: 3000, due: 7000, number: s1.number });
    expect(await getInvoice(api, s3.id)).toMatchObject({ status: 'paid' });
    expect(await getInvoice(api, s2.id)).toMatchObject({ currency: 'EUR', paid: 2000, due: 3000 });
    const company = await listAll(api, '/v1/invoices?status=open');
    expect(company.find((i) => i.id === s1.id)?.clientId).toBe(target.id);

    // Transactions moved, declined attempt included.
    const targetTxns = await transactionsOf(api, target.id);
    for (const t of sourceTxns) {
      expect(targetTxns.find((x) => x.id === t.id)).toMatchObject({ ...t, clientId: target.id, version: expect.any(Number), updatedAt: expect.any(String) });
      expect((await getTransaction(api, t.id)).clientId).toBe(target.id);
    }
    expect(targetTxns.some((t) => t.status === 'declined')).toBe(true);

    // Credits and the summary add up per currency, currencies kept apart.
    expect(await creditsOf(api, target.id)).toEqual({ USD: 1500, EUR: 300 });
    const summary = await summaryOf(api, target.id);
    for (const currency of ['USD', 'EUR']) {
      const add = (field: 'invoiced' | 'paid' | 'due' | 'credit') => (sourceSummary[currency]?.[field] ?? 0) + (targetSummary[currency]?.[field] ?? 0);
      expect(summary[currency]).toEqual({ invoiced: add('invoiced'), paid: add('paid'), due: add('due'), credit: add('credit') });
    }
    expect(summary).toEqual(await expectedSummary(api, target.id));
    expect(ledgerViolations((await loadLedger(api.facts.companyId, target.id)).state)).toEqual([]);

    // The recurring series moved too.
    const seriesList = await api.staff('GET', `/v1/clients/${target.id}/recurring-invoices`);
    expect(seriesList.body.data.map((r: any) => r.id)).toEqual([series.body.recurringInvoiceId]);
    expect((await api.staff('GET', `/v1/recurring-invoices/${series.body.recurringInvoiceId}`)).body.clientId).toBe(target.id);

    // The payment account moved and still pays: its secret is bound to the account, not to the client.
    const accounts = (await api.staff('GET', `/v1/clients/${target.id}/payment-accounts`)).body.data;
    expect(accounts.map((a: any) => a.id).sort()).toEqual([account.body.id, targetCard.body.id].sort());
    expect(accounts.find((a: any) => a.id === account.body.id)).toMatchObject({ clientId: target.id, last4: '4242', status: 'active' });
    const payAfter = await pay(target.id, { source: { paymentAccountId: account.body.id }, apply: [{ invoiceId: s1.id, amount: 7000 }] });
    expectStatus(payAfter, 201);
    expect(payAfter.body).toMatchObject({ paymentAccountId: account.body.id, clientId: target.id, status: 'succeeded' });
    expect(await getInvoice(api, s1.id)).toMatchObject({ status: 'paid', due: 0 });

    const stored = await db().send(
      new GetCommand({ TableName: tableName(), Key: { PK: clientPk(api.facts.companyId, target.id), SK: paymentAccountSk(account.body.id) } }),
    );
    const secret = stored.Item?.secret as string;
    expect(typeof secret).toBe('string');
    const cipher = new LocalEnvelopeCipher();
    const opened = JSON.parse(await cipher.decrypt(secret, { companyId: api.facts.companyId, paymentAccountId: account.body.id }));
    expect(opened.token).toEqual(expect.any(String));
    await expect(cipher.decrypt(secret, { companyId: api.facts.companyId, paymentAccountId: targetCard.body.id })).rejects.toThrow();
    await expect(cipher.decrypt(secret, { companyId: 'co_other', paymentAccountId: account.body.id })).rejects.toThrow();
    await expect(cipher.decrypt(secret, { companyId: api.facts.companyId, clientId: target.id })).rejects.toThrow();

    // The merged credit can be used on the target's invoices.
    const applied = await api.staff('POST', `/v1/clients/${target.id}/credits/apply`, { currency: 'USD' });
    expectStatus(applied, 200);
    expect(applied.body.applied.reduce((s: number, a: any) => s + a.amount, 0)).toBe(1500);
    expect(ledgerViolations((await loadLedger(api.facts.companyId, target.id)).state)).toEqual([]);
  });

  it('refuses a merge into itself or into no client, changing nothing', async () => {
    const client = await newClient(api);
    await newInvoice(api, client.id, 100);
    expectProblem(await api.staff('POST', `/v1/clients/${client.id}/merge`, { intoClientId: client.id }), 400);
    expectProblem(await api.staff('POST', `/v1/clients/${client.id}/merge`, { intoClientId: 'cl_nobody' }), 400);
    expect(await listAll(api, `/v1/invoices?clientId=${client.id}`)).toHaveLength(1);
    expectStatus(await api.staff('GET', `/v1/clients/${client.id}`), 200);
  });
});

describe('deleting a client with money', () => {
  it('removes its invoices, transactions, credit and accounts: all 404 afterwards', async () => {
    const client = await newClient(api);
    const bystander = await newClient(api);
    const keep = await newInvoice(api, bystander.id, 1000);
    const inv = await newInvoice(api, client.id, 5000);
    const paidInv = await newInvoice(api, client.id, 1000);
    const draft = await newInvoice(api, client.id, 100, { status: 'draft' });
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    const charge = await pay(client.id, { source: { paymentAccountId: account.body.id }, apply: [{ invoiceId: inv.id, amount: 1000 }], otherAmount: 200 });
    expectStatus(charge, 201);
    const offline = await record(client.id, { amount: 1000, apply: [{ invoiceId: paidInv.id, amount: 1000 }] });
    expectStatus(offline, 201);
    const series = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      lines: [{ description: 'Monthly', quantity: 1, unitAmount: 700 }],
      recurring: { term: 1, period: 'month' },
    });
    expectStatus(series, 201);

    expectStatus(await api.staff('DELETE', `/v1/clients/${client.id}`), 204);

    for (const id of [inv.id, paidInv.id, draft.id, series.body.id]) {
      expectProblem(await api.staff('GET', `/v1/invoices/${id}`), 404);
      expectProblem(await api.staff('GET', `/v1/invoices/${id}/pdf`), 404);
      expectProblem(await api.staff('POST', `/v1/invoices/${id}/void`), 404);
    }
    for (const id of [charge.body.id, offline.body.id]) {
      expectProblem(await api.staff('GET', `/v1/transactions/${id}`), 404);
      expectProblem(await api.staff('POST', `/v1/transactions/${id}/refund`, {}), 404);
    }
    expectProblem(await api.staff('POST', `/v1/transactions/${offline.body.id}/void`), 404);
    expectProblem(await api.staff('GET', `/v1/recurring-invoices/${series.body.recurringInvoiceId}`), 404);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}`), 404);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/transactions`), 404);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/credits`), 404);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/payment-accounts/${account.body.id}`), 404);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/statement`), 404);
    expectProblem(await api.staff('POST', `/v1/clients/${client.id}/payments/record`, { type: 'cash', amount: 100, currency: 'USD' }), 404);

    // Gone from company-wide lists too; the bystander is untouched.
    const all = await listAll(api, '/v1/invoices');
    expect(all.some((i) => i.clientId === client.id)).toBe(false);
    expect(all.some((i) => i.id === keep.id)).toBe(true);
    expect(await listAll(api, `/v1/invoices?clientId=${client.id}`)).toEqual([]);
    expect((await getInvoice(api, keep.id)).status).toBe('open');
  });
});
