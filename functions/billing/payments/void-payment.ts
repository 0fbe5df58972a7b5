import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { Transaction } from '../../domain/invoice.js';
import { planPaymentVoid } from '../../domain/ledger.js';
import type { Principal } from '../../domain/principal.js';
import { commitLedger, loadLedgerOfTransaction } from '../../store/ledger.js';
import { committedTransaction, getTransaction } from '../../store/transactions.js';
import { ledgerError, today } from '../common.js';
import { withRetries } from '../../store/retry.js';
import { assertSettled, readTransactionAndCompany } from './read-transaction.js';

export interface VoidPaymentInput {
  companyId: string;
  principal: Principal | null;
  transactionId: string;
}

/** Voids an offline payment: un-applies it, reopens its invoices and removes its credit. A charge is refunded instead. */
export async function voidPayment(input: VoidPaymentInput): Promise<Transaction> {
  const { companyId } = input;
  // The company with the transaction's pointer, then the transaction: each read once and passed down.
  const { company, txn, loaded: readWithIt } = await readTransactionAndCompany(companyId, input.principal, input.transactionId);
  assertSettled(txn);
  if (txn.kind === 'charge') throw new ConflictError('A charge cannot be voided; refund it.', { code: 'not_voidable' });
  const date = today(company);
  // The first attempt plans with the transaction and ledger just read; a retry (a commit refused by a concurrent change)
  // reads them again.
  let read: Transaction | undefined = txn;
  let readLedger = readWithIt;
  return withRetries(async () => {
    const current = read ?? (await getTransaction(companyId, txn.clientId, txn.id));
    read = undefined;
    if (!current) throw new NotFoundError('No such transaction.');
    const loaded = readLedger ?? (await loadLedgerOfTransaction(companyId, current));
    readLedger = undefined;
    const plan = planPaymentVoid(loaded.state, txn.id);
    if (!plan.ok) throw ledgerError(plan.error);
    const fields: Partial<Transaction> = { voidedOn: date };
    const { at } = await commitLedger(companyId, txn.clientId, plan.changes, { loaded, today: date, transactionFields: { [txn.id]: fields } });
    // The answer is what the commit wrote, not a read-back.
    const after = plan.changes.transactions.find((t) => t.transactionId === txn.id)?.after;
    if (!after) throw new Error(`The void of ${txn.id} planned no change to it.`);
    return committedTransaction(current, txn.clientId, after, fields, at);
  });
}
