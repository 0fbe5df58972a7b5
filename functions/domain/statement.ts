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
  /**
   * On the lines of a transaction (its payment, its refunds, its void): whether its money was real (the
   * transaction's `livemode`; false through the simulated gateway). Invoice lines have none: an invoice moves no money.
   */
  livemode?: boolean;
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
    const { livemode } = t;
    events.push({
      date: t.date,
      type: 'payment',
      reference,
      description: `Payment (${t.method.replace('_', ' ')})`,
      amount: -t.amount,
      livemode,
      order: order++,
    });
    for (const r of t.refunds ?? [])
      events.push({ date: r.date, type: 'refund', reference, description: 'Refund', amount: r.amount, livemode, order: order++ });
    if (t.status === 'voided' && t.voidedOn)
      events.push({ date: t.voidedOn, type: 'void', reference, description: 'Payment voided', amount: t.amount, livemode, order: order++ });
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

/**
 * One statement line as stored (store/statements.ts), with `key`: the date, then the order `buildStatement` lists
 * lines of one day in (invoices before payments, by id; an object's own lines in the order they happened). Sorting
 * entries by key gives exactly the lines of `buildStatement`, so a statement can read only its period.
 */
export interface StatementEntry extends Omit<StatementLine, 'balance'> {
  currency: string;
  key: string;
}

const entryKey = (date: string, group: 0 | 1, id: string, n: number) => `${date}#${group}#${id}#${String(n).padStart(3, '0')}`;

/** An entry of a transaction (group 1 of its key), as opposed to one of an invoice (group 0). */
export const isTransactionEntryKey = (key: string): boolean => key.split('#')[1] === '1';

/** The lines an invoice puts on its client's statement in its present state (none while a draft). */
export function invoiceStatementEntries(inv: Invoice): StatementEntry[] {
  if (inv.status === 'draft') return [];
  const reference = inv.number !== null ? `#${inv.number}` : inv.id;
  const entries: StatementEntry[] = [
    {
      currency: inv.currency,
      key: entryKey(inv.dateBilled, 0, inv.id, 0),
      date: inv.dateBilled,
      type: 'invoice',
      reference,
      description: `Invoice ${reference}`,
      amount: inv.total,
    },
  ];
  if (inv.status === 'void' && inv.voidedOn)
    entries.push({
      currency: inv.currency,
      key: entryKey(inv.voidedOn, 0, inv.id, 1),
      date: inv.voidedOn,
      type: 'void',
      reference,
      description: `Invoice ${reference} voided`,
      amount: -inv.total,
    });
  return entries;
}

/** The lines a transaction puts on its client's statement in its present state (none while pending, declined or failed). */
export function transactionStatementEntries(t: Transaction): StatementEntry[] {
  if (t.status === 'pending' || t.status === 'declined' || t.status === 'failed') return [];
  const reference = t.reference ?? t.id;
  const at = (date: string, n: number) => ({ currency: t.currency, key: entryKey(date, 1, t.id, n), date, reference, livemode: t.livemode });
  const entries: StatementEntry[] = [{ ...at(t.date, 0), type: 'payment', description: `Payment (${t.method.replace('_', ' ')})`, amount: -t.amount }];
  for (const [i, r] of (t.refunds ?? []).entries()) entries.push({ ...at(r.date, i + 1), type: 'refund', description: 'Refund', amount: r.amount });
  if (t.status === 'voided' && t.voidedOn)
    entries.push({ ...at(t.voidedOn, (t.refunds ?? []).length + 1), type: 'void', description: 'Payment voided', amount: t.amount });
  return entries;
}

/** The entries `after` has and `before` had not: what a write adds to the statement (lines are never taken back). */
export function newStatementEntries(before: readonly StatementEntry[], after: readonly StatementEntry[]): StatementEntry[] {
  const had = new Set(before.map((e) => e.key));
  return after.filter((e) => !had.has(e.key));
}

/**
 * A statement from its opening balance (everything before `from`) and the entries of the period (any order): the
 * same lines, running balance and closing balance as `buildStatement` over the whole history.
 */
export function statementFromEntries(currency: string, from: string, to: string, openingBalance: number, entries: readonly StatementEntry[]): Statement {
  const sorted = entries.filter((e) => e.currency === currency && e.date >= from && e.date <= to).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let balance = openingBalance;
  const lines: StatementLine[] = sorted.map(({ date, type, reference, description, amount, livemode }) => {
    balance += amount;
    return { date, type, reference, description, amount, balance, ...(livemode === undefined ? {} : { livemode }) };
  });
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
