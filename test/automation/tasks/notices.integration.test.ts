import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticesSource } from '../../../functions/automation/tasks/notices.js';
import { addPaymentAccount } from '../../../functions/billing/payment-accounts/add-payment-account.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import { addContact } from '../../../functions/clients/add-contact.js';
import { changeStatus } from '../../../functions/clients/change-status.js';
import type { Company } from '../../../functions/domain/company.js';
import { isDone } from '../../../functions/store/once.js';
import { CARD_APPROVES, card } from '../../support/billing.js';
import { recordDynamoCalls } from '../../support/dynamo-calls.js';
import { useFreshTables } from '../../support/tables.js';
import { captureMail, mailOf, openInvoice, runAll, runOn, seedClient, seedCompanyWith, seedGroup } from './fixtures.js';

let company: Company;
let mail: ReturnType<typeof captureMail>;

const NOTICES = { enabled: true, autoDebitPendingNoticeDays: -3, firstNoticeDays: 1, secondNoticeDays: 7, thirdNoticeDays: 14 } as const;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith({ paymentDueNotices: NOTICES, enableAutoDebit: true });
  mail = captureMail();
});

afterAll(() => mail.restore());

const templatesOf = async (clientId: string) => (await mailOf(company, clientId)).map((m) => m.template);

