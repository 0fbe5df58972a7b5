import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/domain/errors.js';
import type { Invoice, Transaction } from '../../functions/domain/invoice.js';
import {
  buildStatement,
  invoiceStatementEntries,
  newStatementEntries,
  statementFromEntries,
  statementPeriod,
  transactionStatementEntries,
  type StatementEntry,
} from '../../functions/domain/statement.js';

const invoice = (id: string, fields: Partial<Invoice>): Invoice => ({
  id,
  clientId: 'cl_1',
  number: null,
  currency: 'USD',
  status: 'open',
  dateBilled: '2030-01-01',
  dateDue: '2030-01-01',
  lines: [],
  taxRate: null,
  subtotal: 0,
  tax: 0,
  total: 0,
  paid: 0,
  due: 0,
  recurringInvoiceId: null,
  servicePeriods: [],
  voidedOn: null,
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  version: 1,
  ...fields,
});

const payment = (id: string, fields: Partial<Transaction>): Transaction => ({
  id,
  clientId: 'cl_1',
  kind: 'offline',
  method: 'check',
  currency: 'USD',
  amount: 0,
  status: 'succeeded',
  applications: [],
  credit: 0,
  refunded: 0,
  date: '2030-01-01',
  paymentAccountId: null,
  reference: null,
  gatewayReference: null,
  livemode: false,
  declineCode: null,
  failureMessage: null,
  refunds: [],
  voidedOn: null,
  createdAt: '2030-01-01T00:00:00.000Z',
  updatedAt: '2030-01-01T00:00:00.000Z',
  version: 1,
  ...fields,
});

