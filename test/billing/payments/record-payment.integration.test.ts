import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { recordPayment, type RecordPaymentInput } from '../../../functions/billing/payments/record-payment.js';
import type { Client } from '../../../functions/domain/client.js';
import { setClock } from '../../../functions/domain/clock.js';
import type { Company } from '../../../functions/domain/company.js';
import { ConflictError } from '../../../functions/domain/errors.js';
import { ledgerViolations } from '../../../functions/domain/ledger.js';
import type { Principal } from '../../../functions/domain/principal.js';
import { requireInvoice } from '../../../functions/store/invoices.js';
import { loadLedger } from '../../../functions/store/ledger.js';
import { getTransaction, listTransactions } from '../../../functions/store/transactions.js';
import { useFreshTables } from '../../support/tables.js';
import { balanceOf, seedClient, seedCompany } from '../invoices/fixtures.js';

/** record-payment called directly (no HTTP) against DynamoDB Local. */
let company: Company;
let staff: Principal;
let restoreClock: (() => void) | undefined;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompany([]);
  staff = { role: 'staff', userId: 'usr_staff', username: 'staff', companyId: company.id };
});

afterEach(() => {
  restoreClock?.();
  restoreClock = undefined;
});

async function openInvoice(client: Client, amount: number) {
  const { invoice } = await createInvoice({
    companyId: company.id,
    clientId: client.id,
    dateBilled: '2030-01-10',
    lines: [{ description: 'Work', quantity: 1, unitAmount: amount, taxable: false }],
  });
  return invoice;
}

const record = (client: Client, fields: Partial<RecordPaymentInput> & Pick<RecordPaymentInput, 'amount'>) =>
  recordPayment({ companyId: company.id, principal: staff, clientId: client.id, type: 'check', currency: 'USD', ...fields });

describe('recordPayment', () => {
  it('records an offline payment applied as asked, the rest as credit, dated today in the company’s time zone', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 2500);
    // 03:00 UTC on 1 March is still 28 February in New York.
    restoreClock = setClock(() => new Date('2030-03-01T03:00:00.000Z'));

    const txn = await record(client, { amount: 4000, reference: 'Check 1001', apply: [{ invoiceId: invoice.id, amount: 2500 }] });

    expect(txn).toMatchObject({
      kind: 'offline',
      method: 'check',
      status: 'succeeded',
      amount: 4000,
      applications: [{ invoiceId: invoice.id, amount: 2500 }],
      credit: 1500,
      reference: 'Check 1001',
      date: '2030-02-28',
      paymentAccountId: null,
      version: 1,
    });
    expect(await getTransaction(company.id, client.id, txn.id)).toEqual(txn);
    expect(await requireInvoice(company.id, invoice.id)).toMatchObject({ status: 'paid', due: 0 });
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 2500, paid: 2500, due: 0, credit: 1500 });
  });

  it('keeps the date it is given', async () => {
    const client = await seedClient(company);
    expect((await record(client, { type: 'wire', amount: 100, date: '2029-12-31' })).date).toBe('2029-12-31');
  });

  it('refuses an over-application with a ConflictError, recording nothing', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 1000);
    await expect(record(client, { amount: 1200, apply: [{ invoiceId: invoice.id, amount: 1200 }] })).rejects.toBeInstanceOf(ConflictError);
    expect((await listTransactions(company.id, client.id, 10)).items).toEqual([]);
    expect(await balanceOf(company.id, client.id, 'USD')).toEqual({ invoiced: 1000, paid: 0, due: 1000, credit: 0 });
  });

  it('concurrent offline payments on one invoice never over-apply: the losers are refused and record nothing', async () => {
    const client = await seedClient(company);
    const invoice = await openInvoice(client, 1000);

    // Eight payments of 300 on an invoice of 1000: at most three fit.
    const settled = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        record(client, { type: 'cash', amount: 300, reference: `race-${i}`, apply: [{ invoiceId: invoice.id, amount: 300 }] }),
      ),
    );

    const recorded = settled.filter((s) => s.status === 'fulfilled');
    for (const s of settled) if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(ConflictError);
    expect(recorded.length).toBeGreaterThanOrEqual(1);
    expect(recorded.length).toBeLessThanOrEqual(3);
    expect((await listTransactions(company.id, client.id, 20)).items).toHaveLength(recorded.length);
    const after = await requireInvoice(company.id, invoice.id);
    expect(after.paid).toBe(300 * recorded.length);
    expect(after.paid + after.due).toBe(1000);
    expect(ledgerViolations((await loadLedger(company.id, client.id)).state)).toEqual([]);
  });
});
