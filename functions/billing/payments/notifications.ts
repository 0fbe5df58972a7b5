import { actorOf } from '../../domain/activity.js';
import type { Client } from '../../domain/client.js';
import { transactionView, type Transaction } from '../../domain/invoice.js';
import type { LedgerApplication } from '../../domain/ledger.js';
import type { Principal } from '../../domain/principal.js';
import { sendPaymentDeclined, sendPaymentReceipt } from '../../email/notify.js';
import { requireClient } from '../../store/clients.js';
import { getInvoice } from '../../store/invoices.js';
import type { AttemptOutcome } from './charge-attempt.js';

/** The emails a payment sends (through the one mailer path, into the client's mail log). */
const paymentNotifications = {
  receipt: (companyId: string, client: Client, txn: Transaction, principal: Principal | null) =>
    sendPaymentReceipt(companyId, client, transactionView(txn), actorOf(principal)),
  /**
   * The declined notice names the invoice the payment was meant for, as it stands now (its amount due and due date).
   * A payment for several invoices, or for none, names none: the template then leaves the invoice lines out.
   */
  declined: async (companyId: string, client: Client, txn: Transaction, principal: Principal | null, apply: readonly LedgerApplication[] = []) => {
    const invoiceIds = [...new Set(apply.map((application) => application.invoiceId))];
    const invoice = invoiceIds.length === 1 ? await getInvoice(companyId, client.id, invoiceIds[0]) : undefined;
    return sendPaymentDeclined(companyId, client, transactionView(txn), actorOf(principal), invoice ? { invoice } : {});
  },
};

/**
 * The email a charged attempt's outcome sends: the declined notice, or (unless `sendReceipt` is false) the receipt.
 * A merge during the charge moves the payment to the client merged into: the receipt goes from there.
 */
export async function notifyAttemptOutcome(
  companyId: string,
  client: Client,
  outcome: AttemptOutcome,
  principal: Principal | null,
  apply: readonly LedgerApplication[],
  sendReceipt: boolean,
): Promise<void> {
  if (outcome.outcome === 'declined') await paymentNotifications.declined(companyId, client, outcome.attempt, principal, apply);
  if (outcome.outcome === 'approved' && sendReceipt) {
    const payer = outcome.transaction.clientId === client.id ? client : await requireClient(companyId, outcome.transaction.clientId);
    await paymentNotifications.receipt(companyId, payer, outcome.transaction, principal);
  }
}
