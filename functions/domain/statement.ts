import { addDays } from './dates.js';
import { ValidationError } from './errors.js';
import type { Invoice, Transaction } from './invoice.js';

export type StatementLineType = 'invoice' | 'payment' | 'refund' | 'void' | 'credit';

export interface StatementLine {
  date: string;
  type: StatementLineType;
  reference: string;
  description: string;
  amount: number;
  balance: number;
}

export interface Statement {
  currency: string;
  from: string;
  to: string;
  openingBalance: number;
  lines: StatementLine[];
  closingBalance: number;
}

type Event = Omit<StatementLine, 'balance'> & { order: number };

/**
 * What the client owes over time, in one currency: invoices add, payments subtract, refunds add back, a voided
 * invoice subtracts its total and a voided payment adds its amount back. Drafts, declined and failed attempts are
 * not on a statement. Pure: the caller loads the client's invoices and transactions.
 */
export function buildStatement(currency: string, from: string, to: string, invoices: Iterable<Invoice>, transactions: Iterable<Transaction>): Statement {
  const events: Event[] = [];
  let order = 0;
  for (const inv of invoices) {
    if (inv.currency !== currency || inv.status === 'draft') continue;
    const reference = inv.number !== null ? `#${inv.number}` : inv.id;
    events.push({ date: inv.dateBilled, type: 'invoice', reference, description: `Invoice ${reference}`, amount: inv.total, order: order++ });
    if (inv.status === 'void' && inv.voidedOn)
      events.push({ date: inv.voidedOn, type: 'void', reference, description: `Invoice ${reference} voided`, amount: -inv.total, order: order++ });
  }
  for (const t of transactions) {
    if (t.currency !== currency || t.status === 'pending' || t.status === 'declined' || t.status === 'failed') continue;
    const reference = t.reference ?? t.id;
    events.push({ date: t.date, type: 'payment', reference, description: `Payment (${t.method.replace('_', ' ')})`, amount: -t.amount, order: order++ });
    for (const r of t.refunds ?? []) events.push({ date: r.date, type: 'refund', reference, description: 'Refund', amount: r.amount, order: order++ });
    if (t.status === 'voided' && t.voidedOn)
      events.push({ date: t.voidedOn, type: 'void', reference, description: 'Payment voided', amount: t.amount, order: order++ });
  }
  events.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.order - b.order));
  let balance = 0;
  const lines: StatementLine[] = [];
  for (const { order: _order, ...event } of events) {
    void _order;
    if (event.date > to) break;
    balance += event.amount;
    if (event.date >= from) lines.push({ ...event, balance });
  }
  const openingBalance = lines.length ? lines[0].balance - lines[0].amount : balance;
  return { currency, from, to, openingBalance, lines, closingBalance: balance };
}

/** The default period: the last 30 days up to today. */
export function defaultPeriod(today: string): { from: string; to: string } {
  return { from: addDays(today, -29), to: today };
}

/**
 * The period of a statement: the last 30 days up to today unless given; a `to` alone before that default start
 * makes a one-day period, and `from` may not come after `to`.
 */
export function statementPeriod(today: string, requested: { from?: string; to?: string }): { from: string; to: string } {
  const period = defaultPeriod(today);
  const from = requested.from ?? (requested.to && requested.to < period.from ? requested.to : period.from);
  const to = requested.to ?? period.to;
  if (from > to) throw ValidationError.field('from', 'from must not be after to.');
  return { from, to };
}
