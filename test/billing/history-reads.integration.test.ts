import { beforeAll, describe, expect, it } from 'vitest';
import { applyCredits } from '../../functions/billing/credits/apply-credits.js';
import { createInvoice } from '../../functions/billing/invoices/create-invoice.js';
import { listVisibleInvoices } from '../../functions/billing/invoices/read-invoices.js';
import { voidInvoice } from '../../functions/billing/invoices/void-invoice.js';
import { recordPayment } from '../../functions/billing/payments/record-payment.js';
import { buildClientStatement } from '../../functions/billing/statements/build-statement.js';
import type { Company } from '../../functions/domain/company.js';
import type { Invoice } from '../../functions/domain/invoice.js';
import { buildStatement } from '../../functions/domain/statement.js';
import { readProfileView } from '../../functions/store/clients.js';
import { loadLedger } from '../../functions/store/ledger.js';
import { useFreshTables } from '../support/tables.js';
import { clientWithHistory, readsOf, within10Percent } from './history.js';
import { seedClient, seedCompany, work } from './invoices/fixtures.js';

/**
 * What the billing reads cost does not grow with a client's history or a company's size: each use case below is
 * measured (DynamoDB calls, items read before any filter, read capacity) on a client with 5 invoices in a small
 * company and on one with 100 in a larger company, and must cost the same (±10%).
 */
interface World {
  company: Company;
  clientId: string;
  invoices: Invoice[];
  /** The one invoice of June 2031. */
  june: Invoice;
  /** Another client, whose invoices (as many as the first's) are all open, with loose credit of 300. */
  owing: { clientId: string; invoices: Invoice[] };
  /** A client with as many invoices all due in May 2030 (on its 1st to 28th), then one on the 29th. */
  busy: { clientId: string; last: Invoice };
}
let small: World;
let large: World;

async function world(count: number): Promise<World> {
  const company = await seedCompany();
  const { clientId, invoices } = await clientWithHistory(company, count);
  const { invoice: june } = await createInvoice({ companyId: company.id, clientId, dateBilled: '2031-06-15', dateDue: '2031-06-15', lines: work(700) });
  // Loose credit for credits/apply.
  await recordPayment({ companyId: company.id, principal: null, clientId, type: 'cash', amount: 300, currency: 'USD', date: '2031-01-10' });
  return { company, clientId, invoices, june, owing: await owingClient(company, count), busy: await busyClient(company, count) };
}

async function busyClient(company: Company, count: number): Promise<World['busy']> {
  const client = await seedClient(company);
  const day = (n: number) => `2030-05-${String(1 + (n % 28)).padStart(2, '0')}`;
  for (let first = 0; first < count; first += 10) {
    const batch = Array.from({ length: Math.min(10, count - first) }, (_, i) => first + i);
    await Promise.all(batch.map((n) => createInvoice({ companyId: company.id, clientId: client.id, dateBilled: day(n), dateDue: day(n), lines: work(1000) })));
  }
  const { invoice: last } = await createInvoice({
    companyId: company.id,
    clientId: client.id,
    dateBilled: '2030-05-29',
    dateDue: '2030-05-29',
    lines: work(500),
  });
  return { clientId: client.id, last };
}

/** A client with `count` open invoices of 1000 due through 2030 (in no order of creation) and loose credit of 300. */
async function owingClient(company: Company, count: number): Promise<World['owing']> {
  const client = await seedClient(company);
  const day = (n: number) => `2030-${String(1 + ((n * 5) % 12)).padStart(2, '0')}-${String(1 + ((n * 11) % 28)).padStart(2, '0')}`;
  const invoices: Invoice[] = [];
  for (let first = 0; first < count; first += 10) {
    const batch = Array.from({ length: Math.min(10, count - first) }, (_, i) => first + i);
    const created = await Promise.all(
      batch.map((n) => createInvoice({ companyId: company.id, clientId: client.id, dateBilled: day(n), dateDue: day(n), lines: work(1000) })),
    );
    invoices.push(...created.map((c) => c.invoice));
  }
  await recordPayment({ companyId: company.id, principal: null, clientId: client.id, type: 'cash', amount: 300, currency: 'USD', date: '2031-01-10' });
  return { clientId: client.id, invoices };
}

beforeAll(async () => {
  await useFreshTables();
  [small, large] = await Promise.all([world(5), world(100)]);
}, 180_000);

