import type { Client } from '../domain/client.js';
import type { Company } from '../domain/company.js';
import { todayIn } from '../domain/dates.js';
import { newId } from '../domain/ids.js';
import type { InvoiceLine } from '../domain/invoice.js';
import { computeInvoiceAmounts } from '../domain/invoice-math.js';
import { LEDGER_ERROR_KIND, type LedgerRuleError } from '../domain/ledger.js';
import { MoneyRangeError } from '../domain/money.js';
import { lineAmount, parseQuantity } from '../domain/quantity.js';
import { pickTaxRate } from '../domain/tax.js';
import { ConcurrentChangeError, RuleViolationError, ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { CompanyPrincipal, Principal } from '../http/route.js';

export const companyOf = (p: Principal | null) => (p as CompanyPrincipal).companyId;

export const today = (company: Company) => todayIn(company.own.timeZone);

/** A client token reaches only its own objects; anything else is "not found". */
export function assertVisibleTo(principal: Principal | null, clientId: string, what: string): void {
  if (principal?.role === 'client' && principal.clientId !== clientId) throw new NotFoundError(`No such ${what}.`);
}

/** Turns a ledger rule error into the Billow error of its kind. */
export function ledgerError(error: LedgerRuleError): Error {
  const code = error.code.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  switch (LEDGER_ERROR_KIND[error.code]) {
    case 'invalid': {
      const path = 'field' in error ? error.field : error.code === 'ApplicationsExceedPayment' ? 'apply' : error.code === 'CurrencyMismatch' ? 'currency' : '(body)';
      return new ValidationError(error.message, [{ path, message: error.message }]);
    }
    case 'not_found':
      return new NotFoundError(error.message);
    case 'conflict':
      return new ConflictError(error.message, { code });
    case 'rule':
      return new RuleViolationError(error.message, { code });
  }
}

export function assertCurrency(company: Company, currency: string, field = 'currency'): void {
  if (!company.own.currencies.includes(currency)) throw ValidationError.field(field, `Not one of the company's currencies (${company.own.currencies.join(', ')}).`);
}

/**
 * A payment's currency: one of the company's, or — for a currency the company has since removed — only to pay
 * invoices already billed in it (the ledger checks every applied invoice is in that currency).
 */
export function assertPaymentCurrency(company: Company, currency: string, apply: readonly unknown[] | undefined): void {
  if (company.own.currencies.includes(currency)) return;
  if ((apply?.length ?? 0) > 0) return;
  assertCurrency(company, currency);
}

export interface LineInput {
  description: string;
  quantity: number | string;
  unitAmount: number;
  taxable?: boolean;
}

/** Largest line amount, line tax, subtotal or total of an invoice, in minor units (the largest payment too). */
export const MAX_INVOICE_AMOUNT = 1e13;
/** Most UTF-8 bytes the lines of one invoice (or series) may take, so the item stays under DynamoDB's 400 KB. */
export const MAX_LINES_BYTES = 380_000;

/** A 400 naming the first line whose amount is out of range, else the lines as a whole. */
function tooLarge(lines: readonly LineInput[]): ValidationError {
  const message = `Amounts are limited to ${MAX_INVOICE_AMOUNT} minor units.`;
  const index = lines.findIndex((l) => {
    try {
      return Math.abs(lineAmount(parseQuantity(l.quantity), l.unitAmount)) > MAX_INVOICE_AMOUNT;
    } catch (error) {
      return error instanceof MoneyRangeError;
    }
  });
  return index >= 0 ? ValidationError.field(`lines.${index}.unitAmount`, `quantity × unitAmount is too large. ${message}`) : ValidationError.field('lines', `The invoice amounts are too large. ${message}`);
}

/** Computes lines, tax and totals for a client: one tax rate per invoice, none when the client is tax exempt. */
export function priceLines(company: Company, client: Client, lines: readonly LineInput[]) {
  const rate = pickTaxRate(company.own.taxRates, { country: client.country ?? undefined, state: client.state ?? undefined }, client.taxExempt);
  let amounts: ReturnType<typeof computeInvoiceAmounts<LineInput>>;
  try {
    amounts = computeInvoiceAmounts(
      lines.map((l) => ({ description: l.description, quantity: l.quantity, unitAmount: l.unitAmount, taxable: l.taxable })),
      rate?.percent ?? null,
    );
  } catch (error) {
    if (!(error instanceof MoneyRangeError)) throw error;
    throw tooLarge(lines);
  }
  const outOfRange = (v: number) => Math.abs(v) > MAX_INVOICE_AMOUNT;
  if (amounts.lines.some((l) => outOfRange(l.amount) || outOfRange(l.tax)) || outOfRange(amounts.subtotal) || outOfRange(amounts.total)) throw tooLarge(lines);
  if (amounts.total < 0) throw ValidationError.field('lines', 'The invoice total cannot be negative.');
  // DynamoDB items hold at most 400 KB: the lines must leave room for the rest of the invoice.
  if (Buffer.byteLength(JSON.stringify(amounts.lines), 'utf8') > MAX_LINES_BYTES) {
    throw ValidationError.field('lines', `The lines are too large: at most ${MAX_LINES_BYTES / 1000} kB in all (UTF-8 descriptions included).`);
  }
  const computed: InvoiceLine[] = amounts.lines.map((l) => ({ id: newId('prc').replace('prc_', 'li_'), description: l.description, quantity: l.quantity, unitAmount: l.unitAmount, amount: l.amount, taxable: l.taxable, tax: l.tax }));
  return { lines: computed, subtotal: amounts.subtotal, tax: amounts.tax, total: amounts.total, taxRate: rate ? { id: rate.id, name: rate.name, percent: rate.percent } : null };
}

/**
 * Retries a read-plan-commit step when a concurrent change made its conditions fail. Each round of a burst lets one
 * writer through, so the attempts must outnumber the writers a burst can hold; full-jitter backoff (capped at
 * 100 ms) spreads them out.
 */
export async function withRetries<T>(step: () => Promise<T>, attempts = 60): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!(error instanceof ConcurrentChangeError) || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(100, 5 * 2 ** attempt)));
    }
  }
}
