import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MoneyRangeError } from '../../functions/domain/money.js';
import { InvalidQuantityError, lineAmount, parseQuantity, QUANTITY_LIMITS, quantityEquals, readQuantity } from '../../functions/domain/quantity.js';

const exact = (input: unknown) => {
  const q = parseQuantity(input);
  return [q.text, q.numerator, q.denominator];
};

describe('parseQuantity', () => {
  it('reads decimals and fractions exactly, keeping the text as given', () => {
    expect(exact('1.5')).toEqual(['1.5', 3n, 2n]);
    expect(exact('-2')).toEqual(['-2', -2n, 1n]);
    expect(exact('0.125')).toEqual(['0.125', 1n, 8n]);
    expect(exact('55/60')).toEqual(['55/60', 11n, 12n]);
    expect(exact('-1/3')).toEqual(['-1/3', -1n, 3n]);
    expect(exact('1.50')).toEqual(['1.50', 3n, 2n]);
    expect(exact('.5')).toEqual(['.5', 1n, 2n]);
    expect(exact('+3')).toEqual(['+3', 3n, 1n]);
    expect(exact('-0.0')).toEqual(['-0.0', 0n, 1n]);
    expect(exact('0/5')).toEqual(['0/5', 0n, 1n]);
  });

  it('echoes a JSON number as its shortest decimal text', () => {
    expect(exact(1.5)).toEqual(['1.5', 3n, 2n]);
    expect(exact(2)).toEqual(['2', 2n, 1n]);
    expect(exact(-0)).toEqual(['0', 0n, 1n]);
    expect(exact(1e-7)).toEqual(['0.0000001', 1n, 10000000n]);
    expect(exact(0.1)).toEqual(['0.1', 1n, 10n]);
  });

  it.each([
    ['1/0', 'denominator must not be zero'],
    ['abc', 'Must be a number'],
    ['', 'Must be a number'],
    [' 1', 'Must be a number'],
    ['1.2.3', 'Must be a number'],
    ['1e3', 'Must be a number'],
    ['1.', 'Must be a number'],
    ['-', 'Must be a number'],
    ['1/-3', 'Must be a number'],
    ['1.5/2', 'Must be a number'],
    ['0x10', 'Must be a number'],
    ['0.1234567890123', 'decimal places'],
    ['1000000001', 'between'],
    ['1/1000000000001', 'denominator must be at most'],
    ['9'.repeat(41), 'characters'],
  ])('rejects %j', (input, message) => {
    const reading = readQuantity(input, 'lines[2].quantity');
    expect(reading.ok).toBe(false);
    if (!reading.ok) {
      expect(reading.error).toBeInstanceOf(InvalidQuantityError);
      expect(reading.error.field).toBe('lines[2].quantity');
      expect(reading.error.message).toContain(message);
    }
  });

  it('rejects non-finite numbers, absurd numbers and other types', () => {
    for (const input of [NaN, Infinity, -Infinity, 1e21, 0.1 + 0.2, null, undefined, true, {}, [1]]) {
      expect(readQuantity(input).ok, String(input)).toBe(false);
    }
    expect(() => parseQuantity('x', 'quantity')).toThrow(InvalidQuantityError);
  });

  it('accepts the largest magnitude and no more', () => {
    expect(readQuantity(String(QUANTITY_LIMITS.maxMagnitude)).ok).toBe(true);
    expect(readQuantity(`-${QUANTITY_LIMITS.maxMagnitude}`).ok).toBe(true);
    expect(readQuantity(`${QUANTITY_LIMITS.maxMagnitude}.000000000001`).ok).toBe(false);
    expect(readQuantity('2000000000/2').ok).toBe(true);
    expect(readQuantity('2000000001/2').ok).toBe(false);
  });

  it('compares quantities by value, not text', () => {
    expect(quantityEquals(parseQuantity('0.5'), parseQuantity('1/2'))).toBe(true);
    expect(quantityEquals(parseQuantity('0.5'), parseQuantity('2/3'))).toBe(false);
  });
});

