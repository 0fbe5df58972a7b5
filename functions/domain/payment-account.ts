import { cardUsableOn, type CardBrand } from './cards.js';
import type { ContactDetails } from './client.js';
import { ValidationError } from './errors.js';
import type { Versioned } from './versioned.js';

/** The billing contact of an account: the client's contact fields, each optional (as the API accepts them). */
export type PaymentAccountContact = Partial<ContactDetails>;

export type PaymentAccountType = 'card' | 'ach';

/** A card or bank account kept for a client. Only what is safe to show is in clear; the gateway token is sealed. */
export interface PaymentAccount extends Versioned {
  id: string;
  clientId: string;
  type: PaymentAccountType;
  brand: CardBrand | 'ach';
  last4: string;
  expMonth: number | null;
  expYear: number | null;
  accountType: 'checking' | 'savings' | null;
  status: 'active' | 'disabled';
  /** True on exactly the account the client's `autoDebitAccountId` names (kept so by one store writer). */
  autoDebit: boolean;
  contact: PaymentAccountContact;
  /** The gateway that issued the token (`local`, `stripe`). */
  gateway: string;
  /** Envelope-encrypted `{ token }` (and the routing number for ACH): never in a response. */
  secret: string;
  /** Auto-debit charges declined in a row (a transient failure is not a decline); an approval resets it. */
  consecutiveDeclines: number;
  /** The last auto-debit attempt counted in `consecutiveDeclines`, so a retried run never counts one twice. */
  lastCountedAttemptId: string | null;
}

/** What a caller may see of an account: everything but the sealed secret and internal counters. */
export function paymentAccountView(a: PaymentAccount) {
  return {
    id: a.id,
    clientId: a.clientId,
    type: a.type,
    brand: a.brand,
    last4: a.last4,
    expMonth: a.expMonth,
    expYear: a.expYear,
    accountType: a.accountType,
    status: a.status,
    autoDebit: a.autoDebit,
    contact: a.contact,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    version: a.version,
  };
}

/** The client's own contact fields, the default contact of a new account. */
export function contactOf(c: ContactDetails): PaymentAccountContact {
  const { firstName, lastName, company, title, address1, address2, city, country, state, zip, email, phones } = c;
  return { firstName, lastName, company, title, address1, address2, city, country, state, zip, email, phones };
}

/** What the gateway handed back for new details: the token to seal and what may be shown. */
export interface TokenizedSummary {
  brand: CardBrand | 'ach';
  last4: string;
  expMonth?: number;
  expYear?: number;
}

export interface NewPaymentAccount {
  id: string;
  clientId: string;
  type: PaymentAccountType;
  method: TokenizedSummary;
  accountType?: 'checking' | 'savings';
  contact: PaymentAccountContact;
  gateway: string;
  secret: string;
  now: string;
}

/** A new account: active, not (yet) the auto-debit one, with no declines. */
export function newPaymentAccount(n: NewPaymentAccount): PaymentAccount {
  return {
    id: n.id,
    clientId: n.clientId,
    type: n.type,
    brand: n.method.brand,
    last4: n.method.last4,
    expMonth: n.method.expMonth ?? null,
    expYear: n.method.expYear ?? null,
    accountType: n.accountType ?? null,
    status: 'active',
    autoDebit: false,
    contact: n.contact,
    gateway: n.gateway,
    secret: n.secret,
    consecutiveDeclines: 0,
    lastCountedAttemptId: null,
    createdAt: n.now,
    updatedAt: n.now,
    version: 1,
  };
}

/**
 * True when a card account's expiry month is before `today`'s month (a card is good through the last day of its
 * month). A bank account, or a card without an expiry, never expires.
 */
export function isExpiredOn(account: Pick<PaymentAccount, 'type' | 'expMonth' | 'expYear'>, today: string): boolean {
  if (account.type !== 'card' || account.expMonth === null || account.expYear === null) return false;
  return !cardUsableOn(account.expMonth, account.expYear, today);
}

export interface PaymentAccountChange {
  expMonth?: number;
  expYear?: number;
  contact?: PaymentAccountContact;
}

/**
 * The account after a change of expiry or contact, as of `today` (company-local `YYYY-MM-DD`). Only cards have an
 * expiry, and a change may not leave a card expired.
 */
export function changePaymentAccount(current: PaymentAccount, change: PaymentAccountChange, today: string, now: string): PaymentAccount {
  if ((change.expMonth !== undefined || change.expYear !== undefined) && current.type !== 'card')
    throw ValidationError.field('expMonth', 'Only cards have an expiry.');
  const next: PaymentAccount = {
    ...current,
    expMonth: change.expMonth ?? current.expMonth,
    expYear: change.expYear ?? current.expYear,
    contact: change.contact ?? current.contact,
    updatedAt: now,
    version: current.version + 1,
  };
  if (isExpiredOn(next, today)) throw ValidationError.field('expYear', 'The card would be expired.');
  return next;
}

/** Only an active account may be charged or made the auto-debit account. */
export const isUsable = (account: Pick<PaymentAccount, 'status'>) => account.status === 'active';

const BRAND_LABELS: Record<PaymentAccount['brand'], string> = {
  visa: 'Visa',
  mastercard: 'Mastercard',
  amex: 'American Express',
  discover: 'Discover',
  jcb: 'JCB',
  diners: 'Diners Club',
  unknown: 'Card',
  ach: 'Bank account',
};

/** How an account is named in mail: `Visa ending 4242`, `Bank account ending 6789` (never more than the last four). */
export const accountLabel = (account: Pick<PaymentAccount, 'brand' | 'last4'>) => `${BRAND_LABELS[account.brand]} ending ${account.last4}`;
