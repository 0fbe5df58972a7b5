import type { Period } from './dates.js';
import { ValidationError } from './errors.js';
import { MAX_INVOICE_AMOUNT } from './invoice-pricing.js';
import type { Versioned } from './versioned.js';

/** How long one term of a pricing lasts: a calendar period, or once (billed once, never renewed). */
export type PricingPeriod = Period | 'onetime';
export const PRICING_PERIODS = ['day', 'week', 'month', 'year', 'onetime'] as const satisfies readonly PricingPeriod[];
export const MAX_PRICING_TERM = 1000;
/** A package offers a handful of terms per currency; a bound keeps the item small. */
export const MAX_PRICINGS = 100;

/** One way to buy a package: `price` every `term` `period`s (once, for `onetime`), plus a one-time `setupFee`. */
export interface Pricing {
  id: string;
  term: number;
  period: PricingPeriod;
  /** Integer minor units of `currency`. */
  price: number;
  setupFee: number;
  currency: string;
}

export interface Package extends Versioned {
  id: string;
  name: string;
  description: string | null;
  pricing: Pricing[];
}

/** A pricing as a caller gives it; an `id` keeps an existing pricing's id (services refer to it). */
export interface PricingInput {
  id?: string;
  term: number;
  period: PricingPeriod;
  price: number;
  setupFee?: number;
  currency: string;
}

const minorUnits = (value: number) => Number.isSafeInteger(value) && value >= 0 && value <= MAX_INVOICE_AMOUNT;

/**
 * Prices checked and given ids: a term is a whole number of periods, money is whole non-negative minor units in one
 * of the company's currencies, at least one pricing. An `id` must name a pricing the package already has.
 */
export function buildPricing(
  given: readonly PricingInput[],
  currencies: readonly string[],
  newPricingId: () => string,
  existing: readonly Pricing[] = [],
): Pricing[] {
  if (given.length === 0) throw ValidationError.field('pricing', 'A package needs at least one pricing.');
  if (given.length > MAX_PRICINGS) throw ValidationError.field('pricing', `At most ${MAX_PRICINGS} pricings.`);
  const seen = new Set<string>();
  return given.map((p, i) => {
    const field = (name: string) => `pricing.${i}.${name}`;
    if (!Number.isInteger(p.term) || p.term < 1 || p.term > MAX_PRICING_TERM)
      throw ValidationError.field(field('term'), `Must be a whole number from 1 to ${MAX_PRICING_TERM}.`);
    if (!(PRICING_PERIODS as readonly string[]).includes(p.period))
      throw ValidationError.field(field('period'), `Must be one of ${PRICING_PERIODS.join(', ')}.`);
    if (!minorUnits(p.price)) throw ValidationError.field(field('price'), 'Must be an integer count of minor units, 0 or more.');
    const setupFee = p.setupFee ?? 0;
    if (!minorUnits(setupFee)) throw ValidationError.field(field('setupFee'), 'Must be an integer count of minor units, 0 or more.');
    if (!currencies.includes(p.currency)) throw ValidationError.field(field('currency'), `Not one of the company's currencies (${currencies.join(', ')}).`);
    if (p.id !== undefined && (!existing.some((e) => e.id === p.id) || seen.has(p.id)))
      throw ValidationError.field(field('id'), 'Not a pricing of this package (leave it out for a new pricing).');
    const id = p.id ?? newPricingId();
    seen.add(id);
    return { id, term: p.term, period: p.period, price: p.price, setupFee, currency: p.currency };
  });
}

export interface NewPackage {
  id: string;
  name: string;
  description?: string | null;
  pricing: readonly PricingInput[];
  currencies: readonly string[];
  newPricingId: () => string;
  now: string;
}

export function newPackage(n: NewPackage): Package {
  return {
    id: n.id,
    name: n.name,
    description: n.description ?? null,
    pricing: buildPricing(n.pricing, n.currencies, n.newPricingId),
    createdAt: n.now,
    updatedAt: n.now,
    version: 1,
  };
}

export interface PackageChanges {
  name?: string;
  /** null removes it. */
  description?: string | null;
  /** Replaces the list; existing services keep the pricing they were created with. */
  pricing?: readonly PricingInput[];
}

export function revisePackage(current: Package, changes: PackageChanges, currencies: readonly string[], newPricingId: () => string, now: string): Package {
  return {
    ...current,
    name: changes.name ?? current.name,
    description: changes.description !== undefined ? changes.description : current.description,
    pricing: changes.pricing ? buildPricing(changes.pricing, currencies, newPricingId, current.pricing) : current.pricing,
    updatedAt: now,
    version: current.version + 1,
  };
}

export function findPricing(pkg: Package, pricingId: string): Pricing {
  const pricing = pkg.pricing.find((p) => p.id === pricingId);
  if (!pricing) throw ValidationError.field('pricingId', 'Not a pricing of this package.');
  return pricing;
}

export function packageView(p: Package) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    pricing: p.pricing.map((x) => ({ id: x.id, term: x.term, period: x.period, price: x.price, setupFee: x.setupFee, currency: x.currency })),
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    version: p.version,
  };
}
