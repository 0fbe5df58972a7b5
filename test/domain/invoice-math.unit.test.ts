import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeInvoiceAmounts, invoiceBalance } from '../../functions/domain/invoice-math.js';
import { InvalidQuantityError, parseQuantity } from '../../functions/domain/quantity.js';

describe('computeInvoiceAmounts', () => {
  it('computes each line once, taxes taxable lines, and totals them', () => {
    const result = computeInvoiceAmounts(
      [
        { description: 'Hosting', quantity: 1, unitAmount: 1999 },
        { description: 'Support, 55 minutes', quantity: '55/60', unitAmount: 9000 },
        { description: 'Domain (not taxed)', quantity: '1', unitAmount: 1200, taxable: false },
        { description: 'Loyalty discount', quantity: '-1', unitAmount: 500 },
      ],
      '20',
    );
    expect(result.lines.map((l) => [l.description, l.quantity, l.amount, l.tax, l.taxable])).toEqual([
      ['Hosting', '1', 1999, 400, true],
      ['Support, 55 minutes', '55/60', 8250, 1650, true],
      ['Domain (not taxed)', '1', 1200, 0, false],
      ['Loyalty discount', '-1', -500, -100, true],
    ]);
    expect(result.subtotal).toBe(10949);
    expect(result.tax).toBe(1950);
    expect(result.total).toBe(12899);
  });

  it('charges no tax without a rate', () => {
    const result = computeInvoiceAmounts([{ quantity: '2', unitAmount: 1000 }], undefined);
    expect([result.subtotal, result.tax, result.total]).toEqual([2000, 0, 2000]);
    expect(result.lines[0].tax).toBe(0);
  });

  it('accepts already parsed quantities', () => {
    const result = computeInvoiceAmounts([{ quantity: parseQuantity('1.5'), unitAmount: 333 }], '7.25');
    expect(result.lines[0]).toMatchObject({ quantity: '1.5', amount: 500, tax: 36 });
  });

  it('names the offending line in a quantity error', () => {
    try {
      computeInvoiceAmounts(
        [
          { quantity: 1, unitAmount: 1 },
          { quantity: '1/0', unitAmount: 1 },
        ],
        null,
      );
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidQuantityError);
      expect((error as InvalidQuantityError).field).toBe('lines[1].quantity');
    }
  });

  it('keeps subtotal = Σ amount, tax = Σ line tax, total = subtotal + tax (property)', () => {
    const line = fc.record({
      quantity: fc.oneof(
        fc.integer({ min: -100, max: 100 }),
        fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 1, max: 120 })).map(([a, b]) => `${a}/${b}`),
      ),
      unitAmount: fc.integer({ min: 0, max: 10_000_000 }),
      taxable: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.constantFrom(undefined, '0', '5', '7.25', '20', '19.6'), (lines, percent) => {
        const result = computeInvoiceAmounts(lines, percent);
        expect(result.subtotal).toBe(result.lines.reduce((s, l) => s + l.amount, 0));
        expect(result.tax).toBe(result.lines.reduce((s, l) => s + l.tax, 0));
        expect(result.total).toBe(result.subtotal + result.tax);
        for (const l of result.lines) {
          if (!l.taxable || !percent) expect(l.tax).toBe(0);
          if (l.amount >= 0) expect(l.tax).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});

describe('invoiceBalance', () => {
  it('is paid = Σ applied and due = total − paid', () => {
    expect(invoiceBalance(10000, [2500, 1500])).toEqual({ paid: 4000, due: 6000 });
    expect(invoiceBalance(10000, [])).toEqual({ paid: 0, due: 10000 });
    expect(invoiceBalance(10000, [10000])).toEqual({ paid: 10000, due: 0 });
  });

  it('refuses applications above the total', () => {
    expect(() => invoiceBalance(100, [60, 41])).toThrow(RangeError);
  });
});
