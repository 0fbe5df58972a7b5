import { describe, expect, it } from 'vitest';
import {
  applyLedgerAction,
  commitChanges,
  emptyLedger,
  LEDGER_ERROR_KIND,
  ledgerViolations,
  planCreditApplication,
  planInvoiceVoid,
  planPayment,
  planRefund,
  summarizeLedger,
  type LedgerAction,
  type LedgerInvoice,
  type LedgerState,
  type NewPayment,
} from '../../functions/domain/ledger.js';

function invoice(id: string, total: number, dateDue: string, currency = 'USD', status: LedgerInvoice['status'] = 'open'): LedgerInvoice {
  return { id, currency, status, total, paid: 0, due: total, dateDue };
}

function ledgerWith(...invoices: LedgerInvoice[]): LedgerState {
  const state = emptyLedger();
  for (const inv of invoices) state.invoices[inv.id] = inv;
  return state;
}

function payment(id: string, amount: number, apply: { invoiceId: string; amount: number }[], extra: Partial<NewPayment> = {}): LedgerAction {
  return { type: 'payment', payment: { transactionId: id, kind: 'charge', currency: 'USD', amount, date: '2026-01-10', apply, ...extra } };
}

/** Runs actions that must all succeed, checking the invariants after each. */
function run(state: LedgerState, ...actions: LedgerAction[]): LedgerState {
  let current = state;
  for (const action of actions) {
    const result = applyLedgerAction(current, action);
    if (!result.ok) throw new Error(`${action.type} failed: ${result.error.message}`);
    expect(ledgerViolations(result.state)).toEqual([]);
    current = result.state;
  }
  return current;
}

function errorOf(state: LedgerState, action: LedgerAction) {
  const result = applyLedgerAction(state, action);
  if (result.ok) throw new Error(`${action.type} unexpectedly succeeded`);
  return result.error;
}

