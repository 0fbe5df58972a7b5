/**
 * Checks on card and bank-account details made before they reach the gateway. Nothing here keeps or logs a number.
 */

export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unknown';

/** A card or bank field that failed a check, in the shape of a problem document's `errors` entry. */
export interface PaymentFieldError {
  path: string;
  message: string;
}

/** The digits of a card number typed with spaces or dashes between groups; undefined when anything else is in it. */
export function cardDigits(input: string): string | undefined {
  const digits = input.replace(/[\s-]/g, '');
  return /^\d+$/.test(digits) ? digits : undefined;
}

/**
 * True when the digit string passes the Luhn (mod 10) check. Non-digit input is never valid.
 * @example luhnValid('4242424242424242') // true
 */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  // Double every second digit from the right (the check digit itself is not doubled).
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

const inRange = (digits: string, length: number, low: number, high: number) => {
  const prefix = Number(digits.slice(0, length));
  return digits.length >= length && prefix >= low && prefix <= high;
};

/**
 * The card network from the number's leading digits (IIN ranges), `unknown` when none matches.
 * @example cardBrand('378282246310005') // 'amex'
 */
export function cardBrand(number: string): CardBrand {
  const digits = cardDigits(number);
  if (!digits) return 'unknown';
  if (inRange(digits, 2, 34, 34) || inRange(digits, 2, 37, 37)) return 'amex';
  if (inRange(digits, 4, 3528, 3589)) return 'jcb';
  if (inRange(digits, 3, 300, 305) || inRange(digits, 4, 3095, 3095) || inRange(digits, 2, 36, 36) || inRange(digits, 2, 38, 39)) return 'diners';
  if (inRange(digits, 4, 6011, 6011) || inRange(digits, 3, 644, 649) || inRange(digits, 2, 65, 65) || inRange(digits, 6, 622126, 622925)) return 'discover';
  if (inRange(digits, 2, 51, 55) || inRange(digits, 4, 2221, 2720)) return 'mastercard';
  if (digits.startsWith('4')) return 'visa';
  return 'unknown';
}

/** The last four digits, the only part of a number ever shown or stored in clear. */
export function last4(number: string): string {
  const digits = cardDigits(number) ?? number.replace(/\D/g, '');
  return digits.slice(-4);
}

/** A calendar day as `YYYY-MM-DD` (in the company's time zone), or a `Date` read in UTC. */
export type Day = string | Date;

function yearMonth(day: Day): { year: number; month: number } {
  if (day instanceof Date) return { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1 };
  const match = /^(\d{4})-(\d{2})-\d{2}$/.exec(day);
  if (!match) throw new RangeError(`Not a YYYY-MM-DD date: ${day}`);
  return { year: Number(match[1]), month: Number(match[2]) };
}

/** A four-digit year; two-digit years (`27`) are read as 20xx, as printed on cards. */
export function normaliseExpYear(expYear: number): number {
  return expYear >= 0 && expYear < 100 ? 2000 + expYear : expYear;
}

/**
 * True when a card with this expiry can still be used on `today`: a card is valid through the last day of its
 * expiry month. A month outside 1–12 is never valid.
 * @example cardUsableOn(12, 2026, '2026-12-31') // true
 */
export function cardUsableOn(expMonth: number, expYear: number, today: Day): boolean {
  if (!Number.isInteger(expMonth) || !Number.isInteger(expYear) || expMonth < 1 || expMonth > 12) return false;
  const { year, month } = yearMonth(today);
  const fullYear = normaliseExpYear(expYear);
  return fullYear > year || (fullYear === year && expMonth >= month);
}

/**
 * True when the ABA routing number is nine digits passing the 3-7-1 weighted checksum (and is not all zeros).
 * @example isValidRoutingNumber('110000000') // true
 */
export function isValidRoutingNumber(routing: string): boolean {
  if (!/^\d{9}$/.test(routing) || /^0+$/.test(routing)) return false;
  const weights = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (routing.charCodeAt(i) - 48) * weights[i];
  return sum % 10 === 0;
}

/** True when a US bank account number is plausible: 4–17 digits. */
export function isValidAccountNumber(accountNumber: string): boolean {
  return /^\d{4,17}$/.test(accountNumber);
}

export interface CardInput {
  number: string;
  expMonth: number;
  expYear: number;
  cvc?: string;
}

export interface AchInput {
  accountNumber: string;
  routingNumber: string;
}

/**
 * Every problem with a card's details, with paths under `prefix` (e.g. `card.number`); empty when the card may be
 * sent to the gateway. Checks: 12–19 digits passing Luhn, a real month, not expired on `today`, and a CVC of 3
 * digits (4 for American Express) when given. Messages never echo the number.
 */
export function cardProblems(card: CardInput, today: Day, prefix = 'card'): PaymentFieldError[] {
  const problems: PaymentFieldError[] = [];
  const digits = cardDigits(card.number);
  if (!digits || digits.length < 12 || digits.length > 19 || !luhnValid(digits)) {
    problems.push({ path: `${prefix}.number`, message: 'Not a valid card number.' });
  }
  if (!Number.isInteger(card.expMonth) || card.expMonth < 1 || card.expMonth > 12) {
    problems.push({ path: `${prefix}.expMonth`, message: 'Must be a month from 1 to 12.' });
  } else if (!Number.isInteger(card.expYear) || !cardUsableOn(card.expMonth, card.expYear, today)) {
    problems.push({ path: `${prefix}.expYear`, message: 'The card has expired.' });
  }
  if (card.cvc !== undefined) {
    const length = digits && cardBrand(digits) === 'amex' ? 4 : 3;
    if (!new RegExp(`^\\d{${length}}$`).test(card.cvc)) problems.push({ path: `${prefix}.cvc`, message: `Must be ${length} digits.` });
  }
  return problems;
}

/** Every problem with ACH details, with paths under `prefix` (e.g. `ach.routingNumber`); empty when valid. */
export function achProblems(ach: AchInput, prefix = 'ach'): PaymentFieldError[] {
  const problems: PaymentFieldError[] = [];
  if (!isValidRoutingNumber(ach.routingNumber)) problems.push({ path: `${prefix}.routingNumber`, message: 'Not a valid ABA routing number.' });
  if (!isValidAccountNumber(ach.accountNumber)) problems.push({ path: `${prefix}.accountNumber`, message: 'Must be 4 to 17 digits.' });
  return problems;
}
