import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchRuns } from '../../functions/automation/dispatcher.js';
import { addDays, todayIn } from '../../functions/domain/dates.js';
import { CARD_APPROVES, CARD_DECLINES, CARD_FAILS, card, expectStatus, listAll, startBillingApi, type BillingApi } from '../support/billing.js';
import { useTestClock, type TestClock } from '../support/clock.js';
import type { TestApi } from '../support/stack.js';

/**
 * Sixty days of billing on the local stack, driven the way AWS drives it: the clock moves on twice a day, the
 * hourly dispatcher starts each company's run for its local date (one execution of the synthesised state machine
 * per company and date), and at the end every invoice, charge, automatic email, suspension and void is compared with
 * the list worked out by hand from the contract (API.md, "Automation"). Two companies in different time zones; a
 * week with no run at all (caught up after); the same date run again, before and after later dates; a run started
 * by staff at the same moment as the scheduled one.
 *
 * New York company, settings: renew 5 days ahead, auto-debit on the due date, 2 attempts, late notices +1/+7/+14,
 * auto-debit pending -3, suspend 10 days after due, never void (group "Strict": void 20 days after due).
 * A monthly $10.00 service from 2027-01-01 for each client:
 * - A (card that approves): every invoice charged on its due date; renewals on Jan 27 and Feb 24.
 * - B (card that declines): declined on Jan 1 and 2, then auto-debit is disabled (note and mail); late notices;
 *   suspended on Jan 11; never unsuspended, never renewed while suspended.
 * - C (card with transient failures): a failed attempt every run, never counted, auto-debit never disabled.
 * - D (no card, group Strict): late notices, suspended Jan 11, invoice voided Jan 21, unsuspended Jan 22, renewed Jan
 *   27; then the skipped week: on Feb 15 only the third notice goes (the second's day passed unsent) and the service is
 *   suspended; voided Feb 21, unsuspended Feb 22, renewed Feb 24.
 * - E (paid, suspended by staff): nothing, ever (a staff suspension is not lifted; suspended services not renewed).
 * - F (inactive, approving card, open invoice): nothing, ever.
 * - G (loose credit, weekly recurring invoice of 3): each invoice created 5 days before its billing date and paid
 *   from the credit in the same run.
 * Tokyo company: T (card that approves) on default settings (renew 14 days ahead, pending notice -3).
 */
const NY = 'America/New_York';
const TOKYO = 'Asia/Tokyo';
const FIRST_DAY = '2027-01-01';
const LAST_DAY = '2027-03-01';
/** No dispatcher call on these New York dates (both calls of the day): a week with no automation at all. */
const SKIPPED = { from: '2027-02-08', to: '2027-02-14' };
const AUTOMATION_TEMPLATES = new Set([
  'late_notice_first',
  'late_notice_second',
  'late_notice_third',
  'auto_debit_pending',
  'auto_debit_disabled',
  'payment_receipt',
  'payment_declined',
]);

let stack: BillingApi;
let api: TestApi;
let clock: TestClock;

interface Company {
  id: string;
  token: string;
  timeZone: string;
}

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
});
afterAll(async () => {
  clock?.restore();
  await stack?.stop();
});

async function as<T = any>(company: Company, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
  return api.call<T>(method, path, { token: company.token, body });
}

async function ok<T = any>(company: Company, method: string, path: string, body: unknown, status: number): Promise<T> {
  const res = await api.call<T>(method, path, { token: company.token, body });
  expectStatus(res as never, status);
  return res.body;
}

async function newCompany(name: string, timeZone: string): Promise<Company> {
  const username = `staff${Math.random().toString(36).slice(2, 8)}`;
  const password = 'correct horse battery';
  const created = await api.call('POST', '/v1/companies', {
    token: api.facts.operatorToken,
    body: { name, defaultCurrency: 'USD', timeZone, staff: { username, email: `${username}@example.com`, password } },
  });
  expectStatus(created, 201);
  const login = await api.call('POST', '/v1/auth/token', { body: { companyId: created.body.id, username, password } });
  expectStatus(login, 200);
  return { id: created.body.id, token: login.body.token, timeZone };
}

