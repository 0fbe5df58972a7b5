import { beforeAll, describe, expect, it } from 'vitest';
import { renewServicesSource } from '../../../functions/automation/tasks/renew-services.js';
import { suspendServicesSource, unsuspendServicesSource } from '../../../functions/automation/tasks/suspensions.js';
import type { RunContext } from '../../../functions/automation/task.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import type { Invoice } from '../../../functions/domain/invoice.js';
import { addService } from '../../../functions/packages/add-service.js';
import { changeServiceStatus } from '../../../functions/packages/change-service-status.js';
import { createPackage } from '../../../functions/packages/create-package.js';
import { listInvoices } from '../../../functions/store/invoices.js';
import { requireService } from '../../../functions/store/services.js';
import { useFreshTables } from '../../support/tables.js';
import { runAll, runOn, seedClient, seedCompanyWith, seedGroup } from './fixtures.js';

let company: Company;
let pricing: { packageId: string; pricingId: string };

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith({
    suspendServicesDaysAfterDue: 3,
    invoiceDaysBeforeRenewal: 0,
    invoiceSuspendedServices: true,
    invoiceServicesTogether: false,
  });
  const pkg = await createPackage({ companyId: company.id, name: 'VPS', pricing: [{ term: 1, period: 'month', price: 2000, currency: 'USD' }] });
  pricing = { packageId: pkg.id, pricingId: pkg.pricing[0].id };
});

const sell = async (client: Client, startDate: string) => (await addService({ companyId: company.id, clientId: client.id, ...pricing, startDate })).service;

/** The suspensions task as the engine runs it: its sources in order. */
async function suspensions(ctx: RunContext) {
  const suspended = await runAll(suspendServicesSource, ctx);
  const unsuspended = await runAll(unsuspendServicesSource, ctx);
  return [...suspended.actions, ...unsuspended.actions];
}

const state = async (serviceId: string) => {
  const s = await requireService(company.id, serviceId);
  return [s.status, s.suspendedBy];
};

async function pay(client: Client, invoice: Invoice) {
  await recordPayment({
    companyId: company.id,
    principal: null,
    clientId: client.id,
    type: 'cash',
    amount: invoice.total,
    currency: invoice.currency,
    apply: [{ invoiceId: invoice.id, amount: invoice.total }],
  });
}

const invoicesOf = async (client: Client) =>
  (await listInvoices(company.id, { clientId: client.id, limit: 100 })).items.sort((a, b) => a.dateDue.localeCompare(b.dateDue));

