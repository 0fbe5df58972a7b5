import { today } from '../billing/common.js';
import { newId } from '../domain/ids.js';
import type { Invoice } from '../domain/invoice.js';
import { findPricing } from '../domain/package.js';
import { serviceQuantity, type Service } from '../domain/service.js';
import { requireClient } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { nowIso } from '../store/items.js';
import { requirePackage } from '../store/packages.js';
import { insertService, newServiceItems } from '../store/services.js';
import { activeFromStart, invoiceFirstTerm } from './first-term.js';

export interface AddServiceInput {
  companyId: string;
  clientId: string;
  packageId: string;
  pricingId: string;
  /** Default 1; a number or decimal/fraction string, echoed back as given. */
  quantity?: number | string;
  /** Default: today in the company's time zone. */
  startDate?: string;
  /** Default active. */
  status?: 'active' | 'pending';
}

export interface AddedService {
  service: Service;
  /** The first term's invoice (null for a pending service). */
  invoice: Invoice | null;
}

/**
 * Sells a package to a client at one of its pricings (a snapshot: later package changes do not reach it). An active
 * service is invoiced for its first term at once, in the same transaction; a pending one waits for `activate`.
 */
export async function addService(input: AddServiceInput): Promise<AddedService> {
  const [company, client, pkg] = await Promise.all([
    requireCompany(input.companyId),
    requireClient(input.companyId, input.clientId),
    requirePackage(input.companyId, input.packageId),
  ]);
  const pricing = findPricing(pkg, input.pricingId);
  const now = nowIso();
  const pending: Service = {
    id: newId('svc'),
    clientId: client.id,
    packageId: pkg.id,
    packageName: pkg.name,
    pricing,
    quantity: serviceQuantity(input.quantity),
    status: 'pending',
    suspendedBy: null,
    suspendedOn: null,
    canceledOn: null,
    startDate: input.startDate ?? today(company),
    periodsInvoiced: 0,
    paidPeriods: [],
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  if (input.status === 'pending') {
    await insertService(input.companyId, pending);
    return { service: pending, invoice: null };
  }
  const service = activeFromStart(pending);
  const invoice = await invoiceFirstTerm(company, service, newServiceItems(input.companyId, service));
  return { service, invoice };
}
