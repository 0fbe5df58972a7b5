import { addDays, addTerm } from './dates.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { lineAmount, parseQuantity, readQuantity } from './quantity.js';
import type { LineInput } from './invoice-pricing.js';
import type { Pricing } from './package.js';
import type { Principal } from './principal.js';
import type { Versioned } from './versioned.js';

export type ServiceStatus = 'active' | 'pending' | 'suspended' | 'canceled';
export const SERVICE_STATUSES = ['active', 'pending', 'suspended', 'canceled'] as const satisfies readonly ServiceStatus[];
export type SuspendedBy = 'staff' | 'automation';
export const SUSPENDED_BY = ['staff', 'automation'] as const satisfies readonly SuspendedBy[];

import type { ServicePeriod } from './invoice.js';

export type { ServicePeriod };

/**
 * A package sold to a client. The pricing is a snapshot: changing the package later does not change what the
 * service costs. Periods run from `startDate`: period i starts at startDate + i terms, computed from the start
 * each time (never from the previous period), so a service started on Jan 31 renews on Feb 28, then Mar 31.
 */
export interface Service extends Versioned {
  id: string;
  clientId: string;
  packageId: string;
  packageName: string;
  pricing: Pricing;
  /** Exactly as given, like an invoice line's quantity. */
  quantity: string;
  status: ServiceStatus;
  suspendedBy: SuspendedBy | null;
  /** Company-local date of the current suspension (the automation's unsuspension marker names it). */
  suspendedOn: string | null;
  canceledOn: string | null;
  /** The first day of the first term; periods are counted from it. */
  startDate: string;
  /** How many periods, from the first, have been invoiced (0 while pending). */
  periodsInvoiced: number;
  /** First days of the periods whose invoice has been paid. */
  paidPeriods: string[];
}

export const isOneTime = (s: Pick<Service, 'pricing'>) => s.pricing.period === 'onetime';

/** The first day of period `index` (0 = the first term). */
export function periodStart(s: Pick<Service, 'startDate' | 'pricing'>, index: number): string {
  const { period, term } = s.pricing;
  if (period === 'onetime') return s.startDate;
  return addTerm(s.startDate, term * index, period);
}

/**
 * When the paid time runs out: the first day of the first period after the first term that is not paid. The first
 * term is the one the service was sold with; paying a renewal invoice moves this on by one term. Null for a
 * one-time service, and while a service is pending (not sold yet).
 */
export function renewDate(s: Pick<Service, 'startDate' | 'pricing' | 'periodsInvoiced' | 'paidPeriods'>): string | null {
  if (s.pricing.period === 'onetime' || s.periodsInvoiced === 0) return null;
  const paid = new Set(s.paidPeriods);
  let index = 1;
  while (paid.has(periodStart(s, index))) index++;
  return periodStart(s, index);
}

/** The date of the next period to invoice; null when nothing more is ever invoiced by itself. */
export function nextInvoiceDate(s: Pick<Service, 'status' | 'startDate' | 'pricing' | 'periodsInvoiced'>): string | null {
  if (s.pricing.period === 'onetime' || s.periodsInvoiced === 0) return null;
  if (s.status !== 'active' && s.status !== 'suspended') return null;
  return periodStart(s, s.periodsInvoiced);
}

/**
 * The periods a renewal run on `runDate` invoices: every period from the next not yet invoiced whose start is at
 * most `daysBefore` days after the run date (catch-up: one per missed term), at most `max` of them.
 */
export function periodsDue(s: Pick<Service, 'status' | 'startDate' | 'pricing' | 'periodsInvoiced'>, runDate: string, daysBefore: number, max = 50): number[] {
  if (nextInvoiceDate(s) === null) return [];
  const horizon = addDays(runDate, daysBefore);
  const due: number[] = [];
  for (let i = s.periodsInvoiced; due.length < max && periodStart(s, i) <= horizon; i++) due.push(i);
  return due;
}

/** The lines that bill one period of a service (the first term adds the setup fee). */
export function serviceLines(s: Pick<Service, 'packageName' | 'pricing' | 'quantity' | 'startDate'>, index: number): LineInput[] {
  const start = periodStart(s, index);
  const label = s.pricing.period === 'onetime' ? s.packageName : `${s.packageName} (${start} to ${addDays(periodStart(s, index + 1), -1)})`;
  const lines: LineInput[] = [{ description: label, quantity: s.quantity, unitAmount: s.pricing.price }];
  if (index === 0 && s.pricing.setupFee > 0) lines.push({ description: `${s.packageName} setup fee`, quantity: 1, unitAmount: s.pricing.setupFee });
  return lines;
}

