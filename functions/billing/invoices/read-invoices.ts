import { assertInvoiceVisibleTo, type Invoice, type InvoiceListFilter } from '../../domain/invoice.js';
import type { Principal } from '../../domain/principal.js';
import type { Page } from '../../store/dynamo.js';
import { listInvoices, requireInvoice } from '../../store/invoices.js';

export interface ReadInvoiceInput {
  companyId: string;
  invoiceId: string;
  /** Who reads: a client token sees only its own invoices, and no drafts. */
  principal: Principal | null;
}

/** An invoice the principal may see; any other is "not found". */
export async function readInvoice(input: ReadInvoiceInput): Promise<Invoice> {
  const invoice = await requireInvoice(input.companyId, input.invoiceId);
  assertInvoiceVisibleTo(input.principal, invoice);
  return invoice;
}

export interface ListInvoicesInput {
  companyId: string;
  /** What the principal may see of what it asked for (`visibleInvoiceFilter`). */
  filter: InvoiceListFilter;
  limit: number;
  startKey?: Record<string, unknown>;
}

/** One page of invoices: a client's from its partition, else the company's by due date. */
export async function listVisibleInvoices(input: ListInvoicesInput): Promise<Page<Invoice>> {
  return listInvoices(input.companyId, { ...input.filter, limit: input.limit, startKey: input.startKey });
}