const decimalText = fc
  .record({
    negative: fc.boolean(),
    whole: fc.bigInt({ min: 0n, max: 999_999_999n }),
    places: fc.integer({ min: 0, max: QUANTITY_LIMITS.maxDecimalPlaces }),
    fraction: fc.bigInt({ min: 0n, max: 10n ** 12n - 1n }),
  })
  .map(({ negative, whole, places, fraction }) => {
    const digits = places === 0 ? '' : `.${(fraction % 10n ** BigInt(places)).toString().padStart(places, '0')}`;
    const text = `${negative ? '-' : ''}${whole}${digits}`;
    const magnitude = whole * 10n ** BigInt(places) + (places === 0 ? 0n : fraction % 10n ** BigInt(places));
    return { text, numerator: negative ? -magnitude : magnitude, denominator: 10n ** BigInt(places) };
  });

const fractionText = fc
  .record({ negative: fc.boolean(), top: fc.bigInt({ min: 0n, max: 10n ** 9n }), bottom: fc.bigInt({ min: 1n, max: 10n ** 9n }) })
  .map(({ negative, top, bottom }) => ({ text: `${negative ? '-' : ''}${top}/${bottom}`, numerator: negative ? -top : top, denominator: bottom }));

describe('quantity properties', () => {
  it('decimal and fraction strings parse to their exact value and echo unchanged', () => {
    fc.assert(
      fc.property(fc.oneof(decimalText, fractionText), ({ text, numerator, denominator }) => {
        const q = parseQuantity(text);
        expect(q.text).toBe(text);
        expect(q.denominator > 0n).toBe(true);
        expect(q.numerator * denominator).toBe(numerator * q.denominator);
      }),
    );
  });

  it('JSON numbers echo as text that reads back as the same number', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), (value) => {
        const reading = readQuantity(value);
        if (!reading.ok) {
          // Only doubles with more decimal places than allowed are refused.
          expect(reading.error.message).toContain('decimal places');
          return;
        }
        expect(Number(reading.quantity.text)).toBe(value === 0 ? 0 : value);
        expect(reading.quantity.text).not.toMatch(/e/i);
        // Reading the echoed text again gives the same quantity.
        expect(quantityEquals(parseQuantity(reading.quantity.text), reading.quantity)).toBe(true);
      }),
    );
  });
});

describe('lineAmount', () => {
  it('multiplies exactly and rounds half away from zero once', () => {
    expect(lineAmount(parseQuantity('55/60'), 9000)).toBe(8250);
    expect(lineAmount(parseQuantity('1/3'), 100)).toBe(33);
    expect(lineAmount(parseQuantity('2/3'), 100)).toBe(67);
    expect(lineAmount(parseQuantity('0.5'), 1)).toBe(1);
    expect(lineAmount(parseQuantity('-0.5'), 1)).toBe(-1);
    expect(lineAmount(parseQuantity('2.5'), 1)).toBe(3);
    expect(lineAmount(parseQuantity('-2.5'), 1)).toBe(-3);
    expect(lineAmount(parseQuantity('1.005'), 1000)).toBe(1005);
    expect(lineAmount(parseQuantity(0.1), 3)).toBe(0);
    expect(lineAmount(parseQuantity('3'), -250)).toBe(-750);
  });

  it('throws MoneyRangeError when the amount does not fit', () => {
    expect(() => lineAmount(parseQuantity('1000000000'), Number.MAX_SAFE_INTEGER)).toThrow(MoneyRangeError);
  });

  const unit = fc.integer({ min: -1_000_000, max: 1_000_000 });
  const quantity = fc.oneof(decimalText, fractionText).map(({ text }) => parseQuantity(text));

  it('is symmetric: amount(-q) = -amount(q) and amount(q, -u) = -amount(q, u) (property)', () => {
    fc.assert(
      fc.property(quantity, unit, (q, u) => {
        const negated = parseQuantity(q.text.startsWith('-') ? q.text.slice(1) : `-${q.text}`);
        expect(lineAmount(negated, u)).toBe(-lineAmount(q, u) || 0);
        expect(lineAmount(q, -u)).toBe(-lineAmount(q, u) || 0);
      }),
    );
  });

  it('is the exact product within half a minor unit (property)', () => {
    fc.assert(
      fc.property(quantity, unit, (q, u) => {
        const amount = BigInt(lineAmount(q, u));
        const gap = amount * q.denominator - q.numerator * BigInt(u);
        expect((gap < 0n ? -gap : gap) * 2n <= q.denominator).toBe(true);
      }),
    );
  });
});
