import type { Period } from '../../domain/dates.js';
import { NotFoundError } from '../../domain/errors.js';
import type { LineInput } from '../../domain/invoice-pricing.js';
import { reviseSeries, type RecurringInvoice } from '../../domain/recurring-invoice.js';
import { requireClient } from '../../store/clients.js';
import { requireCompany } from '../../store/companies.js';
import type { Page } from '../../store/dynamo.js';
import { deleteRecurring, findRecurring, listRecurring, replaceRecurring } from '../../store/invoices.js';
import { assertVersion, nowIso } from '../../store/items.js';
import { applyChange } from '../../store/retry.js';

// A series starts with its first invoice (`createInvoice` with `recurring`); these read, change and stop it.

export async function readRecurringInvoice(companyId: string, id: string): Promise<RecurringInvoice> {
  const series = await findRecurring(companyId, id);
  if (!series) throw new NotFoundError('No such recurring invoice.');
  return series;
}

/** One page of a client's series, oldest first (an unknown client has none). */
export async function listRecurringInvoices(
  companyId: string,
  clientId: string,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<Page<RecurringInvoice>> {
  return listRecurring(companyId, clientId, limit, startKey);
}

export interface UpdateRecurringInvoiceInput {
  companyId: string;
  id: string;
  /** The version the caller last read; the change is refused when the series has moved on since. */
  expectedVersion?: number;
  lines?: readonly LineInput[];
  term?: number;
  period?: Period;
  /** null: without end. */
  occurrences?: number | null;
}

/** Changes what the invoices of a series not yet created will be; as many occurrences as created completes it. */
export function updateRecurringInvoice(input: UpdateRecurringInvoiceInput): Promise<RecurringInvoice> {
  return applyChange(input.expectedVersion, () => updateRecurringInvoiceOnce(input));
}

async function updateRecurringInvoiceOnce(input: UpdateRecurringInvoiceInput): Promise<RecurringInvoice> {
  const { companyId } = input;
  const current = await readRecurringInvoice(companyId, input.id);
  assertVersion(current, input.expectedVersion);
  const lines = input.lines && (await pricedWith(companyId, current.clientId, input.lines));
  const next = reviseSeries(current, { lines, term: input.term, period: input.period, occurrences: input.occurrences }, nowIso());
  await replaceRecurring(companyId, current, next);
  return next;
}

/** New lines with the tax rates and client they are checked against. */
async function pricedWith(companyId: string, clientId: string, given: readonly LineInput[]) {
  const [company, client] = await Promise.all([requireCompany(companyId), requireClient(companyId, clientId)]);
  return { given, taxRates: company.own.taxRates, client };
}

/** Stops a series; the invoices it created stay. */
export async function deleteRecurringInvoice(companyId: string, id: string): Promise<void> {
  await deleteRecurring(companyId, await readRecurringInvoice(companyId, id));
}
