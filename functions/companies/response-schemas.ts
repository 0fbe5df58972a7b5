import * as z from 'zod';
import { groupSettingsSchema, paymentDueNoticesSchema } from '../domain/settings.js';
import { listOf, timestamp, version } from '../http/schemas.js';

/** What the API answers about companies, their settings and client groups (the views in domain/company.ts and domain/group.ts). */

export const companySchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    defaultCurrency: z.string(),
    currencies: z.array(z.string()),
    timeZone: z.string(),
    language: z.string(),
    defaultGroupId: z.string(),
    staffUserId: z.string().optional(),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({ id: 'Company' });

export const createdCompanySchema = companySchema.extend({ defaultGroup: z.strictObject({ id: z.string(), name: z.string() }) });

export const companyListSchema = listOf(companySchema);

const taxRateSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  percent: z.string().meta({ description: 'An exact decimal, e.g. "7.25".' }),
  country: z.string().optional(),
  state: z.string().optional(),
});

export const settingsSchema = groupSettingsSchema
  .extend({
    defaultCurrency: z.string(),
    currencies: z.array(z.string()),
    timeZone: z.string(),
    language: z.string(),
    taxRates: z.array(taxRateSchema),
    contactTypes: z.array(z.string()),
    version,
    updatedAt: timestamp,
  })
  .meta({ id: 'CompanySettings', description: "The company's own settings and the group settings every group inherits, flat." });

/** A group's overrides: any subset of the settings, `paymentDueNotices` key by key. */
const groupOverridesSchema = groupSettingsSchema
  .omit({ paymentDueNotices: true })
  .partial()
  .extend({ paymentDueNotices: paymentDueNoticesSchema.partial().optional() });

export const groupSchema = z
  .strictObject({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    color: z.string().nullable(),
    isDefault: z.boolean(),
    settings: groupOverridesSchema,
    effectiveSettings: groupSettingsSchema.meta({ description: "Each setting: the group's override, else the company's value." }),
    createdAt: timestamp,
    updatedAt: timestamp,
    version,
  })
  .meta({ id: 'ClientGroup' });

export const groupListSchema = listOf(groupSchema);
