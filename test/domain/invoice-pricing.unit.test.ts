import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaxRate } from '../../functions/domain/company.js';
import { ValidationError } from '../../functions/domain/errors.js';
import { MAX_INVOICE_AMOUNT, MAX_LINES_BYTES, priceLines, type LineInput } from '../../functions/domain/invoice-pricing.js';

const RATES: TaxRate[] = [
  { id: 'tax_any', name: 'Everywhere else', percent: '5' },
  { id: 'tax_us', name: 'US sales tax', percent: '8', country: 'US' },
  { id: 'tax_ca', name: 'California', percent: '7.25', country: 'US', state: 'CA' },
];
const place = (country: string | null, state: string | null = null, taxExempt = false) => ({ country, state, taxExempt });
const untaxed = place(null, null, true);

/** The field paths of a ValidationError thrown by `run`. */
function refusedPaths(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors.map((e) => e.path);
    throw error;
  }
  throw new Error('expected a ValidationError');
}

/** `numerator / denominator` rounded half away from zero, by long division on magnitudes (the test's own oracle). */
function roundHalfAwayFromZero(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  const whole = magnitude / denominator;
  const rounded = (magnitude % denominator) * 2n >= denominator ? whole + 1n : whole;
  return negative ? -rounded : rounded;
}

/** A quantity as text with its exact value: a fraction "a/b" or a decimal with up to 4 places. */
const quantity = fc.oneof(
  fc
    .record({ top: fc.integer({ min: -500, max: 500 }), bottom: fc.integer({ min: 1, max: 120 }) })
    .map(({ top, bottom }) => ({ text: `${top}/${bottom}`, numerator: BigInt(top), denominator: BigInt(bottom) })),
  fc.record({ units: fc.integer({ min: -500_000, max: 500_000 }), places: fc.integer({ min: 0, max: 4 }) }).map(({ units, places }) => {
    const digits = String(Math.abs(units)).padStart(places + 1, '0');
    const text = `${units < 0 ? '-' : ''}${places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits}`;
    return { text, numerator: BigInt(units), denominator: 10n ** BigInt(places) };
  }),
);
// Small enough that no sum reaches MAX_INVOICE_AMOUNT: only a negative total may be refused.
const line = fc.record({ quantity, unitAmount: fc.integer({ min: -1_000_000, max: 1_000_000 }), taxable: fc.boolean() });

