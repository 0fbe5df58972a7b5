import { GatewayOutcomeUnknownError } from '../../adapters/gateway/port.js';
import { ConcurrentChangeError, NotFoundError, RuleViolationError, UpstreamError } from '../../domain/errors.js';
import type { Transaction } from '../../domain/invoice.js';
import { planRefundChanges } from '../../domain/ledger.js';
import type { Principal } from '../../domain/principal.js';
import { count, METRIC } from '../../observability/metrics.js';
import { getServices } from '../../services.js';
import { nowIso } from '../../store/items.js';
import { commitLedger, ledgerWriteSize, loadLedgerOfTransaction, MAX_TRANSACTION_ITEMS } from '../../store/ledger.js';
import { committedTransaction, getTransaction } from '../../store/transactions.js';
import { ledgerError, today } from '../common.js';
import { withRetries } from '../../store/retry.js';
import { assertSettled, readTransactionAndCompany } from './read-transaction.js';

export interface RefundPaymentInput {
  companyId: string;
  principal: Principal | null;
  transactionId: string;
  /** Minor units; everything still refundable when not given. */
  amount?: number;
}

/**
 * Refunds a charge (all that is left, or `amount`): its credit first, then its applications, last first. The gateway
 * refunds only once the ledger has planned a change it can record in one transaction; a failed gateway refund is an
 * `UpstreamError` with nothing recorded.
 */
export async function refundPayment(input: RefundPaymentInput): Promise<Transaction> {
  const { companyId } = input;
  // The company with the transaction's pointer, then the transaction: each read once and passed down.
  const { company, txn, loaded: readWithIt } = await readTransactionAndCompany(companyId, input.principal, input.transactionId);
  assertSettled(txn);
  const date = today(company);
  // The first attempt plans with the transaction and ledger just read; a retry (a commit refused by a concurrent change)
  // reads them again.
  let read: Transaction | undefined = txn;
  let readLedger = readWithIt;
  const refunded = await withRetries(async () => {
    const current = read ?? (await getTransaction(companyId, txn.clientId, txn.id));
    read = undefined;
    // Gone from the client it was read under: merged away or deleted meanwhile.
    if (!current) throw new NotFoundError('No such transaction.');
    const loaded = readLedger ?? (await loadLedgerOfTransaction(companyId, current));
    readLedger = undefined;
    const plan = planRefundChanges(loaded.state, txn.id, input.amount);
    if (!plan.ok) throw ledgerError(plan.error);
    // Checked before the gateway moves money: a refund the ledger could not record in one transaction must not happen.
    if (ledgerWriteSize(plan.changes) > MAX_TRANSACTION_ITEMS) {
      throw new RuleViolationError('This refund would reopen too many invoices at once; refund a smaller amount, then the rest.', {
        code: 'refund_too_spread',
      });
    }
    // The key names the refund by what was refunded before it, so a retry of the same refund is one refund.
    const refund = await getServices()
      .gateway.refund({
        gatewayReference: current.gatewayReference ?? '',
        amount: plan.plan.amount,
        idempotencyKey: `billow:${companyId}:${txn.id}:refund:${current.refunded}`,
      })
      .catch((error: unknown) => {
        // The gateway may have refunded: the same refund asked again has the same key, and is made once.
        if (error instanceof GatewayOutcomeUnknownError)
          throw new UpstreamError('The gateway did not answer; ask for the same refund again (it is made once).', { transactionId: txn.id });
        throw error;
      });
    // Another refund of this charge, of another amount, holds the key: it commits first, then this one re-plans.
    if (refund.keyConflict) throw new ConcurrentChangeError('Another refund of this payment is being made; nothing was refunded. Try again.');
    if (refund.status !== 'succeeded') {
      count(METRIC.gatewayFailures);
      throw new UpstreamError(`The gateway did not refund the payment: ${refund.message ?? 'unknown error'}.`, { transactionId: txn.id });
    }
    const fields: Partial<Transaction> = { refunds: [...current.refunds, { amount: plan.plan.amount, date, at: nowIso() }] };
    const { at } = await commitLedger(companyId, txn.clientId, plan.changes, { loaded, today: date, transactionFields: { [txn.id]: fields } });
    // The answer is what the commit wrote, not a read-back.
    const after = plan.changes.transactions.find((t) => t.transactionId === txn.id)?.after;
    if (!after) throw new Error(`The refund of ${txn.id} planned no change to it.`);
    return committedTransaction(current, txn.clientId, after, fields, at);
  });
  count(METRIC.refunds);
  return refunded;
}
