import { addDays, addTerm, type Period } from './dates.js';
import type { PaymentDueNotices } from './settings.js';

/**
 * The date rules of the daily run's billing tasks, pure so they can be checked over any calendar. Every date is a
 * company-local `YYYY-MM-DD` string, compared as text (the format sorts like the calendar).
 */

/** The notice templates of `paymentDueNotices`, in the order their settings are listed. */
export const NOTICE_KINDS = ['auto_debit_pending', 'late_notice_first', 'late_notice_second', 'late_notice_third'] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

const NOTICE_DAYS: Record<NoticeKind, keyof Omit<PaymentDueNotices, 'enabled'>> = {
  auto_debit_pending: 'autoDebitPendingNoticeDays',
  late_notice_first: 'firstNoticeDays',
  late_notice_second: 'secondNoticeDays',
  late_notice_third: 'thirdNoticeDays',
};

/** The day a notice kind falls on for an invoice due on `dateDue`, or null when that kind is off. */
export function noticeDay(notices: PaymentDueNotices, kind: NoticeKind, dateDue: string): string | null {
  const days = notices[NOTICE_DAYS[kind]];
  return !notices.enabled || days === 'never' ? null : addDays(dateDue, days);
}

/** The kinds that apply to an invoice: the auto-debit pending notice only while its client is auto-debited. */
export function applicableNoticeKinds(notices: PaymentDueNotices, autoDebitOn: boolean): NoticeKind[] {
  if (!notices.enabled) return [];
  return NOTICE_KINDS.filter((kind) => notices[NOTICE_DAYS[kind]] !== 'never' && (kind !== 'auto_debit_pending' || autoDebitOn));
}

export interface NoticePlan {
  /** The one notice to send now (the latest whose day has come and that was not sent), or null. */
  send: NoticeKind | null;
  /** Earlier kinds whose day passed unsent: marked done without mail, so they never go out late. */
  supersede: NoticeKind[];
}

/**
 * Which notice of an invoice is due on `date`, with catch-up: of the applicable kinds whose day is on or before
 * `date`, only the latest is sent, and the others not yet done are superseded. A kind already done (sent or
 * superseded) is never sent again; once the latest due kind is done, nothing earlier is sent either. Ties on the same
 * day go to the later kind in `NOTICE_KINDS` (a third notice over a second).
 */
export function noticeDue(
  notices: PaymentDueNotices,
  dateDue: string,
  date: string,
  options: { autoDebitOn: boolean; done: ReadonlySet<NoticeKind> },
): NoticePlan {
  const due = applicableNoticeKinds(notices, options.autoDebitOn)
    .map((kind, order) => ({ kind, order, day: noticeDay(notices, kind, dateDue) as string }))
    .filter((n) => n.day <= date)
    .sort((a, b) => (a.day === b.day ? a.order - b.order : a.day < b.day ? -1 : 1))
    .map((n) => n.kind);
  if (!due.length) return { send: null, supersede: [] };
  const latest = due[due.length - 1];
  const supersede = due.slice(0, -1).filter((kind) => !options.done.has(kind));
  return { send: options.done.has(latest) ? null : latest, supersede };
}

/**
 * How many days before its due date an invoice may get a notice under these settings (the largest of the negated
 * offsets; negative when every notice is after due), or `'never'` when none is sent. A run reads open invoices due up
 * to `date + noticeLead` (the widest over the company's groups).
 */
export function noticeLead(notices: PaymentDueNotices): number | 'never' {
  const offsets = notices.enabled ? NOTICE_KINDS.map((k) => notices[NOTICE_DAYS[k]]).filter((d): d is number => d !== 'never') : [];
  return offsets.length ? -Math.min(...offsets) : 'never';
}

/** Whether an open invoice is in the auto-debit window on `date`: due on or before `date + autoDebitDaysBeforeDue`. */
export function inAutoDebitWindow(dateDue: string, date: string, autoDebitDaysBeforeDue: number): boolean {
  return dateDue <= addDays(date, autoDebitDaysBeforeDue);
}

/** Whether an open invoice is to be voided on `date`: `voidInvoicesDaysAfterDue` days after its due date have come. */
export function voidDue(dateDue: string, date: string, voidInvoicesDaysAfterDue: number | 'never'): boolean {
  return voidInvoicesDaysAfterDue !== 'never' && addDays(dateDue, voidInvoicesDaysAfterDue) <= date;
}

/** Where a series' billing dates are counted from: the `index`-th invoice (0 = the first) billed on `date`. */
export interface BillingAnchor {
  anchorDate: string;
  anchorIndex: number;
}

/**
 * The billing date of a series' `index`-th invoice (0-based): whole terms from the anchor, so a month-end start
 * keeps its day (Jan 31, Feb 28, Mar 31) instead of drifting to the shortest month's.
 */
export function billingDate(series: BillingAnchor & { term: number; period: Period }, index: number): string {
  return addTerm(series.anchorDate, (index - series.anchorIndex) * series.term, series.period);
}

/** Most invoices one series gets in one run: a safety net against a schedule gone wrong; the next run goes on. */
export const MAX_CATCH_UP = 120;

/**
 * The billing dates of a series to invoice on `date`: each not yet invoiced (`created` onwards) whose date is on or
 * before `date + invoiceDaysBeforeRenewal`, up to `occurrences` (null: without end), at most `MAX_CATCH_UP`.
 */
export function seriesDatesDue(
  series: BillingAnchor & { term: number; period: Period; created: number; occurrences: number | null },
  date: string,
  invoiceDaysBeforeRenewal: number,
): string[] {
  const horizon = addDays(date, invoiceDaysBeforeRenewal);
  const dates: string[] = [];
  for (let index = series.created; series.occurrences === null || index < series.occurrences; index++) {
    const day = billingDate(series, index);
    if (day > horizon || dates.length >= MAX_CATCH_UP) break;
    dates.push(day);
  }
  return dates;
}
