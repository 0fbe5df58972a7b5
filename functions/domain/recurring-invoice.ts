import { billingDate } from './automation.js';
import type { TaxRate } from './company.js';
import { addTerm, daysBetween, type Period } from './dates.js';
import { ValidationError } from './errors.js';
import type { InvoiceLine } from './invoice.js';
import { priceLines, type LineInput, type TaxedClient } from './invoice-pricing.js';

/** A line of a series: priced again, with the client's tax at that time, each time the series bills. */
export interface RecurringLine {
  description: string;
  /** Exactly as given: "1.5", "55/60", "-1". */
  quantity: string;
  unitAmount: number;
  taxable: boolean;
}

export interface RecurringInvoice {
  id: string;
  clientId: string;
  currency: string;
  lines: RecurringLine[];
  term: number;
  period: Period;
  /** Total number of invoices in the series; null = without end. */
  occurrences: number | null;
  /** Invoices created so far (the first is created with the series). */
  created: number;
  /** The billing date of the next invoice (the `created`-th, 0-based); null once the series is complete. */
  nextBillDate: string | null;
  /**
   * Where billing dates are counted from: the `anchorIndex`-th invoice bills on `anchorDate`, and each later one whole
   * terms after it (domain/automation.ts `billingDate`), so a month-end series never drifts. Moved to the next
   * invoice when the term or period changes.
   */
  anchorDate: string;
  anchorIndex: number;
  /** Days from billing to due date, as on the first invoice. */
  dueAfterDays: number;
  status: 'active' | 'completed';
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** How often a series bills: every `term` periods, `occurrences` times in all (null: until stopped). */
export interface Recurrence {
  term: number;
  period: Period;
  occurrences?: number | null;
}

export const RECURRENCE_PERIODS = ['day', 'week', 'month', 'year'] as const satisfies readonly Period[];
export const MAX_RECURRENCE_TERM = 1000;
export const MAX_OCCURRENCES = 10_000;

const wholeIn = (value: number, min: number, max: number) => Number.isInteger(value) && value >= min && value <= max;

/** Refuses a recurrence no schedule can follow; `path` prefixes the field names (`recurring.term`). */
export function assertRecurrence(recurrence: Partial<Recurrence>, path?: string): void {
  const field = (name: string) => (path ? `${path}.${name}` : name);
  if (recurrence.term !== undefined && !wholeIn(recurrence.term, 1, MAX_RECURRENCE_TERM))
    throw ValidationError.field(field('term'), `Must be a whole number from 1 to ${MAX_RECURRENCE_TERM}.`);
  if (recurrence.period !== undefined && !(RECURRENCE_PERIODS as readonly string[]).includes(recurrence.period))
    throw ValidationError.field(field('period'), `Must be one of ${RECURRENCE_PERIODS.join(', ')}.`);
  if (recurrence.occurrences != null && !wholeIn(recurrence.occurrences, 1, MAX_OCCURRENCES))
    throw ValidationError.field(field('occurrences'), `Must be a whole number from 1 to ${MAX_OCCURRENCES}.`);
}

/** The lines a series keeps from priced invoice lines: what was asked for, not what it cost then. */
export function seriesLines(lines: readonly InvoiceLine[]): RecurringLine[] {
  return lines.map((l) => ({ description: l.description, quantity: l.quantity, unitAmount: l.unitAmount, taxable: l.taxable }));
}

export interface NewSeries {
  id: string;
  clientId: string;
  currency: string;
  /** The first invoice's priced lines. */
  lines: readonly InvoiceLine[];
  recurrence: Recurrence;
  /** The first invoice's dates: the next bills one term later, due as many days after billing. */
  firstBilled: string;
  firstDue: string;
  /** ISO timestamp of the creation. */
  now: string;
}

/** A series started by its first invoice; with one occurrence it is complete at once. */
export function startSeries(n: NewSeries): RecurringInvoice {
  assertRecurrence(n.recurrence, 'recurring');
  const occurrences = n.recurrence.occurrences ?? null;
  const completed = occurrences === 1;
  return {
    id: n.id,
    clientId: n.clientId,
    currency: n.currency,
    lines: seriesLines(n.lines),
    term: n.recurrence.term,
    period: n.recurrence.period,
    occurrences,
    created: 1,
    nextBillDate: completed ? null : addTerm(n.firstBilled, n.recurrence.term, n.recurrence.period),
    anchorDate: n.firstBilled,
    anchorIndex: 0,
    dueAfterDays: daysBetween(n.firstBilled, n.firstDue),
    status: completed ? 'completed' : 'active',
    createdAt: n.now,
    updatedAt: n.now,
    version: 1,
  };
}

export interface SeriesChanges {
  /** New lines, with what to price them with: the company's tax rates and the client. */
  lines?: { given: readonly LineInput[]; taxRates: readonly TaxRate[]; client: TaxedClient };
  term?: number;
  period?: Period;
  /** null: without end. */
  occurrences?: number | null;
}

/**
 * The series with changes for the invoices not yet created. Fewer occurrences than invoices already created are
 * refused; as many completes the series; more makes a completed series active again, billing next where its schedule
 * would have (the `created`-th billing date, so the daily run catches up the dates since). A new term or period
 * applies from the next invoice, which keeps its date. New lines are priced now only to refuse what could never be
 * invoiced (an overflow, a negative total, too large an item); a series keeps the lines, not their prices.
 */
export function reviseSeries(current: RecurringInvoice, changes: SeriesChanges, now: string): RecurringInvoice {
  assertRecurrence({ term: changes.term, period: changes.period, occurrences: changes.occurrences });
  const occurrences = changes.occurrences !== undefined ? changes.occurrences : current.occurrences;
  if (occurrences !== null && occurrences < current.created)
    throw ValidationError.field('occurrences', `${current.created} invoices of this series exist already.`);
  const lines = changes.lines ? seriesLines(priceLines(changes.lines.taxRates, changes.lines.client, changes.lines.given).lines) : current.lines;
  const completed = occurrences !== null && current.created >= occurrences;
  // The date the next invoice bills on under the schedule so far (a completed series has none stored).
  const next = current.nextBillDate ?? billingDate(current, current.created);
  const term = changes.term ?? current.term;
  const period = changes.period ?? current.period;
  const rescheduled = term !== current.term || period !== current.period;
  return {
    ...current,
    lines,
    term,
    period,
    occurrences,
    status: completed ? 'completed' : 'active',
    nextBillDate: completed ? null : next,
    ...(rescheduled ? { anchorDate: next, anchorIndex: current.created } : {}),
    updatedAt: now,
    version: current.version + 1,
  };
}

/** The series once its next invoice is created: counted, and billing next one term later (or complete). */
export function advanceSeries(current: RecurringInvoice, now: string): RecurringInvoice {
  const created = current.created + 1;
  const completed = current.occurrences !== null && created >= current.occurrences;
  return {
    ...current,
    created,
    status: completed ? 'completed' : 'active',
    nextBillDate: completed ? null : billingDate(current, created),
    updatedAt: now,
    version: current.version + 1,
  };
}

/** The series as the API shows it. */
export function recurringInvoiceView(r: RecurringInvoice) {
  return {
    id: r.id,
    clientId: r.clientId,
    currency: r.currency,
    lines: r.lines,
    term: r.term,
    period: r.period,
    occurrences: r.occurrences,
    created: r.created,
    nextBillDate: r.nextBillDate,
    dueAfterDays: r.dueAfterDays,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    version: r.version,
  };
}
