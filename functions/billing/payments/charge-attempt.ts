import type { ChargeResult } from '../../adapters/gateway/port.js';
import { ConcurrentChangeError } from '../../domain/errors.js';
import type { Transaction } from '../../domain/invoice.js';
import { planPayment, type LedgerApplication } from '../../domain/ledger.js';
import { count, METRIC } from '../../observability/metrics.js';
import { getServices } from '../../services.js';
import { commitLedger, loadLedgerPart } from '../../store/ledger.js';
import { deletePendingCharge, deletePendingChargeItem } from '../../store/pending-charges.js';
import { ClientBusyError, ClientGoneError, withRetriesWhileClientBusy } from '../../store/client-guard.js';
import { clientOfObject } from '../../store/refs.js';
import { retryWhile } from '../../store/retry.js';
import { getTransaction, settleAttempt, type AttemptSettlement } from '../../store/transactions.js';
import { ledgerError } from '../common.js';

/**
 * The step a payment and its reconciliation share: the gateway charged for a recorded `pending` attempt, with the key
 * derived from the attempt (the gateway answers a repeated key with the first outcome and charges once), and that
 * outcome recorded. The attempt's pending charge (store/pending-charges.ts) is removed with the outcome.
 */

export interface RecordedAttempt {
  companyId: string;
  /** The stored `pending` attempt, as read (its version guards the write of the outcome). */
  attempt: Transaction;
  token: string;
  description: string;
  /** Invoices to pay, in order, as the request asked; the rest of the amount becomes credit. */
  apply: readonly LedgerApplication[];
  /** For new details with `save: true`: keeps them as an account; called only once the charge is approved. */
  saveAccount?: () => Promise<string>;
}

/** How a charged attempt ended; only `approved` and `kept_as_credit` moved money. */
export type AttemptOutcome =
  | { outcome: 'approved'; transaction: Transaction }
  | { outcome: 'kept_as_credit'; transaction: Transaction; reason: string }
  | { outcome: 'declined'; attempt: Transaction; declineCode: string | null }
  | { outcome: 'failed'; attempt: Transaction };

export const chargeIdempotencyKey = (companyId: string, transactionId: string) => `billow:${companyId}:${transactionId}`;

/** Charges a recorded attempt and records what the gateway answered. Throws when the outcome could not be recorded. */
export async function chargeRecordedAttempt(recorded: RecordedAttempt): Promise<AttemptOutcome> {
  const { companyId, apply } = recorded;
  let { attempt } = recorded;
  const result = await getServices().gateway.charge({
    token: recorded.token,
    amount: attempt.amount,
    currency: attempt.currency,
    idempotencyKey: chargeIdempotencyKey(companyId, attempt.id),
    description: recorded.description,
  });
  if (result.status === 'declined') {
    count(METRIC.paymentsDeclined);
    attempt = await settleUnpaid(companyId, attempt, {
      status: 'declined',
      declineCode: result.declineCode ?? 'declined',
      failureMessage: result.message ?? null,
    });
    return { outcome: 'declined', attempt, declineCode: result.declineCode ?? null };
  }
  if (result.status === 'failed') {
    count(METRIC.gatewayFailures);
    attempt = await settleUnpaid(companyId, attempt, { status: 'failed', declineCode: null, failureMessage: result.message ?? 'Transient gateway failure' });
    return { outcome: 'failed', attempt };
  }

  // Approved: details asked to be saved are kept only now, so a declined card is never stored.
  if (recorded.saveAccount) attempt = { ...attempt, paymentAccountId: await recorded.saveAccount() };
  const { creditReason, clientId } = await recordApprovedCharge({ companyId, attempt, result, apply });
  // Read back where it was committed; only a merge since then sends the read through the attempt's pointer again.
  const stored =
    (await getTransaction(companyId, clientId, attempt.id)) ?? (await getTransaction(companyId, (await ownerNow(companyId, attempt)).clientId, attempt.id));
  if (!stored) throw new Error(`The approved charge ${attempt.id} was committed but cannot be read back.`);
  count(METRIC.paymentsApproved);
  if (creditReason !== undefined) {
    count(METRIC.paymentsKeptAsCredit);
    return { outcome: 'kept_as_credit', transaction: stored, reason: creditReason };
  }
  return { outcome: 'approved', transaction: stored };
}

/**
 * Compensates a charge that took no money: the pending attempt is closed as `declined` or `failed` (listed with the
 * client's transactions, applied to nothing), so it is never mistaken for one awaiting reconciliation. Its pending
 * charge goes after it: if that delete is lost, the reconciler finds a settled attempt and only removes it.
 */
async function settleUnpaid(companyId: string, attempt: Transaction, settlement: AttemptSettlement): Promise<Transaction> {
  // A merge may move the attempt meanwhile: it is settled where it is now, once the merge is done.
  const current = await retryWhile(
    async () => {
      const owned = await ownerNow(companyId, attempt);
      return { owned, settled: await settleAttempt(companyId, owned, settlement) };
    },
    (error) => error instanceof ClientBusyError || error instanceof ClientGoneError,
    SETTLE_WAITS,
  );
  await deletePendingCharge(companyId, current.owned.clientId, current.owned.id);
  return current.settled;
}

/** Rounds a declined or failed attempt waits for a merge of its client (then it stays pending, for the reconciler). */
const SETTLE_WAITS = 100;

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
async function recordApprovedCharge(charge: ApprovedCharge): Promise<Committed> {
  try {
    return await withRetriesWhileClientBusy(() => commitApproved(charge, charge.apply));
  } catch (error) {
    if (!(error instanceof ConcurrentChangeError)) throw error;
    const { clientId } = await keepAsCredit(charge);
    return { creditReason: error.message, clientId };
  }
}

/**
 * Compensates applications that lost their races after the gateway took the money: the money must be recorded, so
 * the whole amount is recorded as credit, which touches no invoice and so cannot keep losing.
 */
async function keepAsCredit(charge: ApprovedCharge): Promise<Committed> {
  return withRetriesWhileClientBusy(() => commitApproved(charge, []));
}

/** What a committed approval reports: why it became credit (if it did), and the client it was recorded on. */
interface Committed {
  creditReason?: string;
  clientId: string;
}

/** One read-plan-commit round; applications the invoices no longer allow (paid meanwhile) become credit. */
async function commitApproved(charge: ApprovedCharge, apply: readonly LedgerApplication[]): Promise<Committed> {
  const { companyId } = charge;
  const attempt = await ownerNow(companyId, charge.attempt);
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
    // The pending charge leaves with the outcome it waited for, in the same transaction.
    extraItems: [deletePendingChargeItem(companyId, attempt.clientId, attempt.id)],
  });
  return { creditReason, clientId: attempt.clientId };
}

/**
 * The attempt on the client that holds it now: a merge moves a pending attempt (with its invoices) to the client
 * merged into, and the approved charge must be recorded there (store/client-guard.ts). Resolved through the
 * attempt's id pointer, which the merge rewrites in the same transaction as it moves the attempt.
 */
async function ownerNow(companyId: string, attempt: Transaction): Promise<Transaction> {
  const clientId = await clientOfObject(companyId, attempt.id);
  if (!clientId) throw new Error(`The payment attempt ${attempt.id} has no client any more: its outcome cannot be recorded.`);
  return clientId === attempt.clientId ? attempt : { ...attempt, clientId };
}
