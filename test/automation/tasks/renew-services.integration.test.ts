import { beforeAll, describe, expect, it } from 'vitest';
import { renewServicesSource } from '../../../functions/automation/tasks/renew-services.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import type { Invoice } from '../../../functions/domain/invoice.js';
import { renewDate } from '../../../functions/domain/service.js';
import { addService } from '../../../functions/packages/add-service.js';
import { changeServiceStatus } from '../../../functions/packages/change-service-status.js';
import { createPackage } from '../../../functions/packages/create-package.js';
import { listInvoices } from '../../../functions/store/invoices.js';
import { requireService } from '../../../functions/store/services.js';
import { recordDynamoCalls } from '../../support/dynamo-calls.js';
import { recordDynamoKeys, repeatedReads } from '../../support/dynamo-keys.js';
import { useFreshTables } from '../../support/tables.js';
import { runAll, runOn, seedClient, seedCompanyWith, seedGroup } from './fixtures.js';

let company: Company;
let monthly: { packageId: string; pricingId: string };
let eur: { packageId: string; pricingId: string };

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith({ invoiceDaysBeforeRenewal: 0, invoiceServicesTogether: false, invoiceSuspendedServices: false });
  const pkg = await createPackage({
    companyId: company.id,
    name: 'Hosting',
    pricing: [
      { term: 1, period: 'month', price: 1000, setupFee: 500, currency: 'USD' },
      { term: 1, period: 'month', price: 800, currency: 'EUR' },
    ],
  });
  monthly = { packageId: pkg.id, pricingId: pkg.pricing[0].id };
  eur = { packageId: pkg.id, pricingId: pkg.pricing[1].id };
});

const sell = async (client: Client, startDate: string, fields: Partial<Parameters<typeof addService>[0]> = {}) =>
  (await addService({ companyId: company.id, clientId: client.id, ...monthly, quantity: '3/2', startDate, ...fields })).service;

async function invoicesOf(client: Client): Promise<Invoice[]> {
  const page = await listInvoices(company.id, { clientId: client.id, limit: 100 });
  return page.items.sort((a, b) => a.dateDue.localeCompare(b.dateDue) || a.currency.localeCompare(b.currency));
}

const mine = (client: Client, actions: Awaited<ReturnType<typeof runAll>>['actions']) => actions.filter((a) => a.clientId === client.id);

