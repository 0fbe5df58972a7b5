import { beforeAll, describe, expect, it } from 'vitest';
import { applyCreditsSource } from '../../../functions/automation/tasks/apply-credits.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import { changeStatus } from '../../../functions/clients/change-status.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { balanceOf } from '../../billing/invoices/fixtures.js';
import { recordDynamoCalls } from '../../support/dynamo-calls.js';
import { useFreshTables } from '../../support/tables.js';
import { openInvoice, runAll, runOn, seedClient, seedCompanyWith, seedGroup } from './fixtures.js';

let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith({ autoApplyLooseCredits: true, invoiceDaysBeforeRenewal: 14, autoDebitDaysBeforeDue: 0 });
});

/** Loose credit: an offline payment applied to nothing. */
const giveCredit = (c: Company, client: Client, amount: number, currency = 'USD') =>
  recordPayment({ companyId: c.id, principal: null, clientId: client.id, type: 'cash', amount, currency });

describe('applyCredits', () => {
  it('applies loose credit to the open invoices oldest due first, once', async () => {
    const client = await seedClient(company);
    const older = await openInvoice(company, client, 3000, '2027-03-01');
    const newer = await openInvoice(company, client, 3000, '2027-03-05');
    await giveCredit(company, client, 4000);

    const run = await runAll(applyCreditsSource, runOn(company, '2027-03-02'));
    expect(run.actions.filter((a) => a.clientId === client.id)).toEqual([
      expect.objectContaining({
        outcome: 'done',
        action: 'credit_applied',
        details: expect.objectContaining({
          currency: 'USD',
          credit: 4000,
          amount: 4000,
          applied: [
            { invoiceId: older.id, amount: 3000 },
            { invoiceId: newer.id, amount: 1000 },
          ],
        }),
      }),
    ]);
    expect((await requireInvoice(company.id, older.id)).status).toBe('paid');
    expect((await requireInvoice(company.id, newer.id)).due).toBe(2000);
    expect((await balanceOf(company.id, client.id, 'USD')).credit).toBe(0);

    const again = await runAll(applyCreditsSource, runOn(company, '2027-03-02'));
    expect(again.actions.filter((a) => a.clientId === client.id)).toEqual([]);
  });

  it('works per currency, and only for invoices due within the horizon', async () => {
    const client = await seedClient(company);
    const eur = await openInvoice(company, client, 1000, '2027-03-01', { currency: 'EUR' });
    const far = await openInvoice(company, client, 1000, '2027-09-01');
    await giveCredit(company, client, 500, 'EUR');
    await giveCredit(company, client, 500, 'USD');

    const run = await runAll(applyCreditsSource, runOn(company, '2027-03-02'));
    expect(run.actions.filter((a) => a.clientId === client.id).map((a) => [a.details.currency, a.details.amount])).toEqual([['EUR', 500]]);
    expect((await requireInvoice(company.id, eur.id)).due).toBe(500);
    expect((await requireInvoice(company.id, far.id)).due).toBe(1000);
    expect((await balanceOf(company.id, client.id, 'USD')).credit).toBe(500);

    // Fourteen days before its due date (a renewal's lead) the far invoice gets the USD credit.
    await runAll(applyCreditsSource, runOn(company, '2027-08-18'));
    expect((await requireInvoice(company.id, far.id)).due).toBe(500);
  });

  it('leaves inactive clients and groups without autoApplyLooseCredits alone', async () => {
    const off = await seedGroup(company, { autoApplyLooseCredits: false });
    const inGroup = await seedClient(company, { groupId: off });
    const inactive = await seedClient(company);
    const a = await openInvoice(company, inGroup, 1000, '2027-03-01');
    const b = await openInvoice(company, inactive, 1000, '2027-03-01');
    await giveCredit(company, inGroup, 1000);
    await giveCredit(company, inactive, 1000);
    await changeStatus(company.id, inactive, 'inactive', null);

    const run = await runAll(applyCreditsSource, runOn(company, '2027-03-02'));
    expect(run.actions.filter((x) => x.clientId === inGroup.id)).toEqual([]);
    expect(run.actions.filter((x) => x.clientId === inactive.id)).toEqual([expect.objectContaining({ outcome: 'skipped', message: 'client is inactive' })]);
    expect((await requireInvoice(company.id, a.id)).due).toBe(1000);
    expect((await requireInvoice(company.id, b.id)).due).toBe(1000);
  });

  it('a dry run plans the applications and writes nothing', async () => {
    const own = await seedCompanyWith({ autoApplyLooseCredits: true });
    const client = await seedClient(own);
    const invoice = await openInvoice(own, client, 1000, '2027-03-01');
    await giveCredit(own, client, 600);
    const creditOnly = await seedClient(own);
    await giveCredit(own, creditOnly, 600);

    const dry = await runAll(applyCreditsSource, runOn(own, '2027-03-02', true));
    // The client with credit and nothing open is not in the work at all.
    expect(dry.actions).toEqual([
      expect.objectContaining({
        clientId: client.id,
        outcome: 'planned',
        details: expect.objectContaining({ applied: [{ invoiceId: invoice.id, amount: 600 }] }),
      }),
    ]);
    expect((await requireInvoice(own.id, invoice.id)).due).toBe(1000);
    expect((await balanceOf(own.id, client.id, 'USD')).credit).toBe(600);
  });

  it('reads nothing of the clients without credit: the credit index, then the balance, oldest open invoice and client of the one with some', async () => {
    const own = await seedCompanyWith({ autoApplyLooseCredits: true, invoiceDaysBeforeRenewal: 0, autoDebitDaysBeforeDue: 0 });
    const clients = await Promise.all(Array.from({ length: 6 }, () => seedClient(own)));
    for (const client of clients) await openInvoice(own, client, 2000, '2027-03-01');
    await giveCredit(own, clients[0], 500);
    const calls = recordDynamoCalls();
    const run = await runAll(applyCreditsSource, runOn(own, '2027-03-01'));
    calls.stop();
    expect(run.actions.map((a) => a.clientId)).toEqual([clients[0].id]);
    // Before the credit is applied (its use case's reads follow): the company view (the company, its groups), the
    // company's credit index (the one payment), the balance of its (client, currency), the oldest of its open invoices
    // in the index, and that client — none of the five clients without credit. (The page's index entries are kept
    // on the run first, a write that reads nothing, for a replay after a crash.)
    const before = calls.calls.slice(0, 7).map((c) => [c.command, c.index ?? '', c.itemsRead]);
    expect(before).toEqual([
      ['GetItemCommand', '', 1],
      ['QueryCommand', '', 1],
      ['QueryCommand', 'GSI2', 1],
      ['PutItemCommand', '', 0],
      ['BatchGetItemCommand', '', 1],
      ['QueryCommand', 'GSI3', 1],
      ['BatchGetItemCommand', '', 1],
    ]);
    for (const other of clients.slice(1))
      expect(
        calls.calls
          .slice(0, 7)
          .flatMap((c) => c.partitions)
          .join(' '),
      ).not.toContain(other.id);
  });
});
