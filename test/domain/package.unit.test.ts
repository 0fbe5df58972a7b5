import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/domain/errors.js';
import { buildPricing, findPricing, newPackage, revisePackage, type PricingInput } from '../../functions/domain/package.js';

const ids = () => {
  let n = 0;
  return () => `prc_${++n}`;
};
const monthly: PricingInput = { term: 1, period: 'month', price: 1000, currency: 'USD' };

function fieldOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.errors[0]?.path;
    throw error;
  }
  return undefined;
}

describe('package pricing', () => {
  it('gets an id per pricing and a setup fee of 0 by default', () => {
    const pkg = newPackage({
      id: 'pkg_1',
      name: 'Hosting',
      pricing: [monthly, { ...monthly, period: 'onetime', setupFee: 500 }],
      currencies: ['USD'],
      newPricingId: ids(),
      now: 'T',
    });
    expect(pkg.pricing).toEqual([
      { id: 'prc_1', term: 1, period: 'month', price: 1000, setupFee: 0, currency: 'USD' },
      { id: 'prc_2', term: 1, period: 'onetime', price: 1000, setupFee: 500, currency: 'USD' },
    ]);
    expect(pkg.version).toBe(1);
    expect(pkg.description).toBeNull();
  });

  it('refuses each bad field by name', () => {
    const build = (p: Partial<PricingInput>) => () => buildPricing([{ ...monthly, ...p }], ['USD', 'EUR'], ids());
    expect(fieldOf(() => buildPricing([], ['USD'], ids()))).toBe('pricing');
    expect(fieldOf(build({ term: 0 }))).toBe('pricing.0.term');
    expect(fieldOf(build({ term: 1.5 }))).toBe('pricing.0.term');
    expect(fieldOf(build({ price: -1 }))).toBe('pricing.0.price');
    expect(fieldOf(build({ price: 10.5 }))).toBe('pricing.0.price');
    expect(fieldOf(build({ setupFee: -5 }))).toBe('pricing.0.setupFee');
    expect(fieldOf(build({ currency: 'JPY' }))).toBe('pricing.0.currency');
    expect(fieldOf(build({ period: 'fortnight' as never }))).toBe('pricing.0.period');
    expect(fieldOf(build({ id: 'prc_unknown' }))).toBe('pricing.0.id');
    expect(fieldOf(build({ currency: 'EUR', price: 0 }))).toBeUndefined();
  });

  it('keeps the ids of pricings given back on a change, and bumps the version', () => {
    const pkg = newPackage({ id: 'pkg_1', name: 'Hosting', pricing: [monthly], currencies: ['USD'], newPricingId: ids(), now: 'T' });
    const next = revisePackage(
      pkg,
      {
        name: 'Web',
        pricing: [
          { ...monthly, id: 'prc_1', price: 1200 },
          { ...monthly, term: 12 },
        ],
      },
      ['USD'],
      () => 'prc_new',
      'T2',
    );
    expect(next.name).toBe('Web');
    expect(next.pricing.map((p) => [p.id, p.price, p.term])).toEqual([
      ['prc_1', 1200, 1],
      ['prc_new', 1000, 12],
    ]);
    expect(next.version).toBe(2);
    expect(findPricing(next, 'prc_new').term).toBe(12);
    expect(fieldOf(() => findPricing(next, 'prc_x'))).toBe('pricingId');
  });
});