describe('renewals of services', () => {
  it('invoice each renew date once, due on it, without the setup fee; missed terms are caught up one invoice each', async () => {
    const client = await seedClient(company);
    const service = await sell(client, '2027-01-31');

    expect(mine(client, (await runAll(renewServicesSource, runOn(company, '2027-02-27'))).actions)).toEqual([]);
    const first = await runAll(renewServicesSource, runOn(company, '2027-02-28'));
    expect(mine(client, first.actions)).toEqual([
      expect.objectContaining({
        objectType: 'service',
        objectId: service.id,
        outcome: 'done',
        action: 'invoice_created',
        details: expect.objectContaining({ renewDate: '2027-02-28', dateDue: '2027-02-28', total: 1500 }),
      }),
    ]);
    // The same date again, and two runs of a later date at once: nothing twice.
    await runAll(renewServicesSource, runOn(company, '2027-02-28'));
    await Promise.all([runAll(renewServicesSource, runOn(company, '2027-06-05')), runAll(renewServicesSource, runOn(company, '2027-06-05'))]);
    // An earlier date afterwards repeats nothing.
    await runAll(renewServicesSource, runOn(company, '2027-04-01'));

    const invoices = await invoicesOf(client);
    expect(invoices.map((i) => [i.dateBilled <= i.dateDue, i.dateDue, i.total])).toEqual([
      [true, '2027-01-31', 2000],
      [true, '2027-02-28', 1500],
      [true, '2027-03-31', 1500],
      [true, '2027-04-30', 1500],
      [true, '2027-05-31', 1500],
    ]);
    expect(invoices[1].lines.map((l) => l.description)).toEqual(['Hosting (2027-02-28 to 2027-03-30)']);
    expect(invoices[2].servicePeriods).toEqual([{ serviceId: service.id, periodStart: '2027-03-31' }]);
    expect(await requireService(company.id, service.id)).toMatchObject({ periodsInvoiced: 5 });
  });

  it('paying a renewal invoice advances renewDate by one term; paying the first term does not', async () => {
    const client = await seedClient(company);
    const service = await sell(client, '2027-03-15');
    await runAll(renewServicesSource, runOn(company, '2027-05-20'));
    const [firstTerm, april, may] = await invoicesOf(client);
    expect([april.dateDue, may.dateDue]).toEqual(['2027-04-15', '2027-05-15']);
    const pay = (invoice: Invoice) =>
      recordPayment({
        companyId: company.id,
        principal: null,
        clientId: client.id,
        type: 'check',
        amount: invoice.total,
        currency: 'USD',
        apply: [{ invoiceId: invoice.id, amount: invoice.total }],
      });

    await pay(firstTerm);
    expect(renewDate(await requireService(company.id, service.id))).toBe('2027-04-15');
    await pay(april);
    expect(renewDate(await requireService(company.id, service.id))).toBe('2027-05-15');
    await pay(may);
    expect(renewDate(await requireService(company.id, service.id))).toBe('2027-06-15');
  });

  it('one payment over two renewal invoices of a service advances renewDate by two terms', async () => {
    const client = await seedClient(company);
    const service = await sell(client, '2027-03-15');
    await runAll(renewServicesSource, runOn(company, '2027-05-20'));
    const [, april, may] = await invoicesOf(client);
    await recordPayment({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      type: 'check',
      amount: april.total + may.total,
      currency: 'USD',
      apply: [
        { invoiceId: april.id, amount: april.total },
        { invoiceId: may.id, amount: may.total },
      ],
    });
    expect(await requireService(company.id, service.id)).toMatchObject({ paidPeriods: ['2027-04-15', '2027-05-15'] });
    expect(renewDate(await requireService(company.id, service.id))).toBe('2027-06-15');
  });

  it('one invoice per client, currency and renew date where the group invoices services together', async () => {
    const together = await seedGroup(company, { invoiceServicesTogether: true });
    const client = await seedClient(company, { groupId: together });
    const a = await sell(client, '2027-01-10');
    const b = await sell(client, '2027-01-10', { quantity: 1 });
    const c = await sell(client, '2027-01-10', { ...eur, quantity: 1 });
    const later = await sell(client, '2027-01-20');

    const run = await runAll(renewServicesSource, runOn(company, '2027-02-10'));
    expect(
      mine(client, run.actions)
        .map((x) => x.objectId)
        .sort(),
    ).toEqual([a.id, b.id, c.id].sort());
    const renewals = (await invoicesOf(client)).filter((i) => i.dateDue === '2027-02-10');
    expect(renewals.map((i) => [i.currency, i.lines.length, i.total])).toEqual([
      ['EUR', 1, 800],
      ['USD', 2, 2500],
    ]);
    expect(renewals[1].servicePeriods.map((p) => p.serviceId).sort()).toEqual([a.id, b.id].sort());
    expect(await requireService(company.id, later.id)).toMatchObject({ periodsInvoiced: 1 });
  });

  it('a client invoicing services together gets one invoice per renew date whatever the page size', async () => {
    const together = await seedGroup(company, { invoiceServicesTogether: true });
    const client = await seedClient(company, { groupId: together });
    const other = await seedClient(company, { groupId: together });
    const early = await sell(client, '2028-01-05');
    const sold = [await sell(client, '2028-01-10'), await sell(other, '2028-01-10'), await sell(client, '2028-01-10'), await sell(client, '2028-01-10')];
    const ids = [early, ...sold].map((s) => s.id);

    const plan = await runAll(renewServicesSource, runOn(company, '2028-02-10', true), 2);
    const planned = plan.actions.filter((a) => ids.includes(a.objectId));
    expect(planned.map((a) => a.objectId).sort()).toEqual([...ids].sort());
    expect(planned.every((a) => a.outcome === 'planned')).toBe(true);

    await runAll(renewServicesSource, runOn(company, '2028-02-10'), 2);
    const renewals = (await invoicesOf(client)).filter((i) => i.dateDue > '2028-01-31');
    expect(renewals.map((i) => [i.dateDue, i.lines.length])).toEqual([
      ['2028-02-05', 1],
      ['2028-02-10', 3],
    ]);
    expect((await invoicesOf(other)).filter((i) => i.dateDue === '2028-02-10')).toHaveLength(1);
  });

  it('a page reads each item once: the company and the clients read for the page are not read again by the invoices', async () => {
    // A company of its own, so the page holds only these renewals.
    const own = await seedCompanyWith({ invoiceDaysBeforeRenewal: 0, invoiceServicesTogether: false });
    const pkg = await createPackage({ companyId: own.id, name: 'Hosting', pricing: [{ term: 1, period: 'month', price: 1000, currency: 'USD' }] });
    const sellTo = async (count: number, startDate: string) => {
      for (let i = 0; i < count; i++) {
        const client = await seedClient(own);
        await addService({ companyId: own.id, clientId: client.id, packageId: pkg.id, pricingId: pkg.pricing[0].id, quantity: 1, startDate });
      }
    };
    await sellTo(2, '2029-01-03');
    await sellTo(6, '2029-01-04');
    const measure = async (date: string) => {
      const calls = recordDynamoCalls();
      const keys = recordDynamoKeys();
      try {
        const page = await renewServicesSource.page(runOn(own, date), null, 50);
        return { page, itemsRead: calls.totals().itemsRead, keys: [...keys.calls] };
      } finally {
        calls.stop();
        keys.stop();
      }
    };
    const small = await measure('2029-02-03');
    const large = await measure('2029-02-04');
    expect([small.page.acted, large.page.acted]).toEqual([2, 6]);
    // Every item — the company, a client, the invoice counter — is read once at most.
    for (const m of [small, large]) expect(repeatedReads(m.keys)).toEqual([]);
    // The invoice counter is not read per invoice: each starts from the value the one before wrote (its number is
    // still taken in the invoice's transaction, conditioned on it). The second page reads it not at all.
    const counterReads = (m: typeof small) => m.keys.filter((c) => c.command === 'GetItemCommand' && c.keys.some((k) => k.includes('|COUNTER#'))).length;
    expect(counterReads(small)).toBeLessThanOrEqual(1);
    expect(counterReads(large)).toBe(0);
    // Each more renewal reads its index entry, its client and its service as it is now: 3 items.
    expect((large.itemsRead - small.itemsRead + counterReads(small)) / 4).toBe(3);
  });

  it('suspended services only where invoiceSuspendedServices; pending and canceled never; inactive clients skipped', async () => {
    const lenient = await seedGroup(company, { invoiceSuspendedServices: true });
    const strictClient = await seedClient(company);
    const lenientClient = await seedClient(company, { groupId: lenient });
    const sleeper = await seedClient(company, { status: 'inactive' });
    const strict = await sell(strictClient, '2027-01-05');
    const kept = await sell(lenientClient, '2027-01-05');
    await changeServiceStatus({ companyId: company.id, serviceId: strict.id, action: 'suspend' });
    await changeServiceStatus({ companyId: company.id, serviceId: kept.id, action: 'suspend' });
    const pending = await sell(strictClient, '2027-01-05', { status: 'pending' });
    const canceled = await sell(strictClient, '2027-01-05');
    await changeServiceStatus({ companyId: company.id, serviceId: canceled.id, action: 'cancel' });
    const asleep = await sell(sleeper, '2027-01-05');

    const run = await runAll(renewServicesSource, runOn(company, '2027-02-05'));
    const outcome = (id: string) => run.actions.filter((x) => x.objectId === id).map((x) => [x.outcome, x.message ?? '']);
    expect(outcome(strict.id)).toEqual([['skipped', 'service is suspended (invoiceSuspendedServices is off)']]);
    expect(outcome(kept.id)).toEqual([['done', '']]);
    expect(outcome(pending.id)).toEqual([]);
    expect(outcome(canceled.id)).toEqual([]);
    expect(outcome(asleep.id)).toEqual([['skipped', 'client is inactive']]);
    expect((await invoicesOf(strictClient)).map((i) => i.dateDue)).toEqual(['2027-01-05', '2027-01-05']);
    expect((await invoicesOf(sleeper)).map((i) => i.dateDue)).toEqual(['2027-01-05']);
  });

  it('invoiceDaysBeforeRenewal of the group invoices ahead of the renew date', async () => {
    const early = await seedGroup(company, { invoiceDaysBeforeRenewal: 10 });
    const client = await seedClient(company, { groupId: early });
    await sell(client, '2027-03-01');
    await runAll(renewServicesSource, runOn(company, '2027-03-21'));
    expect((await invoicesOf(client)).map((i) => i.dateDue)).toEqual(['2027-03-01']);
    await runAll(renewServicesSource, runOn(company, '2027-03-22'));
    const invoices = await invoicesOf(client);
    expect(invoices.map((i) => [i.dateBilled, i.dateDue])).toEqual([
      [expect.any(String), '2027-03-01'],
      ['2027-03-22', '2027-04-01'],
    ]);
  });

  it('a dry run plans lines and totals and writes nothing', async () => {
    const client = await seedClient(company);
    const service = await sell(client, '2027-01-12');
    const plan = await runAll(renewServicesSource, runOn(company, '2027-03-12', true));
    expect(mine(client, plan.actions)).toEqual([
      expect.objectContaining({
        objectId: service.id,
        outcome: 'planned',
        details: expect.objectContaining({ dateDue: '2027-02-12', total: 1500, subtotal: 1500 }),
      }),
      expect.objectContaining({ objectId: service.id, outcome: 'planned', details: expect.objectContaining({ dateDue: '2027-03-12', total: 1500 }) }),
    ]);
    expect(mine(client, plan.actions)[0].details.lines).toEqual([expect.objectContaining({ quantity: '3/2', unitAmount: 1000, amount: 1500 })]);
    expect(await invoicesOf(client)).toHaveLength(1);
    expect(await requireService(company.id, service.id)).toMatchObject({ periodsInvoiced: 1, version: 1 });
  });
});
