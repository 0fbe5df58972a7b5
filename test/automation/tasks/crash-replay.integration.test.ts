import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChargeRequest, PaymentGateway } from '../../../functions/adapters/gateway/port.js';
import type { Workflow } from '../../../functions/adapters/workflow/port.js';
import { readRun, readRunActions } from '../../../functions/automation/read-runs.js';
import { runTaskPage } from '../../../functions/automation/run-task-page.js';
import { startRun } from '../../../functions/automation/start-run.js';
import type { TaskName } from '../../../functions/automation/task.js';
import { autoDebitSource } from '../../../functions/automation/tasks/auto-debit.js';
import { suspendServicesSource } from '../../../functions/automation/tasks/suspensions.js';
import { addPaymentAccount } from '../../../functions/billing/payment-accounts/add-payment-account.js';
import { createInvoice } from '../../../functions/billing/invoices/create-invoice.js';
import { recordPayment } from '../../../functions/billing/payments/record-payment.js';
import { RECONCILE_GRACE_MS, reconcileStalePayments } from '../../../functions/billing/payments/reconcile-handler.js';
import type { Client } from '../../../functions/domain/client.js';
import type { Company } from '../../../functions/domain/company.js';
import type { Invoice } from '../../../functions/domain/invoice.js';
import { getServices, overrideServices } from '../../../functions/services.js';
import { requireClient } from '../../../functions/store/clients.js';
import { addService } from '../../../functions/packages/add-service.js';
import { createPackage } from '../../../functions/packages/create-package.js';
import { listInvoices, requireInvoice } from '../../../functions/store/invoices.js';
import { requireService } from '../../../functions/store/services.js';
import { listTransactions } from '../../../functions/store/transactions.js';
import { CARD_APPROVES, CARD_DECLINES, card } from '../../support/billing.js';
import { installKillSwitch, type DynamoCommand, type KillSwitch } from '../../support/kill-switch.js';
import { useFreshTables } from '../../support/tables.js';
import { balanceOf } from '../../billing/invoices/fixtures.js';
import { captureMail, mailOf, openInvoice, runOn, seedClient, seedCompanyWith } from './fixtures.js';

/**
 * Crash and replay of the daily run's task pages (issue 14): a page is killed after k of its objects were acted on —
 * before the next object's effect reaches DynamoDB, or with an effect's answer lost, or right after a gateway charge
 * — and Step Functions runs the same page input again (then once more after it succeeded). Nothing may happen twice:
 * no second charge, no second mail, no second void, no credit applied twice; the page is recorded once, and the run's
 * counts and action rows are exact: the killed attempt's effects are counted as this run's work.
 */

let kill: KillSwitch;
let mail: ReturnType<typeof captureMail>;
let realGateway: PaymentGateway;
/** Every charge request the gateway got, by idempotency key (a replayed key is not a second charge). */
const charges: ChargeRequest[] = [];
/** Kill the process right after the gateway answered this many charges (undefined: never). */
let killAfterCharges: number | undefined;

const workflow: Workflow = { start: async () => 'started' };

beforeAll(async () => {
  await useFreshTables();
  kill = installKillSwitch();
  mail = captureMail();
  realGateway = getServices().gateway;
  overrideServices({
    workflow,
    gateway: {
      ...realGateway,
      tokenize: (d) => realGateway.tokenize(d),
      refund: (r) => realGateway.refund(r),
      charge: async (request) => {
        if (kill.killed) throw new Error('The worker was killed.');
        const result = await realGateway.charge(request);
        charges.push(request);
        if (killAfterCharges !== undefined && --killAfterCharges === 0) {
          killAfterCharges = undefined;
          kill.killNow();
        }
        return result;
      },
    },
  });
});
afterAll(() => {
  kill.remove();
  mail.restore();
  overrideServices({ gateway: realGateway });
});

const N = 3;
const DATE = '2027-03-20';

/** A task's scenario: N objects due on DATE, and what must hold once each was acted on exactly once. */
interface Scenario {
  company: Company;
  clients: Client[];
  invoices: Invoice[];
}

const isOnceEffect = (c: DynamoCommand) => c.command === 'TransactWriteItemsCommand' && c.text.includes('"entity":"once"');
const isTransaction = (c: DynamoCommand) => c.command === 'TransactWriteItemsCommand';

