import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import type { InvoiceStatus, LedgerInvoice, LedgerTransaction } from './ledger.js';
import type { Principal } from './principal.js';

export interface InvoiceLine {
  id: string;
  description: string;
  /** Exactly as given: "1.5", "55/60", "-1". */
  quantity: string;
  unitAmount: number;
  amount: number;
  taxable: boolean;
  tax: number;
}

/** Which period of which service an invoice bills: paying the invoice pays that period (domain/service.ts). */
export interface ServicePeriod {
  serviceId: string;
  /** The period's first day (its renew date). */
  periodStart: string;
}

/** The company tax rate an invoice was priced with, as it was then. */
export interface InvoiceTaxRate {
  id: string;
  name: string;
  percent: string;
}

export interface Invoice extends LedgerInvoice {
  clientId: string;
  number: number | null;
  dateBilled: string;
  lines: InvoiceLine[];
  taxRate: InvoiceTaxRate | null;
  subtotal: number;
  tax: number;
  recurringInvoiceId: string | null;
  /** The service periods the invoice bills (empty for other invoices). */
  servicePeriods: ServicePeriod[];
  /** Company-local date the invoice was voided (statement "void" line). */
  voidedOn: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** An invoice's priced lines, the rate they were taxed at and the totals (what `priceLines` computes). */
export type InvoiceCharges = Pick<Invoice, 'lines' | 'taxRate' | 'subtotal' | 'tax' | 'total'>;

/** An invoice is created as work in progress (a draft, no number yet) or ready to be paid. */
export type NewInvoiceStatus = 'draft' | 'open';

export function assertInvoiceDates(dateBilled: string, dateDue: string): void {
  if (dateDue < dateBilled) throw ValidationError.field('dateDue', 'The due date cannot be before the billing date.');
}

/**
 * The state of an invoice as it opens: one with nothing to pay is paid at once, so no reminder, auto-debit or
 * suspension ever waits on it.
 */
export function openedState(total: number): { status: 'open' | 'paid'; due: number } {
  return total === 0 ? { status: 'paid', due: 0 } : { status: 'open', due: total };
}

export interface NewInvoice {
  id: string;
  clientId: string;
  currency: string;
  status: NewInvoiceStatus;
  dateBilled: string;
  dateDue: string;
  charges: InvoiceCharges;
  recurringInvoiceId: string | null;
  servicePeriods?: readonly ServicePeriod[];
  /** ISO timestamp of the creation. */
  now: string;
}

/** A new invoice, unnumbered: the store gives an invoice its number in the transaction that opens it. */
export function newInvoice(n: NewInvoice): Invoice {
  assertInvoiceDates(n.dateBilled, n.dateDue);
  const state = n.status === 'open' ? openedState(n.charges.total) : { status: 'draft' as const, due: n.charges.total };
  return {
    id: n.id,
    clientId: n.clientId,
    number: null,
    currency: n.currency,
    status: state.status,
    dateBilled: n.dateBilled,
    dateDue: n.dateDue,
    lines: n.charges.lines,
    taxRate: n.charges.taxRate,
    subtotal: n.charges.subtotal,
    tax: n.charges.tax,
    total: n.charges.total,
    paid: 0,
    due: state.due,
    recurringInvoiceId: n.recurringInvoiceId,
    servicePeriods: [...(n.servicePeriods ?? [])],
    voidedOn: null,
    createdAt: n.now,
    updatedAt: n.now,
    version: 1,
  };
}

/** Only a draft changes: once open, an invoice is a record the client may have seen and paid. */
export function assertDraft(invoice: Pick<Invoice, 'status'>): void {
  if (invoice.status !== 'draft') throw new ConflictError('Only draft invoices can be changed.', { code: 'invoice_not_draft' });
}

/**
 * The dates of a changed draft: a billing date moved past the due date carries the due date with it, unless a due
 * date is given too.
 */
export function draftDates(
  draft: Pick<Invoice, 'dateBilled' | 'dateDue'>,
  changes: { dateBilled?: string; dateDue?: string },
): { dateBilled: string; dateDue: string } {
  const dateBilled = changes.dateBilled ?? draft.dateBilled;
  const dateDue = changes.dateDue ?? (changes.dateBilled && draft.dateDue < changes.dateBilled ? changes.dateBilled : draft.dateDue);
  assertInvoiceDates(dateBilled, dateDue);
  return { dateBilled, dateDue };
}

export interface DraftChanges {
  currency?: string;
  dateBilled?: string;
  dateDue?: string;
  /** New lines, priced. */
  charges?: InvoiceCharges;
}

/** The draft with the changes made (still a draft, next version). */
export function reviseDraft(draft: Invoice, changes: DraftChanges, now: string): Invoice {
  assertDraft(draft);
  const dates = draftDates(draft, changes);
  const charges: InvoiceCharges = changes.charges ?? {
    lines: draft.lines,
    taxRate: draft.taxRate,
    subtotal: draft.subtotal,
    tax: draft.tax,
    total: draft.total,
  };
  return { ...draft, currency: changes.currency ?? draft.currency, ...dates, ...charges, due: charges.total, updatedAt: now, version: draft.version + 1 };
}

/** A (revised) draft opened: open, or paid when there is nothing to pay. Its number comes with the write. */
export function openDraft(draft: Invoice): Invoice {
  assertDraft(draft);
  return { ...draft, ...openedState(draft.total) };
}

/** Voiding undoes a bill that was issued; a draft was never issued, so it is changed instead. */
export function assertVoidable(invoice: Pick<Invoice, 'status'>): void {
  if (invoice.status === 'draft') throw new ConflictError('A draft is not voided; change or delete it instead.', { code: 'invoice_not_voidable' });
}

export function assertDeliverable(invoice: Pick<Invoice, 'status'>): void {
  if (invoice.status === 'draft') throw ValidationError.field('id', 'A draft cannot be delivered; open it first.');
}

/**
 * A client token reaches only its own invoices, and not its drafts (the company's work in progress); anything it
 * may not see does not exist for it.
 */
export function assertInvoiceVisibleTo(principal: Principal | null, invoice: Pick<Invoice, 'clientId' | 'status'>): void {
  if (principal?.role !== 'client') return;
  if (principal.clientId !== invoice.clientId || invoice.status === 'draft') throw new NotFoundError('No such invoice.');
}

export interface InvoiceListFilter {
  clientId?: string;
  status?: InvoiceStatus;
  currency?: string;
  /** Only invoices due strictly before this date. */
  dueBefore?: string;
  excludeDrafts: boolean;
}

/**
 * The invoices a principal may list when it asks for `requested`: a client token its own and no drafts.
 * Undefined when that leaves nothing (another client's invoices, or a client asking for drafts).
 */
export function visibleInvoiceFilter(principal: Principal | null, requested: Omit<InvoiceListFilter, 'excludeDrafts'>): InvoiceListFilter | undefined {
  if (principal?.role !== 'client') return { ...requested, excludeDrafts: false };
  if (requested.clientId !== undefined && requested.clientId !== principal.clientId) return undefined;
  if (requested.status === 'draft') return undefined;
  return { ...requested, clientId: principal.clientId, excludeDrafts: true };
}

export type PaymentMethod = 'card' | 'ach' | 'check' | 'money_order' | 'cash' | 'wire' | 'other';

/** A stored payment attempt or payment. `pending` only between recording an attempt and the gateway's answer. */
export interface Transaction extends Omit<LedgerTransaction, 'status'> {
  status: LedgerTransaction['status'] | 'pending';
  clientId: string;
  method: PaymentMethod;
  paymentAccountId: string | null;
  reference: string | null;
  gatewayReference: string | null;
  /** False when the money moved through the simulated gateway (or was recorded in a deployment using it). */
  livemode: boolean;
  declineCode: string | null;
  failureMessage: string | null;
  refunds: Array<{ amount: number; date: string; at: string }>;
  voidedOn: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const isOpenOrPaid = (status: InvoiceStatus) => status === 'open' || status === 'paid';

export function invoiceView(invoice: Invoice) {
  return {
    id: invoice.id,
    number: invoice.number,
    clientId: invoice.clientId,
    currency: invoice.currency,
    status: invoice.status,
    dateBilled: invoice.dateBilled,
    dateDue: invoice.dateDue,
    lines: invoice.lines,
    taxRate: invoice.taxRate,
    subtotal: invoice.subtotal,
    tax: invoice.tax,
    total: invoice.total,
    paid: invoice.paid,
    due: invoice.due,
    recurringInvoiceId: invoice.recurringInvoiceId,
    createdAt: invoice.createdAt,
    updatedAt: invoice.updatedAt,
    version: invoice.version,
  };
}

export function transactionView(t: Transaction) {
  return {
    id: t.id,
    clientId: t.clientId,
    kind: t.kind,
    method: t.method,
    amount: t.amount,
    currency: t.currency,
    status: t.status,
    applications: t.applications,
    credit: t.credit,
    refunded: t.refunded,
    paymentAccountId: t.paymentAccountId,
    reference: t.reference,
    declineCode: t.declineCode,
    livemode: t.livemode,
    date: t.date,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    version: t.version,
  };
}
