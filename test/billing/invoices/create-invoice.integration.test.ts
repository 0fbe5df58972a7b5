import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { voidInvoice } from '../../../functions/billing/invoices/void-invoice.js';
import { setClock } from '../../../functions/domain/clock.js';
import type { Company } from '../../../functions/domain/company.js';
import { ConflictError, NotFoundError } from '../../../functions/domain/errors.js';
import { findRecurring, requireInvoice } from '../../../functions/store/invoices.js';
import { openInvoiceIndexKeys, recurringDueIndexKeys } from '../../../functions/store/keys.js';
import { useFreshTables } from '../../support/tables.js';
import { balanceOf, fieldPaths, invoiceItem, recurringItem, seedClient, seedCompany, work } from './fixtures.js';

/** create-invoice and void-invoice called directly (no HTTP) against DynamoDB Local. */
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

describe('createInvoice', () => {
  it('stores a draft unnumbered, outside the balance and the open-invoice index', async () => {
    const client = await seedClient(company);
    const { invoice, recurring } = await createInvoice({
      companyId: company.id,
      clientId: client.id,
      status: 'draft',
      dateBilled: '2030-01-10',
      dateDue: '2030-01-20',
      lines: work(2500),
    });
    expect(recurring).toBeNull();
    expect(invoice).toMatchObject({ status: 'draft', number: null, total: 2500, due: 2500, paid: 0, clientId: client.id, currency: 'USD', version: 1 });
    expect(await requireInvoice(company.id, invoice.id)).toEqual(invoice);
    const item = await invoiceItem(company.id, client.id, invoice.id);
    expect(item?.GSI2PK).toBeUndefined();
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 0, paid: 0, due: 0, credit: 0 });
  });

  it('opens an invoice with the next number, in the open-invoice index by due date, and on the client’s balance', async () => {
    const client = await seedClient(company, { country: 'US' });
    const first = await createInvoice({
      companyId: company.id,
      clientId: client.id,
      dateBilled: '2030-01-10',
      dateDue: '2030-01-20',
      lines: [{ description: 'Hosting', quantity: '3/2', unitAmount: 1000 }],
    });
    const second = await createInvoice({ companyId: company.id, clientId: client.id, dateBilled: '2030-01-11', lines: work(500) });
    expect(first.invoice).toMatchObject({ status: 'open', subtotal: 1500, tax: 120, total: 1620, due: 1620, taxRate: { id: 'tax_us', percent: '8' } });
    expect(first.invoice.number).toEqual(expect.any(Number));
    expect(second.invoice.number).toBe(first.invoice.number! + 1);
    expect(second.invoice.dateDue).toBe('2030-01-11');
    expect(await requireInvoice(company.id, first.invoice.id)).toEqual(first.invoice);
    const item = await invoiceItem(company.id, client.id, first.invoice.id);
    expect({ GSI2PK: item?.GSI2PK, GSI2SK: item?.GSI2SK }).toEqual(openInvoiceIndexKeys(company.id, first.invoice));
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 2120, paid: 0, due: 2120, credit: 0 });
  });

  it('creates an open invoice with a zero total as paid: numbered, nothing due, not in the open-invoice index', async () => {
    const client = await seedClient(company);
    const { invoice } = await createInvoice({
      companyId: company.id,
      clientId: client.id,
      lines: [
        { description: 'Free trial', quantity: 1, unitAmount: 1000 },
        { description: 'Trial discount', quantity: -1, unitAmount: 1000 },
      ],
    });
    expect(invoice).toMatchObject({ status: 'paid', total: 0, paid: 0, due: 0 });
    expect(invoice.number).toEqual(expect.any(Number));
    expect((await invoiceItem(company.id, client.id, invoice.id))?.GSI2PK).toBeUndefined();
    expect(await balanceOf(company.id, client.id, 'USD')).toMatchObject({ invoiced: 0, due: 0 });
  });

  it('starts a recurring series with the first invoice, in the renewal index by its next billing date', async () => {
    const client = await seedClient(company);
    const { invoice, recurring } = await createInvoice({
      companyId: company.id,
      clientId: client.id,
      dateBilled: '2030-01-31',
      dateDue: '2030-02-10',
      lines: [{ description: 'Monthly retainer', quantity: '55/60', unitAmount: 9000, taxable: false }],
      recurring: { term: 1, period: 'month', occurrences: 3 },
    });
    expect(recurring).toMatchObject({
      clientId: client.id,
      currency: 'USD',
      created: 1,
      occurrences: 3,
      status: 'active',
      nextBillDate: '2030-02-28',
      dueAfterDays: 10,
    });
    expect(recurring!.lines).toEqual([{ description: 'Monthly retainer', quantity: '55/60', unitAmount: 9000, taxable: false }]);
    expect(invoice.recurringInvoiceId).toBe(recurring!.id);
    expect(await findRecurring(company.id, recurring!.id)).toEqual(recurring);
    const item = await recurringItem(company.id, client.id, recurring!.id);
    expect({ GSI2PK: item?.GSI2PK, GSI2SK: item?.GSI2SK }).toEqual(recurringDueIndexKeys(company.id, recurring!));
  });

  it('stores a series of one occurrence as completed, outside the renewal index', async () => {
    const client = await seedClient(company);
    const { recurring } = await createInvoice({
      companyId: company.id,
      clientId: client.id,
      lines: work(100),
      recurring: { term: 1, period: 'year', occurrences: 1 },
    });
    expect(recurring).toMatchObject({ status: 'completed', nextBillDate: null });
    expect((await recurringItem(company.id, client.id, recurring!.id))?.GSI2PK).toBeUndefined();
  });

  it('bills on today in the company’s time zone by default, due the same day', async () => {
    const client = await seedClient(company);
    // 03:30 UTC on 5 May is still 4 May in New York.
    restoreClock = setClock(() => new Date('2031-05-05T03:30:00.000Z'));
    const { invoice } = await createInvoice({ companyId: company.id, clientId: client.id, lines: work(100) });
    expect(invoice).toMatchObject({ dateBilled: '2031-05-04', dateDue: '2031-05-04', createdAt: '2031-05-05T03:30:00.000Z' });
  });

  it('bills in the client’s currency by default, or in another of the company’s; others are refused', async () => {
    const client = await seedClient(company, { currency: 'EUR' });
    expect((await createInvoice({ companyId: company.id, clientId: client.id, lines: work(100) })).invoice.currency).toBe('EUR');
    expect((await createInvoice({ companyId: company.id, clientId: client.id, currency: 'USD', lines: work(100) })).invoice.currency).toBe('USD');
    const refused = await createInvoice({ companyId: company.id, clientId: client.id, currency: 'CHF', lines: work(100) }).catch((e: unknown) => e);
    expect(fieldPaths(refused)).toEqual(['currency']);
  });

  it('refuses what could never be billed, writing nothing: a due date before the billing date, a negative total, an unknown client', async () => {
    const client = await seedClient(company);
    const early = await createInvoice({ companyId: company.id, clientId: client.id, dateBilled: '2030-01-10', dateDue: '2030-01-09', lines: work(100) }).catch(
      (e: unknown) => e,
    );
    expect(fieldPaths(early)).toEqual(['dateDue']);
    const negative = await createInvoice({ companyId: company.id, clientId: client.id, lines: work(-100) }).catch((e: unknown) => e);
    expect(fieldPaths(negative)).toEqual(['lines']);
    await expect(createInvoice({ companyId: company.id, clientId: 'cl_missing', lines: work(100) })).rejects.toBeInstanceOf(NotFoundError);
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 0, paid: 0, due: 0, credit: 0 });
  });
});

