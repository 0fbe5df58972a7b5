import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaxRate } from '../../functions/domain/company.js';
import { addTerm, daysBetween, type Period } from '../../functions/domain/dates.js';
import { ValidationError } from '../../functions/domain/errors.js';
import type { InvoiceLine } from '../../functions/domain/invoice.js';
import {
  advanceSeries,
  recurringInvoiceView,
  reviseSeries,
  startSeries,
  type NewSeries,
  type RecurringInvoice,
} from '../../functions/domain/recurring-invoice.js';

const pricedLines: InvoiceLine[] = [
  { id: 'li_1', description: 'Monthly retainer', quantity: '55/60', unitAmount: 9000, amount: 8250, taxable: true, tax: 1650 },
];

const start = (overrides: Partial<NewSeries> = {}): RecurringInvoice =>
  startSeries({
    id: 'rinv_1',
    clientId: 'cl_1',
    currency: 'USD',
    lines: pricedLines,
    recurrence: { term: 1, period: 'month', occurrences: 3 },
    firstBilled: '2030-01-31',
    firstDue: '2030-02-10',
    now: '2030-01-31T12:00:00.000Z',
    ...overrides,
  });

const untaxed = { taxRates: [] as TaxRate[], client: { country: null, state: null, taxExempt: true } };
const NOW = '2030-02-01T00:00:00.000Z';

