import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setClock } from '../../../functions/domain/clock.js';
import { addTerm } from '../../../functions/domain/dates.js';
import type { TestApi } from '../../support/stack.js';
import {
  type BillingApi,
  errorPaths,
  expectProblem,
  expectStatus,
  getInvoice,
  listAll,
  newClient,
  newClientWithLogin,
  newInvoice,
  startBillingApi,
} from '../../support/billing.js';

/** Invoices end to end (API.md, Invoices; seed 000 "Create Invoice"), over HTTP against the local stack. */
let stack: BillingApi;
let api: TestApi;

beforeAll(async () => {
  stack = await startBillingApi();
  api = stack.api;
  const settings = await api.staff('PATCH', '/v1/settings', {
    currencies: ['USD', 'EUR', 'JPY', 'BHD'],
    taxRates: [
      { name: 'Everywhere else', percent: '5' },
      { name: 'US sales tax', percent: '8', country: 'US' },
      { name: 'California', percent: '7.25', country: 'US', state: 'CA' },
      { name: 'UK VAT', percent: '20', country: 'GB' },
    ],
  });
  expectStatus(settings, 200);
});
afterAll(async () => {
  await stack?.stop();
});

describe('lines, quantities and currencies', () => {
  it('computes fractional, decimal and negative quantities and echoes them exactly', async () => {
    const client = await newClient(api, { taxExempt: true });
    const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      lines: [
        { description: '55 minutes of work', quantity: '55/60', unitAmount: 9000 },
        { description: 'One and a half', quantity: '1.5', unitAmount: 1999 },
        { description: 'Two', quantity: 2, unitAmount: 500 },
        { description: 'Trailing zero kept', quantity: '1.50', unitAmount: 1000 },
        { description: 'A tiny number', quantity: 0.0000001, unitAmount: 1000 },
        { description: 'Discount', quantity: '-1', unitAmount: 1000 },
        { description: 'Half a discount', quantity: -0.5, unitAmount: 333 },
      ],
    });
    expectStatus(res, 201);
    const inv = res.body;
    expect(inv.lines.map((l: any) => l.quantity)).toEqual(['55/60', '1.5', '2', '1.50', '0.0000001', '-1', '-0.5']);
    // 55/60 × 9000 = 8250; 1.5 × 1999 = 2998.5 → 2999; -0.5 × 333 = -166.5 → -167 (half away from zero).
    expect(inv.lines.map((l: any) => l.amount)).toEqual([8250, 2999, 1000, 1500, 0, -1000, -167]);
    expect(inv.subtotal).toBe(8250 + 2999 + 1000 + 1500 + 0 - 1000 - 167);
    expect(inv.tax).toBe(0);
    expect(inv.total).toBe(inv.subtotal);
    expect(inv).toMatchObject({ status: 'open', currency: 'USD', paid: 0, due: inv.total, clientId: client.id, version: 1 });
    expect(inv.lines.every((l: any) => typeof l.id === 'string' && l.tax === 0)).toBe(true);
    expect(await getInvoice(api, inv.id)).toEqual(inv);
  });

  it('rejects a bad quantity or a float amount naming the field', async () => {
    const client = await newClient(api);
    for (const [line, path] of [
      [{ description: 'x', quantity: '1/0', unitAmount: 100 }, 'lines.0.quantity'],
      [{ description: 'x', quantity: 'abc', unitAmount: 100 }, 'lines.0.quantity'],
      [{ description: 'x', quantity: 1, unitAmount: 10.5 }, 'lines.0.unitAmount'],
      [{ description: 'Only a discount', quantity: '-1', unitAmount: 100 }, 'lines'],
    ] as const) {
      const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, { lines: [line] });
      expectProblem(res, 400);
      expect(errorPaths(res)).toContain(path);
    }
  });

  it('bills in JPY (0 decimals) and BHD (3) once they are company currencies; others → 400', async () => {
    const client = await newClient(api, { taxExempt: true });
    const jpy = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      currency: 'JPY',
      lines: [{ description: 'Yen', quantity: '1/3', unitAmount: 1000 }],
    });
    expectStatus(jpy, 201);
    expect(jpy.body).toMatchObject({ currency: 'JPY', subtotal: 333, total: 333, due: 333 });
    const bhd = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      currency: 'BHD',
      lines: [{ description: 'Dinar', quantity: '2.5', unitAmount: 1234 }],
    });
    expectStatus(bhd, 201);
    expect(bhd.body).toMatchObject({ currency: 'BHD', subtotal: 3085, total: 3085 });
    const lower = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      currency: 'eur',
      lines: [{ description: 'Euro', quantity: 1, unitAmount: 100 }],
    });
    expectStatus(lower, 201);
    expect(lower.body.currency).toBe('EUR');

    const chf = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      currency: 'CHF',
      lines: [{ description: 'Franc', quantity: 1, unitAmount: 100 }],
    });
    expectProblem(chf, 400);
    expect(errorPaths(chf)).toContain('currency');
    for (const inv of [jpy.body, bhd.body]) {
      const pdf = await api.staff('GET', `/v1/invoices/${inv.id}/pdf`);
      expectStatus(pdf, 200);
      expect(pdf.text.startsWith('%PDF')).toBe(true);
    }
  });

  it('defaults the currency to the client’s', async () => {
    const client = await newClient(api, { currency: 'EUR' });
    const inv = await newInvoice(api, client.id, 1000);
    expect(inv.currency).toBe('EUR');
  });
});