describe('suspensions of services', () => {
  it('suspend a service whose invoice is past due by the days set, once; lift it when nothing is past due any more', async () => {
    const client = await seedClient(company);
    const service = await sell(client, '2027-01-10');

    expect((await suspensions(runOn(company, '2027-01-12'))).filter((a) => a.objectId === service.id)).toEqual([]);
    const run = await suspensions(runOn(company, '2027-01-13'));
    expect(run.filter((a) => a.objectId === service.id)).toEqual([
      expect.objectContaining({ task: 'suspensions', action: 'suspended', outcome: 'done', details: expect.objectContaining({ serviceId: service.id }) }),
    ]);
    expect(await state(service.id)).toEqual(['suspended', 'automation']);
    // Again, and two runs at once: nothing more.
    await Promise.all([suspensions(runOn(company, '2027-01-13')), suspensions(runOn(company, '2027-01-14'))]);
    expect((await requireService(company.id, service.id)).version).toBe(2);

    const [first] = await invoicesOf(client);
    await pay(client, first);
    const lifted = await suspensions(runOn(company, '2027-01-15'));
    expect(lifted.filter((a) => a.objectId === service.id).map((a) => [a.action, a.outcome])).toEqual([['unsuspended', 'done']]);
    expect(await state(service.id)).toEqual(['active', null]);
    expect((await suspensions(runOn(company, '2027-01-16'))).filter((a) => a.objectId === service.id)).toEqual([]);
  });

  it('keep an automation suspension while any invoice of the service is still past due', async () => {
    const client = await seedClient(company);
    const service = await sell(client, '2027-02-01');
    await runAll(renewServicesSource, runOn(company, '2027-03-01'));
    await suspensions(runOn(company, '2027-03-05'));
    expect(await state(service.id)).toEqual(['suspended', 'automation']);
    const [first, renewal] = await invoicesOf(client);
    await pay(client, first);
    await suspensions(runOn(company, '2027-03-06'));
    expect(await state(service.id)).toEqual(['suspended', 'automation']);
    await pay(client, renewal);
    await suspensions(runOn(company, '2027-03-07'));
    expect(await state(service.id)).toEqual(['active', null]);
  });

  it('never lift a staff suspension, and never suspend again for an invoice staff already let through', async () => {
    const client = await seedClient(company);
    const byStaff = await sell(client, '2027-04-01');
    await changeServiceStatus({ companyId: company.id, serviceId: byStaff.id, action: 'suspend' });
    for (const invoice of await invoicesOf(client)) await pay(client, invoice);
    await suspensions(runOn(company, '2027-04-10'));
    expect(await state(byStaff.id)).toEqual(['suspended', 'staff']);

    const other = await seedClient(company);
    const overridden = await sell(other, '2027-04-01');
    await suspensions(runOn(company, '2027-04-04'));
    expect(await state(overridden.id)).toEqual(['suspended', 'automation']);
    await changeServiceStatus({ companyId: company.id, serviceId: overridden.id, action: 'unsuspend' });
    await suspensions(runOn(company, '2027-04-05'));
    expect(await state(overridden.id)).toEqual(['active', null]);
  });

  it('a second suspension on the same date is lifted too', async () => {
    const client = await seedClient(company);
    const service = await sell(client, '2027-07-01');
    await suspensions(runOn(company, '2027-07-05'));
    const [first] = await invoicesOf(client);
    await pay(client, first);
    await suspensions(runOn(company, '2027-07-05'));
    expect(await state(service.id)).toEqual(['active', null]);
    // Another invoice of the service, already past due, the same day.
    const { invoice: late } = await createInvoice({
      companyId: company.id,
      clientId: client.id,
      dateBilled: '2027-07-01',
      dateDue: '2027-07-01',
      lines: [{ description: 'VPS', quantity: 1, unitAmount: 2000 }],
      servicePeriods: [{ serviceId: service.id, periodStart: '2027-08-01' }],
    });
    await suspensions(runOn(company, '2027-07-05'));
    expect(await state(service.id)).toEqual(['suspended', 'automation']);
    await pay(client, late);
    await suspensions(runOn(company, '2027-07-05'));
    expect(await state(service.id)).toEqual(['active', null]);
  });

  it("'never' turns suspension off; inactive clients are skipped", async () => {
    const never = await seedGroup(company, { suspendServicesDaysAfterDue: 'never' });
    const lenient = await seedClient(company, { groupId: never });
    const kept = await sell(lenient, '2027-05-01');
    const sleeper = await seedClient(company, { status: 'inactive' });
    const asleep = await sell(sleeper, '2027-05-01');
    const run = await suspensions(runOn(company, '2027-05-20'));
    expect(run.filter((a) => a.objectId === kept.id)).toEqual([]);
    expect(run.filter((a) => a.objectId === asleep.id).map((a) => [a.outcome, a.message])).toEqual([['skipped', 'client is inactive']]);
    expect(await state(kept.id)).toEqual(['active', null]);
    expect(await state(asleep.id)).toEqual(['active', null]);
  });

  it('a dry run plans the suspension and writes nothing', async () => {
    const client = await seedClient(company);
    const service = await sell(client, '2027-06-01');
    const plan = await suspensions(runOn(company, '2027-06-10', true));
    expect(plan.filter((a) => a.objectId === service.id).map((a) => [a.action, a.outcome])).toEqual([['suspended', 'planned']]);
    expect(await state(service.id)).toEqual(['active', null]);
  });
});
