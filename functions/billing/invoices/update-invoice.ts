import { assertDraft, draftDates, openDraft, reviseDraft, type Invoice } from '../../domain/invoice.js';
import { priceLines, type LineInput } from '../../domain/invoice-pricing.js';
import { requireClient } from '../../store/clients.js';
import { requireCompany } from '../../store/companies.js';
import { replaceDraft, requireInvoice, saveOpenedDraft } from '../../store/invoices.js';
import { assertVersion, nowIso } from '../../store/items.js';
import { assertCurrency } from '../common.js';
import { applyChange } from '../../store/retry.js';

export interface UpdateInvoiceInput {
  companyId: string;
  invoiceId: string;
  /** The version the caller last read; the change is refused when the invoice has moved on since. */
  expectedVersion?: number;
  currency?: string;
  dateBilled?: string;
  dateDue?: string;
  /** Replaces every line (priced again). */
  lines?: readonly LineInput[];
  /** Opens the draft with the changes: it gets its number and joins the client's balance. */
  open?: boolean;
}

/** Changes a draft invoice and, when asked, opens it (paid at once when its total is zero). */
export function updateInvoice(input: UpdateInvoiceInput): Promise<Invoice> {
  return applyChange(input.expectedVersion, () => updateInvoiceOnce(input));
}

async function updateInvoiceOnce(input: UpdateInvoiceInput): Promise<Invoice> {
  const { companyId } = input;
  const current = await requireInvoice(companyId, input.invoiceId);
  assertVersion(current, input.expectedVersion);
  assertDraft(current);
  const [company, client] = await Promise.all([requireCompany(companyId), requireClient(companyId, current.clientId)]);
  if (input.currency) assertCurrency(company, input.currency);
  const dates = draftDates(current, input);
  const charges = input.lines ? priceLines(company.own.taxRates, client, input.lines) : undefined;
  const revised = reviseDraft(current, { currency: input.currency, ...dates, charges }, nowIso());
  if (input.open) return saveOpenedDraft(companyId, current, openDraft(revised));
  await replaceDraft(companyId, current, revised);
  return revised;
}
