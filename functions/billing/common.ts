import type { Company } from '../domain/company.js';
import { todayIn } from '../domain/dates.js';
import { ConflictError, NotFoundError, RuleViolationError, ValidationError } from '../domain/errors.js';
import { LEDGER_ERROR_KIND, type LedgerRuleError } from '../domain/ledger.js';
import type { Principal } from '../domain/principal.js';

/** The date in the company's time zone: invoices are billed, and payments dated, on the company's calendar. */
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
      const path =
        'field' in error ? error.field : error.code === 'ApplicationsExceedPayment' ? 'apply' : error.code === 'CurrencyMismatch' ? 'currency' : '(body)';
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
  if (!company.own.currencies.includes(currency))
    throw ValidationError.field(field, `Not one of the company's currencies (${company.own.currencies.join(', ')}).`);
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
