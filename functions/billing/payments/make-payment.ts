import type { AchDetails, CardDetails, ChargeResult, PaymentDetails } from '../../adapters/gateway/port.js';
import type { Client } from '../../domain/client.js';
import { ConcurrentChangeError, NotFoundError, ValidationError } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { PaymentMethod, Transaction } from '../../domain/invoice.js';
import { planPayment, type LedgerApplication } from '../../domain/ledger.js';
import { isUsable } from '../../domain/payment-account.js';
import type { Principal } from '../../domain/principal.js';
import { count, METRIC } from '../../observability/metrics.js';
import { getServices } from '../../services.js';
import { requireClient } from '../../store/clients.js';
import { requireCompany } from '../../store/companies.js';
import { nowIso } from '../../store/items.js';
import { commitLedger, loadLedgerPart } from '../../store/ledger.js';
import { getPaymentAccount } from '../../store/payment-accounts.js';
import { getTransaction, insertPendingAttempt, settleAttempt as settleStoredAttempt, type AttemptSettlement } from '../../store/transactions.js';
import { assertPaymentCurrency, ledgerError, today } from '../common.js';
import { withRetries } from '../../store/retry.js';
import { keepPaymentMethod } from '../payment-accounts/add-payment-account.js';
import { accountToken, assertPaymentDetails, tokenize } from '../payment-accounts/payment-methods.js';
import { paymentNotifications } from './notifications.js';

/** What to charge: a stored account, or new details (kept as an account after approval when `save` is set). */
export type PaymentSource = { paymentAccountId: string } | { newCard: CardDetails; save?: boolean } | { newAch: AchDetails; save?: boolean };

export interface MakePaymentInput {
  companyId: string;
  /** Who pays or takes the payment; `null` for the system (automation). A client token cannot pay a draft. */
  principal: Principal | null;
  clientId: string;
  source: PaymentSource;
  currency: string;
  /** Invoices to pay, in order; whatever is not applied becomes credit. */
  apply: readonly LedgerApplication[];
  /** Charged on top of the applications, kept as credit. */
  otherAmount?: number;
  /** A receipt is mailed unless this is `false`. */
  sendReceipt?: boolean;
}

/**
 * How a payment ended. Only `approved` and `kept_as_credit` moved money; `declined` (the issuer or bank refused) and
 * `failed` (a transient gateway failure: nothing charged, safe to try again) carry the attempt, stored as such.
 */
export type MakePaymentResult =
  | { outcome: 'approved'; transaction: Transaction }
  | { outcome: 'kept_as_credit'; transaction: Transaction; reason: string }
  | { outcome: 'declined'; attempt: Transaction; declineCode: string | null }
  | { outcome: 'failed'; attempt: Transaction };

const sum = (apply: readonly LedgerApplication[]) => apply.reduce((s, a) => s + a.amount, 0);

/**
 * Make a payment (seed 000, steps 1–3): checked against the ledger first, the attempt recorded, the gateway charged
 * with a key derived from the attempt, and on approval the applications, invoice balances and credit written in one
 * transaction conditioned on the balances it was planned from.
 */
export async function makePayment(input: MakePaymentInput): Promise<MakePaymentResult> {
  const { companyId, principal, currency, apply } = input;
  const client = await requireClient(companyId, input.clientId);
  const company = await requireCompany(companyId);
  assertPaymentCurrency(company, currency, apply);
  const date = today(company);
  const amount = sum(apply) + (input.otherAmount ?? 0);
  if (amount <= 0)
    throw new ValidationError('The payment must be greater than 0: apply something or give otherAmount.', [
      { path: 'otherAmount', message: 'The charge (sum of apply + otherAmount) must be greater than 0.' },
    ]);
  const id = newId('txn');
  await assertPayable(companyId, client.id, principal, { transactionId: id, currency, amount, date, apply });

  const source = await resolveSource(companyId, client, input.source, date);
  let attempt = pendingAttempt({ id, clientId: client.id, method: source.method, amount, currency, date, paymentAccountId: source.paymentAccountId });
  await recordPendingAttempt(companyId, attempt);
  const result = await getServices().gateway.charge({
    token: source.token,
    amount,
    currency,
    idempotencyKey: `billow:${companyId}:${id}`,
    description: `Payment from client #${client.number}`,
  });
  if (result.status === 'declined') {
    count(METRIC.paymentsDeclined);
    attempt = await settleAttempt(companyId, attempt, {
      status: 'declined',
      declineCode: result.declineCode ?? 'declined',
      failureMessage: result.message ?? null,
    });
    await paymentNotifications.declined(companyId, client, attempt, principal);
    return { outcome: 'declined', attempt, declineCode: result.declineCode ?? null };
  }
  if (result.status === 'failed') {
    count(METRIC.gatewayFailures);
    attempt = await settleAttempt(companyId, attempt, { status: 'failed', declineCode: null, failureMessage: result.message ?? 'Transient gateway failure' });
    return { outcome: 'failed', attempt };
  }

  // Approved: details asked to be saved are kept only now, so a declined card is never stored.
  if (source.saveAccount) attempt = { ...attempt, paymentAccountId: await source.saveAccount() };
  const charge: ApprovedCharge = { companyId, attempt, result, apply };
  const { creditReason } = await recordApprovedCharge(charge);
  const stored = await getTransaction(companyId, client.id, id);
  if (!stored) throw new Error(`The approved charge ${id} was committed but cannot be read back.`);
  count(METRIC.paymentsApproved);
  if (creditReason !== undefined) {
    count(METRIC.paymentsKeptAsCredit);
    return { outcome: 'kept_as_credit', transaction: stored, reason: creditReason };
  }
  if (input.sendReceipt !== false) await paymentNotifications.receipt(companyId, client, stored, principal);
  return { outcome: 'approved', transaction: stored };
}

