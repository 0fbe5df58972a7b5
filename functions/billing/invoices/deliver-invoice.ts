import { assertDeliverable, invoiceView } from '../../domain/invoice.js';
import { sendInvoiceEmail } from '../../email/notify.js';
import type { Actor } from '../../store/client-records.js';
import { requireClient } from '../../store/clients.js';
import { requireInvoice } from '../../store/invoices.js';
import { renderInvoiceDocument } from '../documents.js';

export interface DeliverInvoiceInput {
  companyId: string;
  invoiceId: string;
  /** Who sends it, for the mail log. */
  actor: Actor;
  /**
   * Whether the rules for automatic mail apply (skip inactive clients and suppressed addresses): on for the
   * automation, off (the default) when staff ask for the mail.
   */
  automatic?: boolean;
}

/** Mails an opened invoice with its PDF to the client's billing contacts (or the client). */
export async function deliverInvoice(input: DeliverInvoiceInput): Promise<{ mailId: string | null }> {
  const invoice = await requireInvoice(input.companyId, input.invoiceId);
  assertDeliverable(invoice);
  const client = await requireClient(input.companyId, invoice.clientId);
  const pdf = await renderInvoiceDocument(input.companyId, invoice, client);
  const mail = await sendInvoiceEmail(input.companyId, client, invoiceView(invoice), pdf, input.actor, { automatic: input.automatic ?? false });
  return { mailId: mail?.id ?? null };
}