describe('payments', () => {
  it('applies to invoices, marks fully paid ones paid, and keeps the rest as credit', () => {
    const state = run(
      ledgerWith(invoice('inv_a', 3000, '2026-01-01'), invoice('inv_b', 5000, '2026-01-05')),
      payment('txn_1', 10000, [
        { invoiceId: 'inv_a', amount: 3000 },
        { invoiceId: 'inv_b', amount: 2000 },
      ]),
    );
    expect(state.invoices.inv_a).toMatchObject({ status: 'paid', paid: 3000, due: 0 });
    expect(state.invoices.inv_b).toMatchObject({ status: 'open', paid: 2000, due: 3000 });
    expect(state.transactions.txn_1).toMatchObject({ status: 'succeeded', credit: 5000, refunded: 0 });
    expect(state.credits.USD).toBe(5000);
    expect(summarizeLedger(state)).toEqual([{ currency: 'USD', invoiced: 8000, paid: 5000, due: 3000, credit: 5000 }]);
  });

  it('adds up two applications to the same invoice in one request', () => {
    const state = ledgerWith(invoice('inv_a', 3000, '2026-01-01'));
    const ok = run(
      state,
      payment('txn_1', 3000, [
        { invoiceId: 'inv_a', amount: 1000 },
        { invoiceId: 'inv_a', amount: 2000 },
      ]),
    );
    expect(ok.transactions.txn_1.applications).toEqual([{ invoiceId: 'inv_a', amount: 3000 }]);
    expect(
      errorOf(
        state,
        payment('txn_2', 4000, [
          { invoiceId: 'inv_a', amount: 2000 },
          { invoiceId: 'inv_a', amount: 2000 },
        ]),
      ),
    ).toMatchObject({ code: 'OverApplication', due: 1000, requested: 2000 });
  });

  it('enforces the rules with typed errors', () => {
    const state = ledgerWith(
      invoice('inv_a', 3000, '2026-01-01'),
      invoice('inv_d', 100, '2026-01-01', 'USD', 'draft'),
      invoice('inv_e', 100, '2026-01-01', 'EUR'),
    );
    expect(errorOf(state, payment('txn_1', 1000, [{ invoiceId: 'inv_a', amount: 3000 }]))).toMatchObject({ code: 'ApplicationsExceedPayment' });
    expect(errorOf(state, payment('txn_1', 5000, [{ invoiceId: 'inv_a', amount: 3001 }]))).toMatchObject({ code: 'OverApplication', invoiceId: 'inv_a' });
    expect(errorOf(state, payment('txn_1', 5000, [{ invoiceId: 'inv_d', amount: 100 }]))).toMatchObject({ code: 'InvoiceNotOpen', status: 'draft' });
    expect(errorOf(state, payment('txn_1', 5000, [{ invoiceId: 'inv_e', amount: 100 }]))).toMatchObject({ code: 'CurrencyMismatch' });
    expect(errorOf(state, payment('txn_1', 5000, [{ invoiceId: 'inv_x', amount: 100 }]))).toMatchObject({ code: 'InvoiceNotFound' });
    expect(errorOf(state, payment('txn_1', 0, []))).toMatchObject({ code: 'InvalidAmount', field: 'amount' });
    expect(errorOf(state, payment('txn_1', 10.5, []))).toMatchObject({ code: 'InvalidAmount' });
    expect(errorOf(state, payment('txn_1', 100, [{ invoiceId: 'inv_a', amount: 0 }]))).toMatchObject({ code: 'InvalidAmount', field: 'apply[0].amount' });
    const paid = run(state, payment('txn_1', 3000, [{ invoiceId: 'inv_a', amount: 3000 }]));
    expect(errorOf(paid, payment('txn_2', 100, [{ invoiceId: 'inv_a', amount: 100 }]))).toMatchObject({ code: 'InvoiceNotOpen', status: 'paid' });
    expect(errorOf(paid, payment('txn_1', 100, []))).toMatchObject({ code: 'DuplicateTransaction' });
  });

  it('classifies every rule error the way API.md answers it (409 state conflicts, 400 invalid, 422 rules)', () => {
    expect(LEDGER_ERROR_KIND.InvoiceNotOpen).toBe('conflict');
    expect(LEDGER_ERROR_KIND.OverApplication).toBe('conflict');
    expect(LEDGER_ERROR_KIND.ApplicationsExceedPayment).toBe('invalid');
    expect(LEDGER_ERROR_KIND.RefundTooLarge).toBe('rule');
    expect(LEDGER_ERROR_KIND.NotVoidable).toBe('conflict');
    expect(LEDGER_ERROR_KIND.NotRefundable).toBe('conflict');
  });

  it('describes each change with before and after values for a conditional write', () => {
    const state = ledgerWith(invoice('inv_a', 3000, '2026-01-01'));
    const decision = planPayment(state, {
      transactionId: 'txn_1',
      kind: 'offline',
      currency: 'USD',
      amount: 3500,
      date: '2026-01-10',
      apply: [{ invoiceId: 'inv_a', amount: 3000 }],
    });
    expect(decision.ok).toBe(true);
    if (!decision.ok) return;
    expect(decision.changes.invoices).toEqual([
      { invoiceId: 'inv_a', paidDelta: 3000, before: { status: 'open', paid: 0, due: 3000 }, after: { status: 'paid', paid: 3000, due: 0 } },
    ]);
    expect(decision.changes.credits).toEqual([{ currency: 'USD', delta: 500, before: 0, after: 500 }]);
    expect(decision.changes.transactions[0].before).toBeUndefined();
    expect(commitChanges(state, decision.changes).transactions.txn_1.credit).toBe(500);
  });
});

