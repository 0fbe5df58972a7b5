import { z } from 'zod';
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