describe('notices', () => {
  it('sends each late notice on its day, once, to the billing contacts', async () => {
    const client = await seedClient(company, { email: 'owner@example.com' });
    await addContact({
      companyId: company.id,
      clientId: client.id,
      fields: { type: 'billing', firstName: 'Bill', lastName: 'Ing', email: 'billing@example.com' },
    });
    const invoice = await openInvoice(company, client, 5000, '2027-03-10');

    // Before the first notice's day: nothing (no auto-debit, so no pending notice).
    await runAll(noticesSource, runOn(company, '2027-03-10'));
    expect(await templatesOf(client.id)).toEqual([]);

    const first = await runAll(noticesSource, runOn(company, '2027-03-11'));
    expect(first.actions.filter((a) => a.clientId === client.id)).toEqual([
      expect.objectContaining({
        objectId: invoice.id,
        outcome: 'done',
        action: 'notice_sent',
        details: expect.objectContaining({ template: 'late_notice_first', to: ['billing@example.com'] }),
      }),
    ]);
    // The same date again, and the next day: no second mail.
    const again = await runAll(noticesSource, runOn(company, '2027-03-11'));
    expect(again.actions.filter((a) => a.clientId === client.id)).toEqual([]);
    await runAll(noticesSource, runOn(company, '2027-03-12'));
    expect(await templatesOf(client.id)).toEqual(['late_notice_first']);
    const entries = await mailOf(company, client.id);
    expect(entries[0].to).toEqual(['billing@example.com']);
    expect(mail.sent.filter((m) => m.tags?.clientId === client.id)).toHaveLength(1);

    await runAll(noticesSource, runOn(company, '2027-03-17'));
    expect(await templatesOf(client.id)).toEqual(['late_notice_first', 'late_notice_second']);
  });

  it('catches up a skipped fortnight with only the latest notice; the earlier ones never go out later', async () => {
    const client = await seedClient(company, { email: 'late@example.com' });
    const invoice = await openInvoice(company, client, 5000, '2027-03-10');

    const run = await runAll(noticesSource, runOn(company, '2027-03-25'));
    expect(run.actions.filter((a) => a.clientId === client.id)).toEqual([
      expect.objectContaining({
        outcome: 'done',
        details: expect.objectContaining({ template: 'late_notice_third', superseded: ['late_notice_first', 'late_notice_second'], to: ['late@example.com'] }),
      }),
    ]);
    expect(
      await isDone({ companyId: company.id, clientId: invoice.clientId, task: 'notice:late_notice_first', objectId: invoice.id, period: '2027-03-10' }),
    ).toBe(true);
    // An earlier date run afterwards repeats nothing.
    await runAll(noticesSource, runOn(company, '2027-03-18'));
    await runAll(noticesSource, runOn(company, '2027-03-26'));
    expect(await templatesOf(client.id)).toEqual(['late_notice_third']);
  });

  it('sends the auto-debit pending notice only to clients with an active auto-debit account', async () => {
    const debited = await seedClient(company, { email: 'debited@example.com' });
    await addPaymentAccount({
      companyId: company.id,
      principal: null,
      clientId: debited.id,
      details: { type: 'card', card: card(CARD_APPROVES) },
      autoDebit: true,
    });
    const plain = await seedClient(company, { email: 'plain@example.com' });
    await openInvoice(company, debited, 5000, '2027-05-10');
    await openInvoice(company, plain, 5000, '2027-05-10');

    const run = await runAll(noticesSource, runOn(company, '2027-05-07'));
    expect(run.actions.filter((a) => a.clientId === debited.id).map((a) => a.details.template)).toEqual(['auto_debit_pending']);
    expect(run.actions.filter((a) => a.clientId === plain.id)).toEqual([]);
    const [entry] = mail.sent.filter((m) => m.tags?.clientId === debited.id);
    expect(entry.text).toContain('Visa ending 4242');
    expect(entry.text).toContain('2027-05-10');
  });

  it('sends nothing for paid invoices, inactive or fraud clients, or a group with notices disabled', async () => {
    const quiet = await seedGroup(company, { paymentDueNotices: { enabled: false } });
    const inGroup = await seedClient(company, { email: 'quiet@example.com', groupId: quiet });
    const inactive = await seedClient(company, { email: 'inactive@example.com' });
    const fraud = await seedClient(company, { email: 'fraud@example.com' });
    const payer = await seedClient(company, { email: 'payer@example.com' });
    await openInvoice(company, inGroup, 5000, '2027-06-01');
    await openInvoice(company, inactive, 5000, '2027-06-01');
    await openInvoice(company, fraud, 5000, '2027-06-01');
    const paid = await openInvoice(company, payer, 5000, '2027-06-01');
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: payer.id,
      type: 'cash',
      amount: 5000,
      currency: 'USD',
      apply: [{ invoiceId: paid.id, amount: 5000 }],
    });
    await changeStatus(company.id, inactive, 'inactive', null);
    await changeStatus(company.id, fraud, 'fraud', null);

    const run = await runAll(noticesSource, runOn(company, '2027-06-02'));
    expect(run.actions.filter((a) => a.clientId === inGroup.id || a.clientId === payer.id)).toEqual([]);
    for (const c of [inactive, fraud]) {
      expect(run.actions.filter((a) => a.clientId === c.id)).toEqual([expect.objectContaining({ outcome: 'skipped', message: 'client is inactive' })]);
      expect(await templatesOf(c.id)).toEqual([]);
    }
    expect(await templatesOf(inGroup.id)).toEqual([]);
    expect((await templatesOf(payer.id)).filter((t) => t?.startsWith('late_notice'))).toEqual([]);
  });

  it('two runs of the same date at once mail one notice', async () => {
    const client = await seedClient(company, { email: 'twice@example.com' });
    await openInvoice(company, client, 5000, '2027-07-01');
    const [a, b] = await Promise.all([runAll(noticesSource, runOn(company, '2027-07-02')), runAll(noticesSource, runOn(company, '2027-07-02'))]);
    const outcomes = [...a.actions, ...b.actions].filter((x) => x.clientId === client.id).map((x) => x.outcome);
    expect(outcomes.filter((o) => o === 'done')).toHaveLength(1);
    expect(await templatesOf(client.id)).toEqual(['late_notice_first']);
  });

  it('a dry run plans the notice with its recipients and sends nothing', async () => {
    const own = await seedCompanyWith({ paymentDueNotices: NOTICES });
    const client = await seedClient(own, { email: 'dry@example.com' });
    const invoice = await openInvoice(own, client, 5000, '2027-03-10');

    const dry = await runAll(noticesSource, runOn(own, '2027-03-11', true));
    expect(dry.actions).toEqual([
      expect.objectContaining({
        objectId: invoice.id,
        outcome: 'planned',
        details: expect.objectContaining({ template: 'late_notice_first', to: ['dry@example.com'] }),
      }),
    ]);
    expect(await mailOf(own, client.id)).toEqual([]);
    expect(await isDone({ companyId: own.id, clientId: invoice.clientId, task: 'notice:late_notice_first', objectId: invoice.id, period: '2027-03-10' })).toBe(
      false,
    );
  });

  it('reads again (and checks the markers of) only the invoices that may get a notice that day', async () => {
    const own = await seedCompanyWith({ paymentDueNotices: NOTICES, enableAutoDebit: true });
    const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => seedClient(own, { email: `n${i}@example.com` })));
    for (const client of clients) await openInvoice(own, client, 1000, '2027-05-10');
    const batchReads = async (date: string) => {
      const calls = recordDynamoCalls();
      await runAll(noticesSource, runOn(own, date));
      calls.stop();
      const batches = calls.calls.filter((c) => c.command === 'BatchGetItemCommand');
      return { batches: batches.length, itemsRead: batches.reduce((n, c) => n + c.itemsRead, 0) };
    };
    // Due today, no auto-debit: no notice is due, so only the clients are read (for their group's settings).
    expect(await batchReads('2027-05-10')).toEqual({ batches: 1, itemsRead: 6 });
    // The first late notice's day: every invoice is read again before its notice goes out.
    const firstDay = await batchReads('2027-05-11');
    expect(firstDay.itemsRead).toBeGreaterThanOrEqual(12);
    for (const client of clients) expect((await mailOf(own, client.id)).map((m) => m.template)).toEqual(['late_notice_first']);
  });
});
