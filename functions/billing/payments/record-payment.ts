import { newId } from '../../domain/ids.js';
import { getServices } from '../../services.js';
import type { PaymentMethod, Transaction } from '../../domain/invoice.js';
import { planPayment, type LedgerApplication } from '../../domain/ledger.js';
import type { Principal } from '../../domain/principal.js';
import { readClientContext } from '../../store/client-context.js';
import { nowIso } from '../../store/items.js';
import { commitLedger, loadLedgerInCurrency, newTransaction } from '../../store/ledger.js';
import { committedTransaction } from '../../store/transactions.js';
import { assertPaymentCurrency, ledgerError, today } from '../common.js';
import { withRetries } from '../../store/retry.js';

export interface RecordPaymentInput {
  companyId: string;
  principal: Principal | null;
  clientId: string;
  /** How the money came: anything but a card or bank debit through the gateway. */
  type: Exclude<PaymentMethod, 'card' | 'ach'>;
  /** The check number, wire reference… */
  reference?: string;
  amount: number;
  currency: string;
  /** Company-local `YYYY-MM-DD`; today in the company's time zone when not given. */
  date?: string;
  /** Invoices to pay, in order; whatever is not applied becomes credit. */
  apply?: readonly LedgerApplication[];
}

/** Records money received outside the gateway (check, cash, wire…), applied and credited in one ledger transaction. */
export async function recordPayment(input: RecordPaymentInput): Promise<Transaction> {
  const { companyId, currency, amount } = input;
  // The client and the company in one read.
  const { client, company } = await readClientContext(companyId, input.clientId);
  const apply = input.apply ?? [];
  assertPaymentCurrency(company, currency, input.apply);
  const date = input.date ?? today(company);
  const id = newId('txn');
  const now = nowIso();
  return withRetries(async () => {
    // The named invoices and the balance of the currency, by key in one read.
    const loaded = await loadLedgerInCurrency(companyId, client.id, currency, { invoiceIds: apply.map((a) => a.invoiceId) });
    const plan = planPayment(loaded.state, { transactionId: id, kind: 'offline', currency, amount, date, apply });
    if (!plan.ok) throw ledgerError(plan.error);
    // The rest of a new transaction's stored fields are commitLedger's defaults (no account, gateway or refunds).
    // Recorded money is as real as the deployment: test data where payments go through the simulator.
    const fields: Partial<Transaction> = { method: input.type, reference: input.reference ?? null, livemode: getServices().gateway.livemode, createdAt: now };
    const { at } = await commitLedger(companyId, client.id, plan.changes, { loaded, today: date, transactionFields: { [id]: fields } });
    // The answer is what the commit wrote, not a read-back.
    const after = plan.changes.transactions.find((t) => t.transactionId === id)?.after;
    if (!after) throw new Error(`The payment ${id} was planned without its transaction.`);
    return committedTransaction(newTransaction(id, fields, at), client.id, after, fields, at);
  });
}
