import { addMinorUnits, isMinorUnits, sumMinorUnits, type MinorUnits } from './money.js';

/**
 * The pure rules of money movement for one client. Every action is decided by a `plan*` function that reads a
 * `LedgerState` and returns either a rule error or a `LedgerChanges` (each touched invoice, transaction and credit
 * balance with its value before and after). `commitChanges` applies a plan to the in-memory state; the DynamoDB
 * layer writes the same `after` values in one transaction, conditioned on the `before` values, so a stale read
 * can never over-apply.
 *
 * Credit is carried by the payment it came from (`transaction.credit`, its unapplied part), so a refund or a void
 * knows which credit is its own; `state.credits` is the per-currency total of those, kept alongside for fast reads.
 */

export type InvoiceStatus = 'draft' | 'open' | 'paid' | 'void';

export interface LedgerInvoice {
  id: string;
  currency: string;
  status: InvoiceStatus;
  total: MinorUnits;
  paid: MinorUnits;
  due: MinorUnits;
  /** `YYYY-MM-DD`; loose credit goes to the oldest due date first. */
  dateDue: string;
}

export interface LedgerApplication {
  invoiceId: string;
  amount: MinorUnits;
}

export type PaymentKind = 'charge' | 'offline';
export type TransactionStatus = 'succeeded' | 'declined' | 'failed' | 'voided' | 'refunded' | 'partially_refunded';

/** A payment: `amount = sum(applications) + credit + refunded` while it is not voided. */
export interface LedgerTransaction {
  id: string;
  kind: PaymentKind;
  currency: string;
  amount: MinorUnits;
  status: TransactionStatus;
  /** In the order they were requested; credit applied later is appended (or merged into its invoice's entry). */
  applications: LedgerApplication[];
  credit: MinorUnits;
  refunded: MinorUnits;
  /** `YYYY-MM-DD`; older payments' credit is used first. */
  date: string;
}

export interface LedgerState {
  invoices: Record<string, LedgerInvoice>;
  transactions: Record<string, LedgerTransaction>;
  /** Unapplied credit per currency: the sum of its transactions' `credit`. */
  credits: Record<string, MinorUnits>;
}

type InvoiceBalanceFields = Pick<LedgerInvoice, 'status' | 'paid' | 'due'>;

/** One invoice's balance change; `paidDelta` is negative when money is taken back from it. */
export interface InvoiceChange {
  invoiceId: string;
  paidDelta: MinorUnits;
  before: InvoiceBalanceFields;
  after: InvoiceBalanceFields;
}

/** A transaction written by the action; `before` is undefined for a new one. */
export interface TransactionChange {
  transactionId: string;
  before: LedgerTransaction | undefined;
  after: LedgerTransaction;
}

export interface CreditChange {
  currency: string;
  delta: MinorUnits;
  before: MinorUnits;
  after: MinorUnits;
}

export interface LedgerChanges {
  invoices: InvoiceChange[];
  transactions: TransactionChange[];
  credits: CreditChange[];
}

/** A broken business rule. `code` is stable; `LEDGER_ERROR_KIND` says what sort of refusal it is. */
export type LedgerRuleError =
  | { code: 'InvalidAmount'; message: string; field: string }
  | { code: 'ApplicationsExceedPayment'; message: string; applied: MinorUnits; amount: MinorUnits }
  | { code: 'DuplicateTransaction'; message: string; transactionId: string }
  | { code: 'InvoiceNotFound'; message: string; invoiceId: string }
  | { code: 'TransactionNotFound'; message: string; transactionId: string }
  | { code: 'CurrencyMismatch'; message: string; invoiceId: string; expected: string; actual: string }
  | { code: 'InvoiceNotOpen'; message: string; invoiceId: string; status: InvoiceStatus }
  | { code: 'OverApplication'; message: string; invoiceId: string; due: MinorUnits; requested: MinorUnits }
  | { code: 'NotVoidable'; message: string; transactionId: string }
  | { code: 'NotRefundable'; message: string; transactionId: string }
  | { code: 'RefundTooLarge'; message: string; transactionId: string; refundable: MinorUnits; requested: MinorUnits }
  | { code: 'InvoiceNotVoidable'; message: string; invoiceId: string; status: InvoiceStatus };

