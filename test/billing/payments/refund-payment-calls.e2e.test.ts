import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecorder } from '../../support/dynamo-calls.js';
import { recordCallsAndKeys, repeatedReads, type KeyRecorder } from '../../support/dynamo-keys.js';
import { type BillingApi, card, CARD_APPROVES, expectStatus, newClient, newInvoice, startBillingApi } from '../../support/billing.js';
import type { TestApi } from '../../support/stack.js';

/**
 * The DynamoDB calls of a refund and of a payment void, listed exactly (issue 13, "Writes"): a bare transaction id
 * needs its pointer first, and the pointer names the transaction's client, currency and invoices — two reads, each
 * item once (the company rides with the pointer; the transaction, its invoices and the balance in the second), one
 * transaction, and the answer built from what the commit wrote instead of a read-back.
 */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  await stack?.stop();
});

const commands = (recorder: CallRecorder) => recorder.calls.map((c) => c.command.replace(/Command$/, ''));
const sortKeys = (keys: KeyRecorder, command: string) =>
  keys.calls.filter((c) => c.command === command).map((c) => c.keys.map((k) => k.split('|')[1].replace(/#.*/, '#')).sort());

describe('the calls of a refund', () => {
  it.each([
    ['the whole charge', undefined, 2],
    ['part of it, over two invoices', 1500, 2],
  ])('refunding %s: the pointer with the company, then the transaction with its invoices and the balance, one write', async (_name, amount, invoiceCount) => {
    const client = await newClient(api);
    const invoices = [await newInvoice(api, client.id, 1000), await newInvoice(api, client.id, 2000)].slice(0, invoiceCount);
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    expectStatus(account, 201);
    const charge = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      currency: 'USD',
      sendReceipt: false,
      source: { paymentAccountId: account.body.id },
      apply: invoices.map((i) => ({ invoiceId: i.id, amount: i.total })),
    });
    expectStatus(charge, 201);

    let refunded: any;
    const { calls, keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('POST', `/v1/transactions/${charge.body.id}/refund`, amount === undefined ? {} : { amount });
      expectStatus(res, 200);
      refunded = res.body;
    });

    expect(commands(calls), keys.lines().join('\n')).toEqual(['BatchGetItem', 'BatchGetItem', 'TransactWriteItems']);
    expect(repeatedReads(keys.calls), keys.lines().join('\n')).toEqual([]);
    expect(calls.totals().cancelled).toBe(0);
    const [pointer, ledger] = sortKeys(keys, 'BatchGetItemCommand');
    expect(pointer).toEqual(['COMPANY', 'REF']);
    expect(ledger).toEqual(['BAL#', ...invoices.map(() => 'INV#'), 'TXN#']);

    // The answer is what is stored, though it was not read back.
    expect(refunded.status).toBe(amount === undefined ? 'refunded' : 'partially_refunded');
    const stored = await api.staff('GET', `/v1/transactions/${charge.body.id}`);
    expect(stored.body).toEqual(refunded);
  });

  it('a second refund plans from the first one: each answer equals the stored transaction', async () => {
    const client = await newClient(api);
    const invoice = await newInvoice(api, client.id, 1000);
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    const charge = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
      currency: 'USD',
      sendReceipt: false,
      source: { paymentAccountId: account.body.id },
      apply: [{ invoiceId: invoice.id, amount: 1000 }],
    });
    expectStatus(charge, 201);
    for (const part of [300, 700]) {
      const res = await api.staff('POST', `/v1/transactions/${charge.body.id}/refund`, { amount: part });
      expectStatus(res, 200);
      expect((await api.staff('GET', `/v1/transactions/${charge.body.id}`)).body).toEqual(res.body);
    }
    const done = await api.staff('GET', `/v1/transactions/${charge.body.id}`);
    expect([done.body.status, done.body.refunded]).toEqual(['refunded', 1000]);
    expect((await api.staff('GET', `/v1/invoices/${invoice.id}`)).body.status).toBe('open');
  });
});

describe('the calls of a payment void', () => {
  it('the pointer with the company, then the transaction with its invoice and the balance, one write', async () => {
    const client = await newClient(api);
    const invoice = await newInvoice(api, client.id, 800);
    const payment = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
      type: 'cash',
      currency: 'USD',
      amount: 1000,
      apply: [{ invoiceId: invoice.id, amount: 800 }],
    });
    expectStatus(payment, 201);
    let voided: any;
    const { calls, keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('POST', `/v1/transactions/${payment.body.id}/void`, {});
      expectStatus(res, 200);
      voided = res.body;
    });
    expect(commands(calls), keys.lines().join('\n')).toEqual(['BatchGetItem', 'BatchGetItem', 'TransactWriteItems']);
    expect(repeatedReads(keys.calls), keys.lines().join('\n')).toEqual([]);
    expect(sortKeys(keys, 'BatchGetItemCommand')).toEqual([
      ['COMPANY', 'REF'],
      ['BAL#', 'INV#', 'TXN#'],
    ]);
    expect((await api.staff('GET', `/v1/transactions/${payment.body.id}`)).body).toEqual(voided);
    expect(voided.voidedOn).not.toBeNull();
  });
});
