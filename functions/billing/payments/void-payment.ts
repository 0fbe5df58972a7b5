import { ConflictError } from '../../domain/errors.js';
import type { Transaction } from '../../domain/invoice.js';
import { planPaymentVoid } from '../../domain/ledger.js';
import type { Principal } from '../../domain/principal.js';
import { requireCompany } from '../../store/companies.js';
import { commitLedger, loadLedgerForTransaction } from '../../store/ledger.js';
import { getTransaction } from '../../store/transactions.js';
import { ledgerError, today } from '../common.js';
import { withRetries } from '../../store/retry.js';
import { assertSettled, readTransaction } from './read-transaction.js';

export interface VoidPaymentInput {
  companyId: string;
  principal: Principal | null;
  transactionId: string;
}

/** Voids an offline payment: un-applies it, reopens its invoices and removes its credit. A charge is refunded instead. */
export async function voidPayment(input: VoidPaymentInput): Promise<Transaction> {
  const { companyId } = input;
  const txn = await readTransaction(companyId, input.principal, input.transactionId);
  assertSettled(txn);
  if (txn.kind === 'charge') throw new ConflictError('A charge cannot be voided; refund it.', { code: 'not_voidable' });
  const company = await requireCompany(companyId);
  const date = today(company);
  await withRetries(async () => {
    const loaded = await loadLedgerForTransaction(companyId, txn.clientId, txn.id);
    const plan = planPaymentVoid(loaded.state, txn.id);
    if (!plan.ok) throw ledgerError(plan.error);
    await commitLedger(companyId, txn.clientId, plan.changes, { loaded, today: date, transactionFields: { [txn.id]: { voidedOn: date } } });
  });
  const voided = await getTransaction(companyId, txn.clientId, txn.id);
  if (!voided) throw new Error(`The voided payment ${txn.id} cannot be read back.`);
  return voided;
}