export type LedgerErrorCode = LedgerRuleError['code'];

/**
 * What sort of refusal each rule error is: `invalid` input, an unknown object (`not_found`), a `conflict` with the
 * current state (the invoice is not open), or a `rule` the request breaks (more than is left to refund).
 */
export type LedgerErrorKind = 'invalid' | 'not_found' | 'conflict' | 'rule';

export const LEDGER_ERROR_KIND: Record<LedgerErrorCode, LedgerErrorKind> = {
  InvalidAmount: 'invalid',
  ApplicationsExceedPayment: 'invalid',
  CurrencyMismatch: 'invalid',
  DuplicateTransaction: 'conflict',
  InvoiceNotFound: 'not_found',
  TransactionNotFound: 'not_found',
  InvoiceNotOpen: 'conflict',
  OverApplication: 'conflict',
  NotVoidable: 'conflict',
  NotRefundable: 'conflict',
  RefundTooLarge: 'rule',
  InvoiceNotVoidable: 'conflict',
};

export type LedgerDecision<T> = ({ ok: true; changes: LedgerChanges } & T) | { ok: false; error: LedgerRuleError };

const fail = (error: LedgerRuleError): { ok: false; error: LedgerRuleError } => ({ ok: false, error });

/** The live (not voided, declined or failed) payments: the ones whose money is on the ledger. */
const MONEY_BEARING: ReadonlySet<TransactionStatus> = new Set(['succeeded', 'partially_refunded', 'refunded']);

/** True when the transaction's money is on the ledger (it succeeded and was not voided). */
export function isMoneyBearing(transaction: LedgerTransaction): boolean {
  return MONEY_BEARING.has(transaction.status);
}

/** An empty ledger. */
export function emptyLedger(): LedgerState {
  return { invoices: {}, transactions: {}, credits: {} };
}

function positiveAmount(value: unknown, field: string): LedgerRuleError | undefined {
  if (isMinorUnits(value) && value > 0) return undefined;
  return { code: 'InvalidAmount', message: `${field} must be a whole number of minor units greater than 0`, field };
}

/** Invoice balance after adding `delta` to what is paid; an open or paid invoice is `paid` exactly when nothing is due. */
function rebalance(invoice: InvoiceBalanceFields & { total: MinorUnits }, delta: MinorUnits): InvoiceBalanceFields {
  const paid = invoice.paid + delta;
  const due = invoice.total - paid;
  return { paid, due, status: due === 0 ? 'paid' : 'open' };
}

/** Adds `amount` (negative to take back) to the invoice's entry, appending one if the invoice is new to the list. */
function adjustApplication(applications: readonly LedgerApplication[], invoiceId: string, amount: MinorUnits): LedgerApplication[] {
  const index = applications.findIndex((a) => a.invoiceId === invoiceId);
  if (index < 0) return amount > 0 ? [...applications, { invoiceId, amount }] : [...applications];
  const next = [...applications];
  const updated = next[index].amount + amount;
  if (updated === 0) next.splice(index, 1);
  else next[index] = { invoiceId, amount: updated };
  return next;
}

/** Collects invoice balance changes, merging several moves on one invoice into one change. */
class InvoiceChangeBuilder {
  private readonly changes = new Map<string, InvoiceChange>();
  constructor(private readonly invoices: Record<string, LedgerInvoice>) {}

  /** The invoice as it stands after the changes collected so far. */
  current(invoiceId: string): LedgerInvoice {
    const invoice = this.invoices[invoiceId];
    const change = this.changes.get(invoiceId);
    return change ? { ...invoice, ...change.after } : invoice;
  }