async function seedInvoices(settings: Parameters<typeof seedCompanyWith>[0], dateDue: string): Promise<Scenario> {
  const company = await seedCompanyWith(settings);
  const clients: Client[] = [];
  const invoices: Invoice[] = [];
  for (let i = 0; i < N; i++) {
    const client = await seedClient(company, { email: `c${i}-${Math.random().toString(36).slice(2)}@example.com` });
    clients.push(client);
    invoices.push(await openInvoice(company, client, 1000 * (i + 1), dateDue));
  }
  return { company, clients, invoices };
}

/**
 * Runs the task's first page for a fresh run, killed where `crash` says; then the same page input again in a fresh
 * process (Step Functions' retry), and once more after it succeeded. Returns the run's record of the task.
 */
async function crashAndReplay(scenario: Scenario, task: TaskName, crash: () => void) {
  const started = await startRun({ companyId: scenario.company.id, date: DATE, tasks: [task], trigger: 'api' });
  if (started.outcome !== 'started') throw new Error('not started');
  const before = kill.kills;
  crash();
  // The task's pages as the state machine loops them (renewals: the services, then the recurring invoices).
  let cursor: string | null = null;
  do {
    const input = { companyId: scenario.company.id, runId: started.run.id, date: DATE, dryRun: false, task, cursor };
    let page: Awaited<ReturnType<typeof runTaskPage>>;
    try {
      page = await runTaskPage(input);
    } catch (error) {
      if (!kill.killed) throw error;
      // Step Functions' retry: the same input, in a fresh process.
      kill.revive();
      page = await runTaskPage(input);
    }
    // Redelivered after it succeeded: the same answer, nothing done or counted again.
    expect(await runTaskPage(input)).toEqual(page);
    cursor = page.cursor;
  } while (cursor !== null);
  expect(kill.kills - before, 'the page was never killed').toBe(1);
  const run = (await readRun(scenario.company.id, started.run.id)).run;
  const actions = (await readRunActions(scenario.company.id, started.run.id, 100)).items;
  return { counts: run.tasks.find((t) => t.name === task), actions };
}

const crashPoints = (effect: (c: DynamoCommand) => boolean) =>
  [1, 2].flatMap((k) => [
    { name: `before the effect of object ${k + 1}`, k, arm: () => kill.arm(effect, { nth: k + 1, point: 'before' }) },
    { name: `with object ${k}’s effect written, its answer lost`, k, arm: () => kill.arm(effect, { nth: k, point: 'after' }) },
  ]);

/** Actions the replay reports as the killed attempt's work (counted as this run's, as if the page never died). */
const EARLIER = 'done by an earlier attempt of this page';

/**
 * What each crashed page left the run: exact counts, as if it had never died. Every object examined and acted on
 * once (the replay reads the first attempt's index entries back and counts the effects the killed attempt made as
 * this run's: k of them), one action row each.
 */
function expectExactCounts(result: Awaited<ReturnType<typeof crashAndReplay>>, k: number, examined = N) {
  const ids = result.actions.map((a) => a.objectId);
  expect(new Set(ids).size, 'an object recorded twice').toBe(ids.length);
  expect(result.counts).toMatchObject({ status: 'succeeded', examined, acted: N, failed: 0 });
  expect(result.actions.map((a) => a.outcome)).toEqual(Array(N).fill('done'));
  expect(result.actions.filter((a) => a.message === EARLIER)).toHaveLength(k);
}

describe('voids: a page killed after k voids, run again', () => {
  for (const point of crashPoints(isOnceEffect)) {
    it(`killed ${point.name}: each invoice voided once`, async () => {
      const scenario = await seedInvoices({ voidInvoicesDaysAfterDue: 10 }, '2027-03-01');
      const result = await crashAndReplay(scenario, 'voids', point.arm);
      for (const invoice of scenario.invoices) expect((await requireInvoice(scenario.company.id, invoice.id)).status).toBe('void');
      expectExactCounts(result, point.k);
    });
  }
});

