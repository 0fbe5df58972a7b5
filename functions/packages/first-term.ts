import type { Company } from '../domain/company.js';
import type { Invoice } from '../domain/invoice.js';
import { billsNothing, serviceLines, type Service } from '../domain/service.js';
import { today } from '../billing/common.js';
import { createInvoice } from '../billing/invoices/create-invoice.js';
import type { TransactItem } from '../store/dynamo.js';

/**
 * A service becoming active as it is: period 0 invoiced (its lines and the setup fee), paid at once when it bills
 * nothing. `write` stores the service in the invoice's transaction, so there is never an active service without its
 * first invoice, nor an invoice for a service that was not stored.
 */
export function activeFromStart(s: Service): Service {
  return { ...s, status: 'active', periodsInvoiced: 1, paidPeriods: billsNothing(serviceLines(s, 0)) ? [s.startDate] : [] };
}

/** Invoices the first term of an active service (due on its start date) in one transaction with `write`. */
export async function invoiceFirstTerm(company: Company, s: Service, write: readonly TransactItem[]): Promise<Invoice> {
  const billedOn = today(company);
  const { invoice } = await createInvoice({
    companyId: company.id,
    clientId: s.clientId,
    currency: s.pricing.currency,
    // A service started in the past is billed on its start date, so the invoice is not due before it was billed.
    dateBilled: [s.startDate, billedOn].sort()[0],
    dateDue: s.startDate,
    lines: serviceLines(s, 0),
    servicePeriods: [{ serviceId: s.id, periodStart: s.startDate }],
    alsoWrite: write,
  });
  return invoice;
}
