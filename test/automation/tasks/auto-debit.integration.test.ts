import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChargeRequest, PaymentGateway } from '../../../functions/adapters/gateway/port.js';
import { autoDebitSource } from '../../../functions/automation/tasks/auto-debit.js';
import { addPaymentAccount } from '../../../functions/billing/payment-accounts/add-payment-account.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import { changeStatus } from '../../../functions/clients/change-status.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { listNotes } from '../../../functions/store/client-records.js';
import { requireClient } from '../../../functions/store/clients.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { getPaymentAccount } from '../../../functions/store/payment-accounts.js';
import { listTransactions } from '../../../functions/store/transactions.js';
import { CARD_APPROVES, CARD_DECLINES, CARD_FAILS, card } from '../../support/billing.js';
import { useFreshTables } from '../../support/tables.js';
import { captureMail, mailOf, openInvoice, runAll, runOn, seedClient, seedCompanyWith } from './fixtures.js';

let company: Company;
let mail: ReturnType<typeof captureMail>;
let realGateway: PaymentGateway;
const charges: ChargeRequest[] = [];

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith({ enableAutoDebit: true, autoDebitDaysBeforeDue: 3, autoDebitAttempts: 3, autoApplyLooseCredits: false });
  mail = captureMail();
  realGateway = getServices().gateway;
});

/** Every charge the gateway is asked for goes through here (then to the scripted or the simulated gateway). */
function gatewayWith(script: (request: ChargeRequest) => 'declined' | undefined = () => undefined): void {
  overrideServices({
    gateway: {
      ...realGateway,
      tokenize: (d) => realGateway.tokenize(d),
      refund: (r) => realGateway.refund(r),
      charge: async (request) => {
        charges.push(request);
        return script(request) === 'declined' ? { status: 'declined', declineCode: 'card_declined' } : realGateway.charge(request);
      },
    },
  });
}

beforeAll(() => gatewayWith());
afterEach(() => gatewayWith());
afterAll(() => {
  overrideServices({ gateway: realGateway });
  mail.restore();
});

async function debitedClient(number: string, fields: Partial<Client> = {}) {
  const client = await seedClient(company, { email: `${number.slice(-4)}-${Math.random().toString(36).slice(2)}@example.com`, ...fields });
  const account = await addPaymentAccount({
    companyId: company.id,
    principal: null,
    clientId: client.id,
    details: { type: 'card', card: card(number) },
    autoDebit: true,
  });
  return { client: await requireClient(company.id, client.id), account };
}

const transactionsOf = async (client: Client) => (await listTransactions(company.id, client.id, 100)).items;
/** The gateway charges made for these transactions (the key ends with the attempt's id). */
const chargesOf = (txns: { id: string }[]) => charges.filter((c) => txns.some((t) => c.idempotencyKey.endsWith(t.id)));
const templatesOf = async (client: Client) => (await mailOf(company, client.id)).map((m) => m.template);