describe('tax', () => {
  // 1999 taxable, a -500 taxable discount, 1000 untaxed: subtotal 2499.
  const lines = [
    { description: 'Hosting', quantity: 1, unitAmount: 1999 },
    { description: 'Loyalty discount', quantity: '-1', unitAmount: 500 },
    { description: 'Domain (untaxed)', quantity: 2, unitAmount: 500, taxable: false },
  ];
  const cases = [
    { where: 'country and state (US/CA → 7.25%)', client: { country: 'US', state: 'CA' }, rate: 'California', percent: '7.25', lineTax: [145, -36, 0] },
    { where: 'country only (US/NY → 8%)', client: { country: 'US', state: 'NY' }, rate: 'US sales tax', percent: '8', lineTax: [160, -40, 0] },
    { where: 'country only (GB → 20%)', client: { country: 'GB' }, rate: 'UK VAT', percent: '20', lineTax: [400, -100, 0] },
    { where: 'no country (FR → 5%)', client: { country: 'FR' }, rate: 'Everywhere else', percent: '5', lineTax: [100, -25, 0] },
    { where: 'no address (→ 5%)', client: {}, rate: 'Everywhere else', percent: '5', lineTax: [100, -25, 0] },
  ];
  for (const c of cases) {
    it(`uses the most specific rate: ${c.where}`, async () => {
      const client = await newClient(api, c.client);
      const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, { lines });
      expectStatus(res, 201);
      const inv = res.body;
      expect(inv.taxRate).toMatchObject({ name: c.rate, percent: c.percent });
      expect(inv.lines.map((l: any) => l.amount)).toEqual([1999, -500, 1000]);
      expect(inv.lines.map((l: any) => l.tax)).toEqual(c.lineTax);
      expect(inv.lines.map((l: any) => l.taxable)).toEqual([true, true, false]);
      const tax = c.lineTax.reduce((s, t) => s + t, 0);
      expect(inv).toMatchObject({ subtotal: 2499, tax, total: 2499 + tax, due: 2499 + tax });
    });
  }

  it('charges no tax to a tax-exempt client', async () => {
    const client = await newClient(api, { country: 'US', state: 'CA', taxExempt: true });
    const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, { lines });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({ subtotal: 2499, tax: 0, total: 2499, taxRate: null });
    expect(res.body.lines.every((l: any) => l.tax === 0)).toBe(true);
  });
});

