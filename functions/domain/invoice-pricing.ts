import type { Client } from './client.js';
import type { TaxRate } from './company.js';
import { ValidationError } from './errors.js';
import { newId } from './ids.js';
import type { InvoiceCharges, InvoiceLine } from './invoice.js';
import { computeInvoiceAmounts } from './invoice-math.js';
import { isMinorUnits, MoneyRangeError, type MinorUnits } from './money.js';
import { InvalidQuantityError, lineAmount, parseQuantity, type Quantity } from './quantity.js';
import { pickTaxRate } from './tax.js';

/** A line as a caller gives it: the quantity as a number or the exact text ("55/60", "1.5"). */
export interface LineInput {
  description: string;
  quantity: number | string;
  unitAmount: MinorUnits;
  taxable?: boolean;
}

/** Largest line amount, line tax, subtotal or total of an invoice, in minor units (the largest payment too). */
export const MAX_INVOICE_AMOUNT = 1e13;
/** Most UTF-8 bytes the lines of one invoice (or series) may take, so the item stays under DynamoDB's 400 KB. */
export const MAX_LINES_BYTES = 380_000;

/** What of a client decides its tax: where it is and whether it is exempt. */
export type TaxedClient = Pick<Client, 'country' | 'state' | 'taxExempt'>;

const tooLargeMessage = `Amounts are limited to ${MAX_INVOICE_AMOUNT} minor units.`;

/** Names the first line whose own amount is out of range, else the lines as a whole. */
function tooLarge(lines: readonly { quantity: Quantity; unitAmount: MinorUnits }[]): ValidationError {
  const index = lines.findIndex((l) => {
    try {
      return Math.abs(lineAmount(l.quantity, l.unitAmount)) > MAX_INVOICE_AMOUNT;
    } catch (error) {
      return error instanceof MoneyRangeError;
    }
  });
  return index >= 0
    ? ValidationError.field(`lines.${index}.unitAmount`, `quantity × unitAmount is too large. ${tooLargeMessage}`)
    : ValidationError.field('lines', `The invoice amounts are too large. ${tooLargeMessage}`);
}

/**
 * Refuses what the HTTP schema refuses too, so a caller without one (a scheduled task, an import) gets the same
 * field paths instead of an arithmetic error.
 */
function readLines(lines: readonly LineInput[]) {
  return lines.map((line, index) => {
    if (!isMinorUnits(line.unitAmount)) throw ValidationError.field(`lines.${index}.unitAmount`, 'Money is an integer count of minor units.');
    try {
      return { description: line.description, quantity: parseQuantity(line.quantity), unitAmount: line.unitAmount, taxable: line.taxable };
    } catch (error) {
      if (error instanceof InvalidQuantityError) throw ValidationError.field(`lines.${index}.quantity`, error.message);
      throw error;
    }
  });
}

/**
 * Prices an invoice's lines for a client: one tax rate for the whole invoice (the most specific of the company's
 * rates for the client's place, none when it is tax exempt), each line's amount and tax rounded once, and the
 * totals summed from them. Refuses amounts beyond `MAX_INVOICE_AMOUNT` (naming the line when one line alone is too
 * large), a negative total, and lines too large to store.
 */
export function priceLines(
  taxRates: readonly TaxRate[],
  client: TaxedClient,
  lines: readonly LineInput[],
  newLineId: () => string = () => newId('li'),
): InvoiceCharges {
  const rate = pickTaxRate(taxRates, { country: client.country ?? undefined, state: client.state ?? undefined }, client.taxExempt);
  const read = readLines(lines);
  let amounts: ReturnType<typeof computeInvoiceAmounts<(typeof read)[number]>>;
  try {
    amounts = computeInvoiceAmounts(read, rate?.percent ?? null);
  } catch (error) {
    if (!(error instanceof MoneyRangeError)) throw error;
    throw tooLarge(read);
  }
  const outOfRange = (v: number) => Math.abs(v) > MAX_INVOICE_AMOUNT;
  if (amounts.lines.some((l) => outOfRange(l.amount) || outOfRange(l.tax)) || outOfRange(amounts.subtotal) || outOfRange(amounts.total)) throw tooLarge(read);
  if (amounts.total < 0) throw ValidationError.field('lines', 'The invoice total cannot be negative.');
  // DynamoDB items hold at most 400 KB: the lines must leave room for the rest of the invoice.
  if (new TextEncoder().encode(JSON.stringify(amounts.lines)).length > MAX_LINES_BYTES) {
    throw ValidationError.field('lines', `The lines are too large: at most ${MAX_LINES_BYTES / 1000} kB in all (UTF-8 descriptions included).`);
  }
  const priced: InvoiceLine[] = amounts.lines.map((l) => ({
    id: newLineId(),
    description: l.description,
    quantity: l.quantity,
    unitAmount: l.unitAmount,
    amount: l.amount,
    taxable: l.taxable,
    tax: l.tax,
  }));
  return {
    lines: priced,
    subtotal: amounts.subtotal,
    tax: amounts.tax,
    total: amounts.total,
    taxRate: rate ? { id: rate.id, name: rate.name, percent: rate.percent } : null,
  };
}