describe('renewals: a page killed after k renewal invoices, run again', () => {
  for (const point of crashPoints(isOnceEffect)) {
    it(`killed ${point.name}: one renewal invoice per service`, async () => {
      const company = await seedCompanyWith({ invoiceDaysBeforeRenewal: 0, invoiceServicesTogether: false });
      const pkg = await createPackage({ companyId: company.id, name: 'Hosting', pricing: [{ term: 1, period: 'month', price: 1000, currency: 'USD' }] });
      const clients: Client[] = [];
      for (let i = 0; i < N; i++) {
        const client = await seedClient(company);
        clients.push(client);
        await addService({ companyId: company.id, clientId: client.id, packageId: pkg.id, pricingId: pkg.pricing[0].id, startDate: '2027-02-20' });
      }
      const result = await crashAndReplay({ company, clients, invoices: [] }, 'renewals', point.arm);
      for (const client of clients) {
        const renewals = (await listInvoices(company.id, { clientId: client.id, limit: 100 })).items.filter((i) => i.dateDue === DATE);
        expect(renewals.map((i) => i.total)).toEqual([1000]);
      }
      expectExactCounts(result, point.k);
    });
  }
});

describe('renewals of recurring invoices: a page killed after k invoices, run again', () => {
  for (const point of crashPoints(isOnceEffect)) {
    it(`killed ${point.name}: one invoice per series and billing date`, async () => {
      const company = await seedCompanyWith({ invoiceDaysBeforeRenewal: 0 });
      const clients: Client[] = [];
      for (let i = 0; i < N; i++) {
        const client = await seedClient(company);
        clients.push(client);
        const { recurring } = await createInvoice({
          companyId: company.id,
          clientId: client.id,
          dateBilled: '2027-02-20',
          dateDue: '2027-03-02',
          lines: [{ description: 'Retainer', quantity: 1, unitAmount: 1000 * (i + 1), taxable: false }],
          recurring: { term: 1, period: 'month' },
        });
        if (!recurring) throw new Error('no series');
      }
      const result = await crashAndReplay({ company, clients, invoices: [] }, 'renewals', point.arm);
      for (const [i, client] of clients.entries()) {
        const renewed = (await listInvoices(company.id, { clientId: client.id, limit: 100 })).items.filter((x) => x.dateBilled === DATE);
        expect(renewed.map((x) => x.total)).toEqual([1000 * (i + 1)]);
      }
      expectExactCounts(result, point.k);
    });
  }
});

describe('suspensions: a page killed after k suspensions, run again', () => {
  for (const point of crashPoints(isOnceEffect)) {
    it(`killed ${point.name}: each service suspended once`, async () => {
      const company = await seedCompanyWith({ suspendServicesDaysAfterDue: 3, invoiceDaysBeforeRenewal: 0, invoiceServicesTogether: false });
      const pkg = await createPackage({ companyId: company.id, name: 'VPS', pricing: [{ term: 1, period: 'month', price: 2000, currency: 'USD' }] });
      const clients: Client[] = [];
      const serviceIds: string[] = [];
      for (let i = 0; i < N; i++) {
        const client = await seedClient(company);
        clients.push(client);
        const { service } = await addService({
          companyId: company.id,
          clientId: client.id,
          packageId: pkg.id,
          pricingId: pkg.pricing[0].id,
          startDate: '2027-03-17',
        });
        serviceIds.push(service.id);
      }
      const result = await crashAndReplay({ company, clients, invoices: [] }, 'suspensions', point.arm);
      for (const id of serviceIds) {
        const service = await requireService(company.id, id);
        expect([service.status, service.suspendedBy, service.version]).toEqual(['suspended', 'automation', 2]);
      }
      // Examined as without a crash: the N invoices, then (the unsuspend source) the N services now suspended.
      expectExactCounts(result, point.k, 2 * N);
    });
  }
});

