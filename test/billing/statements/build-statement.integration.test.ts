import { inflateSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalGateway } from '../../../functions/adapters/gateway/local.js';
import type { PaymentGateway } from '../../../functions/adapters/gateway/port.js';
import { TEST_MODE_MARK } from '../../../functions/billing/pdf.js';
import { makePayment } from '../../../functions/billing/payments/make-payment.js';
import { refundPayment } from '../../../functions/billing/payments/refund-payment.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { transactionStatementEntries } from '../../../functions/domain/statement.js';
import { db, tableName } from '../../../functions/store/dynamo.js';
import { clientPk, statementEntrySk } from '../../../functions/store/keys.js';
import { card, CARD_APPROVES } from '../../support/billing.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { voidInvoice } from '../../../functions/billing/invoices/void-invoice.js';
import { buildClientStatement, renderClientStatementPdf } from '../../../functions/billing/statements/build-statement.js';
import { setClock } from '../../../functions/domain/clock.js';
import type { Company } from '../../../functions/domain/company.js';
import { useFreshTables } from '../../support/tables.js';
import { applyCredits } from '../../../functions/billing/credits/apply-credits.js';
import { listVisibleInvoices } from '../../../functions/billing/invoices/read-invoices.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import { mergeClients } from '../../../functions/clients/merge-clients.js';
import { buildStatement } from '../../../functions/domain/statement.js';
import { loadLedger } from '../../../functions/store/ledger.js';
import { indexedCreditIds } from '../../../functions/store/transactions.js';
import { clientWithHistory } from '../history.js';
import { fieldPaths, seedClient, seedCompany, work } from '../invoices/fixtures.js';

/** build-statement called directly (no HTTP) against DynamoDB Local. */
let company: Company;
let restoreClock: (() => void) | undefined;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany();
});

afterEach(() => {
  restoreClock?.();
  restoreClock = undefined;
});

/** The text of a (compressed) PDF's drawing operators: each `TJ` string, hex-encoded WinAnsi, one per line. */
function drawnText(pdf: Buffer): string {
  let text = '';
  const raw = pdf.toString('latin1');
  for (const [, stream] of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let content: string;
    try {
      content = inflateSync(Buffer.from(stream, 'latin1')).toString('latin1');
    } catch {
      continue;
    }
    for (const [, array] of content.matchAll(/\[([^\]]*)\]\s*TJ/g)) {
      for (const [, hex] of array.matchAll(/<([0-9a-fA-F]*)>/g)) text += Buffer.from(hex, 'hex').toString('latin1');
      text += '\n';
    }
  }
  return text;
}

/** The simulator, except that it says its money is real (as Stripe does). */
function liveGateway(simulator: PaymentGateway): PaymentGateway {
  return {
    name: simulator.name,
    livemode: true,
    tokenize: (details) => simulator.tokenize(details),
    charge: (request) => simulator.charge(request),
    refund: (request) => simulator.refund(request),
  };
}

