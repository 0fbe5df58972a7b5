import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyLedgerAction,
  emptyLedger,
  isMoneyBearing,
  ledgerViolations,
  type LedgerAction,
  type LedgerErrorCode,
  type LedgerState,
} from '../../functions/domain/ledger.js';

const CURRENCIES = ['USD', 'EUR'] as const;

/**
 * Steps are generated blind (before the state exists), so they refer to invoices and transactions by index and to
 * amounts as a per-mille of what is due: most applications are valid, some deliberately over-apply.
 */
type Step =
  | { kind: 'invoice'; currency: number; total: number; day: number; draft: boolean }
  | { kind: 'payment'; offline: boolean; currency: number; extra: number; apply: { invoice: number; permille: number }[] }
  | { kind: 'voidPayment'; transaction: number }
  | { kind: 'refund'; transaction: number; permille: number | null }
  | { kind: 'voidInvoice'; invoice: number }
  | { kind: 'applyCredit'; currency: number; invoice: number | null };

const index = fc.nat({ max: 50 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('invoice' as const),
    currency: fc.nat({ max: 1 }),
    total: fc.integer({ min: 1, max: 100_000 }),
    day: fc.nat({ max: 60 }),
    draft: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('payment' as const),
    offline: fc.boolean(),
    currency: fc.nat({ max: 1 }),
    extra: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50_000 })),
    apply: fc.array(fc.record({ invoice: index, permille: fc.integer({ min: 1, max: 1100 }) }), { maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('voidPayment' as const), transaction: index }),
  fc.record({ kind: fc.constant('refund' as const), transaction: index, permille: fc.option(fc.integer({ min: 1, max: 1100 })) }),
  fc.record({ kind: fc.constant('voidInvoice' as const), invoice: index }),
  fc.record({ kind: fc.constant('applyCredit' as const), currency: fc.nat({ max: 1 }), invoice: fc.option(index) }),
);

const pick = <T>(items: T[], i: number): T | undefined => (items.length === 0 ? undefined : items[i % items.length]);
const share = (amount: number, permille: number) => Math.max(1, Math.ceil((amount * permille) / 1000));

/** Turns a blind step into a concrete action on the current state (or a direct invoice insert). */
function toAction(state: LedgerState, s: Step, counter: number): LedgerAction | { insert: LedgerState['invoices'][string] } | undefined {
  const invoices = Object.values(state.invoices);
  const transactions = Object.values(state.transactions);
  switch (s.kind) {
    case 'invoice': {
      const day = String(1 + (s.day % 28)).padStart(2, '0');
      const month = String(1 + Math.floor(s.day / 28)).padStart(2, '0');
      return {
        insert: {
          id: `inv_${String(counter).padStart(4, '0')}`,
          currency: CURRENCIES[s.currency],
          status: s.draft ? 'draft' : 'open',
          total: s.total,
          paid: 0,
          due: s.total,
          dateDue: `2026-${month}-${day}`,
        },
      };
    }
    case 'payment': {
      const apply = s.apply.flatMap(({ invoice, permille }) => {
        const target = pick(invoices, invoice);
        return target ? [{ invoiceId: target.id, amount: share(Math.max(target.due, 1), permille) }] : [];
      });
      const amount = apply.reduce((sum, a) => sum + a.amount, 0) + s.extra;
      return {
        type: 'payment',
        payment: {
          transactionId: `txn_${String(counter).padStart(4, '0')}`,
          kind: s.offline ? 'offline' : 'charge',
          currency: CURRENCIES[s.currency],
          amount,
          date: `2026-01-${String(1 + (counter % 28)).padStart(2, '0')}`,
          apply,
        },
      };
    }
    case 'voidPayment': {
      // Mostly offline payments (voidable), sometimes any transaction (to meet NotVoidable).
      const offline = transactions.filter((t) => t.kind === 'offline');
      const target = s.transaction % 5 === 0 ? pick(transactions, s.transaction) : pick(offline, s.transaction);
      return target && { type: 'voidPayment', transactionId: target.id };
    }
    case 'refund': {
      const charges = transactions.filter((t) => t.kind === 'charge');
      const target = s.transaction % 5 === 0 ? pick(transactions, s.transaction) : pick(charges, s.transaction);
      if (!target) return undefined;
      const left = target.amount - target.refunded;
      return { type: 'refund', transactionId: target.id, amount: s.permille === null ? undefined : share(Math.max(left, 1), s.permille) };
    }
    case 'voidInvoice': {
      const target = pick(invoices, s.invoice);
      return target && { type: 'voidInvoice', invoiceId: target.id };
    }
    case 'applyCredit': {
      const target = s.invoice === null ? undefined : pick(invoices, s.invoice);
      return { type: 'applyCredit', target: target ? { invoiceId: target.id } : { currency: CURRENCIES[s.currency] } };
    }
  }
}

