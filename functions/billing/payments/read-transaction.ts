import { NotFoundError } from '../../domain/errors.js';
import type { Transaction } from '../../domain/invoice.js';
import type { Principal } from '../../domain/principal.js';
import { findTransaction } from '../../store/transactions.js';
import { assertVisibleTo } from '../common.js';

/** A transaction by id, as the principal may see it: a client token reaches only its own ("not found" otherwise). */
export async function readTransaction(companyId: string, principal: Principal | null, transactionId: string): Promise<Transaction> {
  const txn = await findTransaction(companyId, transactionId);
  if (!txn) throw new NotFoundError('No such transaction.');
  assertVisibleTo(principal, txn.clientId, 'transaction');
  return txn;
}
