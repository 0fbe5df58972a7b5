import { beforeAll, describe, expect, it } from 'vitest';
import { voidInvoice } from '../../functions/billing/invoices/void-invoice.js';
import { recordPayment } from '../../functions/billing/payments/record-payment.js';
import type { Company } from '../../functions/domain/company.js';
import { openInvoicesOfClient } from '../../functions/store/invoices.js';
import { openInvoice, seedClient, seedCompanyWith } from '../automation/tasks/fixtures.js';
import { useFreshTables } from '../support/tables.js';

/** A client's open invoices as auto-debit and unsuspension read them: open only, by currency or all, oldest due first. */
let company: Company;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith();
});

async function clientWithHistory() {
  const client = await seedClient(company);
  const paid = await openInvoice(company, client, 1000, '2026-06-10');
  await recordPayment({
    companyId: company.id,
    principal: null,
    clientId: client.id,
    type: 'cash',
    amount: 1000,
    currency: 'USD',
    apply: [{ invoiceId: paid.id, amount: 1000 }],
  });
  const voided = await openInvoice(company, client, 700, '2026-12-01');
  await voidInvoice({ companyId: company.id, invoiceId: voided.id });
  const later = await openInvoice(company, client, 300, '2027-02-01');
  const earlier = await openInvoice(company, client, 200, '2027-01-15');
  const euro = await openInvoice(company, client, 900, '2027-01-10', { currency: 'EUR' });
  return { client, later, earlier, euro };
}

describe('open invoices of a client', () => {
  it('in one currency: only the open ones, oldest due first', async () => {
    const { client, later, earlier } = await clientWithHistory();
    expect((await openInvoicesOfClient(company.id, client.id, 'USD')).map((i) => i.id)).toEqual([earlier.id, later.id]);
  });

  it('in every currency, and a paid one leaves', async () => {
    const { client, later, earlier, euro } = await clientWithHistory();
    expect((await openInvoicesOfClient(company.id, client.id)).map((i) => i.id)).toEqual([euro.id, earlier.id, later.id]);
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'cash',
      amount: 300,
      currency: 'USD',
      apply: [{ invoiceId: later.id, amount: 300 }],
    });
    expect((await openInvoicesOfClient(company.id, client.id)).map((i) => i.id)).toEqual([euro.id, earlier.id]);
  });
});
