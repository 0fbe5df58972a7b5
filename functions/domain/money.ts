import { currencyExponent } from './locale.js';

/**
 * Money is an integer count of a currency's minor units (USD 1050 = $10.50). It travels as a JS `number`
 * only while it is a safe integer; every multiplication or division happens on `bigint` and is converted
 * back through `toMinorUnits`, which refuses anything a `number` cannot hold exactly.
 */
export type MinorUnits = number;

/** A money amount outside what a JS number holds exactly, or not an integer at all. */
export class MoneyRangeError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'MoneyRangeError';
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** True when `value` is an integer a JS number holds exactly (the only numbers money may be). */
export function isMinorUnits(value: unknown): value is MinorUnits {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/**
 * Converts an exact `bigint` result back to a `number`, throwing `MoneyRangeError` when it would lose digits.
 * @example toMinorUnits(1050n) // 1050
 */
export function toMinorUnits(value: bigint): MinorUnits {
  if (value > MAX_SAFE || value < -MAX_SAFE) throw new MoneyRangeError(`Amount ${value} is too large`);
  return Number(value);
}

/** `value` as a `bigint`, after checking it is a safe integer (a float here is a bug, not a rounding choice). */
export function toBigIntUnits(value: MinorUnits): bigint {
  if (!isMinorUnits(value)) throw new MoneyRangeError(`Amount ${value} is not a whole number of minor units`);
  return BigInt(value);
}

/** Exact sum of minor-unit amounts; throws `MoneyRangeError` if the total leaves the safe-integer range. */
export function sumMinorUnits(amounts: Iterable<MinorUnits>): MinorUnits {
  let total = 0n;
  for (const amount of amounts) total += toBigIntUnits(amount);
  return toMinorUnits(total);
}

/** `a + b` (either may be negative), checked like `sumMinorUnits`. */
export function addMinorUnits(a: MinorUnits, b: MinorUnits): MinorUnits {
  return toMinorUnits(toBigIntUnits(a) + toBigIntUnits(b));
}

/**
 * `numerator / denominator` rounded to the nearest integer, halves away from zero (2.5 → 3, -2.5 → -3).
 * The rounding every money calculation uses; exact for any size of operands.
 * @example divideRoundHalfAwayFromZero(5n, 2n) // 3n
 */
export function divideRoundHalfAwayFromZero(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new RangeError('Division by zero');
  // Work on magnitudes so that the rounding direction is the same on both sides of zero.
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  let quotient = n / d;
  if ((n % d) * 2n >= d) quotient += 1n;
  return negative ? -quotient : quotient;
}

/** Decimal places of the currency's minor unit (USD 2, JPY 0, BHD 3). */
export function minorUnitExponent(currency: string): number {
  return currencyExponent(currency);
}

/**
 * The amount as a plain decimal string in major units, built from integers: `1050, 'USD'` → `"10.50"`,
 * `-5, 'USD'` → `"-0.05"`, `7, 'JPY'` → `"7"`. No grouping, no symbol: for CSV and machine-readable output.
 */
export function toDecimalString(amount: MinorUnits | bigint, currency: string): string {
  const units = typeof amount === 'bigint' ? amount : toBigIntUnits(amount);
  const exponent = minorUnitExponent(currency);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString();
  if (exponent === 0) return `${negative ? '-' : ''}${digits}`;
  const padded = digits.padStart(exponent + 1, '0');
  const whole = padded.slice(0, -exponent);
  const fraction = padded.slice(-exponent);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

export interface FormatMoneyOptions {
  /** How the currency is shown; `code` suits outputs whose font lacks the symbol (e.g. ₹ in a PDF core font). */
  currencyDisplay?: 'symbol' | 'narrowSymbol' | 'code' | 'name';
}

/**
 * The amount formatted for people in the given locale: `formatMoney(123456, 'USD')` → `"$1,234.56"`,
 * `formatMoney(-123456, 'EUR', 'de')` → `"-1.234,56 €"`. The decimal string is built from integers and handed
 * to `Intl.NumberFormat` as a string, which formats it exactly (no conversion to a float on the way).
 * An unknown locale falls back to English.
 */
export function formatMoney(amount: MinorUnits | bigint, currency: string, locale = 'en', options: FormatMoneyOptions = {}): string {
  const exponent = minorUnitExponent(currency);
  const decimal = toDecimalString(amount, currency) as Intl.StringNumericLiteral;
  const formatOptions: Intl.NumberFormatOptions = {
    style: 'currency',
    currency,
    currencyDisplay: options.currencyDisplay ?? 'symbol',
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  };
  let formatter: Intl.NumberFormat;
  try {
    formatter = new Intl.NumberFormat(locale, formatOptions);
  } catch {
    formatter = new Intl.NumberFormat('en', formatOptions);
  }
  return formatter.format(decimal);
}
