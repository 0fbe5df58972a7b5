import * as z from 'zod';
import { CLIENT_SORTS, CLIENT_STATUSES } from '../domain/client.js';
import { listQuery } from '../http/cursor.js';
import { country, currencyCode, email, languageTag, text } from '../http/schemas.js';
import { password, username } from '../companies/schemas.js';

const optionalText = (max = 1000) => text(max).nullable().optional();

export const phone = z.strictObject({
  type: z.enum(['phone', 'fax']),
  location: z.enum(['home', 'work', 'mobile']),
  number: z
    .string()
    .trim()
    .min(1, 'Required.')
    .max(1000)
    // Seed 002 keeps the extension with the number: "+1 555 0101 ext 7", "x7" or "#7".
    .regex(
      /^[0-9+().\-\s/x#*]*[0-9][0-9+().\-\s/x#*]*(?:(?:ext\.?|extension)\s*[0-9]+)?$/i,
      'Digits, spaces and + ( ) - . / x # * only, then an optional extension ("ext 7").',
    ),
});

/**
 * Contact-information fields a client shares with contacts (seed 002). Strings take the contract's 1,000 characters;
 * the store cuts what goes into a sort key, so a long name still fits DynamoDB's key limit.
 */
export const contactFields = {
  firstName: optionalText(),
  lastName: optionalText(),
  company: optionalText(),
  title: optionalText(),
  address1: optionalText(),
  address2: optionalText(),
  city: optionalText(),
  country: country.nullable().optional(),
  state: optionalText(),
  zip: optionalText(),
  email: email.nullable().optional(),
  phones: z.array(phone).max(50).optional(),
};

const customFields = z.record(z.string().min(1).max(1000), z.string().max(1000)).refine((o) => Object.keys(o).length <= 100, 'At most 100 custom fields.');

const clientNumber = z.number().int().min(1).max(999_999_999_999);

export const createClientBody = z.strictObject({
  ...contactFields,
  taxExempt: z.boolean().optional(),
  taxId: optionalText(),
  currency: currencyCode.optional(),
  username: username.optional(),
  password: password.optional(),
  generatePassword: z.boolean().optional(),
  language: languageTag.optional(),
  groupId: z.string().min(1).max(100).optional(),
  sendRegistrationEmail: z.boolean().optional(),
  marketingOptIn: z.boolean().optional(),
  customFields: customFields.optional(),
  number: clientNumber.optional(),
});

export const updateClientBody = z.strictObject({
  ...contactFields,
  taxExempt: z.boolean().optional(),
  taxId: optionalText(),
  currency: currencyCode.optional(),
  username: username.nullable().optional(),
  password: password.optional(),
  language: languageTag.optional(),
  groupId: z.string().min(1).max(100).optional(),
  marketingOptIn: z.boolean().optional(),
  customFields: customFields.optional(),
  number: clientNumber.optional(),
});

export const listClientsQuery = listQuery.extend({
  // An empty (or blank) q, as a search box submits it, is a plain browse.
  q: z.string().trim().max(200).optional(),
  status: z.enum(CLIENT_STATUSES as [string, ...string[]]).optional(),
  groupId: z.string().min(1).max(100).optional(),
  sort: z.enum(CLIENT_SORTS).default('number'),
});

/** `GET /v1/clients/export`: the list's filters; the file holds every client that passes them, in number order. */
export const exportClientsQuery = z.strictObject({
  status: z.enum(CLIENT_STATUSES as [string, ...string[]]).optional(),
  groupId: z.string().min(1).max(100).optional(),
});

export const statusBody = z.strictObject({ status: z.enum(['active', 'inactive', 'fraud']) });

export const bulkBody = z.strictObject({
  action: z.enum(['delete', 'activate', 'deactivate']),
  ids: z.array(z.string().min(1).max(100)).min(1).max(100),
});

export const mergeBody = z.strictObject({ intoClientId: z.string().min(1).max(100) });

export const contactBody = z.strictObject({
  type: z.string().trim().min(1).max(50),
  ...contactFields,
});

export const noteBody = z.strictObject({
  summary: z.string().trim().min(1, 'Required.').max(1000),
  details: text(10_000).nullable().optional(),
  sticky: z.boolean().optional(),
});

export const setPasswordBody = z.strictObject({ token: z.string().min(1).max(200), password });