describe('unsuspensions: a page killed after k unsuspensions, run again', () => {
  for (const point of crashPoints(isOnceEffect)) {
    it(`killed ${point.name}: each service made active again once`, async () => {
      const company = await seedCompanyWith({ suspendServicesDaysAfterDue: 3, invoiceDaysBeforeRenewal: 0, invoiceServicesTogether: false });
      const pkg = await createPackage({ companyId: company.id, name: 'VPS', pricing: [{ term: 1, period: 'month', price: 2000, currency: 'USD' }] });
      const clients: Client[] = [];
      const serviceIds: string[] = [];
      for (let i = 0; i < N; i++) {
        const client = await seedClient(company);
        clients.push(client);
        const { service } = await addService({
          companyId: company.id,
          clientId: client.id,
          packageId: pkg.id,
          pricingId: pkg.pricing[0].id,
          startDate: '2027-03-17',
        });
        serviceIds.push(service.id);
      }
      // Suspended by an earlier run (its own), then paid: the crashed run lifts the suspensions.
      await suspendServicesSource.page({ companyId: company.id, runId: 'run_earlier', date: DATE, dryRun: false }, null, 50);
      for (const client of clients)
        for (const invoice of (await listInvoices(company.id, { clientId: client.id, limit: 100 })).items.filter((i) => i.status === 'open'))
          await recordPayment({
            companyId: company.id,
            principal: null,
            clientId: client.id,
            type: 'cash',
            amount: invoice.due,
            currency: invoice.currency,
            apply: [{ invoiceId: invoice.id, amount: invoice.due }],
          });
      const suspended = await Promise.all(serviceIds.map((id) => requireService(company.id, id)));
      expect(suspended.map((s) => s.status)).toEqual(Array(N).fill('suspended'));
      const result = await crashAndReplay({ company, clients, invoices: [] }, 'suspensions', point.arm);
      // Each changed once: one version on.
      for (const before of suspended) {
        const service = await requireService(company.id, before.id);
        expect([service.status, service.version]).toEqual(['active', before.version + 1]);
      }
      expect(result.actions.map((a) => a.action)).toEqual(Array(N).fill('unsuspended'));
      expectExactCounts(result, point.k);
    });
  }
});

describe('notices: a page killed after k notices, run again', () => {
  const NOTICES = { enabled: true, autoDebitPendingNoticeDays: -3, firstNoticeDays: 1, secondNoticeDays: 7, thirdNoticeDays: 14 } as const;
  for (const point of crashPoints(isOnceEffect)) {
    it(`killed ${point.name}: one late notice per invoice, at most once`, async () => {
      const scenario = await seedInvoices({ paymentDueNotices: NOTICES }, '2027-03-13');
      const sentBefore = mail.sent.length;
      const result = await crashAndReplay(scenario, 'notices', point.arm);
      const logged = await Promise.all(scenario.clients.map((c) => mailOf(scenario.company, c.id)));
      // Each invoice's notice is logged once; one whose entry was written as the worker died stays queued, unsent
      // (automatic notices are at most once), every other is handed to the provider once.
      for (const entries of logged) expect(entries.map((e) => e.template)).toEqual(['late_notice_second']);
      const handed = mail.sent.slice(sentBefore);
      const unsent = logged.flat().filter((e) => e.status === 'queued').length;
      expect(handed).toHaveLength(N - unsent);
      expect(new Set(handed.map((m) => m.tags?.mailId)).size).toBe(handed.length);
      expect(unsent).toBe(point.name.includes('answer lost') ? 1 : 0);
      expectExactCounts(result, point.k);
    });
  }
});

describe('applyCredits: a page killed after k applications, run again', () => {
  for (const point of crashPoints(isTransaction)) {
    it(`killed ${point.name}: each credit applied once`, async () => {
      const scenario = await seedInvoices({ autoApplyLooseCredits: true, invoiceDaysBeforeRenewal: 14, autoDebitDaysBeforeDue: 0 }, '2027-03-25');
      for (const client of scenario.clients)
        await recordPayment({ companyId: scenario.company.id, principal: null, clientId: client.id, type: 'cash', amount: 600, currency: 'USD' });
      const result = await crashAndReplay(scenario, 'applyCredits', point.arm);
      for (const [i, invoice] of scenario.invoices.entries()) {
        expect((await requireInvoice(scenario.company.id, invoice.id)).due).toBe(1000 * (i + 1) - 600);
        expect((await balanceOf(scenario.company.id, scenario.clients[i].id, 'USD')).credit).toBe(0);
      }
      // Applied credit is gone: the page's marker, committed with each application, tells the replay what its killed
      // attempt applied.
      expectExactCounts(result, point.k);
    });
  }
});

