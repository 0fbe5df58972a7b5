import { beforeAll, describe, expect, it } from 'vitest';
import { voidsSource } from '../../../functions/automation/tasks/voids.js';
import { changeStatus } from '../../../functions/clients/change-status.js';
import type { Company } from '../../../functions/domain/company.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { isDone } from '../../../functions/store/once.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import { useFreshTables } from '../../support/tables.js';
import { openInvoice, runAll, runOn, seedClient, seedCompanyWith, seedGroup } from './fixtures.js';

let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith({ voidInvoicesDaysAfterDue: 10 });
});

describe('voids', () => {
  it('voids open invoices N days after due, once, whatever the date runs', async () => {
    const client = await seedClient(company);
    const due = await openInvoice(company, client, 1000, '2027-03-01');
    const notYet = await openInvoice(company, client, 2000, '2027-03-05');

    const first = await runAll(voidsSource, runOn(company, '2027-03-11'));
    const mine = first.actions.filter((a) => a.clientId === client.id);
    expect(mine).toEqual([
      expect.objectContaining({ objectId: due.id, outcome: 'done', action: 'voided', details: expect.objectContaining({ amountDue: 1000, currency: 'USD' }) }),
    ]);
    expect((await requireInvoice(company.id, due.id)).status).toBe('void');
    expect((await requireInvoice(company.id, notYet.id)).status).toBe('open');
    expect(await isDone({ companyId: company.id, clientId: due.clientId, task: 'void', objectId: due.id, period: '2027-03-01' })).toBe(true);

    // The same date again: the voided invoice left the index; nothing happens twice.
    const again = await runAll(voidsSource, runOn(company, '2027-03-11'));
    expect(again.actions.filter((a) => a.clientId === client.id)).toEqual([]);

    // A later date catches up the other one.
    const later = await runAll(voidsSource, runOn(company, '2027-04-30'));
    expect(later.actions.filter((a) => a.clientId === client.id).map((a) => [a.objectId, a.outcome])).toEqual([[notYet.id, 'done']]);
  });

  it('never voids a paid invoice, and follows the client group setting', async () => {
    const never = await seedGroup(company, { voidInvoicesDaysAfterDue: 'never' });
    const client = await seedClient(company, { groupId: never });
    const kept = await openInvoice(company, client, 1000, '2027-03-01');
    const payer = await seedClient(company);
    const paid = await openInvoice(company, payer, 1000, '2027-03-01');
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: payer.id,
      type: 'cash',
      amount: 1000,
      currency: 'USD',
      apply: [{ invoiceId: paid.id, amount: 1000 }],
    });

    const run = await runAll(voidsSource, runOn(company, '2027-06-01'));
    expect(run.actions.find((a) => a.objectId === kept.id)).toBeUndefined();
    expect(run.actions.find((a) => a.objectId === paid.id)).toBeUndefined();
    expect((await requireInvoice(company.id, kept.id)).status).toBe('open');
    expect((await requireInvoice(company.id, paid.id)).status).toBe('paid');
  });

  it('skips inactive and fraud clients', async () => {
    const inactive = await seedClient(company);
    const fraud = await seedClient(company);
    const a = await openInvoice(company, inactive, 1000, '2027-02-01');
    const b = await openInvoice(company, fraud, 1000, '2027-02-01');
    await changeStatus(company.id, inactive, 'inactive', null);
    await changeStatus(company.id, fraud, 'fraud', null);

    const run = await runAll(voidsSource, runOn(company, '2027-06-02'));
    for (const invoice of [a, b]) {
      expect(run.actions.find((x) => x.objectId === invoice.id)).toMatchObject({ outcome: 'skipped', message: 'client is inactive' });
      expect((await requireInvoice(company.id, invoice.id)).status).toBe('open');
    }
  });

  it('an inactive client is reported only for invoices its own group would void now', async () => {
    const never = await seedGroup(company, { voidInvoicesDaysAfterDue: 'never' });
    const keeps = await seedClient(company, { groupId: never });
    const invoice = await openInvoice(company, keeps, 1000, '2027-02-01');
    await changeStatus(company.id, keeps, 'inactive', null);

    const run = await runAll(voidsSource, runOn(company, '2027-06-03'));
    expect(run.actions.find((x) => x.objectId === invoice.id)).toBeUndefined();
    expect((await requireInvoice(company.id, invoice.id)).status).toBe('open');
  });

  it('a dry run plans and writes nothing; a page of one entry at a time gets through them all', async () => {
    const own = await seedCompanyWith({ voidInvoicesDaysAfterDue: 0 });
    const client = await seedClient(own);
    const invoices = [
      await openInvoice(own, client, 100, '2027-03-01'),
      await openInvoice(own, client, 200, '2027-03-02'),
      await openInvoice(own, client, 300, '2027-03-03'),
    ];

    const dry = await runAll(voidsSource, runOn(own, '2027-03-03', true), 1);
    expect(dry.actions.map((a) => [a.objectId, a.outcome, a.details.amountDue])).toEqual(invoices.map((i) => [i.id, 'planned', i.due]));
    expect(dry.acted).toBe(3);
    for (const invoice of invoices) expect((await requireInvoice(own.id, invoice.id)).status).toBe('open');

    const real = await runAll(voidsSource, runOn(own, '2027-03-03'), 1);
    expect(real.acted).toBe(3);
    for (const invoice of invoices) expect((await requireInvoice(own.id, invoice.id)).status).toBe('void');
  });
});