  move(invoiceId: string, delta: MinorUnits): void {
    const invoice = this.invoices[invoiceId];
    const existing = this.changes.get(invoiceId);
    const paidDelta = (existing?.paidDelta ?? 0) + delta;
    const before = existing?.before ?? { status: invoice.status, paid: invoice.paid, due: invoice.due };
    this.changes.set(invoiceId, { invoiceId, paidDelta, before, after: rebalance({ ...before, total: invoice.total }, paidDelta) });
  }

  set(invoiceId: string, after: InvoiceBalanceFields): void {
    const invoice = this.invoices[invoiceId];
    const existing = this.changes.get(invoiceId);
    const before = existing?.before ?? { status: invoice.status, paid: invoice.paid, due: invoice.due };
    this.changes.set(invoiceId, { invoiceId, paidDelta: after.paid - before.paid, before, after });
  }

  list(): InvoiceChange[] {
    return [...this.changes.values()];
  }
}

function creditChanges(state: LedgerState, deltas: Map<string, MinorUnits>): CreditChange[] {
  const changes: CreditChange[] = [];
  for (const [currency, delta] of deltas) {
    if (delta === 0) continue;
    const before = state.credits[currency] ?? 0;
    changes.push({ currency, delta, before, after: addMinorUnits(before, delta) });
  }
  return changes;
}

function findInvoice(state: LedgerState, invoiceId: string): LedgerInvoice | undefined {
  return Object.hasOwn(state.invoices, invoiceId) ? state.invoices[invoiceId] : undefined;
}

function findTransaction(state: LedgerState, transactionId: string): LedgerTransaction | undefined {
  return Object.hasOwn(state.transactions, transactionId) ? state.transactions[transactionId] : undefined;
}

/**
 * The first of `invoiceIds` the ledger does not hold. A transaction's invoices are always read with it, so one is
 * missing only when the client is being deleted as the ledger is read: the plan answers "not found", not a crash.
 */
function missingInvoice(state: LedgerState, invoiceIds: Iterable<string>): LedgerRuleError | undefined {
  for (const invoiceId of invoiceIds) {
    if (!findInvoice(state, invoiceId)) return { code: 'InvoiceNotFound', message: `Invoice ${invoiceId} does not exist`, invoiceId };
  }
  return undefined;
}

/** Checks one application against the invoice as it stands; undefined when it may be made. */
function applicationError(invoice: LedgerInvoice | undefined, invoiceId: string, currency: string, amount: MinorUnits): LedgerRuleError | undefined {
  if (!invoice) return { code: 'InvoiceNotFound', message: `Invoice ${invoiceId} does not exist`, invoiceId };
  if (invoice.currency !== currency) {
    return {
      code: 'CurrencyMismatch',
      message: `Invoice ${invoiceId} is in ${invoice.currency}, not ${currency}`,
      invoiceId,
      expected: invoice.currency,
      actual: currency,
    };
  }
  if (invoice.status !== 'open')
    return { code: 'InvoiceNotOpen', message: `Invoice ${invoiceId} is ${invoice.status}, not open`, invoiceId, status: invoice.status };
  if (amount > invoice.due) {
    return {
      code: 'OverApplication',
      message: `${amount} is more than the ${invoice.due} due on invoice ${invoiceId}`,
      invoiceId,
      due: invoice.due,
      requested: amount,
    };
  }
  return undefined;
}

export interface NewPayment {
  transactionId: string;
  kind: PaymentKind;
  currency: string;
  amount: MinorUnits;
  date: string;
  apply: readonly LedgerApplication[];
}

/**
 * Decides a successful payment (an approved charge or a recorded offline payment): each application must go to an
 * open invoice of the payment's currency and be at most what it still owes (applications to the same invoice in
 * one request add up), `sum(apply) ≤ amount`, and the rest becomes the payment's credit.
 * @example planPayment(state, { transactionId: 'txn_1', kind: 'offline', currency: 'USD', amount: 5000, date: '2026-01-05', apply: [{ invoiceId: 'inv_1', amount: 3000 }] })
 */
