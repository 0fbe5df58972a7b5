import type { Invoice } from '../../domain/invoice.js';
import { renderInvoiceDocument } from '../documents.js';
import { readInvoice, type ReadInvoiceInput } from './read-invoices.js';

/** The invoice as a PDF, for a principal that may see it (staff see drafts too). */
export async function getInvoicePdf(input: ReadInvoiceInput): Promise<{ invoice: Invoice; pdf: Buffer }> {
  const invoice = await readInvoice(input);
  return { invoice, pdf: await renderInvoiceDocument(input.companyId, invoice) };
}