/** Moves the clock to `iso`, lets the dispatcher start whatever runs are due, and waits for them to end. */
async function dispatchAt(iso: string): Promise<void> {
  clock.restore();
  clock = useTestClock(iso);
  await dispatchRuns();
  await settled();
}

let companies: Company[] = [];

/** Waits until no run of the calendar's companies is queued or running (executions run in this process). */
async function settled(): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const pending = await Promise.all(
      companies.map(async (company) => {
        const res = await as(company, 'GET', '/v1/automation/runs?limit=3');
        return (res.body.data as Array<{ finishedAt: string | null }>).some((r) => !r.finishedAt);
      }),
    );
    if (!pending.some(Boolean)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('automation runs did not finish');
}

async function runsOf(company: Company): Promise<any[]> {
  return listAll(api, '/v1/automation/runs', company.token);
}

/** `<date> <task> <action>` for every action a company's finished runs did (outcome done), oldest run first. */
async function doneActions(company: Company): Promise<Map<string, string[]>> {
  const byObject = new Map<string, string[]>();
  const runs = (await runsOf(company)).reverse();
  for (const run of runs) {
    const actions = await listAll(api, `/v1/automation/runs/${run.id}/actions`, company.token);
    for (const a of actions) {
      if (a.outcome !== 'done') continue;
      const list = byObject.get(a.objectId) ?? [];
      list.push(`${run.date} ${a.action}`);
      byObject.set(a.objectId, list);
    }
  }
  return byObject;
}

interface ClientFacts {
  id: string;
  serviceId: string;
}

const monthly = { term: 1, period: 'month', price: 1000, currency: 'USD' };

async function clientWithService(company: Company, pkgId: string, pricingId: string, body: Record<string, unknown>, cardNumber?: string): Promise<ClientFacts> {
  const client = await ok(company, 'POST', '/v1/clients', { email: `${Math.random().toString(36).slice(2, 10)}@example.com`, ...body }, 201);
  if (cardNumber) await ok(company, 'POST', `/v1/clients/${client.id}/payment-accounts`, { type: 'card', card: card(cardNumber), autoDebit: true }, 201);
  const service = await ok(company, 'POST', `/v1/clients/${client.id}/services`, { packageId: pkgId, pricingId, startDate: FIRST_DAY }, 201);
  return { id: client.id, serviceId: service.id };
}

const invoicesOf = (company: Company, clientId: string) => listAll(api, `/v1/invoices?clientId=${clientId}`, company.token);
const transactionsOf = (company: Company, clientId: string) => listAll(api, `/v1/clients/${clientId}/transactions`, company.token);

/** The client's invoices as `<dateBilled> → <dateDue> <total> <status>`, by due date. */
async function invoiceLines(company: Company, clientId: string): Promise<string[]> {
  const invoices = await invoicesOf(company, clientId);
  return invoices
    .map((i) => `${i.dateBilled} → ${i.dateDue} ${i.total} ${i.status}`)
    .sort((a, b) => a.split(' → ')[1].localeCompare(b.split(' → ')[1]) || a.localeCompare(b));
}

/** Charges as `<date> <status> <amount>`, oldest first (offline payments left out). */
async function chargeLines(company: Company, clientId: string): Promise<string[]> {
  const txns = await transactionsOf(company, clientId);
  return txns
    .filter((t) => t.kind === 'charge')
    .map((t) => `${t.date} ${t.status} ${t.amount}`)
    .sort();
}

/** The automatic emails of a client as `<local date> <template>`, oldest first. */
async function mailLines(company: Company, clientId: string): Promise<string[]> {
  const mails = await listAll(api, `/v1/clients/${clientId}/emails`, company.token);
  return mails
    .filter((m) => AUTOMATION_TEMPLATES.has(m.template))
    .map((m) => `${todayIn(company.timeZone, new Date(m.createdAt))} ${m.template}`)
    .sort();
}

function datesFrom(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) dates.push(d);
  return dates;
}

const inSkippedWeek = (nyDate: string) => nyDate >= SKIPPED.from && nyDate <= SKIPPED.to;