describe('buildStatement', () => {
  it('adds invoices, subtracts payments and voided invoices, adds back refunds and voided payments, in date order', () => {
    const invoices = [
      invoice('inv_a', { number: 1001, total: 10000, dateBilled: '2030-01-05' }),
      invoice('inv_b', { number: 1002, total: 4000, dateBilled: '2030-02-03', status: 'void', voidedOn: '2030-02-10' }),
      invoice('inv_draft', { status: 'draft', total: 999, dateBilled: '2030-02-01' }),
      invoice('inv_eur', { currency: 'EUR', total: 777, dateBilled: '2030-02-01' }),
    ];
    const transactions = [
      payment('txn_a', {
        amount: 6000,
        date: '2030-02-05',
        reference: 'CHK-1',
        refunds: [{ amount: 1000, date: '2030-02-20', at: '2030-02-20T00:00:00.000Z' }],
      }),
      payment('txn_b', { amount: 500, date: '2030-02-06', status: 'voided', voidedOn: '2030-02-07' }),
      payment('txn_declined', { amount: 300, date: '2030-02-06', status: 'declined', kind: 'charge', method: 'card' }),
    ];
    const statement = buildStatement('USD', '2030-02-01', '2030-02-28', invoices, transactions);
    expect(statement.openingBalance).toBe(10000);
    expect(statement.lines.map((l) => [l.date, l.type, l.reference, l.amount, l.balance])).toEqual([
      ['2030-02-03', 'invoice', '#1002', 4000, 14000],
      ['2030-02-05', 'payment', 'CHK-1', -6000, 8000],
      ['2030-02-06', 'payment', 'txn_b', -500, 7500],
      ['2030-02-07', 'void', 'txn_b', 500, 8000],
      ['2030-02-10', 'void', '#1002', -4000, 4000],
      ['2030-02-20', 'refund', 'CHK-1', 1000, 5000],
    ]);
    expect(statement.closingBalance).toBe(5000);
  });

  it('opens at what was owed before the period and closes at the opening plus its lines, each line’s balance the one before plus its amount', () => {
    const day = fc.integer({ min: 1, max: 28 }).map((d) => `2030-01-${String(d).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.array(fc.record({ total: fc.integer({ min: 0, max: 100_000 }), day }), { maxLength: 8 }),
        fc.array(fc.record({ amount: fc.integer({ min: 1, max: 100_000 }), day }), { maxLength: 8 }),
        day,
        day,
        (bills, pays, a, b) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const statement = buildStatement(
            'USD',
            from,
            to,
            bills.map((x, i) => invoice(`inv_${i}`, { total: x.total, dateBilled: x.day })),
            pays.map((x, i) => payment(`txn_${i}`, { amount: x.amount, date: x.day })),
          );
          let balance = statement.openingBalance;
          for (const line of statement.lines) {
            expect(line.date >= from && line.date <= to).toBe(true);
            balance += line.amount;
            expect(line.balance).toBe(balance);
          }
          expect(statement.closingBalance).toBe(balance);
          const owed = (onDay: (date: string) => boolean) =>
            bills.filter((x) => onDay(x.day)).reduce((s, x) => s + x.total, 0) - pays.filter((x) => onDay(x.day)).reduce((s, x) => s + x.amount, 0);
          expect(statement.openingBalance).toBe(owed((date) => date < from));
          expect(statement.closingBalance).toBe(owed((date) => date <= to));
        },
      ),
    );
  });
});

describe('statement entries', () => {
  const day = fc
    .integer({ min: 0, max: 40 })
    .map((d) => `2030-${String(1 + Math.floor(d / 10)).padStart(2, '0')}-${String(1 + (d % 10) * 3).padStart(2, '0')}`);

  it('sorted by key, with the opening balance from the entries before the period, they are the statement of the whole history', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ total: fc.integer({ min: 0, max: 100_000 }), day, status: fc.constantFrom('draft', 'open', 'paid', 'void'), voidDay: day }), {
          maxLength: 8,
        }),
        fc.array(
          fc.record({
            amount: fc.integer({ min: 1, max: 100_000 }),
            day,
            status: fc.constantFrom('pending', 'declined', 'succeeded', 'voided', 'partially_refunded'),
            voidDay: day,
            refunds: fc.array(fc.record({ amount: fc.integer({ min: 1, max: 1000 }), date: day }), { maxLength: 3 }),
            currency: fc.constantFrom('USD', 'EUR'),
          }),
          { maxLength: 8 },
        ),
        day,
        day,
        (bills, pays, a, b) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const invoices = bills.map((x, i) =>
            invoice(`inv_${String(i).padStart(2, '0')}`, {
              total: x.total,
              dateBilled: x.day,
              status: x.status,
              number: i % 2 ? 1000 + i : null,
              voidedOn: x.status === 'void' ? x.voidDay : null,
            }),
          );
          const transactions = pays.map((x, i) =>
            payment(`txn_${String(i).padStart(2, '0')}`, {
              amount: x.amount,
              date: x.day,
              status: x.status,
              currency: x.currency,
              voidedOn: x.status === 'voided' ? x.voidDay : null,
              refunds: x.status === 'partially_refunded' ? x.refunds.map((r) => ({ ...r, at: `${r.date}T00:00:00.000Z` })) : [],
            }),
          );
          const entries: StatementEntry[] = [...invoices.flatMap(invoiceStatementEntries), ...transactions.flatMap(transactionStatementEntries)];
          const opening = entries.filter((e) => e.currency === 'USD' && e.date < from).reduce((n, e) => n + e.amount, 0);
          // Entries arrive in any order (a Query returns them by key, a merge interleaves two clients').
          const shuffled = [...entries].reverse();
          expect(statementFromEntries('USD', from, to, opening, shuffled)).toEqual(buildStatement('USD', from, to, invoices, transactions));
        },
      ),
    );
  });

  it('a write adds only the lines the object did not have: opening, then voiding an invoice; a payment, its refund, its void', () => {
    const open = invoice('inv_1', { total: 500, number: 7, dateBilled: '2030-01-05' });
    const voided = { ...open, status: 'void' as const, voidedOn: '2030-02-01' };
    expect(newStatementEntries([], invoiceStatementEntries({ ...open, status: 'draft' }))).toEqual([]);
    expect(newStatementEntries([], invoiceStatementEntries(open)).map((e) => [e.type, e.date, e.amount, e.reference])).toEqual([
      ['invoice', '2030-01-05', 500, '#7'],
    ]);
    expect(newStatementEntries(invoiceStatementEntries(open), invoiceStatementEntries(voided)).map((e) => [e.type, e.date, e.amount])).toEqual([
      ['void', '2030-02-01', -500],
    ]);
    const pending = payment('txn_1', { kind: 'charge', method: 'card', amount: 900, status: 'pending', date: '2030-01-06' });
    const paid = { ...pending, status: 'succeeded' as const };
    const refunded = { ...paid, status: 'partially_refunded' as const, refunds: [{ amount: 100, date: '2030-01-09', at: '2030-01-09T10:00:00.000Z' }] };
    expect(newStatementEntries([], transactionStatementEntries(pending))).toEqual([]);
    expect(newStatementEntries(transactionStatementEntries(pending), transactionStatementEntries(paid)).map((e) => [e.type, e.amount])).toEqual([
      ['payment', -900],
    ]);
    expect(newStatementEntries(transactionStatementEntries(paid), transactionStatementEntries(refunded)).map((e) => [e.type, e.amount])).toEqual([
      ['refund', 100],
    ]);
  });
});

describe('statementPeriod', () => {
  const today = '2030-03-31';

  it('is the last 30 days up to today when nothing is given', () => {
    expect(statementPeriod(today, {})).toEqual({ from: '2030-03-02', to: '2030-03-31' });
  });

  it('keeps what is given; a `to` before the default start alone is a one-day period', () => {
    expect(statementPeriod(today, { from: '2030-01-01' })).toEqual({ from: '2030-01-01', to: '2030-03-31' });
    expect(statementPeriod(today, { to: '2030-03-15' })).toEqual({ from: '2030-03-02', to: '2030-03-15' });
    expect(statementPeriod(today, { to: '2030-02-01' })).toEqual({ from: '2030-02-01', to: '2030-02-01' });
    expect(statementPeriod(today, { from: '2030-01-01', to: '2030-01-31' })).toEqual({ from: '2030-01-01', to: '2030-01-31' });
  });

  it('refuses a from after the to, naming from', () => {
    for (const requested of [{ from: '2030-04-01' }, { from: '2030-02-02', to: '2030-02-01' }]) {
      try {
        statementPeriod(today, requested);
        throw new Error('expected a ValidationError');
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).errors.map((e) => e.path)).toEqual(['from']);
      }
    }
  });
});