describe('drafts, numbers and changes', () => {
  it('a draft has no number; PATCH changes it; {status:"open"} numbers it; then it is frozen', async () => {
    const client = await newClient(api, { taxExempt: true });
    const before = await newInvoice(api, client.id, 100);
    const draft = await newInvoice(api, client.id, 1000, { status: 'draft', dateBilled: '2030-01-01', dateDue: '2030-01-15' });
    expect(draft).toMatchObject({ status: 'draft', number: null, total: 1000, version: 1 });

    const changed = await api.staff(
      'PATCH',
      `/v1/invoices/${draft.id}`,
      { lines: [{ description: 'More work', quantity: '3/4', unitAmount: 4000 }], dateDue: '2030-01-31' },
      { 'if-match': '"1"' },
    );
    expectStatus(changed, 200);
    expect(changed.body).toMatchObject({ status: 'draft', number: null, subtotal: 3000, total: 3000, due: 3000, dateDue: '2030-01-31', version: 2 });
    expect(changed.body.lines[0].quantity).toBe('3/4');

    const stale = await api.staff('PATCH', `/v1/invoices/${draft.id}`, { dateDue: '2030-02-01' }, { 'if-match': '1' });
    expectProblem(stale, 409);

    const opened = await api.staff('PATCH', `/v1/invoices/${draft.id}`, { status: 'open' });
    expectStatus(opened, 200);
    expect(opened.body).toMatchObject({ status: 'open', number: before.number + 1, total: 3000, due: 3000, paid: 0 });
    expect(await getInvoice(api, draft.id)).toMatchObject({ status: 'open', number: before.number + 1 });

    const again = await api.staff('PATCH', `/v1/invoices/${draft.id}`, { dateDue: '2030-03-01' });
    expectProblem(again, 409);
    const reopen = await api.staff('PATCH', `/v1/invoices/${draft.id}`, { status: 'open' });
    expectProblem(reopen, 409);
    expect((await getInvoice(api, draft.id)).number).toBe(before.number + 1);
  });

  it('numbers are gapless and increasing when 15 drafts are opened at once (drafts use no number)', async () => {
    const client = await newClient(api, { taxExempt: true });
    const first = await newInvoice(api, client.id, 100);
    const drafts = [];
    for (let i = 0; i < 15; i++) drafts.push(await newInvoice(api, client.id, 100 + i, { status: 'draft' }));
    const opened = await Promise.all(drafts.map((d) => api.staff('PATCH', `/v1/invoices/${d.id}`, { status: 'open' })));
    for (const res of opened) expectStatus(res, 200);
    const numbers = opened.map((r) => r.body.number as number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 15 }, (_, i) => first.number + 1 + i));
    const next = await newInvoice(api, client.id, 100);
    expect(next.number).toBe(first.number + 16);
    // What is stored agrees with what was answered.
    for (const res of opened) expect((await getInvoice(api, res.body.id)).number).toBe(res.body.number);
  });

  it('numbers a burst of 40 invoices created open at once without gaps (none refused as busy)', async () => {
    const client = await newClient(api, { taxExempt: true });
    const first = await newInvoice(api, client.id, 100);
    const created = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api.staff('POST', `/v1/clients/${client.id}/invoices`, { lines: [{ description: `n${i}`, quantity: 1, unitAmount: 100 }] }),
      ),
    );
    for (const res of created) expectStatus(res, 201);
    expect(created.map((r) => r.body.number).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => first.number + 1 + i));
  });

  it('rejects a due date before the billing date', async () => {
    const client = await newClient(api);
    const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      dateBilled: '2030-01-10',
      dateDue: '2030-01-09',
      lines: [{ description: 'x', quantity: 1, unitAmount: 100 }],
    });
    expectProblem(res, 400);
    expect(errorPaths(res)).toContain('dateDue');
  });
});