export function planPayment(state: LedgerState, payment: NewPayment): LedgerDecision<{ transaction: LedgerTransaction }> {
  const amountError = positiveAmount(payment.amount, 'amount');
  if (amountError) return fail(amountError);
  for (const [index, application] of payment.apply.entries()) {
    const error = positiveAmount(application.amount, `apply[${index}].amount`);
    if (error) return fail(error);
  }
  const applied = sumMinorUnits(payment.apply.map((a) => a.amount));
  if (applied > payment.amount) {
    return fail({
      code: 'ApplicationsExceedPayment',
      message: `The applications (${applied}) exceed the payment (${payment.amount})`,
      applied,
      amount: payment.amount,
    });
  }
  if (findTransaction(state, payment.transactionId)) {
    return fail({ code: 'DuplicateTransaction', message: `Transaction ${payment.transactionId} already exists`, transactionId: payment.transactionId });
  }

  const invoices = new InvoiceChangeBuilder(state.invoices);
  let applications: LedgerApplication[] = [];
  for (const { invoiceId, amount } of payment.apply) {
    const invoice = findInvoice(state, invoiceId) && invoices.current(invoiceId);
    const error = applicationError(invoice, invoiceId, payment.currency, amount);
    if (error) return fail(error);
    invoices.move(invoiceId, amount);
    applications = adjustApplication(applications, invoiceId, amount);
  }

  const credit = payment.amount - applied;
  const transaction: LedgerTransaction = {
    id: payment.transactionId,
    kind: payment.kind,
    currency: payment.currency,
    amount: payment.amount,
    status: 'succeeded',
    applications,
    credit,
    refunded: 0,
    date: payment.date,
  };
  return {
    ok: true,
    transaction,
    changes: {
      invoices: invoices.list(),
      transactions: [{ transactionId: transaction.id, before: undefined, after: transaction }],
      credits: creditChanges(state, new Map([[payment.currency, credit]])),
    },
  };
}

/**
 * Decides voiding an offline payment: every application is taken back (reopening paid invoices) and its remaining
 * credit is removed. Charges cannot be voided (refund them), nor can a payment be voided twice.
 */
export function planPaymentVoid(state: LedgerState, transactionId: string): LedgerDecision<{ transaction: LedgerTransaction }> {
  const transaction = findTransaction(state, transactionId);
  if (!transaction) return fail({ code: 'TransactionNotFound', message: `Transaction ${transactionId} does not exist`, transactionId });
  if (transaction.kind !== 'offline') return fail({ code: 'NotVoidable', message: 'A charge cannot be voided; refund it instead', transactionId });
  if (transaction.status !== 'succeeded') return fail({ code: 'NotVoidable', message: `Transaction ${transactionId} is ${transaction.status}`, transactionId });
  const missing = missingInvoice(
    state,
    transaction.applications.map((a) => a.invoiceId),
  );
  if (missing) return fail(missing);

  const invoices = new InvoiceChangeBuilder(state.invoices);
  for (const { invoiceId, amount } of transaction.applications) invoices.move(invoiceId, -amount);
  const after: LedgerTransaction = { ...transaction, status: 'voided', applications: [], credit: 0 };
  return {
    ok: true,
    transaction: after,
    changes: {
      invoices: invoices.list(),
      transactions: [{ transactionId, before: transaction, after }],
      credits: creditChanges(state, new Map([[transaction.currency, -transaction.credit]])),
    },
  };
}

/** What a refund takes back from its charge: first the unapplied credit, then applications, last-made first. */
export interface RefundPlan {
  amount: MinorUnits;
  creditTaken: MinorUnits;
  /** Amounts taken back per invoice, in the order they are taken. */
  unapplied: LedgerApplication[];
  /** The charge afterwards: `refunded` raised, `status` `refunded` or `partially_refunded`. */
  transaction: LedgerTransaction;
}

/**
 * Decides how much of a charge a refund takes back from where, from the charge alone. `amount` defaults to
 * everything left (`amount − refunded`); more than that is `RefundTooLarge`. Only succeeded or partially refunded
 * charges can be refunded.
 * @example planRefund(charge, 2500) // { ok: true, plan: { creditTaken: 1000, unapplied: [{ invoiceId: 'inv_2', amount: 1500 }], ... } }
 */