describe('voiding an offline payment', () => {
  it('un-applies it, reopens its invoices and removes its credit', () => {
    const state = run(ledgerWith(invoice('inv_a', 3000, '2026-01-01')), payment('txn_1', 4000, [{ invoiceId: 'inv_a', amount: 3000 }], { kind: 'offline' }), {
      type: 'voidPayment',
      transactionId: 'txn_1',
    });
    expect(state.invoices.inv_a).toMatchObject({ status: 'open', paid: 0, due: 3000 });
    expect(state.transactions.txn_1).toMatchObject({ status: 'voided', applications: [], credit: 0 });
    expect(state.credits.USD).toBe(0);
  });

  it('also takes back credit it gave to invoices later', () => {
    const state = run(
      ledgerWith(invoice('inv_a', 3000, '2026-01-01'), invoice('inv_b', 500, '2026-01-02')),
      payment('txn_1', 4000, [{ invoiceId: 'inv_a', amount: 3000 }], { kind: 'offline' }),
      { type: 'applyCredit', target: { currency: 'USD' } },
      { type: 'voidPayment', transactionId: 'txn_1' },
    );
    expect(state.invoices.inv_b).toMatchObject({ status: 'open', paid: 0, due: 500 });
  });

  it('refuses charges and second voids', () => {
    const state = run(ledgerWith(), payment('txn_c', 100, []), payment('txn_o', 100, [], { kind: 'offline' }), { type: 'voidPayment', transactionId: 'txn_o' });
    expect(errorOf(state, { type: 'voidPayment', transactionId: 'txn_c' })).toMatchObject({ code: 'NotVoidable' });
    expect(errorOf(state, { type: 'voidPayment', transactionId: 'txn_o' })).toMatchObject({ code: 'NotVoidable' });
    expect(errorOf(state, { type: 'voidPayment', transactionId: 'txn_x' })).toMatchObject({ code: 'TransactionNotFound' });
  });

  it('answers "not found" for a payment whose invoice is gone from the ledger read (its client being deleted), not a crash', () => {
    // Found by the fuzz (bench:fuzz seed 424242): DELETE /v1/clients/{id} racing POST /v1/transactions/{id}/void.
    const state = run(ledgerWith(invoice('inv_a', 3000, '2026-01-01')), payment('txn_o', 1000, [{ invoiceId: 'inv_a', amount: 1000 }], { kind: 'offline' }));
    const { inv_a, ...rest } = state.invoices;
    const halfDeleted: LedgerState = { ...state, invoices: rest };
    expect(errorOf(halfDeleted, { type: 'voidPayment', transactionId: 'txn_o' })).toMatchObject({ code: 'InvoiceNotFound', invoiceId: 'inv_a' });
    const charged = run(ledgerWith(invoice('inv_b', 3000, '2026-01-01')), payment('txn_c', 1000, [{ invoiceId: 'inv_b', amount: 1000 }]));
    const { inv_b, ...none } = charged.invoices;
    expect(errorOf({ ...charged, invoices: none }, { type: 'refund', transactionId: 'txn_c', amount: 500 })).toMatchObject({ code: 'InvoiceNotFound' });
  });
});

describe('refunds', () => {
  const paidUp = () =>
    run(
      ledgerWith(invoice('inv_a', 3000, '2026-01-01'), invoice('inv_b', 2000, '2026-01-02'), invoice('inv_c', 1000, '2026-01-03')),
      payment('txn_1', 7000, [
        { invoiceId: 'inv_a', amount: 3000 },
        { invoiceId: 'inv_b', amount: 2000 },
        { invoiceId: 'inv_c', amount: 1000 },
      ]),
    );

  it('takes back credit first, then applications in reverse request order', () => {
    const charge = paidUp().transactions.txn_1;
    const decision = planRefund(charge, 2500);
    expect(decision.ok).toBe(true);
    if (!decision.ok) return;
    expect(decision.plan.creditTaken).toBe(1000);
    expect(decision.plan.unapplied).toEqual([
      { invoiceId: 'inv_c', amount: 1000 },
      { invoiceId: 'inv_b', amount: 500 },
    ]);
    expect(decision.plan.transaction).toMatchObject({ refunded: 2500, credit: 0, status: 'partially_refunded' });
  });

  it('reopens the invoices it takes money back from', () => {
    const state = run(paidUp(), { type: 'refund', transactionId: 'txn_1', amount: 2500 });
    expect(state.invoices.inv_c).toMatchObject({ status: 'open', paid: 0, due: 1000 });
    expect(state.invoices.inv_b).toMatchObject({ status: 'open', paid: 1500, due: 500 });
    expect(state.invoices.inv_a).toMatchObject({ status: 'paid' });
    expect(state.credits.USD).toBe(0);
    const rest = run(state, { type: 'refund', transactionId: 'txn_1' });
    expect(rest.transactions.txn_1).toMatchObject({ status: 'refunded', refunded: 7000, applications: [], credit: 0 });
    expect(Object.values(rest.invoices).every((i) => i.status === 'open' && i.paid === 0)).toBe(true);
  });

  it('refuses more than is left, offline payments and nothing left', () => {
    const state = run(paidUp(), { type: 'refund', transactionId: 'txn_1', amount: 7000 });
    expect(errorOf(paidUp(), { type: 'refund', transactionId: 'txn_1', amount: 7001 })).toMatchObject({ code: 'RefundTooLarge', refundable: 7000 });
    expect(errorOf(state, { type: 'refund', transactionId: 'txn_1' })).toMatchObject({ code: 'RefundTooLarge', refundable: 0 });
    expect(errorOf(state, { type: 'refund', transactionId: 'txn_1', amount: 1 })).toMatchObject({ code: 'RefundTooLarge' });
    expect(errorOf(paidUp(), { type: 'refund', transactionId: 'txn_1', amount: 0 })).toMatchObject({ code: 'InvalidAmount' });
    const offline = run(ledgerWith(), payment('txn_o', 100, [], { kind: 'offline' }));
    expect(errorOf(offline, { type: 'refund', transactionId: 'txn_o' })).toMatchObject({ code: 'NotRefundable' });
  });
});

