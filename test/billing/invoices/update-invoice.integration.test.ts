import { beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { updateInvoice } from '../../../functions/billing/invoices/update-invoice.js';
import type { Company } from '../../../functions/domain/company.js';
import { ValidationError } from '../../../functions/domain/errors.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { openInvoiceIndexKeys } from '../../../functions/store/keys.js';
import { useFreshTables } from '../../support/tables.js';
import { balanceOf, invoiceItem, seedClient, seedCompany, work } from './fixtures.js';

/** update-invoice called directly (no HTTP) against DynamoDB Local: changing and opening drafts. */
let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany();
});

async function newDraft(clientId: string, unitAmount = 1000) {
  return (await createInvoice({ companyId: company.id, clientId, status: 'draft', dateBilled: '2030-01-10', dateDue: '2030-01-20', lines: work(unitAmount) }))
    .invoice;
}

describe('updateInvoice', () => {
  it('changes a draft: new lines priced again, a later billing date carrying the due date, the next version', async () => {
    const client = await seedClient(company);
    const draft = await newDraft(client.id);
    const changed = await updateInvoice({
      companyId: company.id,
      invoiceId: draft.id,
      expectedVersion: 1,
      dateBilled: '2030-01-25',
      lines: [{ description: 'More work', quantity: '3/4', unitAmount: 4000 }],
    });
    expect(changed).toMatchObject({
      status: 'draft',
      number: null,
      dateBilled: '2030-01-25',
      dateDue: '2030-01-25',
      subtotal: 3000,
      total: 3000,
      due: 3000,
      version: 2,
    });
    expect(await requireInvoice(company.id, draft.id)).toEqual(changed);
    expect(await balanceOf(company.id, client.id, 'USD')).toMatchObject({ invoiced: 0, due: 0 });
  });

  it('opens a draft: numbered, on the balance and in the open-invoice index; then it no longer changes', async () => {
    const client = await seedClient(company);
    const draft = await newDraft(client.id, 2500);
    const opened = await updateInvoice({ companyId: company.id, invoiceId: draft.id, open: true });
    expect(opened).toMatchObject({ status: 'open', due: 2500, version: 2 });
    expect(opened.number).toEqual(expect.any(Number));
    expect(await requireInvoice(company.id, draft.id)).toEqual(opened);
    const item = await invoiceItem(company.id, client.id, draft.id);
    expect({ GSI2PK: item?.GSI2PK, GSI2SK: item?.GSI2SK }).toEqual(openInvoiceIndexKeys(company.id, opened));
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 2500, paid: 0, due: 2500, credit: 0 });
    await expect(updateInvoice({ companyId: company.id, invoiceId: draft.id, dateDue: '2030-03-01' })).rejects.toMatchObject({ code: 'invoice_not_draft' });
    await expect(updateInvoice({ companyId: company.id, invoiceId: draft.id, open: true })).rejects.toMatchObject({ code: 'invoice_not_draft' });
    expect((await requireInvoice(company.id, draft.id)).number).toBe(opened.number);
  });

  it('opens a draft whose total is zero as paid, nothing due', async () => {
    const client = await seedClient(company);
    const draft = await newDraft(client.id, 0);
    expect(await updateInvoice({ companyId: company.id, invoiceId: draft.id, open: true })).toMatchObject({ status: 'paid', due: 0, paid: 0 });
    expect((await invoiceItem(company.id, client.id, draft.id))?.GSI2PK).toBeUndefined();
  });

  it('refuses a stale version, a due date before the billing date and a currency the company does not bill in', async () => {
    const client = await seedClient(company);
    const draft = await newDraft(client.id);
    await expect(updateInvoice({ companyId: company.id, invoiceId: draft.id, expectedVersion: 7, dateDue: '2030-02-01' })).rejects.toMatchObject({
      code: 'stale_version',
    });
    await expect(updateInvoice({ companyId: company.id, invoiceId: draft.id, dateDue: '2030-01-01' })).rejects.toBeInstanceOf(ValidationError);
    await expect(updateInvoice({ companyId: company.id, invoiceId: draft.id, currency: 'CHF' })).rejects.toMatchObject({ errors: [{ path: 'currency' }] });
    expect(await requireInvoice(company.id, draft.id)).toEqual(draft);
  });
});