/** Refuses, before anything is charged, a payment the ledger would refuse as it stands now. */
async function assertPayable(
  companyId: string,
  clientId: string,
  principal: Principal | null,
  payment: { transactionId: string; currency: string; amount: number; date: string; apply: readonly LedgerApplication[] },
): Promise<void> {
  const loaded = await loadLedgerPart(companyId, clientId, { invoiceIds: payment.apply.map((a) => a.invoiceId) });
  // A client token does not see drafts (404 by id), so paying one by id is not found either.
  const draft = principal?.role === 'client' ? payment.apply.find((a) => loaded.state.invoices[a.invoiceId]?.status === 'draft') : undefined;
  if (draft) throw new NotFoundError(`Invoice ${draft.invoiceId} does not exist`);
  const plan = planPayment(loaded.state, { ...payment, kind: 'charge' });
  if (!plan.ok) throw ledgerError(plan.error);
}

interface ResolvedSource {
  token: string;
  method: PaymentMethod;
  paymentAccountId: string | null;
  /** For new details with `save: true`: keeps them as an account; called only once the charge is approved. */
  saveAccount?: () => Promise<string>;
}

/** A stored account's token, or new details checked and tokenised now. */
async function resolveSource(companyId: string, client: Client, source: PaymentSource, todayDate: string): Promise<ResolvedSource> {
  if ('paymentAccountId' in source) {
    const account = await getPaymentAccount(companyId, client.id, source.paymentAccountId);
    if (!account) throw ValidationError.field('source.paymentAccountId', 'No such payment account.');
    if (!isUsable(account)) throw ValidationError.field('source.paymentAccountId', 'This payment account is disabled.');
    return { token: await accountToken(companyId, account), method: account.type, paymentAccountId: account.id };
  }
  const details: PaymentDetails = 'newCard' in source ? { type: 'card', card: source.newCard } : { type: 'ach', ach: source.newAch };
  assertPaymentDetails(details, todayDate, 'newCard' in source ? 'source.newCard' : 'source.newAch');
  const method = await tokenize(details);
  const saveAccount = source.save ? async () => (await keepPaymentMethod(companyId, client, details, method)).id : undefined;
  return { token: method.token, method: details.type, paymentAccountId: null, saveAccount };
}

function pendingAttempt(a: Pick<Transaction, 'id' | 'clientId' | 'method' | 'amount' | 'currency' | 'date' | 'paymentAccountId'>): Transaction {
  const now = nowIso();
  return {
    ...a,
    kind: 'charge',
    status: 'pending',
    applications: [],
    credit: 0,
    refunded: 0,
    reference: null,
    gatewayReference: null,
    declineCode: null,
    failureMessage: null,
    refunds: [],
    voidedOn: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
}

/**
 * Compensates a crash between the charge and its recording: the attempt is stored `pending` before the gateway is
 * called, so money taken by a charge whose answer was lost always leaves a trace to reconcile.
 */
async function recordPendingAttempt(companyId: string, attempt: Transaction): Promise<void> {
  await insertPendingAttempt(companyId, attempt);
}

/**
 * Compensates a charge that took no money: the pending attempt is closed as `declined` or `failed` (listed with the
 * client's transactions, applied to nothing), so it is never mistaken for one awaiting reconciliation.
 */
async function settleAttempt(companyId: string, attempt: Transaction, settlement: AttemptSettlement): Promise<Transaction> {
  return settleStoredAttempt(companyId, attempt, settlement);
}

interface ApprovedCharge {
  companyId: string;
  attempt: Transaction;
  result: ChargeResult;
  apply: readonly LedgerApplication[];
}

/**
 * Records a charge the gateway approved, applied as asked. `creditReason` says why it was kept whole as credit
 * instead: the invoices changed since the payment was checked, or the applications kept losing races.
 */
async function recordApprovedCharge(charge: ApprovedCharge): Promise<{ creditReason?: string }> {
  try {
    return await withRetries(() => commitApproved(charge, charge.apply));
  } catch (error) {
    if (!(error instanceof ConcurrentChangeError)) throw error;
    await keepAsCredit(charge);
    return { creditReason: error.message };
  }
}

/**
 * Compensates applications that lost their races after the gateway took the money: the money must be recorded, so
 * the whole amount is recorded as credit, which touches no invoice and so cannot keep losing.
 */
async function keepAsCredit(charge: ApprovedCharge): Promise<void> {
  await withRetries(() => commitApproved(charge, []));
}

/** One read-plan-commit round; applications the invoices no longer allow (paid meanwhile) become credit. */
async function commitApproved(charge: ApprovedCharge, apply: readonly LedgerApplication[]): Promise<{ creditReason?: string }> {
  const { companyId, attempt } = charge;
  const loaded = await loadLedgerPart(companyId, attempt.clientId, { invoiceIds: apply.map((a) => a.invoiceId), transactionIds: [attempt.id] });
  const payment = { transactionId: attempt.id, kind: 'charge' as const, currency: attempt.currency, amount: attempt.amount, date: attempt.date };
  let plan = planPayment(loaded.state, { ...payment, apply });
  let creditReason: string | undefined;
  if (!plan.ok) {
    creditReason = ledgerError(plan.error).message;
    plan = planPayment(loaded.state, { ...payment, apply: [] });
    if (!plan.ok) throw ledgerError(plan.error);
  }
  await commitLedger(companyId, attempt.clientId, plan.changes, {
    loaded,
    today: attempt.date,
    transactionFields: { [attempt.id]: { ...attempt, gatewayReference: charge.result.gatewayReference ?? null } },
  });
  return { creditReason };
}
