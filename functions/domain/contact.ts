import type { Phone } from './client.js';
import { ValidationError, type FieldError } from './errors.js';
import type { ContactField } from './settings.js';

/** Every company has these contact types; a company may add its own (`contactTypes` in its settings). */
export const BUILT_IN_CONTACT_TYPES = ['billing', 'technical'];

/** A person at a client; billing contacts receive invoices and billing notices. */
export interface Contact {
  id: string;
  clientId: string;
  type: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  company: string | null;
  title: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  country: string | null;
  state: string | null;
  zip: string | null;
  phones: Phone[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** What a caller sets on a contact. */
export type ContactFields = Omit<Contact, 'id' | 'clientId' | 'createdAt' | 'updatedAt' | 'version'>;

const TEXT_FIELDS = ['firstName', 'lastName', 'email', 'company', 'title', 'address1', 'address2', 'city', 'country', 'state', 'zip'] as const;

/** The fields of a contact after a change: a field not given keeps its value (or is empty on a new contact). */
export function contactFieldsFrom(given: Partial<ContactFields>, base?: ContactFields): ContactFields {
  const fields: ContactFields = {
    type: given.type ?? base?.type ?? '',
    phones: given.phones ?? base?.phones ?? [],
    firstName: null,
    lastName: null,
    email: null,
    company: null,
    title: null,
    address1: null,
    address2: null,
    city: null,
    country: null,
    state: null,
    zip: null,
  };
  for (const field of TEXT_FIELDS) fields[field] = given[field] !== undefined ? given[field] : (base?.[field] ?? null);
  return fields;
}

export interface ContactRules {
  /** The company's own contact types, allowed besides the built-in ones. */
  companyTypes: readonly string[];
  /** The fields the client's group requires. */
  requiredFields: readonly ContactField[];
  /** The contact's type before this change: a type the company has since removed is kept until changed. */
  currentType?: string;
}

/**
 * Checks a contact: a known type, a first and last name and an email, and every field the client's group requires.
 * Each problem names its field, once.
 */
export function assertValidContact(contact: ContactFields, rules: ContactRules): void {
  const errors: FieldError[] = [];
  const types = [...BUILT_IN_CONTACT_TYPES, ...rules.companyTypes];
  if (contact.type !== rules.currentType && !types.includes(contact.type)) errors.push({ path: 'type', message: `Must be one of: ${types.join(', ')}.` });
  if (!contact.firstName?.trim()) errors.push({ path: 'firstName', message: 'Required.' });
  if (!contact.lastName?.trim()) errors.push({ path: 'lastName', message: 'Required.' });
  if (!contact.email?.trim()) errors.push({ path: 'email', message: 'Required.' });
  for (const field of rules.requiredFields) {
    const missing = field === 'phones' ? contact.phones.length === 0 : !contact[field]?.trim();
    if (missing && !errors.some((e) => e.path === field)) errors.push({ path: field, message: 'Required by the client group.' });
  }
  if (errors.length) throw new ValidationError(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
}
