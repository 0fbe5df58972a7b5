import type { Client } from '../domain/client.js';
import type { Company } from '../domain/company.js';
import type { Invoice } from '../domain/invoice.js';
import type { Statement } from '../domain/statement.js';
import { requireClient } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import type { PdfClient, PdfCompany } from './pdf.js';

/**
 * pdfkit is imported when a first document is rendered, not when the function starts: most billing requests render
 * none, and it is among the heaviest modules of the bundle to load.
 */
const pdf = () => import('./pdf.js');

const undefinedIfNull = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function pdfCompany(company: Company): PdfCompany {
  return { name: company.name };
}

function pdfClient(client: Client): PdfClient {
  return {
    number: client.number,
    firstName: undefinedIfNull(client.firstName),
    lastName: undefinedIfNull(client.lastName),
    company: undefinedIfNull(client.company),
    address1: undefinedIfNull(client.address1),
    address2: undefinedIfNull(client.address2),
    city: undefinedIfNull(client.city),
    state: undefinedIfNull(client.state),
    zip: undefinedIfNull(client.zip),
    country: undefinedIfNull(client.country),
    email: undefinedIfNull(client.email),
    taxId: undefinedIfNull(client.taxId),
  };
}

/** The invoice's PDF; `client` (the invoice's, already read by the caller) saves reading it again. */
export async function renderInvoiceDocument(companyId: string, invoice: Invoice, client?: Client): Promise<Buffer> {
  const [company, billed] = await Promise.all([requireCompany(companyId), client ?? requireClient(companyId, invoice.clientId)]);
  return (await pdf()).renderInvoicePdf(
    { company: pdfCompany(company), client: pdfClient(billed), invoice: { ...invoice, taxRate: invoice.taxRate ?? undefined } },
    { locale: company.own.language },
  );
}

export async function renderStatementDocument(company: Company, client: Client, statement: Statement): Promise<Buffer> {
  return (await pdf()).renderStatementPdf({ company: pdfCompany(company), client: pdfClient(client), statement }, { locale: company.own.language });
}
