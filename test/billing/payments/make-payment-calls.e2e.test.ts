import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecorder } from '../../support/dynamo-calls.js';
import { recordCallsAndKeys, repeatedReads, type KeyRecorder } from '../../support/dynamo-keys.js';
import { type BillingApi, card, CARD_APPROVES, CARD_DECLINES, expectStatus, listAll, newClient, newInvoice, startBillingApi } from '../../support/billing.js';
import { suppressAddress } from '../../../functions/store/mail.js';
import type { TestApi } from '../../support/stack.js';

/**
 * The DynamoDB calls of a payment and of a manual email, listed exactly (issue 13, "Writes"): each request reads an
 * item once (the company, the client, the account and the templates in one BatchGet, passed down), and a card
 * payment with its receipt makes three reads — that BatchGet with the client's contacts next to it, then the invoices,
 * the balance and the receipt recipients' suppressions in one BatchGet — and three writes: the attempt before the
 * gateway is called, the approval with the receipt's mail entry in one transaction, and the mail marked sent once the
 * provider has it.
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
  it('are 6: one BatchGet of what the request needs with the contacts, the ledger part with the suppressions, three writes — no read-back', async () => {
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
        // the company, the client, the account and the two templates it may mail; next to it, the client's contacts
        'BatchGetItem',
        'Query',
        // the three invoices with the balance of the currency and the suppression of the receipt's one recipient
        'BatchGetItem',
        // the attempt (before the gateway), the approval with the receipt's entry, the receipt marked sent
        'TransactWriteItems',
        'TransactWriteItems',
        'TransactWriteItems',
        // (the answer is what the approval wrote: no read-back)
      ].sort(),
    );
    expect(calls.totals().cancelled).toBe(0);
    expect(repeatedReads(keys.calls), keys.lines().join('\n')).toEqual([]);

    const [first, batch] = keys.calls.filter((c) => c.command === 'BatchGetItemCommand');
    expect(first.keys.map((k) => k.split('|')[1].replace(/#.*/, '#')).sort()).toEqual(['CLIENT', 'COMPANY', 'PA#', 'TEMPLATE#', 'TEMPLATE#'].sort());
    expect(batch.keys.map((k) => k.split('|')[1].replace(/#.*/, '#')).sort()).toEqual(['BAL#', 'INV#', 'INV#', 'INV#', 'SUPPRESS']);

    const [attempt, approval, sent] = writes(keys);
    expect(attempt.some((k) => /\|TXN#/.test(k)) && attempt.some((k) => /\|PENDCHG#/.test(k))).toBe(true);
    // The receipt's entry commits with the payment it acknowledges: on record before it is sent.
    expect(approval.filter((k) => /^Update:.*\|INV#/.test(k))).toHaveLength(3);
    expect(approval.some((k) => /^Put:.*\|MAIL#/.test(k))).toBe(true);
    expect(approval.some((k) => /^Delete:.*\|PENDCHG#/.test(k))).toBe(true);
    // The attempt's pointer was written with the invoices it is to pay: the approval does not touch it.
    const pointer = (k: string) => k.includes(`#REF#${paid.id}|`);
    expect(attempt.filter(pointer)).toHaveLength(1);
    expect(approval.filter(pointer)).toEqual([]);
    expect(sent.some((k) => /^Update:.*\|MAIL#/.test(k))).toBe(true);

    expect(paid.applications).toHaveLength(3);
    const mail = await listAll(api, `/v1/clients/${client.id}/emails`);
    expect(mail.map((m) => [m.template, m.status])).toEqual([['payment_receipt', 'sent']]);
    const stored = await api.staff('GET', `/v1/transactions/${paid.id}`);
    expect(stored.body).toEqual(paid);
  });

  it("the receipt goes to the billing contacts not suppressed, found in the payment's own reads", async () => {
    const client = await newClient(api);
    const [kept, bounced] = [`kept${client.id.slice(-6)}@example.com`, `Bounced${client.id.slice(-6)}@example.com`];
    for (const email of [kept, bounced])
      expectStatus(await api.staff('POST', `/v1/clients/${client.id}/contacts`, { type: 'billing', firstName: 'Bill', lastName: 'Ing', email }), 201);
    await suppressAddress(api.facts.companyId, { email: bounced.toLowerCase(), reason: 'bounce', detail: null, mailId: null, at: new Date().toISOString() });
    const invoice = await newInvoice(api, client.id, 900);
    const account = await api.staff('POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(CARD_APPROVES) });
    const { calls, keys } = await recordCallsAndKeys(async () =>
      expectStatus(
        await api.staff('POST', `/v1/clients/${client.id}/payments`, {
          currency: 'USD',
          source: { paymentAccountId: account.body.id },
          apply: [{ invoiceId: invoice.id, amount: 900 }],
        }),
        201,
      ),
    );
    expect(
      commands(calls)
        .filter((c) => c !== 'TransactWriteItems')
        .sort(),
    ).toEqual(['BatchGetItem', 'BatchGetItem', 'Query'].sort());
    const [, batch] = keys.calls.filter((c) => c.command === 'BatchGetItemCommand');
    expect(batch.keys.filter((k) => k.includes('SUPPRESS'))).toHaveLength(2);
    const mail = await listAll(api, `/v1/clients/${client.id}/emails`);
    expect(mail.map((m) => [m.template, m.to])).toEqual([['payment_receipt', [kept]]]);
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
    expect(calls.calls).toHaveLength(6);
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
