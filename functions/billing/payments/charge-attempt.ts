import type { ChargeResult } from '../../adapters/gateway/port.js';
import type { TransactItem } from '../../store/dynamo.js';
import { ConcurrentChangeError, ConflictError } from '../../domain/errors.js';
import type { Transaction } from '../../domain/invoice.js';
import { planPayment, type LedgerApplication } from '../../domain/ledger.js';
import { logger } from '../../observability/logger.js';
import { count, METRIC } from '../../observability/metrics.js';
import { getServices } from '../../services.js';
import type { PreparedMail } from '../../email/notify.js';
import { commitLedger, ledgerWriteSize, loadLedgerPart, type LoadedLedger } from '../../store/ledger.js';
import { mailEntryWrites } from '../../store/mail.js';
import { deletePendingCharge, deletePendingChargeItem } from '../../store/pending-charges.js';
import { ClientBusyError, ClientGoneError, withRetriesWhileClientBusy } from '../../store/client-guard.js';
import { clientOfObject } from '../../store/refs.js';
import { retryWhile } from '../../store/retry.js';
import { committedTransaction, settleAttempt, type AttemptSettlement } from '../../store/transactions.js';
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
  /**
   * The ledger as read (with the attempt's client) just before the attempt was recorded: the first commit plans
   * against it instead of reading the invoices and balances again. Its conditions hold the invoices and the attempt
   * to what was read, so a change since (or a merge that moved them) fails the commit, which then reads afresh.
   */
  loaded?: LoadedLedger;
  /**
   * The receipt of an approved attempt (null: none is sent), prepared once approved: its `queued` entry is written
   * in the transaction that records the approval, so the payment and the record of its receipt land together.
   */
  receipt?: (attempt: Transaction) => Promise<PreparedMail | null>;
}

/** How a charged attempt ended; only `approved` and `kept_as_credit` moved money. */
export type AttemptOutcome =
  /**
   * `receipt`: recorded with the approval, still to be handed to the provider (`deliverMail`); null when it was
   * prepared and none is to be sent (no deliverable recipient); absent when it is not taken care of (sent afterwards).
   */
  | { outcome: 'approved'; transaction: Transaction; receipt?: PreparedMail | null }
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
  const { prepared, receipt } = await prepareReceipt(recorded, attempt);
  // The answer is what the commit wrote (on the client that holds the attempt now), not a read-back.
  const {
    creditReason,
    receiptRecorded,
    transaction: stored,
  } = await recordApprovedCharge({ companyId, attempt, result, apply, loaded: recorded.loaded, receipt });
  count(METRIC.paymentsApproved);
  if (creditReason !== undefined) {
    count(METRIC.paymentsKeptAsCredit);
    return { outcome: 'kept_as_credit', transaction: stored, reason: creditReason };
  }
  const handled = prepared === null ? { receipt: null } : receiptRecorded && receipt ? { receipt: receipt.prepared } : {};
  return { outcome: 'approved', transaction: stored, ...handled };
}

/**
 * The receipt of the approved attempt with its entry's writes, for the approval's transaction. The money comes
 * first: a receipt that cannot be prepared (a broken template, the blob store down) is left to be sent afterwards
 * (`prepared` undefined), never a reason not to record the charge.
 */
async function prepareReceipt(
  recorded: RecordedAttempt,
  attempt: Transaction,
): Promise<{ prepared?: PreparedMail | null; receipt?: { prepared: PreparedMail; writes: TransactItem[] } }> {
  if (!recorded.receipt) return {};
  try {
    const prepared = await recorded.receipt(attempt);
    if (!prepared) return { prepared: null };
    return { prepared, receipt: { prepared, writes: await mailEntryWrites(recorded.companyId, prepared.entry, prepared.content) } };
  } catch (error) {
    logger.warn('The receipt could not be prepared with the payment; it is sent after it is recorded', { transactionId: attempt.id, error: error as Error });
    return {};
  }
}

/**
 * Compensates a charge that took no money: the pending attempt is closed as `declined` or `failed` (listed with the
 * client's transactions, applied to nothing), so it is never mistaken for one awaiting reconciliation. Its pending
 * charge goes after it: if that delete is lost, the reconciler finds a settled attempt and only removes it.
 */
