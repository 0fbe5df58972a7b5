import { actorOf } from '../../domain/activity.js';
import type { Client } from '../../domain/client.js';
import { transactionView, type Transaction } from '../../domain/invoice.js';
import type { Principal } from '../../domain/principal.js';
import { sendPaymentDeclined, sendPaymentReceipt } from '../../email/notify.js';

/** The emails a payment sends (through the one mailer path, into the client's mail log). */
export const paymentNotifications = {
  receipt: (companyId: string, client: Client, txn: Transaction, principal: Principal | null) =>
    sendPaymentReceipt(companyId, client, transactionView(txn), actorOf(principal)),
  declined: (companyId: string, client: Client, txn: Transaction, principal: Principal | null) =>
    sendPaymentDeclined(companyId, client, transactionView(txn), actorOf(principal)),
};