// One story told in steps (set up, run the calendar, check each client): the steps keep their order under --sequence.shuffle.
describe('sixty days of automation', { shuffle: false }, () => {
  let ny: Company;
  let tokyo: Company;
  const c: Record<string, ClientFacts> = {};
  let g: { id: string };

  it('sets up two companies, their clients and services', async () => {
    // Tokyo's 1 January begins at 15:00 UTC on 31 December; New York's at 05:00 UTC on 1 January.
    clock = useTestClock('2026-12-31T15:10:00Z');
    tokyo = await newCompany('Tokyo Co', TOKYO);
    const tokyoPkg = await ok(tokyo, 'POST', '/v1/packages', { name: 'Hosting', pricing: [monthly] }, 201);
    companies = [tokyo];
    c.T = await clientWithService(tokyo, tokyoPkg.id, tokyoPkg.pricing[0].id, { firstName: 'Taro', lastName: 'T' }, CARD_APPROVES);

    clock.restore();
    clock = useTestClock('2027-01-01T05:10:00Z');
    ny = await newCompany('New York Co', NY);
    companies = [tokyo, ny];
    await ok(
      ny,
      'PATCH',
      '/v1/settings',
      {
        invoiceDaysBeforeRenewal: 5,
        autoDebitDaysBeforeDue: 0,
        autoDebitAttempts: 2,
        enableAutoDebit: true,
        autoApplyLooseCredits: true,
        invoiceServicesTogether: true,
        invoiceSuspendedServices: false,
        suspendServicesDaysAfterDue: 10,
        voidInvoicesDaysAfterDue: 'never',
        paymentDueNotices: { enabled: true, firstNoticeDays: 1, secondNoticeDays: 7, thirdNoticeDays: 14, autoDebitPendingNoticeDays: -3 },
      },
      200,
    );
    const strict = await ok(ny, 'POST', '/v1/client-groups', { name: 'Strict', settings: { voidInvoicesDaysAfterDue: 20 } }, 201);
    const pkg = await ok(ny, 'POST', '/v1/packages', { name: 'Hosting', pricing: [monthly] }, 201);
    const pricing = pkg.pricing[0].id;
    c.A = await clientWithService(ny, pkg.id, pricing, { firstName: 'Ann', lastName: 'A' }, CARD_APPROVES);
    c.B = await clientWithService(ny, pkg.id, pricing, { firstName: 'Bob', lastName: 'B' }, CARD_DECLINES);
    c.C = await clientWithService(ny, pkg.id, pricing, { firstName: 'Cy', lastName: 'C' }, CARD_FAILS);
    c.D = await clientWithService(ny, pkg.id, pricing, { firstName: 'Di', lastName: 'D', groupId: strict.id });
    c.E = await clientWithService(ny, pkg.id, pricing, { firstName: 'Ed', lastName: 'E' });
    const [e1] = await invoicesOf(ny, c.E.id);
    await ok(
      ny,
      'POST',
      `/v1/clients/${c.E.id}/payments/record`,
      { type: 'check', currency: 'USD', amount: 1000, apply: [{ invoiceId: e1.id, amount: 1000 }] },
      201,
    );
    await ok(ny, 'POST', `/v1/services/${c.E.serviceId}/suspend`, {}, 200);
    c.F = await clientWithService(ny, pkg.id, pricing, { firstName: 'Flo', lastName: 'F' }, CARD_APPROVES);
    await ok(ny, 'POST', `/v1/clients/${c.F.id}/status`, { status: 'inactive' }, 200);

    g = await ok(ny, 'POST', '/v1/clients', { company: 'Gee Ltd', email: 'gee@example.com' }, 201);
    await ok(ny, 'POST', `/v1/clients/${g.id}/payments/record`, { type: 'wire', currency: 'USD', amount: 10_000 }, 201);
    await ok(
      ny,
      'POST',
      `/v1/clients/${g.id}/invoices`,
      {
        dateBilled: '2027-01-04',
        dateDue: '2027-01-11',
        lines: [{ description: 'Weekly support', quantity: 1, unitAmount: 1500, taxable: false }],
        recurring: { term: 1, period: 'week', occurrences: 3 },
      },
      201,
    );
  });

  it('runs every local date twice a day through the dispatcher, skipping one week', async () => {
    for (const day of datesFrom(FIRST_DAY, LAST_DAY)) {
      if (inSkippedWeek(day)) continue;
      // 00:30 in New York (14:30 in Tokyo), then 12:30 in New York (02:30 the next day in Tokyo).
      if (day === '2027-01-20') {
        // Staff start a run at the very moment the schedule does: one of them runs, the other is refused or finds
        // the date started.
        clock.restore();
        clock = useTestClock(`${day}T05:30:00Z`);
        const [, byStaff] = await Promise.all([dispatchRuns(), as(ny, 'POST', '/v1/automation/runs', { date: day })]);
        expect([202, 409]).toContain(byStaff.status);
        await settled();
      } else {
        await dispatchAt(`${day}T05:30:00Z`);
      }
      await dispatchAt(`${day}T17:30:00Z`);
    }
  }, 600_000);

  it('ran each company once for each of its local dates, none failed', async () => {
    const nyRuns = (await runsOf(ny)).filter((r) => r.trigger === 'schedule');
    const expectedNy = datesFrom(FIRST_DAY, LAST_DAY).filter((d) => !inSkippedWeek(d));
    // On 20 January a staff run and the schedule met: whichever lost, the schedule still ran that date (at 05:30 or,
    // if the staff run held the company's lock then, at 17:30).
    expect(nyRuns.map((r) => r.date).sort()).toEqual(expectedNy);
    // Tokyo's dates are New York's + 1 at 17:30 UTC: its 9th to 14th February fell in the skipped week.
    const tokyoRuns = await runsOf(tokyo);
    const expectedTokyo = datesFrom(FIRST_DAY, addDays(LAST_DAY, 1)).filter((d) => !(d >= '2027-02-09' && d <= '2027-02-14'));
    expect(tokyoRuns.map((r) => r.date).sort()).toEqual(expectedTokyo);
    // The only failures are C's transient gateway errors: one failed charge in each New York run.
    for (const run of [...nyRuns, ...tokyoRuns]) {
      expect(run.status, `${run.date}: ${JSON.stringify(run.tasks)}`).toBe('succeeded');
      const failedCharges = nyRuns.includes(run) ? 1 : 0;
      for (const task of run.tasks) expect(task.failed, `${run.date} ${task.name}`).toBe(task.name === 'autoDebit' ? failedCharges : 0);
    }
  });

  it('A: every invoice charged on its due date, renewals 5 days ahead, renewDate advanced by each payment', async () => {
    expect(await invoiceLines(ny, c.A.id)).toEqual([
      '2027-01-01 → 2027-01-01 1000 paid',
      '2027-01-27 → 2027-02-01 1000 paid',
      '2027-02-24 → 2027-03-01 1000 paid',
    ]);
    expect(await chargeLines(ny, c.A.id)).toEqual(['2027-01-01 succeeded 1000', '2027-02-01 succeeded 1000', '2027-03-01 succeeded 1000']);
    expect(await mailLines(ny, c.A.id)).toEqual([
      '2027-01-01 payment_receipt',
      '2027-01-29 auto_debit_pending',
      '2027-02-01 payment_receipt',
      '2027-02-26 auto_debit_pending',
      '2027-03-01 payment_receipt',
    ]);
    expect((await doneActions(ny)).get(c.A.serviceId)).toEqual(['2027-01-27 invoice_created', '2027-02-24 invoice_created']);
    const service = await ok(ny, 'GET', `/v1/services/${c.A.serviceId}`, undefined, 200);
    expect(service).toMatchObject({ status: 'active', renewDate: '2027-04-01', suspendedBy: null });
  });

  it('B: two declines disable auto-debit (note and mail), late notices, suspended on day 10 and never renewed', async () => {
    expect(await invoiceLines(ny, c.B.id)).toEqual(['2027-01-01 → 2027-01-01 1000 open']);
    expect(await chargeLines(ny, c.B.id)).toEqual(['2027-01-01 declined 1000', '2027-01-02 declined 1000']);
    expect(await mailLines(ny, c.B.id)).toEqual([
      '2027-01-01 auto_debit_pending',
      '2027-01-01 payment_declined',
      '2027-01-02 auto_debit_disabled',
      '2027-01-02 late_notice_first',
      '2027-01-02 payment_declined',
      '2027-01-08 late_notice_second',
      '2027-01-15 late_notice_third',
    ]);
    const profile = await ok(ny, 'GET', `/v1/clients/${c.B.id}`, undefined, 200);
    expect(profile.autoDebitAccountId).toBeNull();
    const [account] = await listAll(api, `/v1/clients/${c.B.id}/payment-accounts`, ny.token);
    expect(account).toMatchObject({ status: 'active', autoDebit: false });
    const notes = await listAll(api, `/v1/clients/${c.B.id}/notes`, ny.token);
    expect(notes).toHaveLength(1);
    const service = await ok(ny, 'GET', `/v1/services/${c.B.serviceId}`, undefined, 200);
    expect(service).toMatchObject({ status: 'suspended', suspendedBy: 'automation', renewDate: '2027-02-01' });
    expect((await doneActions(ny)).get(c.B.serviceId)).toEqual(['2027-01-11 suspended']);
  });

  it('C: a transient gateway failure every run, never counted, never disabled', async () => {
    // Each run of a date tries again what failed: if the staff run of 20 January ran as well as the schedule's,
    // that date has two attempts.
    const staffRan = (await runsOf(ny)).some((r) => r.trigger === 'api' && r.date === '2027-01-20');
    const runDates = datesFrom(FIRST_DAY, LAST_DAY).filter((d) => !inSkippedWeek(d));
    const attempts = runDates.flatMap((d) => (d === '2027-01-20' && staffRan ? [d, d] : [d]));
    expect(await chargeLines(ny, c.C.id)).toEqual(attempts.map((d) => `${d} failed 1000`));
    const profile = await ok(ny, 'GET', `/v1/clients/${c.C.id}`, undefined, 200);
    expect(profile.autoDebitAccountId).not.toBeNull();
    expect(await mailLines(ny, c.C.id)).toEqual([
      '2027-01-01 auto_debit_pending',
      '2027-01-02 late_notice_first',
      '2027-01-08 late_notice_second',
      '2027-01-15 late_notice_third',
    ]);
    expect((await doneActions(ny)).get(c.C.serviceId)).toEqual(['2027-01-11 suspended']);
  });

  it('D: notices, suspension, void, unsuspension and renewal; after the skipped week only the latest notice', async () => {
    expect(await invoiceLines(ny, c.D.id)).toEqual([
      '2027-01-01 → 2027-01-01 1000 void',
      '2027-01-27 → 2027-02-01 1000 void',
      '2027-02-24 → 2027-03-01 1000 open',
    ]);
    expect(await chargeLines(ny, c.D.id)).toEqual([]);
    expect(await mailLines(ny, c.D.id)).toEqual([
      '2027-01-02 late_notice_first',
      '2027-01-08 late_notice_second',
      '2027-01-15 late_notice_third',
      '2027-02-02 late_notice_first',
      '2027-02-15 late_notice_third',
    ]);
    const actions = await doneActions(ny);
    expect(actions.get(c.D.serviceId)).toEqual([
      '2027-01-11 suspended',
      '2027-01-22 unsuspended',
      '2027-01-27 invoice_created',
      '2027-02-15 suspended',
      '2027-02-22 unsuspended',
      '2027-02-24 invoice_created',
    ]);
    const invoices = await invoicesOf(ny, c.D.id);
    const voided = invoices.filter((i) => i.status === 'void').flatMap((i) => actions.get(i.id)?.filter((a) => a.endsWith('voided')) ?? []);
    expect(voided.sort()).toEqual(['2027-01-21 voided', '2027-02-21 voided']);
    const service = await ok(ny, 'GET', `/v1/services/${c.D.serviceId}`, undefined, 200);
    expect(service).toMatchObject({ status: 'active', suspendedBy: null });
  });

  it('E and F: a staff suspension and an inactive client are left alone', async () => {
    expect(await invoiceLines(ny, c.E.id)).toEqual(['2027-01-01 → 2027-01-01 1000 paid']);
    expect(await ok(ny, 'GET', `/v1/services/${c.E.serviceId}`, undefined, 200)).toMatchObject({ status: 'suspended', suspendedBy: 'staff' });
    expect(await mailLines(ny, c.E.id)).toEqual([]);
    expect(await invoiceLines(ny, c.F.id)).toEqual(['2027-01-01 → 2027-01-01 1000 open']);
    expect(await chargeLines(ny, c.F.id)).toEqual([]);
    expect(await mailLines(ny, c.F.id)).toEqual([]);
    expect(await ok(ny, 'GET', `/v1/services/${c.F.serviceId}`, undefined, 200)).toMatchObject({ status: 'active' });
    const actions = await doneActions(ny);
    expect(actions.get(c.E.serviceId)).toBeUndefined();
    expect(actions.get(c.F.serviceId)).toBeUndefined();
  });

  it('G: a weekly series of 3, each invoice made 5 days ahead and paid from loose credit', async () => {
    expect(await invoiceLines(ny, g.id)).toEqual([
      '2027-01-04 → 2027-01-11 1500 paid',
      '2027-01-11 → 2027-01-18 1500 paid',
      '2027-01-18 → 2027-01-25 1500 paid',
    ]);
    const credits = await ok(ny, 'GET', `/v1/clients/${g.id}/credits`, undefined, 200);
    expect(credits.data).toEqual([{ currency: 'USD', amount: 5500 }]);
    expect(await mailLines(ny, g.id)).toEqual([]);
  });

  it('T (Tokyo): runs on Tokyo dates, renews 14 days ahead and charges on the due date', async () => {
    expect(await invoiceLines(tokyo, c.T.id)).toEqual([
      '2027-01-01 → 2027-01-01 1000 paid',
      '2027-01-18 → 2027-02-01 1000 paid',
      '2027-02-15 → 2027-03-01 1000 paid',
    ]);
    expect(await chargeLines(tokyo, c.T.id)).toEqual(['2027-01-01 succeeded 1000', '2027-02-01 succeeded 1000', '2027-03-01 succeeded 1000']);
    expect(await mailLines(tokyo, c.T.id)).toEqual([
      '2027-01-01 payment_receipt',
      '2027-01-29 auto_debit_pending',
      '2027-02-01 payment_receipt',
      '2027-02-26 auto_debit_pending',
      '2027-03-01 payment_receipt',
    ]);
  });

  it('running an earlier date and the last date again changes nothing but try the failed charge again', async () => {
    const cChargesBefore = await chargeLines(ny, c.C.id);
    const snapshot = async () =>
      Promise.all(
        [c.A, c.B, c.D, c.E, c.F, { id: g.id }].map(async (x) => [await invoiceLines(ny, x.id), await chargeLines(ny, x.id), await mailLines(ny, x.id)]),
      );
    const before = await snapshot();
    for (const date of ['2027-01-02', LAST_DAY]) {
      const run = await ok(ny, 'POST', '/v1/automation/runs', { date }, 202);
      await settled();
      const done = await ok(ny, 'GET', `/v1/automation/runs/${run.id}`, undefined, 200);
      expect(done.status).toBe('succeeded');
      const acted = done.tasks.reduce((n: number, t: { acted: number }) => n + t.acted, 0);
      expect(acted, JSON.stringify(done.tasks)).toBe(0);
    }
    expect(await snapshot()).toEqual(before);
    // C's charge had failed on both dates, so each re-run tried it once more (dated today: the clock's 1 March).
    expect(await chargeLines(ny, c.C.id)).toEqual([...cChargesBefore, '2027-03-01 failed 1000', '2027-03-01 failed 1000'].sort());
    expect(await mailLines(ny, c.C.id)).toHaveLength(4);
  });
});
