import { beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import {
  deleteRecurringInvoice,
  listRecurringInvoices,
  readRecurringInvoice,
  updateRecurringInvoice,
} from '../../../functions/billing/invoices/recurring-invoices.js';
import type { Company } from '../../../functions/domain/company.js';
import { NotFoundError } from '../../../functions/domain/errors.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { useFreshTables } from '../../support/tables.js';
import { recurringItem, seedClient, seedCompany } from './fixtures.js';

/** The recurring-series use cases called directly (no HTTP) against DynamoDB Local. */
let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany();
});

async function newSeries(clientId: string, occurrences?: number) {
  const { invoice, recurring } = await createInvoice({
    companyId: company.id,
    clientId,
    dateBilled: '2030-01-31',
    lines: [{ description: 'Monthly', quantity: 1, unitAmount: 700 }],
    recurring: { term: 1, period: 'month', occurrences },
  });
  return { invoice, series: recurring! };
}

describe('recurring invoice series', () => {
  it('lists and reads a client’s series', async () => {
    const client = await seedClient(company);
    const { series } = await newSeries(client.id);
    expect((await listRecurringInvoices(company.id, client.id, 10)).items).toEqual([series]);
    expect(await readRecurringInvoice(company.id, series.id)).toEqual(series);
  });

  it('changes lines, term and occurrences; as many occurrences as created completes it and takes it out of the renewal index', async () => {
    const client = await seedClient(company);
    const { series } = await newSeries(client.id, 3);
    const changed = await updateRecurringInvoice({
      companyId: company.id,
      id: series.id,
      expectedVersion: 1,
      term: 2,
      lines: [{ description: 'Half', quantity: '1/2', unitAmount: 100 }],
    });
    expect(changed).toMatchObject({
      term: 2,
      version: 2,
      status: 'active',
      nextBillDate: '2030-02-28',
      lines: [{ description: 'Half', quantity: '1/2', unitAmount: 100, taxable: true }],
    });
    expect(await readRecurringInvoice(company.id, series.id)).toEqual(changed);
    expect((await recurringItem(company.id, client.id, series.id))?.GSI2PK).toBeDefined();

    const completed = await updateRecurringInvoice({ companyId: company.id, id: series.id, occurrences: 1 });
    expect(completed).toMatchObject({ status: 'completed', nextBillDate: null, occurrences: 1 });
    expect((await recurringItem(company.id, client.id, series.id))?.GSI2PK).toBeUndefined();
  });

  it('refuses a stale version and lines that could never be invoiced', async () => {
    const client = await seedClient(company);
    const { series } = await newSeries(client.id);
    await expect(updateRecurringInvoice({ companyId: company.id, id: series.id, expectedVersion: 2, term: 3 })).rejects.toMatchObject({
      code: 'stale_version',
    });
    await expect(
      updateRecurringInvoice({ companyId: company.id, id: series.id, lines: [{ description: 'Only a discount', quantity: -1, unitAmount: 100 }] }),
    ).rejects.toMatchObject({ errors: [{ path: 'lines' }] });
    expect(await readRecurringInvoice(company.id, series.id)).toEqual(series);
  });

  it('stops a series; the invoice it created stays', async () => {
    const client = await seedClient(company);
    const { invoice, series } = await newSeries(client.id);
    await deleteRecurringInvoice(company.id, series.id);
    await expect(readRecurringInvoice(company.id, series.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(deleteRecurringInvoice(company.id, series.id)).rejects.toBeInstanceOf(NotFoundError);
    expect((await listRecurringInvoices(company.id, client.id, 10)).items).toEqual([]);
    expect((await requireInvoice(company.id, invoice.id)).status).toBe('open');
  });
});