async function settleUnpaid(companyId: string, attempt: Transaction, settlement: AttemptSettlement): Promise<Transaction> {
  // A merge may move the attempt meanwhile: it is settled where it is now, once the merge is done. The first try
  // writes where it was recorded (the guard refuses a client merged or being merged); later ones look it up.
  let round = 0;
  const current = await retryWhile(
    async () => {
      const owned = round++ === 0 ? attempt : await ownerNow(companyId, attempt);
      return { owned, settled: await settleAttempt(companyId, owned, settlement) };
    },
    // A first try that found the attempt changed or gone from there (a merge moved it) looks it up once.
    (error) => error instanceof ClientBusyError || error instanceof ClientGoneError || (round === 1 && error instanceof ConcurrentChangeError),
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
  loaded?: LoadedLedger;
  /** The receipt's entry writes, for the attempt's client as recorded. */
  receipt?: { prepared: PreparedMail; writes: TransactItem[] };
}

/**
 * Records a charge the gateway approved, applied as asked. `creditReason` says why it was kept whole as credit
 * instead: the invoices changed since the payment was checked, or the applications kept losing races.
 */
async function recordApprovedCharge(charge: ApprovedCharge): Promise<Committed> {
  let round = 0;
  try {
    return await withRetriesWhileClientBusy(() => commitApproved(charge, charge.apply, round++ === 0));
  } catch (error) {
    if (!(error instanceof ConcurrentChangeError)) throw error;
    const kept = await keepAsCredit(charge);
    return { ...kept, creditReason: error.message };
  }
}

/**
 * Compensates applications that lost their races after the gateway took the money: the money must be recorded, so
 * the whole amount is recorded as credit, which touches no invoice and so cannot keep losing.
 */
async function keepAsCredit(charge: ApprovedCharge): Promise<Committed> {
  return withRetriesWhileClientBusy(() => commitApproved(charge, [], false));
}

/** What a committed approval reports: why it became credit (if it did), the client it was recorded on, whether with the receipt. */
interface Committed {
  creditReason?: string;
  clientId: string;
  receiptRecorded?: boolean;
  /** The transaction as the commit wrote it (store/transactions.ts `committedTransaction`): the answer, not read back. */
  transaction: Transaction;
}

/**
 * One read-plan-commit round; applications the invoices no longer allow (paid meanwhile) become credit. The first
 * round plans against the ledger read before the charge, on the client the attempt was recorded on (the commit's
 * conditions and client guard refuse it if anything changed since); later rounds find the attempt's client now and
 * read afresh.
 */
async function commitApproved(charge: ApprovedCharge, apply: readonly LedgerApplication[], first: boolean): Promise<Committed> {
  const { companyId } = charge;
  const attempt = first ? charge.attempt : await ownerNow(companyId, charge.attempt);
  const loaded =
    first && charge.loaded
      ? // The attempt as recorded (it was not read back): the commit's condition on its version holds it to that.
        { ...charge.loaded, transactions: new Map([...charge.loaded.transactions, [attempt.id, charge.attempt]]) }
      : await loadLedgerPart(companyId, attempt.clientId, { invoiceIds: apply.map((a) => a.invoiceId), transactionIds: [attempt.id] });
  const payment = { transactionId: attempt.id, kind: 'charge' as const, currency: attempt.currency, amount: attempt.amount, date: attempt.date };
  let plan = planPayment(loaded.state, { ...payment, apply });
  let creditReason: string | undefined;
  if (!plan.ok) {
    creditReason = ledgerError(plan.error).message;
    plan = planPayment(loaded.state, { ...payment, apply: [] });
    if (!plan.ok) throw ledgerError(plan.error);
  }
  // The receipt is recorded with the approval it acknowledges, when it is one (not credit) on the client it was
  // prepared for, and when the transaction has room to spare (a payment over many invoices keeps its items for them);
  // otherwise it is sent afterwards as before.
  let withReceipt =
    charge.receipt !== undefined &&
    creditReason === undefined &&
    charge.receipt.prepared.entry.clientId === attempt.clientId &&
    ledgerWriteSize(plan.changes) + RECEIPT_ITEMS <= RECEIPT_ROOM;
  const fields: Partial<Transaction> = { ...attempt, gatewayReference: charge.result.gatewayReference ?? null };
  const commit = () =>
    commitLedger(companyId, attempt.clientId, plan.changes, {
      loaded,
      today: attempt.date,
      transactionFields: { [attempt.id]: fields },
      // The attempt's pointer was written with the invoices it was asked to pay (make-payment.ts).
      listedOnPointer: { [attempt.id]: charge.apply.map((a) => a.invoiceId) },
      // The pending charge leaves with the outcome it waited for, in the same transaction.
      extraItems: [deletePendingChargeItem(companyId, attempt.clientId, attempt.id), ...(withReceipt ? (charge.receipt?.writes ?? []) : [])],
    });
  let at: string;
  try {
    ({ at } = await commit());
  } catch (error) {
    // The money is never refused for its receipt: too many items with it, the payment commits without it.
    if (!(withReceipt && error instanceof ConflictError && error.code === 'too_many_items')) throw error;
    withReceipt = false;
    ({ at } = await commit());
  }
  const stored = loaded.transactions.get(attempt.id);
  const after = plan.changes.transactions.find((t) => t.transactionId === attempt.id)?.after;
  if (!stored || !after) throw new Error(`The approval of ${attempt.id} was planned without its attempt.`);
  return {
    creditReason,
    clientId: attempt.clientId,
    receiptRecorded: withReceipt,
    transaction: committedTransaction(stored, attempt.clientId, after, fields, at),
  };
}

/** The pending charge's delete and the receipt's entry and pointer, besides the ledger's items. */
const RECEIPT_ITEMS = 3;
/** The ledger items up to which the receipt rides along: well under DynamoDB's 100, leaving room for what else commits. */
const RECEIPT_ROOM = 60;

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
