import type { Company } from '../../domain/company.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { Transaction } from '../../domain/invoice.js';
import type { Principal } from '../../domain/principal.js';
import { readTransactionContext } from '../../store/client-context.js';
import type { LoadedLedger } from '../../store/ledger.js';
import { findTransaction } from '../../store/transactions.js';
import { assertVisibleTo } from '../common.js';

/** A transaction by id, as the principal may see it: a client token reaches only its own ("not found" otherwise). */
export async function readTransaction(companyId: string, principal: Principal | null, transactionId: string): Promise<Transaction> {
  const txn = await findTransaction(companyId, transactionId);
  if (!txn) throw new NotFoundError('No such transaction.');
  assertVisibleTo(principal, txn.clientId, 'transaction');
  return txn;
}

/**
 * `readTransaction` with the company read in the same BatchGet as the transaction's pointer (a refund, a void), and
 * the ledger the change plans with read with the transaction (`loaded`, absent for a pointer that does not say what
 * to read): two reads for all of it, each item once.
 */
export async function readTransactionAndCompany(
  companyId: string,
  principal: Principal | null,
  transactionId: string,
): Promise<{ company: Company; txn: Transaction; loaded?: LoadedLedger }> {
  const { company, transaction, loaded } = await readTransactionContext(companyId, transactionId);
  if (!transaction) throw new NotFoundError('No such transaction.');
  assertVisibleTo(principal, transaction.clientId, 'transaction');
  return { company, txn: transaction, ...(loaded ? { loaded } : {}) };
}

/**
 * Refuses to change a payment whose gateway outcome is not recorded yet: it holds no money on the ledger until the
 * reconciler (reconcile-payment.ts) settles it.
 */
export function assertSettled(txn: Transaction): void {
  if (txn.status === 'pending') {
    throw new ConflictError('This payment is pending: its outcome is not recorded yet. It is reconciled within minutes; try again then.', {
      code: 'transaction_pending',
      details: { transactionId: txn.id },
    });
  }
}
