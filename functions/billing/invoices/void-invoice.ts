import { AlreadyDoneError, ConflictError, NotFoundError } from '../../domain/errors.js';
import { assertVoidable, type Invoice } from '../../domain/invoice.js';
import { planInvoiceVoid } from '../../domain/ledger.js';
import { readCompanyAndPointer } from '../../store/client-context.js';
import type { TransactItem } from '../../store/dynamo.js';
import { commitLedger, loadLedgerForInvoice } from '../../store/ledger.js';
import { ledgerError, today } from '../common.js';
import { withRetries } from '../../store/retry.js';

export interface VoidInvoiceInput {
  companyId: string;
  invoiceId: string;
  /** Void it only while it is open (the automation never voids a paid invoice): else a `ConflictError`. */
  onlyOpen?: boolean;
  /** Written in the same transaction (the automation's once-marker); if its condition fails: `AlreadyDoneError`. */
  alsoWrite?: readonly TransactItem[];
}

/**
 * Voids an open or paid invoice: it leaves the client's balance, and what was paid on it becomes credit of the
 * payments that paid it. Retried when a payment touches the same invoices at the same moment.
 */
export async function voidInvoice(input: VoidInvoiceInput): Promise<Invoice> {
  const { companyId, invoiceId } = input;
  // The company and the invoice's pointer (its client and currency) in one read.
  const { company, pointer } = await readCompanyAndPointer(companyId, invoiceId);
  const clientId = pointer?.clientId;
  if (typeof clientId !== 'string') throw new NotFoundError('No such invoice.');
  const currency = typeof pointer?.currency === 'string' ? pointer.currency : undefined;
  return withRetries(async () => {
    // The invoice with its currency's balance, then the payments applied to it: not the client's history.
    const loaded = await loadLedgerForInvoice(companyId, clientId, invoiceId, currency);
    const invoice = loaded.invoices.get(invoiceId);
    if (!invoice) throw new NotFoundError('No such invoice.');
    assertVoidable(invoice);
    // Decided on the state the plan is made from: a payment landing meanwhile fails the commit's conditions.
    if (input.onlyOpen && invoice.status !== 'open') throw new ConflictError('The invoice is no longer open.', { code: 'invoice_not_open' });
    const plan = planInvoiceVoid(loaded.state, invoice.id);
    if (!plan.ok) throw ledgerError(plan.error);
    // The statement shows the void on this date, in the company's time zone.
    const voidedOn = today(company);
    const { at } = await commitLedger(companyId, clientId, plan.changes, {
      loaded,
      today: voidedOn,
      invoiceFields: { [invoice.id]: { voidedOn } },
      extraItems: [...(input.alsoWrite ?? [])],
      extraRefused: () => new AlreadyDoneError(),
    });
    // What the commit wrote (it moved the invoice's version by one): no read of it again.
    const voided: Invoice = { ...invoice, status: 'void', paid: 0, due: 0, voidedOn, version: invoice.version + 1, updatedAt: at };
    return voided;
  });
}
