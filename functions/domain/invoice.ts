import type { InvoiceStatus, LedgerInvoice, LedgerTransaction } from './ledger.js';
import type { Period } from './dates.js';

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

export interface Invoice extends LedgerInvoice {
  clientId: string;
  number: number | null;
  dateBilled: string;
  lines: InvoiceLine[];
  taxRate: { id: string; name: string; percent: string } | null;
  subtotal: number;
  tax: number;
  recurringInvoiceId: string | null;
  /** Company-local date the invoice was voided (statement "void" line). */
  voidedOn: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
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
  declineCode: string | null;
  failureMessage: string | null;
  refunds: Array<{ amount: number; date: string; at: string }>;
  voidedOn: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface RecurringInvoice {
  id: string;
  clientId: string;
  currency: string;
  lines: Array<{ description: string; quantity: string; unitAmount: number; taxable: boolean }>;
  term: number;
  period: Period;
  /** Total number of invoices in the series; null = without end. */
  occurrences: number | null;
  /** Invoices created so far (the first is created with the series). */
  created: number;
  nextBillDate: string | null;
  /** Days from billing to due date, as on the first invoice. */
  dueAfterDays: number;
  status: 'active' | 'completed';
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
    date: t.date,
    createdAt: t.createdAt,
    updatedAt: t.updatedAt,
    version: t.version,
  };
}