/**
 * Whether lines bill nothing (a free plan): such an invoice is paid as it opens, so its period is paid at once.
 * Service quantities are positive and prices never negative, so the total is zero exactly when every line is.
 */
export function billsNothing(lines: readonly LineInput[]): boolean {
  return lines.every((l) => lineAmount(parseQuantity(l.quantity), l.unitAmount) === 0);
}

/** A service's quantity: as given (echoed back as text), and more than zero. */
export function serviceQuantity(given: number | string | undefined): string {
  const reading = readQuantity(given ?? 1);
  if (!reading.ok) throw ValidationError.field('quantity', reading.error.message);
  if (reading.quantity.numerator <= 0n) throw ValidationError.field('quantity', 'Must be more than 0.');
  return reading.quantity.text;
}

/**
 * Whether an open invoice's services are to be suspended on `date`: the invoice is past due (its due date has gone
 * by) and `suspendServicesDaysAfterDue` days after its due date have come. 0 suspends the day after the due date, the
 * first day the invoice is past due, so the automation never suspends and lifts a suspension on the same day.
 */
export function suspensionDue(dateDue: string, date: string, daysAfterDue: number | 'never'): boolean {
  return daysAfterDue !== 'never' && dateDue < date && addDays(dateDue, daysAfterDue) <= date;
}

/** An open invoice is past due from the day after its due date. */
export const isPastDue = (invoice: { status: string; dateDue: string }, date: string) => invoice.status === 'open' && invoice.dateDue < date;

/** Services an invoice bills, each once. */
export const servicesBilledBy = (invoice: { servicePeriods: readonly ServicePeriod[] }) => [...new Set(invoice.servicePeriods.map((p) => p.serviceId))];

export type StatusAction = 'suspend' | 'unsuspend' | 'cancel' | 'activate';

const ALLOWED: Record<StatusAction, readonly ServiceStatus[]> = {
  suspend: ['active'],
  unsuspend: ['suspended'],
  cancel: ['active', 'pending', 'suspended'],
  activate: ['pending'],
};

/**
 * The service after a status change. Suspending needs an active service (or, by staff, one the automation suspended:
 * the suspension becomes theirs), unsuspending a suspended one, activating a pending one; a canceled service stays
 * canceled. Anything else is a 409 naming the current status.
 */
export function changeStatus(s: Service, action: StatusAction, options: { by?: SuspendedBy; today: string; now: string }): Service {
  // Staff may take over a suspension the automation made, so the automation will not lift it.
  const takeOver = action === 'suspend' && s.status === 'suspended' && s.suspendedBy === 'automation' && (options.by ?? 'staff') === 'staff';
  if (!takeOver && !ALLOWED[action].includes(s.status))
    throw new ConflictError(`A ${s.status} service cannot be ${pastTense(action)}.`, { code: 'invalid_service_status', details: { serviceStatus: s.status } });
  const changed = { ...s, updatedAt: options.now, version: s.version + 1 };
  switch (action) {
    case 'suspend':
      return { ...changed, status: 'suspended', suspendedBy: options.by ?? 'staff', suspendedOn: options.today };
    case 'unsuspend':
      return { ...changed, status: 'active', suspendedBy: null, suspendedOn: null };
    case 'cancel':
      return { ...changed, status: 'canceled', suspendedBy: null, suspendedOn: null, canceledOn: options.today };
    case 'activate':
      return { ...changed, status: 'active' };
  }
}

function pastTense(action: StatusAction): string {
  return { suspend: 'suspended', unsuspend: 'unsuspended', cancel: 'canceled', activate: 'activated' }[action];
}

/** A client token reaches only its own services. */
export function assertServiceVisibleTo(principal: Principal | null, s: Pick<Service, 'clientId'>): void {
  if (principal?.role === 'client' && principal.clientId !== s.clientId) throw new NotFoundError('No such service.');
}

export function serviceView(s: Service) {
  return {
    id: s.id,
    clientId: s.clientId,
    packageId: s.packageId,
    package: { id: s.packageId, name: s.packageName },
    pricingId: s.pricing.id,
    pricing: {
      id: s.pricing.id,
      term: s.pricing.term,
      period: s.pricing.period,
      price: s.pricing.price,
      setupFee: s.pricing.setupFee,
      currency: s.pricing.currency,
    },
    quantity: s.quantity,
    status: s.status,
    suspendedBy: s.suspendedBy,
    startDate: s.startDate,
    renewDate: renewDate(s),
    canceledOn: s.canceledOn,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    version: s.version,
  };
}
