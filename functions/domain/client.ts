import { ValidationError, type FieldError } from './errors.js';
import type { Versioned } from './versioned.js';

export type ClientStatus = 'active' | 'inactive' | 'fraud';
export const CLIENT_STATUSES: readonly ClientStatus[] = ['active', 'inactive', 'fraud'];

export interface Phone {
  type: 'phone' | 'fax';
  location: 'home' | 'work' | 'mobile';
  number: string;
}

/** The fields a client shares with a contact (seed 002, "Contact Information"). */
export interface ContactDetails {
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  title: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  country: string | null;
  state: string | null;
  zip: string | null;
  email: string | null;
  phones: Phone[];
}

export interface Client extends Versioned, ContactDetails {
  id: string;
  number: number;
  status: ClientStatus;
  groupId: string;
  taxExempt: boolean;
  taxId: string | null;
  currency: string;
  username: string | null;
  /** The identity provider's user id, when the client has a login. */
  userId: string | null;
  language: string;
  marketingOptIn: boolean;
  customFields: Record<string, string>;
  autoDebitAccountId: string | null;
  /** Set when a hard bounce or complaint stops automatic mail to the client's address. */
  emailSuppressed?: boolean;
}

/** What a client was invoiced, has paid, still owes and holds as credit in one currency, in minor units. */
export interface BalanceTotals {
  currency: string;
  invoiced: number;
  paid: number;
  due: number;
  credit: number;
}

/** A client's totals, one row per currency it has used; its own currency is always listed, first, then the others by code. */
export function summaryRows(client: Pick<Client, 'currency'>, balances: readonly BalanceTotals[]): BalanceTotals[] {
  const rows = [...balances];
  if (!rows.some((r) => r.currency === client.currency)) rows.unshift({ currency: client.currency, invoiced: 0, paid: 0, due: 0, credit: 0 });
  return rows.sort((a, b) => (a.currency === client.currency ? -1 : b.currency === client.currency ? 1 : a.currency.localeCompare(b.currency)));
}

/** A client needs a company, or both a first and a last name. */
export function hasRequiredName(c: Pick<ContactDetails, 'company' | 'firstName' | 'lastName'>): boolean {
  return Boolean(c.company?.trim()) || (Boolean(c.firstName?.trim()) && Boolean(c.lastName?.trim()));
}

/** Refuses a client without a company or both names, naming the company and each missing name. */
export function assertRequiredName(c: Pick<ContactDetails, 'company' | 'firstName' | 'lastName'>, alsoWrong: FieldError[] = []): void {
  const message = 'A client needs a company, or both a first and a last name.';
  const errors: FieldError[] = hasRequiredName(c)
    ? []
    : [
        { path: 'company', message },
        ...(!c.firstName?.trim() ? [{ path: 'firstName', message }] : []),
        ...(!c.lastName?.trim() ? [{ path: 'lastName', message }] : []),
      ];
  errors.push(...alsoWrong);
  if (errors.length) throw new ValidationError(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}

/** What a client may change on its own profile (with a client token); the rest is for staff. */
export const CLIENT_EDITABLE_FIELDS = [
  'title',
  'address1',
  'address2',
  'city',
  'country',
  'state',
  'zip',
  'phones',
  'language',
  'marketingOptIn',
  'password',
] as const;

/** Refuses a change by the client itself to any field it may not change, naming each. */
export function assertClientMayChange(fields: readonly string[]): void {
  const forbidden = fields.filter((field) => !(CLIENT_EDITABLE_FIELDS as readonly string[]).includes(field));
  if (forbidden.length)
    throw new ValidationError(
      `A client may not change: ${forbidden.join(', ')}.`,
      forbidden.map((path) => ({ path, message: 'A client may not change this field.' })),
    );
}

export function defaultFax(phones: readonly Phone[]): string | null {
  return phones.find((p) => p.type === 'fax')?.number ?? null;
}

export function displayName(c: Pick<ContactDetails, 'company' | 'firstName' | 'lastName'>): string {
  const person = [c.firstName, c.lastName].filter(Boolean).join(' ');
  return person || c.company || '';
}

/** Folds case and accents so "Émile" is found by "emi". */
export function searchFold(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .trim();
}

export const SEARCH_FIELDS = ['company', 'email', 'firstName', 'lastName', 'number'] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

/** The (term, field) pairs a client is found by; a search matches the start of any term. */
export function searchTerms(c: Pick<Client, SearchField>): Array<[string, SearchField]> {
  const pairs: Array<[string, SearchField]> = [];
  for (const field of SEARCH_FIELDS) {
    const raw = field === 'number' ? String(c.number) : c[field];
    if (raw === null || raw === undefined) continue;
    const term = searchFold(String(raw));
    if (term) pairs.push([term, field]);
  }
  return pairs;
}

/**
 * A client matching `q` through several terms is listed once: at its smallest matching (term, field) pair,
 * which is the first of its pairs a term-ordered scan meets, so pages never repeat it.
 */
export function isFirstMatch(pairs: ReadonlyArray<readonly [string, string]>, q: string, term: string, field: string): boolean {
  const matching = pairs.filter(([t]) => t.startsWith(q)).sort(([ta, fa], [tb, fb]) => (ta < tb ? -1 : ta > tb ? 1 : fa < fb ? -1 : fa > fb ? 1 : 0));
  return matching.length > 0 && matching[0][0] === term && matching[0][1] === field;
}

export const CLIENT_SORTS = ['number', '-number', 'lastName', 'company', 'createdAt', '-createdAt'] as const;
export type ClientSort = (typeof CLIENT_SORTS)[number];
export const SORT_INDEXES = ['number', 'lastName', 'company', 'createdAt'] as const;
export type SortIndex = (typeof SORT_INDEXES)[number];

/** The value a client sorts by in one list index; ties break on the client id. */
export function sortValue(c: Client, index: SortIndex): string {
  switch (index) {
    case 'number':
      return String(c.number).padStart(12, '0');
    case 'lastName':
      return searchFold(c.lastName ?? '');
    case 'company':
      return searchFold(c.company ?? '');
    case 'createdAt':
      return c.createdAt;
  }
}
