import { ConflictError } from '../../domain/errors.js';
import type { Transaction } from '../../domain/invoice.js';
import type { Principal } from '../../domain/principal.js';
import { requireClient } from '../../store/clients.js';
import { getPaymentAccount } from '../../store/payment-accounts.js';
import { deletePendingCharge, getPendingCharge, type PendingCharge } from '../../store/pending-charges.js';
import { getTransaction } from '../../store/transactions.js';
import { accountToken } from '../payment-accounts/payment-methods.js';
import { chargeRecordedAttempt, type AttemptOutcome } from './charge-attempt.js';
import { notifyAttemptOutcome } from './notifications.js';
import { openAttemptToken } from './pending-charge-token.js';
import { readTransaction } from './read-transaction.js';

export interface ReconcilePaymentInput {
  companyId: string;
  /** Staff asking on demand, or `null` for the scheduled reconciler. */
  principal: Principal | null;
  transactionId: string;
  /** @default the current time (the schedule passes the time of its run) */
  now?: Date;
}

/**
 * How long after an attempt its charge may still be replayed. The gateway answers a repeated key with its first outcome
 * only while it keeps the key (Stripe: 24 hours); a replay after that could charge a second time.
 */
export const REPLAY_WINDOW_MS = 23 * 60 * 60 * 1000;

/** What reconciling found: the outcome it recorded now, or `already_settled` (nothing changed). */
export type ReconcilePaymentResult = AttemptOutcome | { outcome: 'already_settled'; transaction: Transaction };

/**
 * Settles a payment attempt left `pending` (its outcome was never recorded) by replaying its gateway request with the
 * same idempotency key: the gateway answers the first outcome without charging again. Approved money is applied as
 * the request asked (or kept as credit when the invoices changed meanwhile); a decline or failure is recorded so.
 * A settled attempt is left as it is, so reconciling twice changes nothing.
 */
export async function reconcilePayment(input: ReconcilePaymentInput): Promise<ReconcilePaymentResult> {
  const { companyId, transactionId } = input;
  const attempt = await readTransaction(companyId, input.principal, transactionId);
  const charge = await getPendingCharge(companyId, attempt.clientId, transactionId);
  if (attempt.status !== 'pending') {
    // Left behind when a settlement's second write was lost.
    if (charge) await deletePendingCharge(companyId, attempt.clientId, transactionId);
    return { outcome: 'already_settled', transaction: attempt };
  }
  if (!charge) {
    throw new ConflictError('This payment attempt was recorded without its request, so it cannot be replayed; settle it with the gateway by hand.', {
      code: 'not_reconcilable',
    });
  }
  if ((input.now ?? new Date()).getTime() - Date.parse(attempt.createdAt) > REPLAY_WINDOW_MS) {
    throw new ConflictError(
      'This payment attempt is older than the gateway keeps its idempotency key, so a replay could charge again; settle it with the gateway by hand.',
      { code: 'not_reconcilable' },
    );
  }
  const client = await requireClient(companyId, attempt.clientId);
  let outcome: AttemptOutcome;
  try {
    outcome = await chargeRecordedAttempt({
      companyId,
      attempt,
      token: await replayToken(companyId, attempt, charge),
      description: charge.description,
      apply: charge.apply,
    });
  } catch (error) {
    // Settled meanwhile (by the request that made it, or another reconcile, with the same gateway answer): it stands.
    const now = await getTransaction(companyId, attempt.clientId, transactionId);
    if (now && now.status !== 'pending') return { outcome: 'already_settled', transaction: now };
    throw error;
  }
  await notifyAttemptOutcome(companyId, client, outcome, input.principal, charge.apply, charge.sendReceipt);
  return outcome;
}

/** The token the attempt was charged with: sealed on its pending charge for new details, else its stored account's. */
async function replayToken(companyId: string, attempt: Transaction, charge: PendingCharge): Promise<string> {
  if (charge.sealedToken) return openAttemptToken(companyId, attempt.id, charge.sealedToken);
  const account = attempt.paymentAccountId ? await getPaymentAccount(companyId, attempt.clientId, attempt.paymentAccountId) : undefined;
  if (!account) {
    throw new ConflictError('The payment account this attempt was charged to is gone, so the charge cannot be replayed; settle it with the gateway by hand.', {
      code: 'not_reconcilable',
    });
  }
  return accountToken(companyId, account);
}
