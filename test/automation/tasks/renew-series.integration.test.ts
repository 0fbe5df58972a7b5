import { beforeAll, describe, expect, it } from 'vitest';
import { renewSeriesSource } from '../../../functions/automation/tasks/renew-series.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { readRecurringInvoice, updateRecurringInvoice } from '../../../functions/billing/invoices/recurring-invoices.js';
import { changeStatus } from '../../../functions/clients/change-status.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import type { Recurrence } from '../../../functions/domain/recurring-invoice.js';
import { listInvoices } from '../../../functions/store/invoices.js';
import { recordDynamoKeys, repeatedReads } from '../../support/dynamo-keys.js';
import { useFreshTables } from '../../support/tables.js';
import { runAll, runOn, seedClient, seedCompanyWith, seedGroup } from './fixtures.js';

let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith({ invoiceDaysBeforeRenewal: 0 });
});

async function startSeries(c: Company, client: Client, recurring: Recurrence, dateBilled = '2027-01-31', dateDue = '2027-02-10') {
  const { recurring: series } = await createInvoice({
    companyId: c.id,
    clientId: client.id,
    dateBilled,
    dateDue,
    lines: [{ description: 'Retainer', quantity: '3/2', unitAmount: 1000, taxable: false }],
    recurring,
  });
  if (!series) throw new Error('no series');
  return series;
}

/** The client's invoices as (billed, due, total, series), by billing date. */
async function invoicesOf(c: Company, client: Client) {
  const page = await listInvoices(c.id, { clientId: client.id, limit: 100 });
  return page.items
    .map((i) => ({ dateBilled: i.dateBilled, dateDue: i.dateDue, total: i.total, series: i.recurringInvoiceId }))
    .sort((a, b) => a.dateBilled.localeCompare(b.dateBilled));
}

