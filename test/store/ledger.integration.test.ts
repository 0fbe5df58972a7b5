import { beforeAll, describe, expect, it } from 'vitest';
import { createInvoice } from '../../functions/billing/invoices/create-invoice.js';
import { recordPayment } from '../../functions/billing/payments/record-payment.js';
import type { Company } from '../../functions/domain/company.js';
import { renewDate } from '../../functions/domain/service.js';
import { addService } from '../../functions/packages/add-service.js';
import { createPackage } from '../../functions/packages/create-package.js';
import { getServices, requireService } from '../../functions/store/services.js';
import { useFreshTables } from '../support/tables.js';
import { seedClient, seedCompanyWith } from '../automation/tasks/fixtures.js';

/** What commitLedger does for services: an invoice that becomes paid pays the service periods it bills. */
let company: Company;
let pricing: { packageId: string; pricingId: string };

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith();
  const pkg = await createPackage({ companyId: company.id, name: 'Mailbox', pricing: [{ term: 1, period: 'month', price: 100, currency: 'USD' }] });
  pricing = { packageId: pkg.id, pricingId: pkg.pricing[0].id };
});

describe('paying invoices that bill service periods', () => {
  it('a partial payment pays no period; the payment that makes the invoice paid does, once', async () => {
    const client = await seedClient(company);
    const { service } = await addService({ companyId: company.id, clientId: client.id, ...pricing, startDate: '2030-01-01' });
    const { invoice } = await createInvoice({
      companyId: company.id,
      clientId: client.id,
      dateBilled: '2030-01-15',
      dateDue: '2030-02-01',
      lines: [{ description: 'Mailbox', quantity: 1, unitAmount: 100 }],
      servicePeriods: [{ serviceId: service.id, periodStart: '2030-02-01' }],
    });
    const pay = (amount: number) =>
      recordPayment({
        companyId: company.id,
        principal: null,
        clientId: client.id,
        type: 'cash',
        amount,
        currency: 'USD',
        apply: [{ invoiceId: invoice.id, amount }],
      });
    await pay(40);
    expect(renewDate(await requireService(company.id, service.id))).toBe('2030-02-01');
    await pay(60);
    const paid = await requireService(company.id, service.id);
    expect(paid.paidPeriods).toEqual(['2030-02-01']);
    expect(renewDate(paid)).toBe('2030-03-01');
    await expect(pay(1)).rejects.toThrow();
    expect((await requireService(company.id, service.id)).version).toBe(paid.version);
  });

  it('one payment over invoices billing more services than one transaction holds records every period', async () => {
    const client = await seedClient(company);
    const services = [];
    for (let i = 0; i < 100; i++) {
      services.push((await addService({ companyId: company.id, clientId: client.id, ...pricing, startDate: '2030-01-01', status: 'pending' })).service);
    }
    const invoices = [];
    for (const half of [services.slice(0, 50), services.slice(50)]) {
      const { invoice } = await createInvoice({
        companyId: company.id,
        clientId: client.id,
        dateBilled: '2030-01-01',
        lines: [{ description: 'Mailboxes', quantity: 50, unitAmount: 100 }],
        servicePeriods: half.map((s) => ({ serviceId: s.id, periodStart: '2030-02-01' })),
      });
      invoices.push(invoice);
    }
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'wire',
      amount: 10_000,
      currency: 'USD',
      apply: invoices.map((i) => ({ invoiceId: i.id, amount: i.total })),
    });
    const after = await getServices(
      company.id,
      services.map((s) => ({ clientId: client.id, serviceId: s.id })),
    );
    expect(after).toHaveLength(100);
    expect(after.every((s) => s.paidPeriods.includes('2030-02-01'))).toBe(true);
  });
});
