import type { Client } from '../../domain/client.js';
import type { Company } from '../../domain/company.js';
import { newId } from '../../domain/ids.js';
import { assertInvoiceDates, newInvoice, type Invoice, type NewInvoiceStatus, type ServicePeriod } from '../../domain/invoice.js';
import { priceLines, type LineInput } from '../../domain/invoice-pricing.js';
import { startSeries, type RecurringInvoice, type Recurrence } from '../../domain/recurring-invoice.js';
import { readClientContext } from '../../store/client-context.js';
import { insertInvoice } from '../../store/invoices.js';
import type { TransactItem } from '../../store/dynamo.js';
import { nowIso } from '../../store/items.js';
import { assertCurrency, today } from '../common.js';

export interface CreateInvoiceInput {
  companyId: string;
  clientId: string;
  /** Default: the client's currency. */
  currency?: string;
  /** Default: today in the company's time zone (`domain/clock.ts`). */
  dateBilled?: string;
  /** Default: the billing date. */
  dateDue?: string;
  /** Default: open. */
  status?: NewInvoiceStatus;
  lines: readonly LineInput[];
  /** Makes the invoice the first of a series billed again every term. */
  recurring?: Recurrence;
  /**
   * Written in the same transaction (the automation's once-markers, a renewed object's next date); if one's condition
   * fails nothing is written and `AlreadyDoneError` is thrown.
   */
  alsoWrite?: readonly TransactItem[];
  /** The service periods the invoice bills (paying it pays them: store/ledger.ts). */
  servicePeriods?: readonly ServicePeriod[];
  /** The series this invoice is a later one of (the automation's renewal of a recurring invoice). */
  recurringInvoiceId?: string;
  /**
   * The company and client the caller has already read (the automation reads them once per page): not read again.
   * The transaction still checks that the client may be written (store/client-guard.ts).
   */
  read?: { company: Company; client: Client };
  /**
   * The caller numbers the company's invoices one after another (the automation's run, one per company at a time):
   * the number starts from the one this process wrote last instead of a read of the counter (store/counters.ts).
   */
  numberedInSequence?: boolean;
}

export interface CreatedInvoice {
  invoice: Invoice;
  /** The series the invoice starts, when `recurring` was given. */
  recurring: RecurringInvoice | null;
}

/**
 * Creates an invoice for a client, priced with the company's tax rates: a draft (no number), or open with the
 * company's next invoice number and added to the client's balance — paid at once when its total is zero.
 * With `recurring` the series starts in the same transaction.
 */
export async function createInvoice(input: CreateInvoiceInput): Promise<CreatedInvoice> {
  const known = input.read && input.read.company.id === input.companyId && input.read.client.id === input.clientId ? input.read : undefined;
  const [company, client] = known
    ? [known.company, known.client]
    : // The company and the client in one BatchGet: the counter's read is the only other one.
      await readClientContext(input.companyId, input.clientId).then((read) => [read.company, read.client] as const);
  const currency = input.currency ?? client.currency;
  assertCurrency(company, currency);
  const dateBilled = input.dateBilled ?? today(company);
  const dateDue = input.dateDue ?? dateBilled;
  assertInvoiceDates(dateBilled, dateDue);
  const charges = priceLines(company.own.taxRates, client, input.lines);
  const createdAt = nowIso();
  const recurring = input.recurring
    ? startSeries({
        id: newId('rinv'),
        clientId: client.id,
        currency,
        lines: charges.lines,
        recurrence: input.recurring,
        firstBilled: dateBilled,
        firstDue: dateDue,
        now: createdAt,
      })
    : null;
  const invoice = newInvoice({
    id: newId('inv'),
    clientId: client.id,
    currency,
    status: input.status ?? 'open',
    dateBilled,
    dateDue,
    charges,
    recurringInvoiceId: recurring?.id ?? input.recurringInvoiceId ?? null,
    servicePeriods: input.servicePeriods,
    now: createdAt,
  });
  return {
    invoice: await insertInvoice(input.companyId, invoice, recurring ?? undefined, input.alsoWrite, { inSequence: input.numberedInSequence }),
    recurring,
  };
}
