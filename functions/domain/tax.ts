import type { TaxRate } from './company.js';
import { divideRoundHalfAwayFromZero, toBigIntUnits, toMinorUnits, type MinorUnits } from './money.js';

/** Where the client is taxed: its profile's country (ISO alpha-2) and state. */
export interface TaxPlace {
  country?: string | null;
  state?: string | null;
}

/** A tax percent that is not a non-negative decimal string such as "20" or "7.25". */
export class InvalidTaxPercentError extends Error {
  constructor(readonly percent: string) {
    super(`Tax percent "${percent}" is not a non-negative decimal number`);
    this.name = 'InvalidTaxPercentError';
  }
}

const PERCENT = /^(\d{1,6})(?:\.(\d{1,12}))?$/;

/** A percent as an exact fraction of 100: "7.25" → { numerator: 725n, denominator: 10000n } (725/100 %). */
export interface ExactPercent {
  numerator: bigint;
  /** 100 × 10^decimalPlaces, so `numerator / denominator` is the rate itself (0.0725). */
  denominator: bigint;
}

/**
 * Parses a percent string exactly into a rate fraction (no floating point); throws `InvalidTaxPercentError`.
 * @example parsePercent('7.25') // { numerator: 725n, denominator: 10000n }
 */
export function parsePercent(percent: string): ExactPercent {
  const match = PERCENT.exec(percent);
  if (!match) throw new InvalidTaxPercentError(percent);
  const [, whole, places = ''] = match;
  return { numerator: BigInt(whole + places), denominator: 100n * 10n ** BigInt(places.length) };
}

/** True when `percent` is a decimal string this module can compute with. */
export function isTaxPercent(percent: string): boolean {
  return PERCENT.test(percent);
}

const same = (a: string | null | undefined, b: string | null | undefined) =>
  a != null && b != null && a.trim().toLowerCase() === b.trim().toLowerCase() && a.trim() !== '';

/**
 * How well a rate fits the place: 3 country+state, 2 country only, 1 state only, 0 a rate with neither;
 * undefined when a field the rate sets differs from the place (a rate for another country never applies).
 */
function specificity(rate: TaxRate, place: TaxPlace): number | undefined {
  const hasCountry = !!rate.country?.trim();
  const hasState = !!rate.state?.trim();
  if (hasCountry && !same(rate.country, place.country)) return undefined;
  if (hasState && !same(rate.state, place.state)) return undefined;
  return (hasCountry ? 2 : 0) + (hasState ? 1 : 0);
}

/**
 * The one rate an invoice uses: the most specific of the company's rates for the client's country and state
 * (country+state, else country, else a rate with no country); undefined when the client is tax exempt or no
 * rate fits. Codes and state names compare case-insensitively; among equally specific rates the first wins.
 * @example pickTaxRate(rates, { country: 'US', state: 'CA' }, false)
 */
export function pickTaxRate(rates: readonly TaxRate[], place: TaxPlace, taxExempt: boolean): TaxRate | undefined {
  if (taxExempt) return undefined;
  let best: TaxRate | undefined;
  let bestScore = -1;
  for (const rate of rates) {
    const score = specificity(rate, place);
    if (score !== undefined && score > bestScore) {
      best = rate;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The tax on one line: `amount × percent / 100`, rounded half away from zero to a whole minor unit.
 * A negative amount (a discount line) gets the mirror-image negative tax.
 * @example lineTax(1999, '20') // 400
 */
export function lineTax(amount: MinorUnits, percent: string | ExactPercent): MinorUnits {
  const rate = typeof percent === 'string' ? parsePercent(percent) : percent;
  return toMinorUnits(divideRoundHalfAwayFromZero(toBigIntUnits(amount) * rate.numerator, rate.denominator));
}
