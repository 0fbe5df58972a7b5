import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaxRate } from '../../functions/domain/company.js';
import { InvalidTaxPercentError, isTaxPercent, lineTax, parsePercent, pickTaxRate } from '../../functions/domain/tax.js';

const rate = (id: string, percent: string, country?: string, state?: string): TaxRate => ({ id, name: id, percent, country, state });
const rates = [rate('world', '5'), rate('us-ca', '7.25', 'US', 'CA'), rate('us', '4', 'US'), rate('gb', '20', 'GB')];

describe('pickTaxRate', () => {
  it('prefers country+state, then country, then a rate with no country', () => {
    expect(pickTaxRate(rates, { country: 'US', state: 'CA' }, false)?.id).toBe('us-ca');
    expect(pickTaxRate(rates, { country: 'US', state: 'NY' }, false)?.id).toBe('us');
    expect(pickTaxRate(rates, { country: 'US' }, false)?.id).toBe('us');
    expect(pickTaxRate(rates, { country: 'GB', state: 'CA' }, false)?.id).toBe('gb');
    expect(pickTaxRate(rates, { country: 'FR' }, false)?.id).toBe('world');
    expect(pickTaxRate(rates, {}, false)?.id).toBe('world');
  });

  it('does not depend on the order of the rates', () => {
    expect(pickTaxRate([...rates].reverse(), { country: 'US', state: 'CA' }, false)?.id).toBe('us-ca');
    expect(pickTaxRate([...rates].reverse(), { country: 'US', state: 'TX' }, false)?.id).toBe('us');
  });

  it('compares codes and states case-insensitively', () => {
    expect(pickTaxRate(rates, { country: 'us', state: 'ca' }, false)?.id).toBe('us-ca');
  });

  it('picks nothing for a tax-exempt client or when nothing fits', () => {
    expect(pickTaxRate(rates, { country: 'US', state: 'CA' }, true)).toBeUndefined();
    expect(pickTaxRate([rate('gb', '20', 'GB')], { country: 'US' }, false)).toBeUndefined();
    expect(pickTaxRate([], { country: 'US' }, false)).toBeUndefined();
  });

  it('keeps the first of two equally specific rates', () => {
    expect(pickTaxRate([rate('a', '1', 'DE'), rate('b', '2', 'DE')], { country: 'DE' }, false)?.id).toBe('a');
  });
});

describe('lineTax', () => {
  it('is amount × percent / 100 rounded half away from zero', () => {
    expect(lineTax(1999, '20')).toBe(400);
    expect(lineTax(1000, '7.25')).toBe(73);
    expect(lineTax(-1000, '7.25')).toBe(-73);
    expect(lineTax(1000, '0')).toBe(0);
    expect(lineTax(3, '0.0001')).toBe(0);
    expect(lineTax(5000, '0.01')).toBe(1); // 0.5 → 1
    expect(lineTax(12345, '100')).toBe(12345);
  });

  it('parses percents exactly and rejects anything else', () => {
    expect(parsePercent('7.25')).toEqual({ numerator: 725n, denominator: 10000n });
    expect(parsePercent('20')).toEqual({ numerator: 20n, denominator: 100n });
    for (const bad of ['-1', 'abc', '1e2', '', ' 5', '5.', '.5']) {
      expect(isTaxPercent(bad), bad).toBe(false);
      expect(() => lineTax(100, bad)).toThrow(InvalidTaxPercentError);
    }
  });

  const percent = fc
    .tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 4 }))
    .map(([whole, fraction, places]) => (places === 0 || whole === 100 ? String(whole) : `${whole}.${String(fraction).padStart(4, '0').slice(0, places)}`));

  it('is never negative for a non-negative amount, and mirrors negative amounts (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), percent, (amount, p) => {
        const tax = lineTax(amount, p);
        expect(tax).toBeGreaterThanOrEqual(0);
        expect(lineTax(-amount, p)).toBe(-tax || 0);
      }),
    );
  });

  it('never exceeds the amount when the percent is at most 100, and grows with the amount (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.integer({ min: 0, max: 10 ** 6 }), percent, (amount, extra, p) => {
        expect(lineTax(amount, p)).toBeLessThanOrEqual(amount);
        expect(lineTax(amount + extra, p)).toBeGreaterThanOrEqual(lineTax(amount, p));
      }),
    );
  });
});