/** The per-currency identities the brief names, computed independently of `ledgerViolations`. */
function checkCurrencyTotals(state: LedgerState): void {
  for (const currency of CURRENCIES) {
    const payments = Object.values(state.transactions).filter((t) => t.currency === currency && isMoneyBearing(t));
    const received = payments.reduce((s, t) => s + t.amount, 0);
    const applied = payments.reduce((s, t) => s + t.applications.reduce((a, x) => a + x.amount, 0), 0);
    const credit = payments.reduce((s, t) => s + t.credit, 0);
    const refunded = payments.reduce((s, t) => s + t.refunded, 0);
    expect(received).toBe(applied + credit + refunded);
    expect(state.credits[currency] ?? 0).toBe(credit);
    const invoices = Object.values(state.invoices).filter((i) => i.currency === currency);
    expect(invoices.reduce((s, i) => s + i.paid, 0)).toBe(applied);
    for (const invoice of invoices) {
      expect(invoice.due).toBeGreaterThanOrEqual(0);
      expect(invoice.due).toBeLessThanOrEqual(invoice.total);
      if (invoice.status === 'open' || invoice.status === 'paid') expect(invoice.paid + invoice.due).toBe(invoice.total);
      if (invoice.status === 'paid') expect(invoice.due).toBe(0);
    }
  }
}

/** Errors a random step may legitimately meet; anything else (a thrown exception) fails the property. */
const EXPECTED_ERRORS: ReadonlySet<LedgerErrorCode> = new Set([
  'InvalidAmount',
  'InvoiceNotOpen',
  'OverApplication',
  'NotVoidable',
  'NotRefundable',
  'RefundTooLarge',
  'InvoiceNotVoidable',
  'CurrencyMismatch',
]);

describe('ledger invariants over random histories', () => {
  it('hold after every invoice, payment, void, refund and credit application (property)', () => {
    const outcomes = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60, size: 'medium' }), (steps) => {
        let state = emptyLedger();
        steps.forEach((s, counter) => {
          const action = toAction(state, s, counter);
          if (!action) return;
          if ('insert' in action) {
            state = { ...state, invoices: { ...state.invoices, [action.insert.id]: action.insert } };
            return;
          }
          const result = applyLedgerAction(state, action);
          if (result.ok) {
            state = result.state;
            outcomes.set(action.type, (outcomes.get(action.type) ?? 0) + 1);
          } else {
            expect(EXPECTED_ERRORS.has(result.error.code), result.error.message).toBe(true);
          }
          expect(ledgerViolations(state)).toEqual([]);
          checkCurrencyTotals(state);
        });
      }),
      { numRuns: 300 },
    );
    // The generator must reach every kind of success, or the property would prove little.
    for (const type of ['payment', 'voidPayment', 'refund', 'voidInvoice', 'applyCredit']) expect(outcomes.get(type) ?? 0, type).toBeGreaterThan(20);
  });

  it('never lets a rule error change anything (property)', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        let state = emptyLedger();
        steps.forEach((s, counter) => {
          const action = toAction(state, s, counter);
          if (!action) return;
          if ('insert' in action) {
            state = { ...state, invoices: { ...state.invoices, [action.insert.id]: action.insert } };
            return;
          }
          const snapshot = structuredClone(state);
          const result = applyLedgerAction(state, action);
          // The input state is never mutated, whatever the outcome.
          expect(state).toEqual(snapshot);
          if (result.ok) state = result.state;
        });
      }),
      { numRuns: 150 },
    );
  });

  it('a full refund or void always leaves the payment holding nothing (property)', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        let state = emptyLedger();
        steps.forEach((s, counter) => {
          const action = toAction(state, s, counter);
          if (!action || 'insert' in action) {
            if (action && 'insert' in action) state = { ...state, invoices: { ...state.invoices, [action.insert.id]: action.insert } };
            return;
          }
          const result = applyLedgerAction(state, action);
          if (result.ok) state = result.state;
        });
        for (const transaction of Object.values(state.transactions)) {
          const undo = applyLedgerAction(
            state,
            transaction.kind === 'charge' ? { type: 'refund', transactionId: transaction.id } : { type: 'voidPayment', transactionId: transaction.id },
          );
          if (!undo.ok) {
            expect(['RefundTooLarge', 'NotVoidable']).toContain(undo.error.code);
            continue;
          }
          state = undo.state;
          const after = state.transactions[transaction.id];
          expect(after.applications).toEqual([]);
          expect(after.credit).toBe(0);
        }
        expect(Object.values(state.credits).every((c) => c === 0)).toBe(true);
        expect(Object.values(state.invoices).every((i) => i.paid === 0)).toBe(true);
        expect(ledgerViolations(state)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
