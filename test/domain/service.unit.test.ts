import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, addTerm, daysBetween, type Period } from '../../functions/domain/dates.js';
import { ConflictError } from '../../functions/domain/errors.js';
import {
  changeStatus,
  isPastDue,
  nextInvoiceDate,
  periodStart,
  periodsDue,
  renewDate,
  serviceLines,
  suspensionDue,
  type Service,
} from '../../functions/domain/service.js';

const service = (fields: Partial<Service> = {}): Service => ({
  id: 'svc_1',
  clientId: 'cl_1',
  packageId: 'pkg_1',
  packageName: 'Hosting',
  pricing: { id: 'prc_1', term: 1, period: 'month', price: 1000, setupFee: 0, currency: 'USD' },
  quantity: '1',
  status: 'active',
  suspendedBy: null,
  suspendedOn: null,
  canceledOn: null,
  startDate: '2030-01-31',
  periodsInvoiced: 1,
  paidPeriods: [],
  createdAt: 'T',
  updatedAt: 'T',
  version: 1,
  ...fields,
});

const dateArb = fc.date({ min: new Date('2000-01-01'), max: new Date('2090-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const periodArb = fc.constantFrom<Period>('day', 'week', 'month', 'year');

describe('service periods', () => {
  it('run from the start date without month-end drift', () => {
    const s = service();
    expect([0, 1, 2, 3].map((i) => periodStart(s, i))).toEqual(['2030-01-31', '2030-02-28', '2030-03-31', '2030-04-30']);
  });

  it('are increasing, and period i is the start plus i terms (property)', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 1, max: 24 }), periodArb, fc.integer({ min: 0, max: 40 }), (start, term, period, i) => {
        const s = service({ startDate: start, pricing: { ...service().pricing, term, period } });
        expect(periodStart(s, i)).toBe(addTerm(start, term * i, period));
        expect(periodStart(s, i + 1) > periodStart(s, i)).toBe(true);
        // A period is never longer than its term's longest calendar length.
        const longest = { day: term, week: 7 * term, month: 31 * term, year: 366 * term }[period];
        expect(daysBetween(periodStart(s, i), periodStart(s, i + 1))).toBeLessThanOrEqual(longest);
      }),
    );
  });

  it('renewDate is start + term until a renewal is paid, then moves one term per contiguous paid period', () => {
    const s = service();
    expect(renewDate(s)).toBe('2030-02-28');
    expect(renewDate({ ...s, paidPeriods: ['2030-01-31'] })).toBe('2030-02-28');
    expect(renewDate({ ...s, paidPeriods: ['2030-02-28'] })).toBe('2030-03-31');
    // A later period paid before an earlier one does not move it past the unpaid one.
    expect(renewDate({ ...s, paidPeriods: ['2030-03-31'] })).toBe('2030-02-28');
    expect(renewDate({ ...s, paidPeriods: ['2030-02-28', '2030-03-31'] })).toBe('2030-04-30');
    expect(renewDate({ ...s, periodsInvoiced: 0 })).toBeNull();
    expect(renewDate({ ...s, pricing: { ...s.pricing, period: 'onetime' } })).toBeNull();
  });

  it('paying k renewals advances renewDate by exactly k terms from the start (property)', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 1, max: 12 }), periodArb, fc.integer({ min: 0, max: 30 }), (start, term, period, k) => {
        const base = service({ startDate: start, pricing: { ...service().pricing, term, period } });
        const paid = Array.from({ length: k }, (_, i) => periodStart(base, i + 1));
        expect(renewDate({ ...base, paidPeriods: paid })).toBe(addTerm(start, term * (k + 1), period));
      }),
    );
  });

  it('periodsDue catches up one period per missed term, up to the days-before horizon', () => {
    const s = service({ startDate: '2030-01-15' });
    expect(periodsDue(s, '2030-02-10', 0)).toEqual([]);
    expect(periodsDue(s, '2030-02-10', 5)).toEqual([1]);
    expect(periodsDue(s, '2030-04-20', 0)).toEqual([1, 2, 3]);
    expect(periodsDue({ ...s, periodsInvoiced: 3 }, '2030-04-20', 0)).toEqual([3]);
    expect(periodsDue({ ...s, status: 'canceled' }, '2030-04-20', 0)).toEqual([]);
    expect(periodsDue({ ...s, status: 'pending', periodsInvoiced: 0 }, '2030-04-20', 0)).toEqual([]);
    expect(periodsDue(s, '2040-01-01', 0, 5)).toHaveLength(5);
  });

  it('every due period starts within the horizon and the next one after it (property)', () => {
    fc.assert(
      fc.property(dateArb, periodArb, fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 30 }), (start, period, runOffset, daysBefore) => {
        const s = service({ startDate: start, pricing: { ...service().pricing, period } });
        const run = addDays(start, runOffset);
        const due = periodsDue(s, run, daysBefore, 1000);
        const horizon = addDays(run, daysBefore);
        for (const i of due) expect(periodStart(s, i) <= horizon).toBe(true);
        expect(periodStart(s, (due.at(-1) ?? 0) + 1) > horizon).toBe(true);
      }),
    );
  });

  it('nextInvoiceDate exists only for services that can renew', () => {
    expect(nextInvoiceDate(service())).toBe('2030-02-28');
    expect(nextInvoiceDate(service({ status: 'suspended' }))).toBe('2030-02-28');
    expect(nextInvoiceDate(service({ status: 'canceled' }))).toBeNull();
    expect(nextInvoiceDate(service({ status: 'pending', periodsInvoiced: 0 }))).toBeNull();
    expect(nextInvoiceDate(service({ pricing: { ...service().pricing, period: 'onetime' } }))).toBeNull();
  });

  it('lines: the first term carries the setup fee, renewals do not', () => {
    const s = service({ quantity: '3/2', pricing: { ...service().pricing, setupFee: 500 } });
    expect(serviceLines(s, 0)).toEqual([
      { description: 'Hosting (2030-01-31 to 2030-02-27)', quantity: '3/2', unitAmount: 1000 },
      { description: 'Hosting setup fee', quantity: 1, unitAmount: 500 },
    ]);
    expect(serviceLines(s, 1)).toEqual([{ description: 'Hosting (2030-02-28 to 2030-03-30)', quantity: '3/2', unitAmount: 1000 }]);
  });
});

