import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  billingDate,
  inAutoDebitWindow,
  MAX_CATCH_UP,
  NOTICE_KINDS,
  noticeDay,
  noticeDue,
  noticeLead,
  seriesDatesDue,
  voidDue,
  type NoticeKind,
} from '../../functions/domain/automation.js';
import { addDays, addTerm, daysBetween } from '../../functions/domain/dates.js';
import type { PaymentDueNotices } from '../../functions/domain/settings.js';

const notices = (over: Partial<PaymentDueNotices> = {}): PaymentDueNotices => ({
  enabled: true,
  autoDebitPendingNoticeDays: -3,
  firstNoticeDays: 1,
  secondNoticeDays: 7,
  thirdNoticeDays: 14,
  ...over,
});

const dayValue = fc.oneof(fc.integer({ min: -30, max: 60 }), fc.constant('never' as const));
const noticesArb = fc.record({
  enabled: fc.boolean(),
  autoDebitPendingNoticeDays: dayValue,
  firstNoticeDays: dayValue,
  secondNoticeDays: dayValue,
  thirdNoticeDays: dayValue,
});
/** A date in 2027–2028, so month ends and a leap day are crossed. */
const dateArb = fc.integer({ min: 0, max: 700 }).map((n) => addDays('2027-01-01', n));

/** Runs the notice rule on each date of `runDates` (ascending), recording what was sent and what superseded. */
function simulate(n: PaymentDueNotices, dateDue: string, runDates: string[], autoDebitOn: boolean) {
  const done = new Set<NoticeKind>();
  const sent: Array<{ kind: NoticeKind; on: string }> = [];
  for (const date of runDates) {
    const plan = noticeDue(n, dateDue, date, { autoDebitOn, done });
    for (const kind of plan.supersede) done.add(kind);
    if (plan.send) {
      sent.push({ kind: plan.send, on: date });
      done.add(plan.send);
    }
  }
  return { sent, done };
}

describe('noticeDue', () => {
  it('sends each notice on its day when the run is daily', () => {
    const dates = Array.from({ length: 30 }, (_, i) => addDays('2027-03-01', i));
    const { sent } = simulate(notices(), '2027-03-10', dates, true);
    expect(sent).toEqual([
      { kind: 'auto_debit_pending', on: '2027-03-07' },
      { kind: 'late_notice_first', on: '2027-03-11' },
      { kind: 'late_notice_second', on: '2027-03-17' },
      { kind: 'late_notice_third', on: '2027-03-24' },
    ]);
  });

  it('catches up with only the latest notice whose day passed, and marks the earlier ones', () => {
    const plan = noticeDue(notices(), '2027-03-10', '2027-03-20', { autoDebitOn: true, done: new Set() });
    expect(plan).toEqual({ send: 'late_notice_second', supersede: ['auto_debit_pending', 'late_notice_first'] });
    const after = noticeDue(notices(), '2027-03-10', '2027-03-20', {
      autoDebitOn: true,
      done: new Set(['auto_debit_pending', 'late_notice_first', 'late_notice_second']),
    });
    expect(after).toEqual({ send: null, supersede: [] });
  });

  it('leaves the auto-debit pending notice out for a client without auto-debit', () => {
    expect(noticeDue(notices(), '2027-03-10', '2027-03-08', { autoDebitOn: false, done: new Set() }).send).toBeNull();
    expect(noticeDue(notices(), '2027-03-10', '2027-03-08', { autoDebitOn: true, done: new Set() }).send).toBe('auto_debit_pending');
  });

  it('sends nothing when notices are disabled or a kind is never', () => {
    expect(noticeDue(notices({ enabled: false }), '2027-03-10', '2027-05-01', { autoDebitOn: true, done: new Set() })).toEqual({ send: null, supersede: [] });
    const plan = noticeDue(notices({ thirdNoticeDays: 'never' }), '2027-03-10', '2027-05-01', { autoDebitOn: false, done: new Set() });
    expect(plan).toEqual({ send: 'late_notice_second', supersede: ['late_notice_first'] });
  });

  it('on any calendar with skipped days: each kind at most once, in day order, never before its day, never an earlier kind after a later one', () => {
    fc.assert(
      fc.property(noticesArb, dateArb, fc.array(fc.integer({ min: -40, max: 80 }), { maxLength: 40 }), fc.boolean(), (n, dateDue, offsets, autoDebitOn) => {
        const runDates = [...new Set(offsets.map((o) => addDays(dateDue, o)))].sort();
        const { sent } = simulate(n, dateDue, runDates, autoDebitOn);
        const kinds = sent.map((s) => s.kind);
        expect(new Set(kinds).size).toBe(kinds.length);
        for (const s of sent) {
          const day = noticeDay(n, s.kind, dateDue);
          expect(day).not.toBeNull();
          expect(day! <= s.on).toBe(true);
          if (s.kind === 'auto_debit_pending') expect(autoDebitOn).toBe(true);
        }
        const days = sent.map((s) => noticeDay(n, s.kind, dateDue)!);
        expect([...days].sort()).toEqual(days);
        // A run on the last date sends nothing more: the latest due kind is done.
        if (runDates.length) {
          const last = runDates[runDates.length - 1];
          const { done } = simulate(n, dateDue, runDates, autoDebitOn);
          expect(noticeDue(n, dateDue, last, { autoDebitOn, done }).send).toBeNull();
        }
      }),
    );
  });

  it('a daily run sends every applicable kind, each on its own day (ties: the later kind)', () => {
    fc.assert(
      fc.property(noticesArb, dateArb, (n, dateDue) => {
        const runDates = Array.from({ length: 100 }, (_, i) => addDays(dateDue, i - 35));
        const { sent } = simulate(n, dateDue, runDates, true);
        const expected = NOTICE_KINDS.filter((k) => noticeDay(n, k, dateDue) !== null);
        const days = new Map(expected.map((k) => [k, noticeDay(n, k, dateDue)!]));
        // Of kinds sharing a day, only the last in NOTICE_KINDS goes.
        const winners = expected.filter((k) => !expected.some((o) => NOTICE_KINDS.indexOf(o) > NOTICE_KINDS.indexOf(k) && days.get(o) === days.get(k)));
        expect(sent.map((s) => s.kind).sort()).toEqual([...winners].sort());
        for (const s of sent) expect(s.on).toBe(days.get(s.kind));
      }),
    );
  });
});