describe('voiding an invoice', () => {
  it('turns its payments into credit and leaves nothing due', () => {
    const state = run(
      ledgerWith(invoice('inv_a', 3000, '2026-01-01')),
      payment('txn_1', 1000, [{ invoiceId: 'inv_a', amount: 1000 }]),
      payment('txn_2', 2000, [{ invoiceId: 'inv_a', amount: 2000 }], { kind: 'offline' }),
    );
    const decision = planInvoiceVoid(state, 'inv_a');
    expect(decision.ok && decision.released).toEqual([
      { transactionId: 'txn_1', amount: 1000 },
      { transactionId: 'txn_2', amount: 2000 },
    ]);
    const voided = run(state, { type: 'voidInvoice', invoiceId: 'inv_a' });
    expect(voided.invoices.inv_a).toMatchObject({ status: 'void', paid: 0, due: 0 });
    expect(voided.credits.USD).toBe(3000);
    expect(errorOf(voided, { type: 'voidInvoice', invoiceId: 'inv_a' })).toMatchObject({ code: 'InvoiceNotVoidable', status: 'void' });
    expect(errorOf(voided, payment('txn_3', 100, [{ invoiceId: 'inv_a', amount: 100 }]))).toMatchObject({ code: 'InvoiceNotOpen' });
  });
});

describe('applying loose credit', () => {
  const withCredit = () =>
    run(
      ledgerWith(
        invoice('inv_late', 1000, '2026-03-01'),
        invoice('inv_early', 1500, '2026-01-01'),
        invoice('inv_eur', 700, '2026-01-01', 'EUR'),
        invoice('inv_mid', 800, '2026-02-01'),
      ),
      payment('txn_old', 1200, [], { date: '2026-01-01' }),
      payment('txn_new', 1000, [], { date: '2026-01-05' }),
    );

  it('pays the oldest due date first, drawing on the oldest credit first', () => {
    const decision = planCreditApplication(withCredit(), { currency: 'USD' });
    expect(decision.ok).toBe(true);
    if (!decision.ok) return;
    expect(decision.applied).toEqual([
      { invoiceId: 'inv_early', amount: 1500 },
      { invoiceId: 'inv_mid', amount: 700 },
    ]);
    expect(decision.moves).toEqual([
      { transactionId: 'txn_old', invoiceId: 'inv_early', amount: 1200 },
      { transactionId: 'txn_new', invoiceId: 'inv_early', amount: 300 },
      { transactionId: 'txn_new', invoiceId: 'inv_mid', amount: 700 },
    ]);
    const state = commitChanges(withCredit(), decision.changes);
    expect(ledgerViolations(state)).toEqual([]);
    expect(state.invoices.inv_early.status).toBe('paid');
    expect(state.invoices.inv_mid).toMatchObject({ status: 'open', due: 100 });
    expect(state.invoices.inv_eur.paid).toBe(0);
    expect(state.credits.USD).toBe(0);
  });

  it('can target one invoice', () => {
    const state = run(withCredit(), { type: 'applyCredit', target: { invoiceId: 'inv_late' } });
    expect(state.invoices.inv_late.status).toBe('paid');
    expect(state.invoices.inv_early.paid).toBe(0);
    expect(state.credits.USD).toBe(1200);
  });

  it('applies nothing when there is no credit, and refuses an invoice that is not open', () => {
    const decision = planCreditApplication(withCredit(), { currency: 'EUR' });
    expect(decision.ok && decision.applied).toEqual([]);
    const paid = run(withCredit(), { type: 'applyCredit', target: { invoiceId: 'inv_early' } });
    expect(errorOf(paid, { type: 'applyCredit', target: { invoiceId: 'inv_early' } })).toMatchObject({ code: 'InvoiceNotOpen' });
    expect(errorOf(paid, { type: 'applyCredit', target: { invoiceId: 'inv_late', currency: 'EUR' } })).toMatchObject({ code: 'CurrencyMismatch' });
  });
});
