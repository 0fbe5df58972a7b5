import * as z from 'zod';
import { canonicalLanguage, countryCode, isCurrencyCode, isTimeZone } from '../domain/locale.js';

/** Shared field schemas. Strings are at most 1,000 characters unless a route says otherwise. */
export const text = (max = 1000) => z.string().max(max);
export const requiredText = (max = 1000) => z.string().trim().min(1, 'Required.').max(max);

export const currencyCode = z
  .string()
  .transform((s) => s.toUpperCase())
  .refine(isCurrencyCode, 'Must be an ISO 4217 currency code.');

export const timeZone = z.string().refine(isTimeZone, 'Must be an IANA time zone, e.g. Europe/London.');

export const languageTag = z
  .string()
  .max(35)
  .transform((s, ctx) => {
    const tag = canonicalLanguage(s);
    if (!tag) {
      ctx.addIssue({ code: 'custom', message: 'Must be a BCP 47 language tag, e.g. en or pt-BR.' });
      return z.NEVER;
    }
    return tag;
  });

export const country = z
  .string()
  .max(100)
  .transform((s, ctx) => {
    const code = countryCode(s);
    if (!code) {
      ctx.addIssue({ code: 'custom', message: 'Must be an ISO 3166-1 alpha-2 code or an English country name.' });
      return z.NEVER;
    }
    return code;
  });

export const hexColor = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'Must be a colour as #rrggbb.');

export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Must be a date as YYYY-MM-DD.')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
  }, 'Not a real date.');

export const email = z.string().max(254).email('Must be an email address.');

/** A path id: opaque; anything of the wrong shape is simply not found. */
export const idParam = z.object({ id: z.string().min(1).max(100) });

/*
 * Response schemas. They describe what the API answers (the OpenAPI document, and the e2e tests that check every
 * answer against it), so they are strict: a field the code adds without declaring it is drift, caught by a test.
 */

/** An instant as the API writes it (ISO 8601, UTC). */
export const timestamp = z.iso.datetime();
/** A calendar date as YYYY-MM-DD. */
export const calendarDate = z.iso.date();
/** Money in integer minor units of its currency (cents for USD); never a fraction. */
export const minorUnits = z.number().int();
/** A stored object's version, what `If-Match` names. */
export const version = z.number().int().min(1);

/** One page of a list: `nextCursor` is null on the last page. */
export function listOf<Item extends z.ZodType>(item: Item) {
  return z.strictObject({
    data: z.array(item),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
  });
}

/** A 202: the work was queued (an email, for instance). */
export function acceptedWith<Shape extends z.ZodRawShape>(shape: Shape) {
  return z.strictObject({ status: z.literal('accepted'), ...shape });
}

export const issuedTokenSchema = z
  .strictObject({ token: z.string().meta({ description: 'A JWT to send as `Authorization: Bearer <token>`.' }), expiresIn: z.number().int() })
  .meta({ description: 'A bearer token and its lifetime in seconds (an hour).' });

export const phoneSchema = z.strictObject({ type: z.enum(['phone', 'fax']), location: z.enum(['home', 'work', 'mobile']), number: z.string() });

/** The contact fields a client, a contact and a payment account's contact share. */
export const contactDetailsShape = {
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  company: z.string().nullable(),
  title: z.string().nullable(),
  address1: z.string().nullable(),
  address2: z.string().nullable(),
  city: z.string().nullable(),
  country: z.string().nullable().meta({ description: 'ISO 3166-1 alpha-2 code.' }),
  state: z.string().nullable(),
  zip: z.string().nullable(),
  email: z.string().nullable(),
  phones: z.array(phoneSchema),
};

/** What a client was invoiced, has paid, owes and holds as credit in one currency. */
export const balanceRowSchema = z.strictObject({
  currency: z.string(),
  invoiced: minorUnits,
  paid: minorUnits,
  due: minorUnits,
  credit: minorUnits,
});