export function planRefund(transaction: LedgerTransaction, amount?: MinorUnits): { ok: true; plan: RefundPlan } | { ok: false; error: LedgerRuleError } {
  const transactionId = transaction.id;
  if (transaction.kind !== 'charge')
    return fail({ code: 'NotRefundable', message: 'Only charges can be refunded; void an offline payment instead', transactionId });
  if (!MONEY_BEARING.has(transaction.status))
    return fail({ code: 'NotRefundable', message: `Transaction ${transactionId} is ${transaction.status}`, transactionId });
  const refundable = transaction.amount - transaction.refunded;
  const requested = amount ?? refundable;
  if (requested === 0 && amount === undefined) {
    return fail({ code: 'RefundTooLarge', message: `Nothing is left to refund on ${transactionId}`, transactionId, refundable, requested });
  }
  const amountError = positiveAmount(requested, 'amount');
  if (amountError) return fail(amountError);
  if (requested > refundable) {
    return fail({ code: 'RefundTooLarge', message: `${requested} is more than the ${refundable} left to refund`, transactionId, refundable, requested });
  }

  const creditTaken = Math.min(transaction.credit, requested);
  let remaining = requested - creditTaken;
  const unapplied: LedgerApplication[] = [];
  let applications = [...transaction.applications];
  for (let index = applications.length - 1; index >= 0 && remaining > 0; index--) {
    const { invoiceId, amount: applied } = applications[index];
    const taken = Math.min(applied, remaining);
    unapplied.push({ invoiceId, amount: taken });
    remaining -= taken;
    applications = adjustApplication(applications, invoiceId, -taken);
  }
  const refunded = transaction.refunded + requested;
  const after: LedgerTransaction = {
    ...transaction,
    applications,
    credit: transaction.credit - creditTaken,
    refunded,
    status: refunded === transaction.amount ? 'refunded' : 'partially_refunded',
  };
  return { ok: true, plan: { amount: requested, creditTaken, unapplied, transaction: after } };
}

/** Decides a refund of a charge in the client's ledger: `planRefund` plus the invoices it reopens. */
export function planRefundChanges(state: LedgerState, transactionId: string, amount?: MinorUnits): LedgerDecision<{ plan: RefundPlan }> {
  const transaction = findTransaction(state, transactionId);
  if (!transaction) return fail({ code: 'TransactionNotFound', message: `Transaction ${transactionId} does not exist`, transactionId });
  const decision = planRefund(transaction, amount);
  if (!decision.ok) return decision;
  const { plan } = decision;
  const missing = missingInvoice(
    state,
    plan.unapplied.map((a) => a.invoiceId),
  );
  if (missing) return fail(missing);
  const invoices = new InvoiceChangeBuilder(state.invoices);
  for (const { invoiceId, amount: taken } of plan.unapplied) invoices.move(invoiceId, -taken);
  return {
    ok: true,
    plan,
    changes: {
      invoices: invoices.list(),
      transactions: [{ transactionId, before: transaction, after: plan.transaction }],
      credits: creditChanges(state, new Map([[transaction.currency, -plan.creditTaken]])),
    },
  };
}

/**
 * Decides voiding an open or paid invoice: every payment applied to it gets that amount back as credit, and the
 * invoice ends `void` with nothing paid and nothing due. Drafts and void invoices cannot be voided.
 */
