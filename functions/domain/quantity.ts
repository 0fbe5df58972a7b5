import { divideRoundHalfAwayFromZero, toBigIntUnits, toMinorUnits, type MinorUnits } from './money.js';

/**
 * A line quantity as an exact rational number, with the text it was given as (echoed back unchanged).
 * `numerator / denominator` is in lowest terms and `denominator` is positive.
 */
export interface Quantity {
  readonly text: string;
  readonly numerator: bigint;
  readonly denominator: bigint;
}

/** Bounds that keep quantities meaningful and every product with a unit amount cheap to compute. */
export const QUANTITY_LIMITS = {
  /** Longest accepted text (string input). */
  maxLength: 40,
  /** Largest magnitude, |quantity| ≤ 1,000,000,000. */
  maxMagnitude: 1_000_000_000n,
  /** Most digits after the decimal point. */
  maxDecimalPlaces: 12,
  /** Largest denominator of a fraction string. */
  maxDenominator: 1_000_000_000_000n,
} as const;

/** Input that is not an acceptable quantity; `field` is the request path to name in the 400. */
export class InvalidQuantityError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidQuantityError';
  }
}

export type QuantityReading = { ok: true; quantity: Quantity } | { ok: false; error: InvalidQuantityError };

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d+))?$/;
const FRACTION = /^([+-]?)(\d+)\/(\d+)$/;

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** The shortest decimal text of a JS number, without exponent notation (1e-7 → "0.0000001"). */
function numberToDecimalText(value: number): string {
  const shortest = String(value); // ECMAScript's Number::toString is the shortest round-tripping form.
  const match = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(shortest);
  if (!match) return shortest;
  const [, sign, whole, fraction = '', exponentText] = match;
  const digits = whole + fraction;
  const pointAt = whole.length + Number(exponentText);
  if (pointAt <= 0) return `${sign}0.${'0'.repeat(-pointAt)}${digits}`;
  if (pointAt >= digits.length) return `${sign}${digits}${'0'.repeat(pointAt - digits.length)}`;
  return `${sign}${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
}

function reduced(text: string, numerator: bigint, denominator: bigint): Quantity {
  const divisor = gcd(numerator, denominator);
  return divisor > 1n ? { text, numerator: numerator / divisor, denominator: denominator / divisor } : { text, numerator, denominator };
}

function readText(text: string, field: string, fromNumber: boolean): QuantityReading {
  const fail = (message: string): QuantityReading => ({ ok: false, error: new InvalidQuantityError(field, message) });
  if (!fromNumber && text.length > QUANTITY_LIMITS.maxLength) return fail(`Must be at most ${QUANTITY_LIMITS.maxLength} characters.`);

  let numerator: bigint;
  let denominator: bigint;
  const fraction = FRACTION.exec(text);
  const decimal = fraction ? null : DECIMAL.exec(text);
  if (fraction) {
    const [, sign, top, bottom] = fraction;
    denominator = BigInt(bottom);
    if (denominator === 0n) return fail('The denominator must not be zero.');
    if (denominator > QUANTITY_LIMITS.maxDenominator) return fail(`The denominator must be at most ${QUANTITY_LIMITS.maxDenominator}.`);
    numerator = sign === '-' ? -BigInt(top) : BigInt(top);
  } else if (decimal && (decimal[2] !== '' || decimal[3] !== undefined)) {
    const [, sign, whole, places = ''] = decimal;
    if (places.length > QUANTITY_LIMITS.maxDecimalPlaces) return fail(`Must have at most ${QUANTITY_LIMITS.maxDecimalPlaces} decimal places.`);
    const magnitude = BigInt((whole || '0') + places);
    numerator = sign === '-' ? -magnitude : magnitude;
    denominator = 10n ** BigInt(places.length);
  } else {
    return fail('Must be a number, a decimal string such as "1.5" or a fraction such as "55/60".');
  }

  const absolute = numerator < 0n ? -numerator : numerator;
  if (absolute > QUANTITY_LIMITS.maxMagnitude * denominator)
    return fail(`Must be between -${QUANTITY_LIMITS.maxMagnitude} and ${QUANTITY_LIMITS.maxMagnitude}.`);
  // -0 and "-0.0" are zero; keep the numerator canonical so equal quantities compare equal.
  if (numerator === 0n) return { ok: true, quantity: { text, numerator: 0n, denominator: 1n } };
  return { ok: true, quantity: reduced(text, numerator, denominator) };
}

/**
 * Reads a quantity given as a JSON number, a decimal string (`"1.5"`, `"-2"`, `"0.125"`) or a fraction string
 * (`"55/60"`, `"-1/3"`), without throwing. The quantity keeps the text exactly as given (for a number, its
 * shortest decimal form, e.g. `1.5` → `"1.5"`).
 * @example readQuantity('55/60') // { ok: true, quantity: { text: '55/60', numerator: 11n, denominator: 12n } }
 */
export function readQuantity(input: unknown, field = 'quantity'): QuantityReading {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, error: new InvalidQuantityError(field, 'Must be a finite number.') };
    return readText(numberToDecimalText(input), field, true);
  }
  if (typeof input === 'string') return readText(input, field, false);
  return { ok: false, error: new InvalidQuantityError(field, 'Must be a number or a string.') };
}

/**
 * Like `readQuantity`, but throws `InvalidQuantityError` (whose `field` names the request path) on bad input.
 * @example parseQuantity('1.5').text // '1.5'
 */
export function parseQuantity(input: unknown, field = 'quantity'): Quantity {
  const reading = readQuantity(input, field);
  if (!reading.ok) throw reading.error;
  return reading.quantity;
}

/** True when both are the same number, whatever text each was written as (`"0.5"` equals `"1/2"`). */
export function quantityEquals(a: Quantity, b: Quantity): boolean {
  return a.numerator === b.numerator && a.denominator === b.denominator;
}

/**
 * A line's amount: `quantity × unitAmount`, rounded half away from zero to a whole minor unit, computed exactly.
 * Throws `MoneyRangeError` when the result does not fit a safe integer.
 * @example lineAmount(parseQuantity('55/60'), 9000) // 8250
 */
export function lineAmount(quantity: Quantity, unitAmount: MinorUnits): MinorUnits {
  return toMinorUnits(divideRoundHalfAwayFromZero(quantity.numerator * toBigIntUnits(unitAmount), quantity.denominator));
}