describe('voiding', () => {
  it('open → void; void again → 409; a draft → 409', async () => {
    const client = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, client.id, 2500);
    const voided = await api.staff('POST', `/v1/invoices/${inv.id}/void`);
    expectStatus(voided, 200);
    expect(voided.body).toMatchObject({ status: 'void', paid: 0, due: 0, total: 2500, number: inv.number });
    expectProblem(await api.staff('POST', `/v1/invoices/${inv.id}/void`), 409);
    const draft = await newInvoice(api, client.id, 100, { status: 'draft' });
    expectProblem(await api.staff('POST', `/v1/invoices/${draft.id}/void`), 409);
    const summary = await api.staff('GET', `/v1/clients/${client.id}/summary`);
    expect(summary.body.data.find((r: any) => r.currency === 'USD')).toMatchObject({ invoiced: 0, paid: 0, due: 0, credit: 0 });
  });

  it('a paid invoice voided turns its payment into credit', async () => {
    const client = await newClient(api, { taxExempt: true });
    const inv = await newInvoice(api, client.id, 4000);
    const other = await newInvoice(api, client.id, 1000);
    const paid = await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
      type: 'check',
      amount: 5000,
      currency: 'USD',
      apply: [
        { invoiceId: inv.id, amount: 4000 },
        { invoiceId: other.id, amount: 1000 },
      ],
    });
    expectStatus(paid, 201);
    expect(await getInvoice(api, inv.id)).toMatchObject({ status: 'paid', paid: 4000, due: 0 });

    const voided = await api.staff('POST', `/v1/invoices/${inv.id}/void`);
    expectStatus(voided, 200);
    expect(voided.body).toMatchObject({ status: 'void', paid: 0, due: 0 });
    const txn = await api.staff('GET', `/v1/transactions/${paid.body.id}`);
    expect(txn.body).toMatchObject({ amount: 5000, credit: 4000, applications: [{ invoiceId: other.id, amount: 1000 }], status: 'succeeded' });
    const credits = await api.staff('GET', `/v1/clients/${client.id}/credits`);
    expect(credits.body.data).toEqual([{ currency: 'USD', amount: 4000 }]);
    expect((await getInvoice(api, other.id)).status).toBe('paid');
    const summary = await api.staff('GET', `/v1/clients/${client.id}/summary`);
    expect(summary.body.data.find((r: any) => r.currency === 'USD')).toMatchObject({ invoiced: 1000, paid: 1000, due: 0, credit: 4000 });
  });
});