/** Runs `work` on both worlds and checks that their costs match; returns both results. */
async function sameCost<T>(work: (w: World) => Promise<T>): Promise<[T, T, { calls: number; itemsRead: number }]> {
  let a: T | undefined;
  let b: T | undefined;
  const costSmall = await readsOf(async () => {
    a = await work(small);
  });
  const costLarge = await readsOf(async () => {
    b = await work(large);
  });
  expect(costLarge.calls).toBe(costSmall.calls);
  expect(within10Percent(costSmall.itemsRead, costLarge.itemsRead), `items read ${costSmall.itemsRead} vs ${costLarge.itemsRead}`).toBe(true);
  expect(within10Percent(costSmall.readCapacity, costLarge.readCapacity), `capacity ${costSmall.readCapacity} vs ${costLarge.readCapacity}`).toBe(true);
  return [a as T, b as T, costLarge];
}

/** The statement as built from the whole history (the definition), to compare the period's read with. */
async function fromWholeHistory(w: World, from: string, to: string) {
  const loaded = await loadLedger(w.company.id, w.clientId);
  return buildStatement('USD', from, to, loaded.invoices.values(), loaded.transactions.values());
}

// In order: the two fixtures (5 and 100 invoices) are built once, and the later tests spend what the earlier ones
// measure (credit applied, an invoice voided).
describe('reads that do not grow with the history', { shuffle: false }, () => {
  it('a statement of a period with one invoice reads that period (and the sums before it), and says what the whole history says', async () => {
    const [a, b] = await sameCost((w) => buildClientStatement({ companyId: w.company.id, clientId: w.clientId, from: '2031-06-01', to: '2031-06-30' }));
    for (const [w, built] of [
      [small, a],
      [large, b],
    ] as const) {
      expect(built.statement.lines.map((l) => [l.type, l.reference, l.amount])).toEqual([['invoice', `#${w.june.number}`, 700]]);
      // Two invoices left open, less the loose credit's 300.
      expect(built.statement.openingBalance).toBe(1700);
      expect(built.statement).toEqual(await fromWholeHistory(w, '2031-06-01', '2031-06-30'));
    }
  });

  it("a statement from mid-month reads its month's sums (one item), not the month's entries before it", async () => {
    const statementOf = (w: World) => buildClientStatement({ companyId: w.company.id, clientId: w.busy.clientId, from: '2030-05-29', to: '2030-05-29' });
    // 5 or 100 invoices earlier in May: the same items read.
    await sameCost(statementOf);
    for (const w of [small, large]) {
      const { statement } = await statementOf(w);
      expect(statement.lines.map((l) => [l.type, l.reference, l.amount])).toEqual([['invoice', `#${w.busy.last.number}`, 500]]);
      expect(statement.openingBalance).toBe(w === small ? 5000 : 100_000);
      const loaded = await loadLedger(w.company.id, w.busy.clientId);
      expect(statement).toEqual(buildStatement('USD', '2030-05-29', '2030-05-29', loaded.invoices.values(), loaded.transactions.values()));
    }
  });

  it('a statement of an empty period in 2020 reads next to nothing', async () => {
    const [a, b] = await sameCost((w) => buildClientStatement({ companyId: w.company.id, clientId: w.clientId, from: '2020-03-01', to: '2020-03-31' }));
    expect(a.statement).toMatchObject({ openingBalance: 0, lines: [], closingBalance: 0 });
    expect(b.statement).toEqual(await fromWholeHistory(large, '2020-03-01', '2020-03-31'));
  });

  it('statements of other periods (mid-year, across years) are those the whole history gives', async () => {
    for (const [from, to] of [
      ['2030-03-10', '2030-08-20'],
      ['2030-12-31', '2031-06-30'],
      ['2029-01-01', '2032-01-01'],
    ]) {
      const { statement } = await buildClientStatement({ companyId: large.company.id, clientId: large.clientId, from, to });
      expect(statement).toEqual(await fromWholeHistory(large, from, to));
    }
  });

  it('the summary reads the balances only', async () => {
    const [a, b] = await sameCost((w) => readProfileView(w.company.id, w.clientId));
    expect(a?.balances.map((x) => x.due)).toEqual([2700]);
    expect(b?.balances.map((x) => x.due)).toEqual([2700]);
  });

  it("a client's open invoices by status read only the open ones", async () => {
    const [a, b] = await sameCost((w) =>
      listVisibleInvoices({ companyId: w.company.id, filter: { clientId: w.clientId, status: 'open', excludeDrafts: false }, limit: 20 }),
    );
    expect(a.items.map((i) => i.id)).toEqual(openByDueDate(small));
    expect(b.items.map((i) => i.id)).toEqual(openByDueDate(large));
  });

  it("a client's invoices due before a date read one page (GSI5), not the client's history", async () => {
    const [a, b] = await sameCost((w) =>
      listVisibleInvoices({ companyId: w.company.id, filter: { clientId: w.clientId, dueBefore: '2030-03-01', excludeDrafts: false }, limit: 2 }),
    );
    for (const page of [a, b]) {
      expect(page.items).toHaveLength(2);
      expect(page.items.every((i) => i.dateDue < '2030-03-01')).toBe(true);
    }
  });

  it("a company's paid invoices read one page, whatever the company's size", async () => {
    const [a, b] = await sameCost((w) => listVisibleInvoices({ companyId: w.company.id, filter: { status: 'paid', excludeDrafts: false }, limit: 3 }));
    expect(a.items).toHaveLength(3);
    expect(b.items).toHaveLength(3);
    expect([...a.items, ...b.items].every((i) => i.status === 'paid')).toBe(true);
  });

  it('credits/apply reads the open invoices and the payments holding credit, not every invoice', async () => {
    const [a, b] = await sameCost((w) => applyCredits({ companyId: w.company.id, principal: null, clientId: w.clientId }));
    // Oldest due date first: the earliest of the two left open.
    expect(a).toEqual([{ invoiceId: oldestOpen(small), amount: 300 }]);
    expect(b).toEqual([{ invoiceId: oldestOpen(large), amount: 300 }]);
  });

  it('credits/apply with little credit reads the invoices it pays, not every open one', async () => {
    const [a, b] = await sameCost((w) => applyCredits({ companyId: w.company.id, principal: null, clientId: w.owing.clientId }));
    expect(a).toEqual([{ invoiceId: byDueDate(small.owing.invoices)[0], amount: 300 }]);
    expect(b).toEqual([{ invoiceId: byDueDate(large.owing.invoices)[0], amount: 300 }]);
  });

  it('credits/apply pays as many of the oldest open invoices as the credit covers, and leaves the rest', async () => {
    const { company, owing } = large;
    await recordPayment({ companyId: company.id, principal: null, clientId: owing.clientId, type: 'cash', amount: 3500, currency: 'USD', date: '2031-01-11' });
    const applied = await applyCredits({ companyId: company.id, principal: null, clientId: owing.clientId });
    // 700 left on the oldest (300 of it paid above), then 1000 on each of the next two, 800 on the fourth.
    const order = byDueDate(owing.invoices);
    expect(applied).toEqual([
      { invoiceId: order[0], amount: 700 },
      { invoiceId: order[1], amount: 1000 },
      { invoiceId: order[2], amount: 1000 },
      { invoiceId: order[3], amount: 800 },
    ]);
    const view = await readProfileView(company.id, owing.clientId);
    expect(view?.balances[0]).toMatchObject({ credit: 0, due: 100 * 1000 - 3800 });
  });

  it('credits/apply with more credit than is due pays every open invoice and keeps the rest as credit', async () => {
    const { company, owing } = small;
    await recordPayment({ companyId: company.id, principal: null, clientId: owing.clientId, type: 'cash', amount: 6000, currency: 'USD', date: '2031-01-11' });
    const applied = await applyCredits({ companyId: company.id, principal: null, clientId: owing.clientId });
    expect(applied.map((a) => a.invoiceId)).toEqual(byDueDate(owing.invoices));
    const view = await readProfileView(company.id, owing.clientId);
    expect(view?.balances[0]).toMatchObject({ credit: 6300 - 5000, due: 0 });
  });

  it('voiding a paid invoice reads it and the payments applied to it', async () => {
    const [a, b, cost] = await sameCost((w) => voidInvoice({ companyId: w.company.id, invoiceId: w.invoices[0].id }));
    // The invoice's pointer with the company, the invoice with its currency's balance, its payment; the commit.
    expect([cost.calls, cost.itemsRead]).toEqual([4, 5]);
    expect(a.status).toBe('void');
    expect(b.status).toBe('void');
    // Its payment got the 1000 back as credit.
    const view = await readProfileView(large.company.id, large.clientId);
    expect(view?.balances[0].credit).toBe(1000);
  });
});

/** The ids of the world's open invoices, oldest due date first. */
const openByDueDate = (w: World) =>
  [...w.invoices.slice(-2), w.june].sort((x, y) => x.dateDue.localeCompare(y.dateDue) || x.id.localeCompare(y.id)).map((i) => i.id);
const oldestOpen = (w: World) => openByDueDate(w)[0];
/** The ids of invoices, oldest due date first. */
const byDueDate = (invoices: Invoice[]) => [...invoices].sort((x, y) => x.dateDue.localeCompare(y.dateDue) || x.id.localeCompare(y.id)).map((i) => i.id);