describe('autoDebit: a page killed after k charges, run again', () => {
  const points = [
    ...[1, 2].map((k) => ({ name: `right after charge ${k} (the gateway took it, the ledger does not know)`, k, arm: () => (killAfterCharges = k) })),
    ...crashPoints(isTransaction).slice(0, 2),
  ];
  for (const point of points) {
    it(`killed ${point.name}: one charge per client, each invoice paid once`, async () => {
      const scenario = await seedInvoices(
        { enableAutoDebit: true, autoDebitDaysBeforeDue: 3, autoDebitAttempts: 3, autoApplyLooseCredits: false },
        '2027-03-21',
      );
      for (const [i, client] of scenario.clients.entries()) {
        await addPaymentAccount({
          companyId: scenario.company.id,
          principal: null,
          clientId: client.id,
          details: { type: 'card', card: card(CARD_APPROVES) },
          autoDebit: true,
        });
        scenario.clients[i] = await requireClient(scenario.company.id, client.id);
      }
      const chargesBefore = charges.length;
      const result = await crashAndReplay(scenario, 'autoDebit', point.arm);
      // The attempt the killed page left pending is not charged again by the replay: it is this run's charge whose
      // outcome the run does not know (failed, as when the gateway's answer is lost), and the reconciliation
      // schedule settles it, replaying its gateway request under the same key.
      const pending = result.actions.filter((a) => a.outcome === 'failed' && a.details.status === 'pending');
      expect(pending.map((a) => [a.action, a.message])).toEqual([['charge_failed', 'the outcome is not known yet; left to reconciliation']]);
      // Exact counts: every client examined and charged once; the charges the killed attempt settled are this run's.
      expect(result.counts).toMatchObject({ status: 'succeeded', examined: N, acted: N - 1, failed: 1 });
      expect(result.actions.filter((a) => a.outcome === 'done')).toHaveLength(N - 1);
      expect(result.actions.filter((a) => a.message === EARLIER)).toHaveLength(point.k - 1);
      await reconcileStalePayments(new Date(Date.now() + RECONCILE_GRACE_MS + 60_000));
      const requested = charges.slice(chargesBefore);
      // A replayed request carries the first one's idempotency key: the gateway charged once per client.
      expect(new Set(requested.map((c) => c.idempotencyKey)).size).toBe(N);
      for (const [i, client] of scenario.clients.entries()) {
        expect((await requireInvoice(scenario.company.id, scenario.invoices[i].id)).status).toBe('paid');
        const txns = (await listTransactions(scenario.company.id, client.id, 100)).items.filter((t) => t.paymentAccountId !== null);
        expect(txns.filter((t) => t.status === 'succeeded').map((t) => t.amount)).toEqual([1000 * (i + 1)]);
        expect((await balanceOf(scenario.company.id, client.id, 'USD')).credit).toBe(0);
      }
      const ids = result.actions.map((a) => a.objectId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(N);
    });
  }
});

describe('a replayed page counts only its own killed attempt’s work', () => {
  it('autoDebit: the charge an earlier page of the same run made stays "already done" when a later page is run again', async () => {
    const company = await seedCompanyWith({ enableAutoDebit: true, autoDebitDaysBeforeDue: 3, autoDebitAttempts: 3, autoApplyLooseCredits: false });
    const client = await seedClient(company);
    // Two invoices on two pages of one entry each; the first page's one charge (for both) is declined, so both stay
    // open and the second page meets the client again.
    await openInvoice(company, client, 1000, '2027-03-21');
    await openInvoice(company, client, 2000, '2027-03-22');
    await addPaymentAccount({
      companyId: company.id,
      principal: null,
      clientId: client.id,
      details: { type: 'card', card: card(CARD_DECLINES) },
      autoDebit: true,
    });
    const ctx = runOn(company, DATE);
    const first = await autoDebitSource.page(ctx, null, 1);
    expect(first.actions.map((a) => [a.action, a.outcome])).toEqual([['charge_declined', 'done']]);
    const second = await autoDebitSource.page(ctx, first.nextKey, 1);
    // Run again (Step Functions' retry): its entries are read back, and the attempt is still the first page's.
    const again = await autoDebitSource.page(ctx, first.nextKey, 1);
    for (const page of [second, again]) {
      expect(page.actions.map((a) => [a.action, a.outcome, a.message])).toEqual([['charged', 'skipped', 'already done']]);
      expect([page.examined, page.acted, page.failed]).toEqual([1, 0, 0]);
    }
  });
});
