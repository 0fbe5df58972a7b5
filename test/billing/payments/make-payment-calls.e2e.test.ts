import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecorder } from '../../support/dynamo-calls.js';
import { recordCallsAndKeys, repeatedReads, type KeyRecorder } from '../../support/dynamo-keys.js';
import { type BillingApi, card, CARD_APPROVES, CARD_DECLINES, expectStatus, listAll, newClient, newInvoice, startBillingApi } from '../../support/billing.js';
import type { TestApi } from '../../support/stack.js';

/**
 * The DynamoDB calls of a payment and of a manual email, listed exactly (issue 13, "Writes"): each request reads an
 * item once (the company, the client, the account and the templates in one BatchGet, passed down), and a card
 * payment with its receipt makes three writes — the attempt before the gateway is called, the approval with the
 * receipt's mail entry in one transaction, and the mail marked sent once the provider has it.
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
const writes = (keys: KeyRecorder) => keys.calls.filter((c) => c.command === 'TransactWriteItemsCommand').map((c) => c.keys);

describe('the calls of a stored-card payment over three invoices with its receipt', () => {
  it('are 7: one BatchGet of what the request needs, the ledger part, the recipients, three writes — no read-back', async () => {
    const client = await newClient(api);
    const invoices = await Promise.all([1000, 2000, 3000].map((amount) => newInvoice(api, client.id, amount)));
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    expectStatus(account, 201);

    let paid: any;
    const { calls, keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('POST', `/v1/clients/${client.id}/payments`, {
        currency: 'USD',
        sendReceipt: true,
        source: { paymentAccountId: account.body.id },
        apply: invoices.map((i) => ({ invoiceId: i.id, amount: i.total })),
      });
      expectStatus(res, 201);
      paid = res.body;
    });

    expect(commands(calls).sort(), keys.lines().join('\n')).toEqual(
      [
        // the company, the client, the account and the two templates it may mail
        'BatchGetItem',
        // the three invoices with the balance of the currency
        'BatchGetItem',
        // the attempt (before the gateway), the approval with the receipt's entry, the receipt marked sent
        'TransactWriteItems',
        'TransactWriteItems',
        'TransactWriteItems',
        // the receipt's recipients: the billing contacts and the suppression list
        'Query',
        'BatchGetItem',
        // (the answer is what the approval wrote: no read-back)
      ].sort(),
    );
    expect(calls.totals().cancelled).toBe(0);
    expect(repeatedReads(keys.calls), keys.lines().join('\n')).toEqual([]);

    const [first, batch] = keys.calls.filter((c) => c.command === 'BatchGetItemCommand');
    expect(first.keys.map((k) => k.split('|')[1].replace(/#.*/, '#')).sort()).toEqual(['CLIENT', 'COMPANY', 'PA#', 'TEMPLATE#', 'TEMPLATE#'].sort());
    expect(batch.keys).toHaveLength(4);

    const [attempt, approval, sent] = writes(keys);
    expect(attempt.some((k) => /\|TXN#/.test(k)) && attempt.some((k) => /\|PENDCHG#/.test(k))).toBe(true);
    // The receipt's entry commits with the payment it acknowledges: on record before it is sent.
    expect(approval.filter((k) => /^Update:.*\|INV#/.test(k))).toHaveLength(3);
    expect(approval.some((k) => /^Put:.*\|MAIL#/.test(k))).toBe(true);
    expect(approval.some((k) => /^Delete:.*\|PENDCHG#/.test(k))).toBe(true);
    expect(sent.some((k) => /^Update:.*\|MAIL#/.test(k))).toBe(true);

    expect(paid.applications).toHaveLength(3);
    const mail = await listAll(api, `/v1/clients/${client.id}/emails`);
    expect(mail.map((m) => [m.template, m.status])).toEqual([['payment_receipt', 'sent']]);
    const stored = await api.staff('GET', `/v1/transactions/${paid.id}`);
    expect(stored.body).toEqual(paid);
  });

  it('a payment over the most invoices the API takes (50) still commits its receipt with it, in one transaction', async () => {
    const client = await newClient(api);
    const invoices: any[] = [];
    for (let i = 0; i < 50; i++) invoices.push(await newInvoice(api, client.id, 100 + i));
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    const { calls, keys } = await recordCallsAndKeys(async () =>
      expectStatus(
        await api.staff('POST', `/v1/clients/${client.id}/payments`, {
          currency: 'USD',
          source: { paymentAccountId: account.body.id },
          apply: invoices.map((i) => ({ invoiceId: i.id, amount: i.total })),
        }),
        201,
      ),
    );
    // The same calls as for three invoices: the cost grows in items, not in calls.
    expect(calls.calls).toHaveLength(7);
    const approval = writes(keys).find((items) => items.filter((k) => /^Update:.*\|INV#/.test(k)).length === 50);
    expect(approval?.some((k) => /^Put:.*\|MAIL#/.test(k))).toBe(true);
    const mail = await listAll(api, `/v1/clients/${client.id}/emails`);
    expect(mail.map((m) => [m.template, m.status])).toEqual([['payment_receipt', 'sent']]);
  }, 60_000);

  it('a payment without a receipt makes two writes and writes no mail', async () => {
    const client = await newClient(api);
    const invoice = await newInvoice(api, client.id, 1500);
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    const { calls, keys } = await recordCallsAndKeys(async () =>
      expectStatus(
        await api.staff('POST', `/v1/clients/${client.id}/payments`, {
          currency: 'USD',
          sendReceipt: false,
          source: { paymentAccountId: account.body.id },
          apply: [{ invoiceId: invoice.id, amount: 1500 }],
        }),
        201,
      ),
    );
    expect(commands(calls).sort()).toEqual(['BatchGetItem', 'BatchGetItem', 'TransactWriteItems', 'TransactWriteItems'].sort());
    expect(
      writes(keys)
        .flat()
        .some((k) => k.includes('|MAIL#')),
    ).toBe(false);
    expect(repeatedReads(keys.calls)).toEqual([]);
    expect(await listAll(api, `/v1/clients/${client.id}/emails`)).toEqual([]);
  });

  it('a declined charge reads nothing twice either: its notice uses the company, client, template and invoice already read', async () => {
    const client = await newClient(api);
    const invoice = await newInvoice(api, client.id, 700);
    const { keys } = await recordCallsAndKeys(async () =>
      expectStatus(
        await api.staff('POST', `/v1/clients/${client.id}/payments`, {
          currency: 'USD',
          source: { newCard: card(CARD_DECLINES) },
          apply: [{ invoiceId: invoice.id, amount: 700 }],
        }),
        402,
      ),
    );
    expect(repeatedReads(keys.calls), keys.lines().join('\n')).toEqual([]);
    expect(keys.calls.filter((c) => c.command === 'GetItemCommand')).toEqual([]);
    const mail = await listAll(api, `/v1/clients/${client.id}/emails`);
    expect(mail.map((m) => [m.template, m.status])).toEqual([['payment_declined', 'sent']]);
  });
});

describe('the calls of a recorded payment and of a manual email', () => {
  it('a recorded payment: the client with the company, the invoices with the balance, one write — the answer is what it wrote', async () => {
    const client = await newClient(api);
    const invoice = await newInvoice(api, client.id, 500);
    let recordedPayment: any;
    const { calls, keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
        type: 'check',
        currency: 'USD',
        amount: 500,
        reference: 'check 1001',
        apply: [{ invoiceId: invoice.id, amount: 500 }],
      });
      expectStatus(res, 201);
      recordedPayment = res.body;
    });
    expect(commands(calls), keys.lines().join('\n')).toEqual(['BatchGetItem', 'BatchGetItem', 'TransactWriteItems']);
    expect(repeatedReads(keys.calls)).toEqual([]);
    const [, ledger] = keys.calls.filter((c) => c.command === 'BatchGetItemCommand');
    expect(ledger.keys.map((k) => k.split('|')[1]).sort()).toEqual([`BAL#USD`, `INV#${invoice.id}`]);
    const stored = await api.staff('GET', `/v1/transactions/${recordedPayment.id}`);
    expect(stored.body).toEqual(recordedPayment);
  });

  it('a manual email: the client with the company, the entry before the provider is called, then sent', async () => {
    const client = await newClient(api);
    let entry: any;
    const { calls, keys } = await recordCallsAndKeys(async () => {
      const res = await api.staff('POST', `/v1/clients/${client.id}/emails`, { subject: 'Hello', html: '<p>Hello</p>' });
      expectStatus(res, 201);
      entry = res.body;
    });
    expect(commands(calls)).toEqual(['BatchGetItem', 'TransactWriteItems', 'TransactWriteItems']);
    expect(repeatedReads(keys.calls)).toEqual([]);
    // The answer is what is stored, though it was not read back.
    expect(entry.status).toBe('sent');
    const stored = await api.staff('GET', `/v1/emails/${entry.id}`);
    expect({ ...stored.body, html: undefined, text: undefined, attachments: undefined }).toEqual({
      ...entry,
      html: undefined,
      text: undefined,
      attachments: undefined,
    });
  });
});