describe('service status changes', () => {
  const opts = { today: '2030-02-01', now: 'T2' };
  it('suspend, unsuspend, cancel and activate follow the allowed transitions', () => {
    const suspended = changeStatus(service(), 'suspend', opts);
    expect(suspended).toMatchObject({ status: 'suspended', suspendedBy: 'staff', suspendedOn: '2030-02-01', version: 2 });
    expect(changeStatus(service(), 'suspend', { ...opts, by: 'automation' }).suspendedBy).toBe('automation');
    expect(changeStatus(suspended, 'unsuspend', opts)).toMatchObject({ status: 'active', suspendedBy: null, suspendedOn: null });
    expect(changeStatus(suspended, 'cancel', opts)).toMatchObject({ status: 'canceled', suspendedBy: null, canceledOn: '2030-02-01' });
    expect(changeStatus(service({ status: 'pending' }), 'activate', opts).status).toBe('active');
  });

  it('staff may take over a suspension the automation made; the automation may not suspend twice', () => {
    const byAutomation = service({ status: 'suspended', suspendedBy: 'automation', suspendedOn: '2030-01-20' });
    expect(changeStatus(byAutomation, 'suspend', opts)).toMatchObject({ status: 'suspended', suspendedBy: 'staff', suspendedOn: '2030-02-01' });
    expect(() => changeStatus(byAutomation, 'suspend', { ...opts, by: 'automation' })).toThrow(ConflictError);
    expect(() => changeStatus(service({ status: 'suspended', suspendedBy: 'staff' }), 'suspend', opts)).toThrow(ConflictError);
  });

  it('refuses every other transition with a 409-kind error', () => {
    const refused: Array<[Service['status'], Parameters<typeof changeStatus>[1]]> = [
      ['canceled', 'cancel'],
      ['canceled', 'suspend'],
      ['canceled', 'unsuspend'],
      ['canceled', 'activate'],
      ['active', 'unsuspend'],
      ['active', 'activate'],
      ['suspended', 'suspend'],
      ['pending', 'suspend'],
      ['pending', 'unsuspend'],
    ];
    for (const [status, action] of refused) {
      expect(() => changeStatus(service({ status }), action, opts), `${action} on ${status}`).toThrow(ConflictError);
    }
  });
});

describe('suspension rule', () => {
  it('suspends once the invoice is past due and the days after due have come; never is off', () => {
    expect(suspensionDue('2030-01-10', '2030-01-10', 0)).toBe(false);
    expect(suspensionDue('2030-01-10', '2030-01-11', 0)).toBe(true);
    expect(suspensionDue('2030-01-10', '2030-01-14', 5)).toBe(false);
    expect(suspensionDue('2030-01-10', '2030-01-15', 5)).toBe(true);
    expect(suspensionDue('2030-01-10', '2031-01-15', 'never')).toBe(false);
  });

  it('whenever a suspension is due the invoice is past due (property): the automation never lifts what it just did', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 0, max: 60 }), fc.integer({ min: -30, max: 90 }), (due, days, offset) => {
        const date = addDays(due, offset);
        if (suspensionDue(due, date, days)) expect(isPastDue({ status: 'open', dateDue: due }, date)).toBe(true);
        expect(suspensionDue(due, date, days)).toBe(offset >= Math.max(days, 1));
      }),
    );
  });
});