describe('autoDebit', () => {
  it('makes one charge per client and currency for the invoices in the window, once per date', async () => {
    const { client, account } = await debitedClient(CARD_APPROVES);
    const a = await openInvoice(company, client, 1000, '2027-03-10');
    const b = await openInvoice(company, client, 2000, '2027-03-12');
    const later = await openInvoice(company, client, 4000, '2027-03-20');
    const eur = await openInvoice(company, client, 500, '2027-03-11', { currency: 'EUR' });

    const run = await runAll(autoDebitSource, runOn(company, '2027-03-09'));
    const mine = run.actions.filter((x) => x.clientId === client.id);
    expect(mine.map((x) => [x.outcome, x.action, x.details.currency, x.details.amount, x.details.invoiceIds])).toEqual([
      ['done', 'charged', 'USD', 3000, [a.id, b.id]],
      ['done', 'charged', 'EUR', 500, [eur.id]],
    ]);
    expect((await requireInvoice(company.id, a.id)).status).toBe('paid');
    expect((await requireInvoice(company.id, b.id)).status).toBe('paid');
    expect((await requireInvoice(company.id, later.id)).status).toBe('open');

    // The same date again: the attempts are found recorded, nothing is charged twice.
    const again = await runAll(autoDebitSource, runOn(company, '2027-03-09'));
    expect(again.actions.filter((x) => x.clientId === client.id)).toEqual([]);
    const txns = await transactionsOf(client);
    expect(txns.map((t) => [t.status, t.currency, t.amount, t.paymentAccountId]).sort()).toEqual([
      ['succeeded', 'EUR', 500, account.id],
      ['succeeded', 'USD', 3000, account.id],
    ]);
    expect(chargesOf(txns)).toHaveLength(2);
    expect((await templatesOf(client)).filter((t) => t === 'payment_receipt')).toHaveLength(2);
  });

  it('a repeated page after a crash finds the attempt recorded and charges nothing', async () => {
    const { client } = await debitedClient(CARD_APPROVES);
    await openInvoice(company, client, 1000, '2027-03-10');
    const ctx = runOn(company, '2027-03-10');
    const [first, second] = await Promise.all([autoDebitSource.page(ctx, null, 100), autoDebitSource.page(ctx, null, 100)]);
    const outcomes = [...first.actions, ...second.actions].filter((x) => x.clientId === client.id).map((x) => x.outcome);
    expect(outcomes.filter((o) => o === 'done')).toHaveLength(1);
    const txns = await transactionsOf(client);
    expect(txns).toHaveLength(1);
    expect(chargesOf(txns)).toHaveLength(1);
  });

  it('re-reads the invoices before charging: nothing already paid is charged', async () => {
    const { client } = await debitedClient(CARD_APPROVES);
    const paid = await openInvoice(company, client, 1000, '2027-04-10');
    const open = await openInvoice(company, client, 700, '2027-04-10');
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'cash',
      amount: 1000,
      currency: 'USD',
      apply: [{ invoiceId: paid.id, amount: 1000 }],
    });

    const run = await runAll(autoDebitSource, runOn(company, '2027-04-10'));
    expect(run.actions.filter((x) => x.clientId === client.id).map((x) => [x.details.amount, x.details.invoiceIds])).toEqual([[700, [open.id]]]);
  });

  it('turns auto-debit off after autoDebitAttempts declines in a row: the account stays active, a note and a mail', async () => {
    const { client, account } = await debitedClient(CARD_DECLINES);
    const invoice = await openInvoice(company, client, 1000, '2027-05-10');

    for (const [date, declines] of [
      ['2027-05-08', 1],
      ['2027-05-08', 1],
      ['2027-05-09', 2],
    ] as const) {
      const run = await runAll(autoDebitSource, runOn(company, date));
      expect(run.failed).toBe(0);
      expect((await getPaymentAccount(company.id, client.id, account.id))?.consecutiveDeclines).toBe(declines);
    }
    expect((await requireClient(company.id, client.id)).autoDebitAccountId).toBe(account.id);
    const third = await runAll(autoDebitSource, runOn(company, '2027-05-10'));
    expect(third.actions.filter((x) => x.clientId === client.id).map((x) => [x.action, x.outcome])).toEqual([
      ['charge_declined', 'done'],
      ['auto_debit_disabled', 'done'],
    ]);
    const after = await getPaymentAccount(company.id, client.id, account.id);
    expect(after).toMatchObject({ status: 'active', autoDebit: false, consecutiveDeclines: 3 });
    expect((await requireClient(company.id, client.id)).autoDebitAccountId).toBeNull();
    const notes = (await listNotes(company.id, client.id, 100)).items;
    expect(notes).toHaveLength(1);
    expect(notes[0].summary).toContain('Auto-debit turned off');
    const templates = await templatesOf(client);
    expect(templates.filter((t) => t === 'payment_declined')).toHaveLength(3);
    expect(templates.filter((t) => t === 'auto_debit_disabled')).toHaveLength(1);

    // Later dates: no auto-debit any more, nothing charged.
    await runAll(autoDebitSource, runOn(company, '2027-05-10'));
    const fourth = await runAll(autoDebitSource, runOn(company, '2027-05-11'));
    expect(fourth.actions.filter((x) => x.clientId === client.id)).toEqual([]);
    expect(await transactionsOf(client)).toHaveLength(3);
    expect((await requireInvoice(company.id, invoice.id)).status).toBe('open');
  });

  it('a transient failure is not a decline: counted as failed, retried on a re-run of the date as the next attempt', async () => {
    const { client, account } = await debitedClient(CARD_FAILS);
    await openInvoice(company, client, 1000, '2027-06-10');

    const run = await runAll(autoDebitSource, runOn(company, '2027-06-10'));
    expect(run.actions.filter((x) => x.clientId === client.id)).toEqual([
      expect.objectContaining({ action: 'charge_failed', outcome: 'failed', details: expect.objectContaining({ attempt: 1 }) }),
    ]);
    const rerun = await runAll(autoDebitSource, runOn(company, '2027-06-10'));
    expect(rerun.actions.filter((x) => x.clientId === client.id)).toEqual([
      expect.objectContaining({ outcome: 'failed', details: expect.objectContaining({ attempt: 2 }) }),
    ]);
    expect(await getPaymentAccount(company.id, client.id, account.id)).toMatchObject({ consecutiveDeclines: 0, autoDebit: true });
    expect((await transactionsOf(client)).map((t) => t.status)).toEqual(['failed', 'failed']);
  });

  it('an approval resets the count of declines', async () => {
    const { client, account } = await debitedClient(CARD_APPROVES);
    await openInvoice(company, client, 1000, '2027-07-10');
    let declining = true;
    gatewayWith(() => (declining ? 'declined' : undefined));
    await runAll(autoDebitSource, runOn(company, '2027-07-08'));
    await runAll(autoDebitSource, runOn(company, '2027-07-09'));
    expect((await getPaymentAccount(company.id, client.id, account.id))?.consecutiveDeclines).toBe(2);
    declining = false;
    await runAll(autoDebitSource, runOn(company, '2027-07-10'));
    expect(await getPaymentAccount(company.id, client.id, account.id)).toMatchObject({ consecutiveDeclines: 0, autoDebit: true });
    expect((await transactionsOf(client)).map((t) => t.status).sort()).toEqual(['declined', 'declined', 'succeeded']);
  });

  it('skips inactive and fraud clients, and never reads a client without auto-debit', async () => {
    const { client: inactive } = await debitedClient(CARD_APPROVES);
    const { client: fraud } = await debitedClient(CARD_APPROVES);
    const plain = await seedClient(company);
    await openInvoice(company, inactive, 1000, '2027-08-10');
    await openInvoice(company, fraud, 1000, '2027-08-10');
    await openInvoice(company, plain, 1000, '2027-08-10');
    await changeStatus(company.id, inactive, 'inactive', null);
    await changeStatus(company.id, fraud, 'fraud', null);

    const run = await runAll(autoDebitSource, runOn(company, '2027-08-10'));
    for (const c of [inactive, fraud]) {
      expect(run.actions.filter((x) => x.clientId === c.id)).toEqual([expect.objectContaining({ outcome: 'skipped', message: 'client is inactive' })]);
      expect(await transactionsOf(c)).toEqual([]);
    }
    expect(run.actions.filter((x) => x.clientId === plain.id)).toEqual([]);
  });

  it('a dry run plans the charge and writes nothing', async () => {
    const own = await seedCompanyWith({ enableAutoDebit: true, autoDebitDaysBeforeDue: 0 });
    const client = await seedClient(own, { email: 'dry@example.com' });
    const account = await addPaymentAccount({
      companyId: own.id,
      principal: null,
      clientId: client.id,
      details: { type: 'card', card: card(CARD_APPROVES) },
      autoDebit: true,
    });
    const invoice = await openInvoice(own, client, 1200, '2027-03-01');

    const dry = await runAll(autoDebitSource, runOn(own, '2027-03-01', true));
    expect(dry.actions).toEqual([
      expect.objectContaining({
        outcome: 'planned',
        details: expect.objectContaining({ amount: 1200, currency: 'USD', invoiceIds: [invoice.id], paymentAccountId: account.id }),
      }),
    ]);
    expect((await listTransactions(own.id, client.id, 10)).items).toEqual([]);
    expect((await requireInvoice(own.id, invoice.id)).status).toBe('open');
  });
});