describe('buildClientStatement', () => {
  it('covers the last 30 days up to the company’s today: what was owed before, then each invoice and void', async () => {
    const client = await seedClient(company);
    const { invoice: february } = await createInvoice({ companyId: company.id, clientId: client.id, dateBilled: '2030-02-01', lines: work(1000) });
    const { invoice: march } = await createInvoice({ companyId: company.id, clientId: client.id, dateBilled: '2030-03-05', lines: work(2500) });
    await createInvoice({ companyId: company.id, clientId: client.id, status: 'draft', dateBilled: '2030-03-06', lines: work(999) });
    restoreClock = setClock(() => new Date('2030-03-10T15:00:00.000Z'));
    await voidInvoice({ companyId: company.id, invoiceId: march.id });
    // 02:00 UTC on 1 April is still 31 March in New York.
    restoreClock();
    restoreClock = setClock(() => new Date('2030-04-01T02:00:00.000Z'));

    const { statement } = await buildClientStatement({ companyId: company.id, clientId: client.id });
    expect(statement).toMatchObject({ currency: 'USD', from: '2030-03-02', to: '2030-03-31', openingBalance: february.total, closingBalance: february.total });
    expect(statement.lines.map((l) => [l.date, l.type, l.reference, l.amount, l.balance])).toEqual([
      ['2030-03-05', 'invoice', `#${march.number}`, 2500, 3500],
      ['2030-03-10', 'void', `#${march.number}`, -2500, 1000],
    ]);
  });

  it('takes a given period and currency; refuses a from after the to and a currency neither the company’s nor in the client’s history', async () => {
    const client = await seedClient(company);
    await createInvoice({ companyId: company.id, clientId: client.id, currency: 'EUR', dateBilled: '2030-01-15', lines: work(700) });
    const { statement } = await buildClientStatement({ companyId: company.id, clientId: client.id, currency: 'EUR', from: '2030-01-01', to: '2030-01-31' });
    expect(statement).toMatchObject({ currency: 'EUR', openingBalance: 0, closingBalance: 700 });
    expect(
      fieldPaths(await buildClientStatement({ companyId: company.id, clientId: client.id, from: '2030-02-01', to: '2030-01-31' }).catch((e: unknown) => e)),
    ).toEqual(['from']);
    expect(fieldPaths(await buildClientStatement({ companyId: company.id, clientId: client.id, currency: 'CHF' }).catch((e: unknown) => e))).toEqual([
      'currency',
    ]);
  });

  it('renders the statement as a PDF', async () => {
    const client = await seedClient(company);
    await createInvoice({ companyId: company.id, clientId: client.id, dateBilled: '2030-01-15', lines: work(700) });
    const { statement, pdf } = await renderClientStatementPdf({ companyId: company.id, clientId: client.id, from: '2030-01-01', to: '2030-01-31' });
    expect(statement.closingBalance).toBe(700);
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
  });

  it('after a merge, the target’s statement holds both histories, and its open invoices and credit are found by status', async () => {
    const [source, target] = await Promise.all([clientWithHistory(company, 7), clientWithHistory(company, 4)]);
    await recordPayment({ companyId: company.id, principal: null, clientId: source.clientId, type: 'cash', amount: 250, currency: 'USD', date: '2030-07-01' });
    await mergeClients(company.id, source.clientId, target.clientId, null);

    const loaded = await loadLedger(company.id, target.clientId);
    for (const [from, to] of [
      ['2030-01-01', '2030-12-31'],
      ['2030-05-10', '2030-09-30'],
      ['2031-01-01', '2031-01-31'],
    ]) {
      const { statement } = await buildClientStatement({ companyId: company.id, clientId: target.clientId, from, to });
      expect(statement).toEqual(buildStatement('USD', from, to, loaded.invoices.values(), loaded.transactions.values()));
    }
    const open = await listVisibleInvoices({ companyId: company.id, filter: { clientId: target.clientId, status: 'open', excludeDrafts: false }, limit: 20 });
    expect(open.items.map((i) => i.id).sort()).toEqual([...source.invoices.slice(-2), ...target.invoices.slice(-2)].map((i) => i.id).sort());
    // The source's credit moved with its payment, and is listed under the target: applying it reaches an open invoice.
    expect(await indexedCreditIds(company.id, target.clientId, 'USD')).toHaveLength(1);
    expect((await applyCredits({ companyId: company.id, principal: null, clientId: target.clientId })).map((a) => a.amount)).toEqual([250]);
  });

  it('a transaction`s lines carry its livemode, an invoice`s none; the PDF marks the lines of test money', async () => {
    const simulator = getServices().gateway;
    if (!(simulator instanceof LocalGateway)) throw new Error('This test charges the simulated gateway.');
    const client = await seedClient(company);
    const staff = { role: 'staff' as const, userId: 'usr_staff', username: 'staff', companyId: company.id };
    restoreClock = setClock(() => new Date('2030-08-20T15:00:00.000Z'));
    await createInvoice({ companyId: company.id, clientId: client.id, dateBilled: '2030-08-10', lines: work(1000) });
    await recordPayment({ companyId: company.id, principal: null, clientId: client.id, type: 'cash', amount: 200, currency: 'USD', date: '2030-08-12' });
    overrideServices({ gateway: liveGateway(simulator) });
    try {
      const charged = await makePayment({
        companyId: company.id,
        principal: staff,
        clientId: client.id,
        currency: 'USD',
        apply: [],
        sendReceipt: false,
        // The business clock is in 2030: a card that has not expired by then.
        source: { newCard: card(CARD_APPROVES, { expYear: 2040 }) },
        otherAmount: 300,
      });
      if (charged.outcome !== 'approved') throw new Error(`expected an approved charge, got ${charged.outcome}`);
      await refundPayment({ companyId: company.id, principal: staff, transactionId: charged.transaction.id, amount: 100 });
    } finally {
      overrideServices({ gateway: simulator });
    }

    const period = { from: '2030-08-01', to: '2030-08-31' };
    const { statement } = await buildClientStatement({ companyId: company.id, clientId: client.id, ...period });
    expect(statement.lines.map((l) => [l.type, l.description, l.livemode])).toEqual([
      ['invoice', expect.stringMatching(/^Invoice /), undefined],
      ['payment', 'Payment (cash)', false],
      ['payment', 'Payment (card)', true],
      ['refund', 'Refund', true],
    ]);
    expect('livemode' in statement.lines[0]).toBe(false);
    const loaded = await loadLedger(company.id, client.id);
    expect(statement).toEqual(buildStatement('USD', period.from, period.to, loaded.invoices.values(), loaded.transactions.values()));

    const { pdf } = await renderClientStatementPdf({ companyId: company.id, clientId: client.id, ...period });
    const marked = drawnText(pdf)
      .split('\n')
      .filter((line) => line.includes(TEST_MODE_MARK));
    expect(marked).toEqual([`Payment (cash) ${TEST_MODE_MARK}`]);
  });

  it('a transaction`s line stored before livemode existed reads as test money (the simulator was the only gateway)', async () => {
    const client = await seedClient(company);
    const recorded = await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'check',
      amount: 50,
      currency: 'USD',
      date: '2030-09-03',
    });
    const [entry] = transactionStatementEntries(recorded);
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: clientPk(company.id, client.id), SK: statementEntrySk('USD', entry.key) },
        UpdateExpression: 'REMOVE livemode',
        ConditionExpression: 'attribute_exists(livemode)',
      }),
    );
    const { statement } = await buildClientStatement({ companyId: company.id, clientId: client.id, from: '2030-09-01', to: '2030-09-30' });
    expect(statement.lines.map((l) => [l.type, l.livemode])).toEqual([['payment', false]]);
  });
});