export function planInvoiceVoid(state: LedgerState, invoiceId: string): LedgerDecision<{ released: { transactionId: string; amount: MinorUnits }[] }> {
  const invoice = findInvoice(state, invoiceId);
  if (!invoice) return fail({ code: 'InvoiceNotFound', message: `Invoice ${invoiceId} does not exist`, invoiceId });
  if (invoice.status !== 'open' && invoice.status !== 'paid') {
    return fail({ code: 'InvoiceNotVoidable', message: `Invoice ${invoiceId} is ${invoice.status}`, invoiceId, status: invoice.status });
  }

  const transactions: TransactionChange[] = [];
  const released: { transactionId: string; amount: MinorUnits }[] = [];
  let creditDelta = 0;
  for (const transaction of Object.values(state.transactions)) {
    if (!isMoneyBearing(transaction)) continue;
    const amount = transaction.applications.find((a) => a.invoiceId === invoiceId)?.amount ?? 0;
    if (amount === 0) continue;
    const after = { ...transaction, applications: transaction.applications.filter((a) => a.invoiceId !== invoiceId), credit: transaction.credit + amount };
    transactions.push({ transactionId: transaction.id, before: transaction, after });
    released.push({ transactionId: transaction.id, amount });
    creditDelta += amount;
  }
  const invoices = new InvoiceChangeBuilder(state.invoices);
  invoices.set(invoiceId, { status: 'void', paid: 0, due: 0 });
  return {
    ok: true,
    released,
    changes: { invoices: invoices.list(), transactions, credits: creditChanges(state, new Map([[invoice.currency, creditDelta]])) },
  };
}

/** Which loose credit to use: a currency (every open invoice in it), or one invoice (its currency). */
export type CreditTarget = { currency: string; invoiceId?: string } | { currency?: string; invoiceId: string };

/** One move of credit: `amount` of transaction `transactionId`'s credit applied to `invoiceId`. */
export interface CreditMove {
  transactionId: string;
  invoiceId: string;
  amount: MinorUnits;
}