function fieldPaths(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors.map((e) => e.path);
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('startSeries', () => {
  it('keeps the lines as asked (not their prices), counts the first invoice, and bills next one term later', () => {
    const series = start();
    expect(series).toMatchObject({ created: 1, status: 'active', occurrences: 3, nextBillDate: '2030-02-28', dueAfterDays: 10, version: 1 });
    expect(series.lines).toEqual([{ description: 'Monthly retainer', quantity: '55/60', unitAmount: 9000, taxable: true }]);
  });

  it('the next billing date is the first plus one term, and the due gap is the first invoice’s', () => {
    const period = fc.constantFrom<Period>('day', 'week', 'month', 'year');
    const date = fc
      .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
    fc.assert(
      fc.property(date, fc.integer({ min: 0, max: 90 }), fc.integer({ min: 1, max: 1000 }), period, (billed, gap, term, per) => {
        const due = new Date(Date.parse(`${billed}T00:00:00Z`) + gap * 86_400_000).toISOString().slice(0, 10);
        const series = start({ firstBilled: billed, firstDue: due, recurrence: { term, period: per } });
        expect(series.nextBillDate).toBe(addTerm(billed, term, per));
        expect(series.nextBillDate! > billed).toBe(true);
        expect(series.dueAfterDays).toBe(gap);
        expect(series.occurrences).toBeNull();
      }),
    );
  });

  it('keeps the day of the month where the month has it, else its last day', () => {
    expect(start({ firstBilled: '2030-01-31', recurrence: { term: 1, period: 'month' } }).nextBillDate).toBe('2030-02-28');
    expect(start({ firstBilled: '2032-01-31', recurrence: { term: 1, period: 'month' } }).nextBillDate).toBe('2032-02-29');
    expect(start({ firstBilled: '2030-01-15', recurrence: { term: 2, period: 'week' } }).nextBillDate).toBe('2030-01-29');
    expect(daysBetween('2030-01-31', start().nextBillDate!)).toBe(28);
  });

  it('is complete at once, with no next date, when it has one occurrence', () => {
    expect(start({ recurrence: { term: 1, period: 'month', occurrences: 1 } })).toMatchObject({ status: 'completed', nextBillDate: null, created: 1 });
  });

  it('refuses a recurrence no schedule can follow, naming the recurring field', () => {
    expect(fieldPaths(() => start({ recurrence: { term: 0, period: 'month' } }))).toEqual(['recurring.term']);
    expect(fieldPaths(() => start({ recurrence: { term: 1.5, period: 'month' } }))).toEqual(['recurring.term']);
    expect(fieldPaths(() => start({ recurrence: { term: 1, period: 'fortnight' as Period } }))).toEqual(['recurring.period']);
    expect(fieldPaths(() => start({ recurrence: { term: 1, period: 'day', occurrences: 0 } }))).toEqual(['recurring.occurrences']);
  });
});

describe('reviseSeries', () => {
  it('changes term, period and occurrences for invoices not yet created, keeping the next billing date', () => {
    const revised = reviseSeries(start(), { term: 2, period: 'week', occurrences: 6 }, NOW);
    expect(revised).toMatchObject({ term: 2, period: 'week', occurrences: 6, status: 'active', nextBillDate: '2030-02-28', version: 2, updatedAt: NOW });
  });

  it('refuses fewer occurrences than invoices created; as many completes the series', () => {
    const series = { ...start(), created: 2 };
    expect(fieldPaths(() => reviseSeries(series, { occurrences: 1 }, NOW))).toEqual(['occurrences']);
    expect(reviseSeries(series, { occurrences: 2 }, NOW)).toMatchObject({ status: 'completed', nextBillDate: null });
    expect(reviseSeries(series, { occurrences: null }, NOW)).toMatchObject({ status: 'active', occurrences: null, nextBillDate: '2030-02-28' });
  });

  it('makes a completed series active again when occurrences are raised, billing next on its schedule', () => {
    // Started Jan 31, three occurrences, all three created: complete, out of the renewal index.
    const done = advanceSeries(advanceSeries(start(), NOW), NOW);
    expect(done).toMatchObject({ created: 3, status: 'completed', nextBillDate: null });
    const raised = reviseSeries(done, { occurrences: 5 }, NOW);
    expect(raised).toMatchObject({ status: 'active', occurrences: 5, nextBillDate: '2030-04-30' });
    expect(advanceSeries(raised, NOW)).toMatchObject({ created: 4, status: 'active', nextBillDate: '2030-05-31' });
    expect(reviseSeries(done, { occurrences: null }, NOW)).toMatchObject({ status: 'active', nextBillDate: '2030-04-30' });
  });

  it('a new term applies from the next invoice, which keeps its date', () => {
    const revised = reviseSeries(start({ recurrence: { term: 1, period: 'month', occurrences: null } }), { term: 2, period: 'week' }, NOW);
    expect(revised).toMatchObject({ nextBillDate: '2030-02-28', anchorDate: '2030-02-28', anchorIndex: 1 });
    expect(advanceSeries(revised, NOW).nextBillDate).toBe('2030-03-14');
  });

  it('advancing counts each invoice from the anchor, so a month-end series keeps its day, and completes at occurrences', () => {
    const dates: (string | null)[] = [];
    let series = start({ recurrence: { term: 1, period: 'month', occurrences: 4 } });
    while (series.status === 'active') {
      dates.push(series.nextBillDate);
      series = advanceSeries(series, NOW);
    }
    expect(dates).toEqual(['2030-02-28', '2030-03-31', '2030-04-30']);
    expect(series).toMatchObject({ created: 4, nextBillDate: null, status: 'completed' });
  });

  it('keeps new lines as given once they price, and refuses lines that could never be invoiced', () => {
    const revised = reviseSeries(start(), { lines: { given: [{ description: 'Half', quantity: '1/2', unitAmount: 100 }], ...untaxed } }, NOW);
    expect(revised.lines).toEqual([{ description: 'Half', quantity: '1/2', unitAmount: 100, taxable: true }]);
    expect(
      fieldPaths(() => reviseSeries(start(), { lines: { given: [{ description: 'Only a discount', quantity: -1, unitAmount: 100 }], ...untaxed } }, NOW)),
    ).toEqual(['lines']);
    expect(fieldPaths(() => reviseSeries(start(), { lines: { given: [{ description: 'Big', quantity: 1e9, unitAmount: 1e12 }], ...untaxed } }, NOW))).toEqual([
      'lines.0.unitAmount',
    ]);
  });
});

describe('recurringInvoiceView', () => {
  it('shows every field of the series but its internal billing anchor', () => {
    const { anchorDate: _date, anchorIndex: _index, ...shown } = start();
    expect(recurringInvoiceView(start())).toEqual(shown);
  });
});