describe('noticeLead', () => {
  it('is how many days before due the earliest notice goes, never when none is sent', () => {
    expect(noticeLead(notices({ autoDebitPendingNoticeDays: -3 }))).toBe(3);
    expect(noticeLead(notices({ autoDebitPendingNoticeDays: 'never' }))).toBe(-1);
    expect(noticeLead(notices({ enabled: false }))).toBe('never');
  });

  it('covers every invoice some notice is due for', () => {
    fc.assert(
      fc.property(noticesArb, dateArb, dateArb, (n, dateDue, date) => {
        const lead = noticeLead(n);
        const plan = noticeDue(n, dateDue, date, { autoDebitOn: true, done: new Set() });
        if (plan.send) expect(lead !== 'never' && dateDue <= addDays(date, lead)).toBe(true);
      }),
    );
  });
});

describe('auto-debit window and voids', () => {
  it('takes invoices due up to N days ahead', () => {
    expect(inAutoDebitWindow('2027-03-10', '2027-03-07', 3)).toBe(true);
    expect(inAutoDebitWindow('2027-03-11', '2027-03-07', 3)).toBe(false);
    expect(inAutoDebitWindow('2027-01-01', '2027-03-07', 0)).toBe(true);
  });

  it('voids N days after due, never with never', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 0, max: 400 }), fc.integer({ min: -50, max: 500 }), (dateDue, days, offset) => {
        const date = addDays(dateDue, offset);
        expect(voidDue(dateDue, date, days)).toBe(offset >= days);
        expect(voidDue(dateDue, date, 'never')).toBe(false);
      }),
    );
  });
});

describe('seriesDatesDue', () => {
  const monthly = { anchorDate: '2027-01-31', anchorIndex: 0, term: 1, period: 'month' as const, created: 1, occurrences: null };

  it('counts terms from the anchor, so a month-end series keeps its day', () => {
    expect([1, 2, 3, 4].map((i) => billingDate(monthly, i))).toEqual(['2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31']);
  });

  it('gives one date per missed term, up to the renewal horizon and the occurrences', () => {
    expect(seriesDatesDue(monthly, '2027-05-01', 0)).toEqual(['2027-02-28', '2027-03-31', '2027-04-30']);
    expect(seriesDatesDue(monthly, '2027-05-01', 30)).toEqual(['2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31']);
    expect(seriesDatesDue({ ...monthly, occurrences: 3 }, '2027-12-01', 0)).toEqual(['2027-02-28', '2027-03-31']);
    expect(seriesDatesDue({ ...monthly, occurrences: 1 }, '2027-12-01', 0)).toEqual([]);
    expect(seriesDatesDue(monthly, '2027-02-01', 0)).toEqual([]);
  });

  it('never invoices a date twice over runs on any calendar, and a daily run invoices every date once', () => {
    fc.assert(
      fc.property(
        dateArb,
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom('day' as const, 'week' as const, 'month' as const, 'year' as const),
        fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 20 }),
        (anchorDate, term, period, occurrences, before, offsets) => {
          let series = { anchorDate, anchorIndex: 0, term, period, created: 1, occurrences };
          const invoiced: string[] = [anchorDate];
          for (const date of [...new Set(offsets.map((o) => addDays(anchorDate, o)))].sort()) {
            const due = seriesDatesDue(series, date, before);
            for (const d of due) expect(d <= addDays(date, before)).toBe(true);
            invoiced.push(...due);
            series = { ...series, created: series.created + due.length };
          }
          expect(new Set(invoiced).size).toBe(invoiced.length);
          expect(invoiced).toEqual(invoiced.map((_, i) => addTerm(anchorDate, i * term, period)));
          if (occurrences !== null) expect(invoiced.length).toBeLessThanOrEqual(occurrences);
          expect(daysBetween(anchorDate, invoiced[invoiced.length - 1])).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });

  it('stops at the catch-up limit', () => {
    const daily = { anchorDate: '2027-01-01', anchorIndex: 0, term: 1, period: 'day' as const, created: 1, occurrences: null };
    expect(seriesDatesDue(daily, '2028-01-01', 0)).toHaveLength(MAX_CATCH_UP);
  });
});