describe('listing and visibility', () => {
  let client: any;
  let token: string;
  let ids: Record<string, string>;
  let other: any;

  beforeAll(async () => {
    ({ client, token } = await newClientWithLogin(api, { taxExempt: true }));
    const mk = async (amount: number, body: Record<string, unknown>) => (await newInvoice(api, client.id, amount, body)).id;
    ids = {
      usdJan: await mk(1000, { dateBilled: '2030-01-01', dateDue: '2030-01-10' }),
      eurFeb: await mk(2000, { currency: 'EUR', dateBilled: '2030-01-20', dateDue: '2030-02-01' }),
      usdMar: await mk(3000, { dateBilled: '2030-03-01', dateDue: '2030-03-05' }),
      draft: await mk(4000, { status: 'draft', dateBilled: '2030-01-02', dateDue: '2030-01-03' }),
      voided: await mk(5000, { dateBilled: '2030-01-01', dateDue: '2030-01-04' }),
    };
    expectStatus(await api.staff('POST', `/v1/invoices/${ids.voided}/void`), 200);
    expectStatus(
      await api.staff('POST', `/v1/clients/${client.id}/payments/record`, {
        type: 'cash',
        amount: 3000,
        currency: 'USD',
        apply: [{ invoiceId: ids.usdMar, amount: 3000 }],
      }),
      201,
    );
    other = await newClient(api);
    ids.others = (await newInvoice(api, other.id, 700, { dateBilled: '2030-01-01', dateDue: '2030-01-02' })).id;
  });

  const idsOf = (list: any[]) => list.map((i) => i.id).sort();

  it('filters by client, status, currency and dueBefore', async () => {
    const all = await listAll(api, `/v1/invoices?clientId=${client.id}`);
    expect(idsOf(all)).toEqual([ids.usdJan, ids.eurFeb, ids.usdMar, ids.draft, ids.voided].sort());
    expect(all.every((i) => i.clientId === client.id)).toBe(true);
    expect(idsOf(await listAll(api, `/v1/invoices?clientId=${client.id}&status=open`))).toEqual([ids.usdJan, ids.eurFeb].sort());
    expect(idsOf(await listAll(api, `/v1/invoices?clientId=${client.id}&status=paid`))).toEqual([ids.usdMar]);
    expect(idsOf(await listAll(api, `/v1/invoices?clientId=${client.id}&status=void`))).toEqual([ids.voided]);
    expect(idsOf(await listAll(api, `/v1/invoices?clientId=${client.id}&status=draft`))).toEqual([ids.draft]);
    expect(idsOf(await listAll(api, `/v1/invoices?clientId=${client.id}&currency=EUR`))).toEqual([ids.eurFeb]);
    expect(idsOf(await listAll(api, `/v1/invoices?clientId=${client.id}&dueBefore=2030-01-11`))).toEqual([ids.usdJan, ids.draft, ids.voided].sort());
    expect(idsOf(await listAll(api, `/v1/invoices?clientId=${client.id}&status=open&currency=USD&dueBefore=2030-12-31`))).toEqual([ids.usdJan]);

    // Company-wide: every invoice due before the date, of every client, and nothing later.
    const company = await listAll(api, '/v1/invoices?dueBefore=2030-01-05');
    expect(company.every((i) => i.dateDue < '2030-01-05')).toBe(true);
    expect(idsOf(company)).toEqual(expect.arrayContaining([ids.draft, ids.voided, ids.others]));
    expect(idsOf(company)).not.toContain(ids.usdJan);
    const companyOpenEur = await listAll(api, '/v1/invoices?status=open&currency=EUR');
    expect(companyOpenEur.every((i) => i.status === 'open' && i.currency === 'EUR')).toBe(true);
    expect(idsOf(companyOpenEur)).toContain(ids.eurFeb);
  });

  it('pages through a filtered list without repeats or gaps', async () => {
    const full = idsOf(await listAll(api, `/v1/invoices?clientId=${client.id}`));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: any = await api.staff('GET', `/v1/invoices?clientId=${client.id}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expectStatus(res, 200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((i: any) => i.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(full);
    expectProblem(await api.staff('GET', '/v1/invoices?limit=0'), 400);
  });

  it('a client token sees only its own invoices; another client’s is 404', async () => {
    const mine = await listAll(api, '/v1/invoices', token);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((i) => i.clientId === client.id)).toBe(true);
    expect(idsOf(mine)).not.toContain(ids.others);
    const asking = await listAll(api, `/v1/invoices?clientId=${other.id}`, token);
    expect(asking).toEqual([]);

    expectStatus(await api.call('GET', `/v1/invoices/${ids.usdJan}`, { token }), 200);
    expectProblem(await api.call('GET', `/v1/invoices/${ids.others}`, { token }), 404);
    expectProblem(await api.call('GET', `/v1/invoices/${ids.others}/pdf`, { token }), 404);
    const pdf = await api.call('GET', `/v1/invoices/${ids.usdJan}/pdf`, { token });
    expectStatus(pdf, 200);
    expect(pdf.text.startsWith('%PDF')).toBe(true);
    // Staff-only invoice routes are 403 for a client token.
    expectStatus(await api.call('POST', `/v1/invoices/${ids.usdJan}/void`, { token }), 403);
    expectStatus(
      await api.call('POST', `/v1/clients/${client.id}/invoices`, { token, body: { lines: [{ description: 'x', quantity: 1, unitAmount: 1 }] } }),
      403,
    );
    expectProblem(await api.staff('GET', '/v1/invoices/inv_doesnotexist'), 404);
  });

  it('serves the PDF of an invoice', async () => {
    const pdf = await api.staff('GET', `/v1/invoices/${ids.eurFeb}/pdf`);
    expectStatus(pdf, 200);
    expect(pdf.headers.get('content-type')).toMatch(/^application\/pdf/);
    expect(pdf.text.slice(0, 4)).toBe('%PDF');
    const draftPdf = await api.staff('GET', `/v1/invoices/${ids.draft}/pdf`);
    expectStatus(draftPdf, 200);
    expect(draftPdf.text.slice(0, 4)).toBe('%PDF');
  });
});

describe('recurring invoices', () => {
  it('creates a series with the first invoice; list, read, change and stop it', async () => {
    const client = await newClient(api, { taxExempt: true });
    const billed = '2030-01-31';
    const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      dateBilled: billed,
      dateDue: '2030-02-10',
      lines: [{ description: 'Monthly retainer', quantity: '55/60', unitAmount: 9000 }],
      recurring: { term: 1, period: 'month', occurrences: 3 },
    });
    expectStatus(res, 201);
    const inv = res.body;
    expect(inv.recurringInvoiceId).toMatch(/^rinv_/);
    expect(inv.total).toBe(8250);

    const list = await api.staff('GET', `/v1/clients/${client.id}/recurring-invoices`);
    expectStatus(list, 200);
    expect(list.body.data).toHaveLength(1);
    const series = list.body.data[0];
    expect(series).toMatchObject({ id: inv.recurringInvoiceId, clientId: client.id, currency: 'USD', term: 1, period: 'month', occurrences: 3, version: 1 });
    expect(series.lines).toEqual([{ description: 'Monthly retainer', quantity: '55/60', unitAmount: 9000, taxable: true }]);
    expect(series.nextBillDate).toBe(addTerm(billed, 1, 'month'));
    expect(series.nextBillDate).toBe('2030-02-28');

    const read = await api.staff('GET', `/v1/recurring-invoices/${series.id}`);
    expectStatus(read, 200);
    expect(read.body).toEqual(series);

    const patched = await api.staff('PATCH', `/v1/recurring-invoices/${series.id}`, {
      occurrences: 6,
      term: 2,
      lines: [
        { description: 'Bigger retainer', quantity: 0.0000001, unitAmount: 12000 },
        { description: 'Half', quantity: '1/2', unitAmount: 100 },
      ],
    });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ occurrences: 6, term: 2, period: 'month', version: 2 });
    expect(patched.body.lines.map((l: any) => l.quantity)).toEqual(['0.0000001', '1/2']);
    expect((await api.staff('GET', `/v1/recurring-invoices/${series.id}`)).body).toEqual(patched.body);
    expectProblem(await api.staff('PATCH', `/v1/recurring-invoices/${series.id}`, { occurrences: 0 }), 400);
    expectProblem(await api.staff('PATCH', `/v1/recurring-invoices/${series.id}`, { period: 'fortnight' }), 400);
    expectProblem(await api.staff('PATCH', `/v1/recurring-invoices/${series.id}`, { term: 3 }, { 'if-match': '1' }), 409);

    const deleted = await api.staff('DELETE', `/v1/recurring-invoices/${series.id}`);
    expectStatus(deleted, 204);
    expectProblem(await api.staff('GET', `/v1/recurring-invoices/${series.id}`), 404);
    expectProblem(await api.staff('DELETE', `/v1/recurring-invoices/${series.id}`), 404);
    expect((await api.staff('GET', `/v1/clients/${client.id}/recurring-invoices`)).body.data).toEqual([]);
    // The invoices already created stay.
    expect((await getInvoice(api, inv.id)).status).toBe('open');
  });

  it('rejects a bad recurring block', async () => {
    const client = await newClient(api);
    const res = await api.staff('POST', `/v1/clients/${client.id}/invoices`, {
      lines: [{ description: 'x', quantity: 1, unitAmount: 100 }],
      recurring: { term: 0, period: 'month' },
    });
    expectProblem(res, 400);
    expect(errorPaths(res)).toContain('recurring.term');
  });

  it('today in the company’s time zone is the default billing and due date', async () => {
    const client = await newClient(api);
    // 03:30 UTC on 5 May is still 4 May in New York, the seeded company's time zone.
    const restoreClock = setClock(() => new Date('2031-05-05T03:30:00.000Z'));
    try {
      const inv = await newInvoice(api, client.id, 100);
      expect(inv.dateBilled).toBe('2031-05-04');
      expect(inv.dateDue).toBe('2031-05-04');
    } finally {
      restoreClock();
    }
  });
});
