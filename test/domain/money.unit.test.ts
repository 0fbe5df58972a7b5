import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMinorUnits,
  divideRoundHalfAwayFromZero,
  formatMoney,
  isMinorUnits,
  MoneyRangeError,
  sumMinorUnits,
  toDecimalString,
  toMinorUnits,
} from '../../functions/domain/money.js';

const abs = (n: bigint) => (n < 0n ? -n : n);

describe('divideRoundHalfAwayFromZero', () => {
  it('rounds halves away from zero on both sides', () => {
    expect(divideRoundHalfAwayFromZero(5n, 2n)).toBe(3n);
    expect(divideRoundHalfAwayFromZero(-5n, 2n)).toBe(-3n);
    expect(divideRoundHalfAwayFromZero(5n, -2n)).toBe(-3n);
    expect(divideRoundHalfAwayFromZero(7n, 3n)).toBe(2n);
    expect(divideRoundHalfAwayFromZero(8n, 3n)).toBe(3n);
    expect(divideRoundHalfAwayFromZero(-8n, 3n)).toBe(-3n);
    expect(divideRoundHalfAwayFromZero(0n, 7n)).toBe(0n);
  });

  it('refuses to divide by zero', () => {
    expect(() => divideRoundHalfAwayFromZero(1n, 0n)).toThrow(RangeError);
  });

  it('is within half a unit, ties go away from zero, and is odd-symmetric (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.bigInt({ min: 1n, max: 10n ** 15n }), (n, d) => {
        const q = divideRoundHalfAwayFromZero(n, d);
        const error = abs(n - q * d) * 2n;
        expect(error <= d).toBe(true);
        if (error === d) expect(abs(q * d) > abs(n)).toBe(true);
        expect(divideRoundHalfAwayFromZero(-n, d)).toBe(-q);
        expect(divideRoundHalfAwayFromZero(n, -d)).toBe(-q);
      }),
    );
  });
});

describe('safe-integer money', () => {
  it('accepts only safe integers', () => {
    expect(isMinorUnits(1050)).toBe(true);
    expect(isMinorUnits(10.5)).toBe(false);
    expect(isMinorUnits(Number.MAX_SAFE_INTEGER + 1)).toBe(false);
    expect(isMinorUnits('10')).toBe(false);
  });

  it('throws MoneyRangeError when a result leaves the safe range', () => {
    expect(toMinorUnits(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toMinorUnits(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toThrow(MoneyRangeError);
    expect(() => sumMinorUnits([Number.MAX_SAFE_INTEGER, 1])).toThrow(MoneyRangeError);
    expect(() => addMinorUnits(0.5, 1)).toThrow(MoneyRangeError);
    expect(sumMinorUnits([1, 2, -3, 10])).toBe(10);
  });
});

describe('toDecimalString', () => {
  it('places the decimal point by the currency exponent', () => {
    expect(toDecimalString(1050, 'USD')).toBe('10.50');
    expect(toDecimalString(5, 'USD')).toBe('0.05');
    expect(toDecimalString(-5, 'USD')).toBe('-0.05');
    expect(toDecimalString(0, 'USD')).toBe('0.00');
    expect(toDecimalString(1234, 'JPY')).toBe('1234');
    expect(toDecimalString(1005, 'BHD')).toBe('1.005');
    expect(toDecimalString(10n ** 25n + 1n, 'USD')).toBe('100000000000000000000000.01');
  });

  it('round-trips every amount exactly (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), fc.constantFrom('USD', 'JPY', 'BHD', 'EUR'), (amount, currency) => {
        const text = toDecimalString(amount, currency);
        expect(BigInt(text.replace('.', ''))).toBe(amount);
      }),
    );
  });
});

describe('formatMoney', () => {
  it('formats for people without floating point errors', () => {
    expect(formatMoney(123456, 'USD')).toBe('$1,234.56');
    expect(formatMoney(-5, 'USD')).toBe('-$0.05');
    expect(formatMoney(1234, 'JPY')).toBe('¥1,234');
    expect(formatMoney(1005, 'BHD')).toMatch(/1\.005/);
    expect(formatMoney(Number.MAX_SAFE_INTEGER, 'USD')).toBe('$90,071,992,547,409.91');
    expect(formatMoney(10n ** 25n + 1n, 'USD')).toBe('$100,000,000,000,000,000,000,000.01');
    expect(formatMoney(123456, 'EUR', 'de').replace(/\s/g, ' ')).toBe('1.234,56 €');
    expect(formatMoney(123456, 'USD', 'en', { currencyDisplay: 'code' }).replace(/\s/g, ' ')).toBe('USD 1,234.56');
  });

  it('falls back to English for an unusable locale', () => {
    expect(formatMoney(100, 'USD', 'not a locale!')).toBe('$1.00');
  });

  it('shows exactly the digits of the integer amount (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (amount) => {
        const shown = formatMoney(amount, 'USD').replace(/[$,]/g, '');
        expect(shown).toBe(toDecimalString(amount, 'USD'));
      }),
    );
  });
});
