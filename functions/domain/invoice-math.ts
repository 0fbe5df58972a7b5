import { addMinorUnits, sumMinorUnits, type MinorUnits } from './money.js';
import { lineAmount, parseQuantity, type Quantity } from './quantity.js';
import { lineTax, parsePercent } from './tax.js';

/** A line as given: its quantity (parsed or raw input), unit amount and whether it is taxed (default yes). */
export interface InvoiceLineInput {
  quantity: Quantity | number | string;
  unitAmount: MinorUnits;
  taxable?: boolean;
}

/** A line with its computed money: `quantity` is the exact text to echo back. */
export type ComputedLine<L extends InvoiceLineInput> = Omit<L, 'quantity' | 'taxable'> & {
  quantity: string;
  taxable: boolean;
  amount: MinorUnits;
  tax: MinorUnits;
};

export interface InvoiceAmounts<L extends InvoiceLineInput> {
  lines: ComputedLine<L>[];
  subtotal: MinorUnits;
  tax: MinorUnits;
  total: MinorUnits;
}

export interface InvoiceBalance {
  paid: MinorUnits;
  due: MinorUnits;
}

const isParsed = (quantity: InvoiceLineInput['quantity']): quantity is Quantity => typeof quantity === 'object';

/**
 * Computes every line's `amount` (quantity × unit, rounded half away from zero) and `tax` (amount × percent / 100
 * on taxable lines, same rounding), then `subtotal`, `tax` (the sum of line taxes) and `total = subtotal + tax`.
 * Other line fields (description, id) pass through. `taxPercent` is the picked rate's percent, or undefined for none.
 * Throws `InvalidQuantityError` naming `lines[i].quantity` for a bad raw quantity, `MoneyRangeError` on overflow.
 * @example computeInvoiceAmounts([{ quantity: '55/60', unitAmount: 9000 }], '20') // subtotal 8250, tax 1650, total 9900
 */
export function computeInvoiceAmounts<L extends InvoiceLineInput>(lines: readonly L[], taxPercent?: string | null): InvoiceAmounts<L> {
  const rate = taxPercent == null ? undefined : parsePercent(taxPercent);
  const computed = lines.map((line, index): ComputedLine<L> => {
    const quantity = isParsed(line.quantity) ? line.quantity : parseQuantity(line.quantity, `lines[${index}].quantity`);
    const taxable = line.taxable ?? true;
    const amount = lineAmount(quantity, line.unitAmount);
    const tax = taxable && rate ? lineTax(amount, rate) : 0;
    return { ...line, quantity: quantity.text, taxable, amount, tax };
  });
  const subtotal = sumMinorUnits(computed.map((line) => line.amount));
  const tax = sumMinorUnits(computed.map((line) => line.tax));
  return { lines: computed, subtotal, tax, total: addMinorUnits(subtotal, tax) };
}

/**
 * What is paid and still due on an invoice of `total` given the amounts applied to it: `paid` is their sum,
 * `due = total − paid`. Throws `RangeError` when the applications exceed the total (the ledger never allows it).
 */
export function invoiceBalance(total: MinorUnits, applied: Iterable<MinorUnits>): InvoiceBalance {
  const paid = sumMinorUnits(applied);
  if (paid < 0) throw new RangeError('Applications to an invoice cannot sum below zero');
  const due = addMinorUnits(total, -paid);
  if (due < 0 && paid > 0) throw new RangeError(`Applications (${paid}) exceed the invoice total (${total})`);
  return { paid, due };
}
