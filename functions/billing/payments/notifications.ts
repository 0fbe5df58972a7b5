import { actorOf } from '../../domain/activity.js';
import type { Client } from '../../domain/client.js';
import { DEFAULT_EMAIL_TEMPLATES, type EmailTemplate } from '../../domain/email/templates.js';
import { transactionView, type Invoice, type Transaction } from '../../domain/invoice.js';
import type { LedgerApplication } from '../../domain/ledger.js';
import type { Principal } from '../../domain/principal.js';
import { deliverMail, preparePaymentReceipt, sendPaymentDeclined, sendPaymentReceipt, type KnownRecipients, type PreparedMail } from '../../email/notify.js';
import type { ClientContext } from '../../store/client-context.js';
import { requireClient } from '../../store/clients.js';
import { getInvoice } from '../../store/invoices.js';
import type { AttemptOutcome } from './charge-attempt.js';

/**
 * What the payment's request already read, so its mail reads none of it again: the company, the client (current)
 * and the templates asked for (store/client-context.ts), and the invoices it planned with.
 */
export interface PaymentReads {
  context: ClientContext;
  invoices: ReadonlyMap<string, Invoice>;
  /** The client's contacts and its billing recipients' suppressions, when the request read them (with a receipt). */
  recipients?: KnownRecipients;
}

/** The template's text as the request read it: the company's version, else the default (it asked for this one). */
function knownTemplate(reads: PaymentReads, name: 'payment_receipt' | 'payment_declined'): EmailTemplate {
  const own = reads.context.templates.get(name);
  return own ? { subject: own.subject, html: own.html, text: own.text } : DEFAULT_EMAIL_TEMPLATES[name];
}

const knownFor = (reads: PaymentReads, name: 'payment_receipt' | 'payment_declined') => ({
  company: reads.context.company,
  templateText: knownTemplate(reads, name),
  clientFresh: true,
  ...(reads.recipients ? { recipients: reads.recipients } : {}),
});

/** The emails a payment sends (through the one mailer path, into the client's mail log). */
const paymentNotifications = {
  receipt: (companyId: string, client: Client, txn: Transaction, principal: Principal | null) =>
    sendPaymentReceipt(companyId, client, transactionView(txn), actorOf(principal)),
  /**
   * The declined notice names the invoice the payment was meant for, as it stands now (its amount due and due date;
   * as this request read it, when it did). A payment for several invoices, or for none, names none: the template
   * then leaves the invoice lines out.
   */
  declined: async (
    companyId: string,
    client: Client,
    txn: Transaction,
    principal: Principal | null,
    apply: readonly LedgerApplication[] = [],
    reads?: PaymentReads,
  ) => {
    const invoiceIds = [...new Set(apply.map((application) => application.invoiceId))];
    const invoice = invoiceIds.length === 1 ? (reads?.invoices.get(invoiceIds[0]) ?? (await getInvoice(companyId, client.id, invoiceIds[0]))) : undefined;
    return sendPaymentDeclined(companyId, client, transactionView(txn), actorOf(principal), {
      ...(invoice ? { invoice } : {}),
      ...(reads ? { known: knownFor(reads, 'payment_declined') } : {}),
    });
  },
};

/**
 * The receipt of an approved attempt, prepared from what the request read (the recipients are resolved now), for
 * `chargeRecordedAttempt` to record with the approval.
 */
export function receiptFor(companyId: string, principal: Principal | null, reads: PaymentReads): (attempt: Transaction) => Promise<PreparedMail | null> {
  return (attempt) =>
    preparePaymentReceipt(companyId, reads.context.client, transactionView(attempt), actorOf(principal), { known: knownFor(reads, 'payment_receipt') });
}

/**
 * The email a charged attempt's outcome sends: the declined notice, or (unless `sendReceipt` is false) the receipt —
 * delivered when it was recorded with the approval, else sent now. A merge during the charge moves the payment to
 * the client merged into: the receipt goes from there.
 */
export async function notifyAttemptOutcome(
  companyId: string,
  client: Client,
  outcome: AttemptOutcome,
  principal: Principal | null,
  apply: readonly LedgerApplication[],
  sendReceipt: boolean,
  reads?: PaymentReads,
): Promise<void> {
  if (outcome.outcome === 'declined') await paymentNotifications.declined(companyId, client, outcome.attempt, principal, apply, reads);
  if (outcome.outcome === 'approved' && sendReceipt) {
    if (outcome.receipt !== undefined) {
      if (outcome.receipt) await deliverMail(outcome.receipt);
      return;
    }
    const payer = outcome.transaction.clientId === client.id ? client : await requireClient(companyId, outcome.transaction.clientId);
    await paymentNotifications.receipt(companyId, payer, outcome.transaction, principal);
  }
}