describe('voidInvoice', () => {
  it('voids an open invoice: off the balance and the open-invoice index, dated in the company’s time zone', async () => {
    const client = await seedClient(company);
    const { invoice } = await createInvoice({ companyId: company.id, clientId: client.id, lines: work(4000) });
    restoreClock = setClock(() => new Date('2031-07-01T02:00:00.000Z'));
    const voided = await voidInvoice({ companyId: company.id, invoiceId: invoice.id });
    expect(voided).toMatchObject({ status: 'void', total: 4000, paid: 0, due: 0, number: invoice.number, voidedOn: '2031-06-30', version: 2 });
    expect((await invoiceItem(company.id, client.id, invoice.id))?.GSI2PK).toBeUndefined();
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 0, paid: 0, due: 0, credit: 0 });
  });

  it('voids a zero-total paid invoice once; a second void and a draft are refused', async () => {
    const client = await seedClient(company);
    const { invoice } = await createInvoice({ companyId: company.id, clientId: client.id, lines: work(0) });
    expect((await voidInvoice({ companyId: company.id, invoiceId: invoice.id })).status).toBe('void');
    await expect(voidInvoice({ companyId: company.id, invoiceId: invoice.id })).rejects.toBeInstanceOf(ConflictError);
    const { invoice: draft } = await createInvoice({ companyId: company.id, clientId: client.id, status: 'draft', lines: work(100) });
    await expect(voidInvoice({ companyId: company.id, invoiceId: draft.id })).rejects.toMatchObject({ code: 'invoice_not_voidable' });
    expect((await requireInvoice(company.id, draft.id)).status).toBe('draft');
    await expect(voidInvoice({ companyId: company.id, invoiceId: 'inv_missing' })).rejects.toBeInstanceOf(NotFoundError);
  });
});
