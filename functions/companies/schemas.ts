import * as z from 'zod';
import { groupOverridesPatchSchema, groupSettingsSchema, paymentDueNoticesSchema } from '../domain/settings.js';
import { currencyCode, email, hexColor, languageTag, requiredText, text, timeZone, country } from '../http/schemas.js';

export const password = z.string().min(8, 'Passwords are 8–128 characters.').max(128, 'Passwords are 8–128 characters.');
export const username = z
  .string()
  .trim()
  .min(1, 'Required.')
  .max(128)
  .regex(/^[^\s:]+$/, 'Usernames have no spaces or colons.');

export const createCompanyBody = z.strictObject({
  name: requiredText(200),
  defaultCurrency: currencyCode,
  timeZone,
  staff: z.strictObject({ username, email, password }),
});

const percent = z
  .union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .refine((s) => /^\d{1,3}(\.\d{1,4})?$/.test(s) && Number(s) <= 100, 'Must be a percentage from 0 to 100 with at most 4 decimals.');

export const taxRateInput = z.strictObject({
  id: z.string().max(64).optional(),
  name: requiredText(100),
  percent,
  country: country.optional(),
  state: text(100).optional(),
});

/** `PATCH /v1/settings`: the company's own keys and any group setting; notices merge key by key. */
export const settingsPatchBody = z.strictObject({
  defaultCurrency: currencyCode.optional(),
  currencies: z.array(currencyCode).min(1).max(50).optional(),
  timeZone: timeZone.optional(),
  language: languageTag.optional(),
  taxRates: z.array(taxRateInput).max(200).optional(),
  contactTypes: z
    .array(
      z
        .string()
        .trim()
        .min(1)
        .max(50)
        .regex(/^[a-z0-9_-]+$/i, 'Letters, digits, - and _ only.'),
    )
    .max(50)
    .refine((a) => new Set(a).size === a.length, 'Each type may appear once.')
    .refine((a) => !a.some((t) => ['billing', 'technical', 'primary'].includes(t)), 'billing and technical are built in.')
    .optional(),
  ...groupSettingsSchema.partial().shape,
  paymentDueNotices: paymentDueNoticesSchema.partial().optional(),
});

export const createGroupBody = z.strictObject({
  name: requiredText(100),
  description: text(1000).nullable().optional(),
  color: hexColor.nullable().optional(),
  settings: groupOverridesPatchSchema.optional(),
});

export const updateGroupBody = createGroupBody.partial().extend({ name: requiredText(100).optional() });