describe('priceLines', () => {
  it('totals are the sum of the lines and subtotal + tax, each line amount and tax rounded once from exact values', () => {
    const client = fc.constantFrom(place('US', 'CA'), place('US', 'NY'), place('FR'), untaxed);
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 12 }), client, (lines, taxed) => {
        const inputs: LineInput[] = lines.map((l, i) => ({
          description: `line ${i}`,
          quantity: l.quantity.text,
          unitAmount: l.unitAmount,
          taxable: l.taxable,
        }));
        const percent = taxed.taxExempt ? undefined : taxed.country === 'US' ? (taxed.state === 'CA' ? '7.25' : '8') : '5';
        const [whole, places = ''] = (percent ?? '0').split('.');
        const expected = lines.map((l) => {
          const amount = roundHalfAwayFromZero(l.quantity.numerator * BigInt(l.unitAmount), l.quantity.denominator);
          const tax = l.taxable && percent ? roundHalfAwayFromZero(amount * BigInt(whole + places), 100n * 10n ** BigInt(places.length)) : 0n;
          return { amount: Number(amount), tax: Number(tax) };
        });
        const subtotal = expected.reduce((s, l) => s + l.amount, 0);
        const tax = expected.reduce((s, l) => s + l.tax, 0);
        if (subtotal + tax < 0) {
          expect(refusedPaths(() => priceLines(RATES, taxed, inputs))).toEqual(['lines']);
          return;
        }
        const priced = priceLines(RATES, taxed, inputs);
        expect(priced.taxRate?.percent).toBe(percent);
        expect(priced.lines.map((l) => ({ amount: l.amount, tax: l.tax }))).toEqual(expected);
        expect(priced.lines.map((l) => l.quantity)).toEqual(lines.map((l) => l.quantity.text));
        expect(priced.subtotal).toBe(subtotal);
        expect(priced.tax).toBe(tax);
        expect(priced.total).toBe(priced.subtotal + priced.tax);
      }),
      { numRuns: 300 },
    );
  });

  it('rounds each line, not the sum: three thirds of 100 are 33 each and 99 in all', () => {
    const priced = priceLines(
      RATES,
      untaxed,
      Array.from({ length: 3 }, () => ({ description: 'third', quantity: '1/3', unitAmount: 100 })),
    );
    expect(priced.lines.map((l) => l.amount)).toEqual([33, 33, 33]);
    expect(priced.total).toBe(99);
  });

  it('taxes a line from its rounded amount: 1.5 × 333 = 499.5 → 500, 7.25% of 500 = 36.25 → 36', () => {
    const priced = priceLines(RATES, place('US', 'CA'), [{ description: 'x', quantity: '1.5', unitAmount: 333 }]);
    expect(priced.lines[0]).toMatchObject({ amount: 500, tax: 36 });
  });

  it('uses the most specific of the company rates for the client, none when the client is tax exempt', () => {
    const lines = [{ description: 'Hosting', quantity: 1, unitAmount: 1000 }];
    expect(priceLines(RATES, place('us', 'ca'), lines).taxRate).toEqual({ id: 'tax_ca', name: 'California', percent: '7.25' });
    expect(priceLines(RATES, place('US', 'NY'), lines).taxRate).toEqual({ id: 'tax_us', name: 'US sales tax', percent: '8' });
    expect(priceLines(RATES, place(null), lines).taxRate).toEqual({ id: 'tax_any', name: 'Everywhere else', percent: '5' });
    const exempt = priceLines(RATES, place('US', 'CA', true), lines);
    expect(exempt).toMatchObject({ taxRate: null, tax: 0, total: 1000 });
    expect(priceLines([], place('US'), lines)).toMatchObject({ taxRate: null, tax: 0 });
  });

  it('does not tax a line marked untaxable, and taxes lines by default', () => {
    const priced = priceLines(RATES, place('US', 'NY'), [
      { description: 'Domain', quantity: 1, unitAmount: 1000, taxable: false },
      { description: 'Hosting', quantity: 1, unitAmount: 1000 },
    ]);
    expect(priced.lines.map((l) => [l.taxable, l.tax])).toEqual([
      [false, 0],
      [true, 80],
    ]);
  });

  it('gives every line a new li_ id, or the ids of the given minter', () => {
    const lines = [
      { description: 'a', quantity: 1, unitAmount: 1 },
      { description: 'b', quantity: 1, unitAmount: 1 },
    ];
    const ids = priceLines(RATES, untaxed, lines).lines.map((l) => l.id);
    expect(ids.every((id) => /^li_[0-9A-Z]{26}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(2);
    let n = 0;
    expect(priceLines(RATES, untaxed, lines, () => `li_${++n}`).lines.map((l) => l.id)).toEqual(['li_1', 'li_2']);
  });

  it('names the line whose own amount is beyond MAX_INVOICE_AMOUNT, and the lines when only their sum is', () => {
    const justUnder = { description: 'big', quantity: 1, unitAmount: MAX_INVOICE_AMOUNT };
    expect(priceLines(RATES, untaxed, [justUnder]).total).toBe(MAX_INVOICE_AMOUNT);
    expect(
      refusedPaths(() =>
        priceLines(RATES, untaxed, [
          { description: 'ok', quantity: 1, unitAmount: 1 },
          { description: 'big', quantity: 2, unitAmount: MAX_INVOICE_AMOUNT },
        ]),
      ),
    ).toEqual(['lines.1.unitAmount']);
    // Beyond a safe integer, not only beyond the limit.
    expect(refusedPaths(() => priceLines(RATES, untaxed, [{ description: 'huge', quantity: 1e9, unitAmount: 1e12 }]))).toEqual(['lines.0.unitAmount']);
    expect(refusedPaths(() => priceLines(RATES, untaxed, [justUnder, { description: 'one more', quantity: 1, unitAmount: 1 }]))).toEqual(['lines']);
    // Tax pushes the total over the limit.
    expect(refusedPaths(() => priceLines(RATES, place('FR'), [justUnder]))).toEqual(['lines']);
  });

  it('refuses a negative total naming the lines', () => {
    expect(refusedPaths(() => priceLines(RATES, untaxed, [{ description: 'Only a discount', quantity: '-1', unitAmount: 100 }]))).toEqual(['lines']);
    expect(
      priceLines(RATES, untaxed, [
        { description: 'Free', quantity: '-1', unitAmount: 100 },
        { description: 'Work', quantity: 1, unitAmount: 100 },
      ]).total,
    ).toBe(0);
  });

  it('refuses lines larger than MAX_LINES_BYTES in UTF-8, counting multi-byte characters as their bytes', () => {
    const lines = (description: string) => Array.from({ length: 200 }, () => ({ description, quantity: 1, unitAmount: 100 }));
    // 200 × 1,000 ASCII characters fit; the same in three-byte characters do not.
    expect(200 * 3000).toBeGreaterThan(MAX_LINES_BYTES);
    expect(priceLines(RATES, untaxed, lines('x'.repeat(1000))).lines).toHaveLength(200);
    expect(refusedPaths(() => priceLines(RATES, untaxed, lines('価'.repeat(1000))))).toEqual(['lines']);
  });

  it('refuses a bad quantity or a fractional unit amount naming the line field, as the HTTP schema does', () => {
    expect(
      refusedPaths(() =>
        priceLines(RATES, untaxed, [
          { description: 'ok', quantity: 1, unitAmount: 1 },
          { description: 'x', quantity: '1/0', unitAmount: 1 },
        ]),
      ),
    ).toEqual(['lines.1.quantity']);
    expect(refusedPaths(() => priceLines(RATES, untaxed, [{ description: 'x', quantity: 'abc', unitAmount: 1 }]))).toEqual(['lines.0.quantity']);
    expect(refusedPaths(() => priceLines(RATES, untaxed, [{ description: 'x', quantity: 1, unitAmount: 10.5 }]))).toEqual(['lines.0.unitAmount']);
  });
});