describe('renewals of recurring invoices', () => {
  it('a page reads the company and each client once: the invoices it creates read neither again', async () => {
    const own = await seedCompanyWith({ invoiceDaysBeforeRenewal: 0 });
    for (let i = 0; i < 3; i++) await startSeries(own, await seedClient(own), { term: 1, period: 'month' }, '2029-01-10', '2029-01-20');
    const keys = recordDynamoKeys();
    try {
      const run = await runAll(renewSeriesSource, runOn(own, '2029-02-10'));
      expect(run.acted).toBe(3);
      // The invoice counter is read by each invoice (its number is taken in the invoice's transaction).
      expect(repeatedReads(keys.calls).filter((key) => !key.includes('|COUNTER#'))).toEqual([]);
    } finally {
      keys.stop();
    }
  });

  it('bills each date once, with the same lines and the same billing-to-due distance; a skipped quarter is caught up date by date', async () => {
    const client = await seedClient(company);
    const series = await startSeries(company, client, { term: 1, period: 'month' });

    const first = await runAll(renewSeriesSource, runOn(company, '2027-02-28'));
    expect(first.actions.filter((a) => a.clientId === client.id)).toEqual([
      expect.objectContaining({
        objectId: series.id,
        outcome: 'done',
        action: 'invoice_created',
        details: expect.objectContaining({ billingDate: '2027-02-28', dateDue: '2027-03-10', total: 1500 }),
      }),
    ]);
    // The same date again: nothing more.
    await runAll(renewSeriesSource, runOn(company, '2027-02-28'));
    // Three months skipped: one invoice per missed date, keeping the month-end.
    const caughtUp = await runAll(renewSeriesSource, runOn(company, '2027-06-05'));
    expect(caughtUp.actions.filter((a) => a.clientId === client.id).map((a) => a.details.billingDate)).toEqual(['2027-03-31', '2027-04-30', '2027-05-31']);
    // An earlier date run afterwards repeats nothing.
    await runAll(renewSeriesSource, runOn(company, '2027-04-01'));

    expect(await invoicesOf(company, client)).toEqual([
      { dateBilled: '2027-01-31', dateDue: '2027-02-10', total: 1500, series: series.id },
      { dateBilled: '2027-02-28', dateDue: '2027-03-10', total: 1500, series: series.id },
      { dateBilled: '2027-03-31', dateDue: '2027-04-10', total: 1500, series: series.id },
      { dateBilled: '2027-04-30', dateDue: '2027-05-10', total: 1500, series: series.id },
      { dateBilled: '2027-05-31', dateDue: '2027-06-10', total: 1500, series: series.id },
    ]);
    expect(await readRecurringInvoice(company.id, series.id)).toMatchObject({ created: 5, nextBillDate: '2027-06-30', status: 'active' });
  });

  it('stops at occurrences; raising them on the completed series bills again from its schedule', async () => {
    const client = await seedClient(company);
    const series = await startSeries(company, client, { term: 1, period: 'week', occurrences: 3 }, '2027-03-01', '2027-03-01');

    await runAll(renewSeriesSource, runOn(company, '2027-04-30'));
    expect((await invoicesOf(company, client)).map((i) => i.dateBilled)).toEqual(['2027-03-01', '2027-03-08', '2027-03-15']);
    expect(await readRecurringInvoice(company.id, series.id)).toMatchObject({ created: 3, status: 'completed', nextBillDate: null });
    await runAll(renewSeriesSource, runOn(company, '2027-05-30'));
    expect(await invoicesOf(company, client)).toHaveLength(3);

    await updateRecurringInvoice({ companyId: company.id, id: series.id, occurrences: 5 });
    expect(await readRecurringInvoice(company.id, series.id)).toMatchObject({ status: 'active', nextBillDate: '2027-03-22' });
    await runAll(renewSeriesSource, runOn(company, '2027-05-30'));
    expect((await invoicesOf(company, client)).map((i) => i.dateBilled)).toEqual(['2027-03-01', '2027-03-08', '2027-03-15', '2027-03-22', '2027-03-29']);
    expect(await readRecurringInvoice(company.id, series.id)).toMatchObject({ created: 5, status: 'completed' });
  });

  it('bills invoiceDaysBeforeRenewal days ahead, per client group', async () => {
    const early = await seedGroup(company, { invoiceDaysBeforeRenewal: 10 });
    const client = await seedClient(company, { groupId: early });
    const other = await seedClient(company);
    await startSeries(company, client, { term: 1, period: 'month' }, '2027-01-15', '2027-01-15');
    await startSeries(company, other, { term: 1, period: 'month' }, '2027-01-15', '2027-01-15');

    await runAll(renewSeriesSource, runOn(company, '2027-02-05'));
    expect((await invoicesOf(company, client)).map((i) => i.dateBilled)).toEqual(['2027-01-15', '2027-02-15']);
    expect((await invoicesOf(company, other)).map((i) => i.dateBilled)).toEqual(['2027-01-15']);
  });

  it('two runs of the same date at once create each invoice once', async () => {
    const client = await seedClient(company);
    await startSeries(company, client, { term: 1, period: 'day' }, '2027-03-01', '2027-03-01');
    await Promise.all([runAll(renewSeriesSource, runOn(company, '2027-03-06')), runAll(renewSeriesSource, runOn(company, '2027-03-06'))]);
    expect((await invoicesOf(company, client)).map((i) => i.dateBilled)).toEqual([
      '2027-03-01',
      '2027-03-02',
      '2027-03-03',
      '2027-03-04',
      '2027-03-05',
      '2027-03-06',
    ]);
  });

  it('skips inactive clients; a dry run plans each invoice with its totals and writes nothing', async () => {
    const own = await seedCompanyWith({ invoiceDaysBeforeRenewal: 0 });
    const client = await seedClient(own);
    const sleeper = await seedClient(own);
    const series = await startSeries(own, client, { term: 1, period: 'month' }, '2027-01-10', '2027-01-20');
    await startSeries(own, sleeper, { term: 1, period: 'month' }, '2027-01-10', '2027-01-20');
    await changeStatus(own.id, sleeper, 'inactive', null);

    const dry = await runAll(renewSeriesSource, runOn(own, '2027-03-10', true));
    expect(dry).toMatchObject({ examined: 2, acted: 2, failed: 0 });
    expect(dry.actions.filter((a) => a.clientId === client.id)).toEqual([
      expect.objectContaining({
        objectId: series.id,
        outcome: 'planned',
        details: expect.objectContaining({
          billingDate: '2027-02-10',
          dateDue: '2027-02-20',
          subtotal: 1500,
          tax: 0,
          total: 1500,
          lines: [expect.objectContaining({ quantity: '3/2', amount: 1500 })],
        }),
      }),
      expect.objectContaining({ outcome: 'planned', details: expect.objectContaining({ billingDate: '2027-03-10' }) }),
    ]);
    expect(dry.actions.filter((a) => a.clientId === sleeper.id)).toEqual([expect.objectContaining({ outcome: 'skipped', message: 'client is inactive' })]);
    expect(await invoicesOf(own, client)).toHaveLength(1);
    expect(await readRecurringInvoice(own.id, series.id)).toMatchObject({ created: 1, version: 1 });

    await runAll(renewSeriesSource, runOn(own, '2027-03-10'));
    expect(await invoicesOf(own, client)).toHaveLength(3);
    expect(await invoicesOf(own, sleeper)).toHaveLength(1);
  });
});