const byDateThenId =
  <T extends { id: string }>(date: (item: T) => string) =>
  (a: T, b: T) =>
    date(a) < date(b) ? -1 : date(a) > date(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/**
 * Decides applying loose credit to open invoices, oldest due date first (ties by id, i.e. creation order), or only
 * to `invoiceId`. Credit is drawn from the oldest payments first. Applying nothing (no credit, nothing due) is a
 * success with an empty `applied`. At most `maxChanges` invoices and payments are touched: the caller plans again
 * (on the committed state) to apply the rest.
 * @example planCreditApplication(state, { currency: 'USD' }) // { ok: true, applied: [{ invoiceId: 'inv_1', amount: 1200 }], ... }
 */
/** Most invoices and transactions one credit application touches, so it fits one DynamoDB transaction (100 items). */
export const MAX_CREDIT_APPLICATION_CHANGES = 90;

export function planCreditApplication(
  state: LedgerState,
  target: CreditTarget,
  maxChanges = MAX_CREDIT_APPLICATION_CHANGES,
): LedgerDecision<{ applied: LedgerApplication[]; moves: CreditMove[] }> {
  let currency: string;
  let candidates: LedgerInvoice[];
  if (target.invoiceId !== undefined) {
    const invoice = findInvoice(state, target.invoiceId);
    const error = applicationError(invoice, target.invoiceId, target.currency ?? invoice?.currency ?? '', 0);
    if (error) return fail(error);
    // applicationError reports a missing invoice, so there is one here.
    if (!invoice) throw new Error(`Invoice ${target.invoiceId} is missing but was not reported.`);
    currency = invoice.currency;
    candidates = [invoice];
  } else {
    if (target.currency === undefined) throw new Error('A credit target names a currency or an invoice.');
    currency = target.currency;
    candidates = Object.values(state.invoices)
      .filter((invoice) => invoice.currency === currency && invoice.status === 'open' && invoice.due > 0)
      .sort(byDateThenId((invoice) => invoice.dateDue));
  }
  const sources = Object.values(state.transactions)
    .filter((transaction) => transaction.currency === currency && isMoneyBearing(transaction) && transaction.credit > 0)
    .sort(byDateThenId((transaction) => transaction.date))
    .map((transaction) => ({ before: transaction, after: { ...transaction } }));

  const invoices = new InvoiceChangeBuilder(state.invoices);
  const applied: LedgerApplication[] = [];
  const moves: CreditMove[] = [];
  let sourceIndex = 0;
  // Invoices and payments touched so far; past `maxChanges` the rest is left for another round.
  const sourcesTouched = () => sourceIndex + (sourceIndex < sources.length && sources[sourceIndex].after.credit !== sources[sourceIndex].before.credit ? 1 : 0);
  let full = false;
  for (const candidate of candidates) {
    let due = candidate.due;
    let total = 0;
    while (due > 0 && sourceIndex < sources.length) {
      const source = sources[sourceIndex].after;
      const newSource = source.credit === sources[sourceIndex].before.credit;
      if (applied.length + 1 + sourcesTouched() + (newSource ? 1 : 0) > maxChanges) {
        full = true;
        break;
      }
      const amount = Math.min(source.credit, due);
      source.credit -= amount;
      source.applications = adjustApplication(source.applications, candidate.id, amount);
      moves.push({ transactionId: source.id, invoiceId: candidate.id, amount });
      due -= amount;
      total += amount;
      if (source.credit === 0) sourceIndex++;
    }
    if (total > 0) {
      invoices.move(candidate.id, total);
      applied.push({ invoiceId: candidate.id, amount: total });
    }
    if (full) break;
  }
  const used = sumMinorUnits(applied.map((a) => a.amount));
  const transactions = sources
    .filter((source) => source.after.credit !== source.before.credit)
    .map((source) => ({ transactionId: source.before.id, before: source.before, after: source.after }));
  return {
    ok: true,
    applied,
    moves,
    changes: { invoices: invoices.list(), transactions, credits: creditChanges(state, new Map([[currency, -used]])) },
  };
}

/** Applies a plan's `after` values to the state (the in-memory twin of the DynamoDB transaction). */
export function commitChanges(state: LedgerState, changes: LedgerChanges): LedgerState {
  const invoices = { ...state.invoices };
  for (const change of changes.invoices) invoices[change.invoiceId] = { ...invoices[change.invoiceId], ...change.after };
  const transactions = { ...state.transactions };
  for (const change of changes.transactions) transactions[change.transactionId] = change.after;
  const credits = { ...state.credits };
  for (const change of changes.credits) credits[change.currency] = change.after;
  return { invoices, transactions, credits };
}

/** Every action on a client's ledger, for `applyLedgerAction`. */
export type LedgerAction =
  | { type: 'payment'; payment: NewPayment }
  | { type: 'voidPayment'; transactionId: string }
  | { type: 'refund'; transactionId: string; amount?: MinorUnits }
  | { type: 'voidInvoice'; invoiceId: string }
  | { type: 'applyCredit'; target: CreditTarget };

/**
 * Decides and commits one action: the new state, or the rule error that leaves the state unchanged.
 * @example applyLedgerAction(state, { type: 'voidInvoice', invoiceId: 'inv_1' })
 */
export function applyLedgerAction(
  state: LedgerState,
  action: LedgerAction,
): { ok: true; state: LedgerState; changes: LedgerChanges } | { ok: false; error: LedgerRuleError } {
  const decision = decide(state, action);
  if (!decision.ok) return decision;
  return { ok: true, state: commitChanges(state, decision.changes), changes: decision.changes };
}

function decide(state: LedgerState, action: LedgerAction): LedgerDecision<object> {
  switch (action.type) {
    case 'payment':
      return planPayment(state, action.payment);
    case 'voidPayment':
      return planPaymentVoid(state, action.transactionId);
    case 'refund':
      return planRefundChanges(state, action.transactionId, action.amount);
    case 'voidInvoice':
      return planInvoiceVoid(state, action.invoiceId);
    case 'applyCredit':
      return planCreditApplication(state, action.target);
  }
}

/** Per-currency figures of `GET /v1/clients/{id}/summary`. */
export interface CurrencySummary {
  currency: string;
  /** Totals of open and paid invoices. */
  invoiced: MinorUnits;
  /** Amounts applied to them. */
  paid: MinorUnits;
  /** What is still owed on open invoices. */
  due: MinorUnits;
  /** Unapplied credit. */
  credit: MinorUnits;
}

/** The client summary per currency, sorted by currency code. */
export function summarizeLedger(state: LedgerState): CurrencySummary[] {
  const rows = new Map<string, CurrencySummary>();
  const row = (currency: string) => {
    let existing = rows.get(currency);
    if (!existing) {
      existing = { currency, invoiced: 0, paid: 0, due: 0, credit: 0 };
      rows.set(currency, existing);
    }
    return existing;
  };
  for (const invoice of Object.values(state.invoices)) {
    if (invoice.status !== 'open' && invoice.status !== 'paid') continue;
    const summary = row(invoice.currency);
    summary.invoiced = sumMinorUnits([summary.invoiced, invoice.total]);
    summary.paid = sumMinorUnits([summary.paid, invoice.paid]);
    if (invoice.status === 'open') summary.due = sumMinorUnits([summary.due, invoice.due]);
  }
  for (const [currency, credit] of Object.entries(state.credits)) if (credit !== 0) row(currency).credit = credit;
  return [...rows.values()].sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
}

/**
 * Every broken invariant of the ledger, as readable sentences (empty when consistent). Per currency: payments =
 * applied + credit + refunded; the credit balance equals the payments' credit; each invoice's `paid` is what is
 * applied to it, `paid + due = total` for open and paid invoices, `0 ≤ due ≤ total`, `paid` exactly when `due = 0`.
 */
export function ledgerViolations(state: LedgerState): string[] {
  const problems: string[] = [];
  const appliedPerInvoice = new Map<string, number>();
  const creditPerCurrency = new Map<string, number>();
  for (const transaction of Object.values(state.transactions)) {
    if (!isMoneyBearing(transaction)) {
      if (transaction.applications.length > 0 || transaction.credit !== 0) problems.push(`${transaction.id} is ${transaction.status} but still holds money`);
      continue;
    }
    const applied = transaction.applications.reduce((sum, a) => sum + a.amount, 0);
    if (transaction.amount !== applied + transaction.credit + transaction.refunded) {
      problems.push(`${transaction.id}: amount ${transaction.amount} ≠ applied ${applied} + credit ${transaction.credit} + refunded ${transaction.refunded}`);
    }
    if (transaction.credit < 0 || transaction.refunded < 0) problems.push(`${transaction.id} has negative credit or refunded`);
    for (const application of transaction.applications) {
      if (application.amount <= 0) problems.push(`${transaction.id} has a non-positive application to ${application.invoiceId}`);
      const invoice = findInvoice(state, application.invoiceId);
      if (!invoice || invoice.currency !== transaction.currency)
        problems.push(`${transaction.id} applies to ${application.invoiceId} of another currency or none`);
      appliedPerInvoice.set(application.invoiceId, (appliedPerInvoice.get(application.invoiceId) ?? 0) + application.amount);
    }
    creditPerCurrency.set(transaction.currency, (creditPerCurrency.get(transaction.currency) ?? 0) + transaction.credit);
  }
  for (const invoice of Object.values(state.invoices)) {
    const applied = appliedPerInvoice.get(invoice.id) ?? 0;
    if (invoice.paid !== applied) problems.push(`${invoice.id}: paid ${invoice.paid} ≠ applied ${applied}`);
    if (invoice.status === 'open' || invoice.status === 'paid') {
      if (invoice.paid + invoice.due !== invoice.total) problems.push(`${invoice.id}: paid ${invoice.paid} + due ${invoice.due} ≠ total ${invoice.total}`);
      if (invoice.due < 0 || invoice.due > invoice.total) problems.push(`${invoice.id}: due ${invoice.due} outside 0..${invoice.total}`);
      if ((invoice.status === 'paid') !== (invoice.due === 0)) problems.push(`${invoice.id} is ${invoice.status} with ${invoice.due} due`);
    }
  }
  const currencies = new Set([...creditPerCurrency.keys(), ...Object.keys(state.credits)]);
  for (const currency of currencies) {
    const expected = creditPerCurrency.get(currency) ?? 0;
    const actual = state.credits[currency] ?? 0;
    if (expected !== actual) problems.push(`${currency}: credit balance ${actual} ≠ payments' credit ${expected}`);
  }
  return problems;
}
