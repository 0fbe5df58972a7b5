import * as z from 'zod';

/**
 * Client-group settings (seed 003): each key is set on the company and may be overridden by a group.
 * `effectiveSettings` resolves every key: the group's override, else the company's value.
 */
const days = z.number().int().min(0).max(3650);
const daysOrNever = z.union([days, z.literal('never')]);
const relativeDayOrNever = z.union([z.number().int().min(-3650).max(3650), z.literal('never')]);

export const CONTACT_FIELDS = [
  'firstName',
  'lastName',
  'email',
  'company',
  'title',
  'address1',
  'address2',
  'city',
  'country',
  'state',
  'zip',
  'phones',
] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];

export const paymentDueNoticesSchema = z.strictObject({
  enabled: z.boolean(),
  firstNoticeDays: relativeDayOrNever,
  secondNoticeDays: relativeDayOrNever,
  thirdNoticeDays: relativeDayOrNever,
  autoDebitPendingNoticeDays: relativeDayOrNever,
});

export const groupSettingsShape = {
  invoiceDaysBeforeRenewal: days,
  autoDebitDaysBeforeDue: days,
  autoDebitAttempts: z.number().int().min(1).max(100),
  enableAutoDebit: z.boolean(),
  autoApplyLooseCredits: z.boolean(),
  invoiceServicesTogether: z.boolean(),
  invoiceSuspendedServices: z.boolean(),
  suspendServicesDaysAfterDue: daysOrNever,
  voidInvoicesDaysAfterDue: daysOrNever,
  invoiceDeliveryMethods: z
    .array(z.enum(['email', 'paper']))
    .max(2)
    .refine((a) => new Set(a).size === a.length, 'Each method may appear once.'),
  paymentDueNotices: paymentDueNoticesSchema,
  requiredContactFields: z
    .array(z.enum(CONTACT_FIELDS))
    .max(CONTACT_FIELDS.length)
    .refine((a) => new Set(a).size === a.length, 'Each field may appear once.'),
};

export const groupSettingsSchema = z.strictObject(groupSettingsShape);
export type GroupSettings = z.infer<typeof groupSettingsSchema>;
export type PaymentDueNotices = GroupSettings['paymentDueNotices'];
export type GroupSettingKey = keyof GroupSettings;

/** A group's stored overrides: any subset of the keys; `paymentDueNotices` may itself be partial. */
export type GroupOverrides = Partial<Omit<GroupSettings, 'paymentDueNotices'>> & { paymentDueNotices?: Partial<PaymentDueNotices> };

/** A PATCH of overrides: `null` removes an override so the key inherits again, key by key. */
export const groupOverridesPatchSchema = z.strictObject({
  ...Object.fromEntries(
    Object.entries(groupSettingsShape)
      .filter(([k]) => k !== 'paymentDueNotices')
      .map(([k, s]) => [k, (s as z.ZodType).nullable().optional()]),
  ),
  paymentDueNotices: z
    .strictObject(Object.fromEntries(Object.entries(paymentDueNoticesSchema.shape).map(([k, s]) => [k, (s as z.ZodType).nullable().optional()])))
    .nullable()
    .optional(),
}) as z.ZodType<GroupOverridesPatch>;

export type GroupOverridesPatch = {
  [K in Exclude<GroupSettingKey, 'paymentDueNotices'>]?: GroupSettings[K] | null;
} & { paymentDueNotices?: { [K in keyof PaymentDueNotices]?: PaymentDueNotices[K] | null } | null };

/** Blesta-like company defaults for a new company. */
export const DEFAULT_GROUP_SETTINGS: GroupSettings = {
  invoiceDaysBeforeRenewal: 14,
  autoDebitDaysBeforeDue: 0,
  autoDebitAttempts: 3,
  enableAutoDebit: true,
  autoApplyLooseCredits: true,
  invoiceServicesTogether: true,
  invoiceSuspendedServices: false,
  suspendServicesDaysAfterDue: 7,
  voidInvoicesDaysAfterDue: 'never',
  invoiceDeliveryMethods: ['email'],
  paymentDueNotices: { enabled: true, firstNoticeDays: 1, secondNoticeDays: 7, thirdNoticeDays: 14, autoDebitPendingNoticeDays: -3 },
  requiredContactFields: [],
};

/** A change to the company's own group-setting values: any subset of the keys, `paymentDueNotices` key by key. */
export type GroupSettingsPatch = Partial<Omit<GroupSettings, 'paymentDueNotices'>> & { paymentDueNotices?: Partial<PaymentDueNotices> };

/**
 * The company's values after a change: every key given replaces the stored one, `paymentDueNotices` key by key.
 * There is no `null` here: the company's values are what groups inherit, so each key always has one.
 */
export function applyGroupSettingsPatch(current: GroupSettings, patch: GroupSettingsPatch): GroupSettings {
  const { paymentDueNotices, ...values } = patch;
  return {
    ...current,
    ...withoutUndefined(values),
    paymentDueNotices: { ...current.paymentDueNotices, ...withoutUndefined(paymentDueNotices ?? {}) },
  };
}

/** An absent key and a key set to `undefined` both mean "unchanged". */
function withoutUndefined<T extends object>(value: T): Partial<T> {
  const kept: Partial<T> = {};
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] !== undefined) kept[key] = value[key];
  return kept;
}

/** Applies a PATCH to stored overrides, merging key by key and `paymentDueNotices` key by key. */
export function mergeOverrides(current: GroupOverrides, patch: GroupOverridesPatch): GroupOverrides {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === 'paymentDueNotices') {
      if (value === null) {
        delete next.paymentDueNotices;
        continue;
      }
      const notices: Record<string, unknown> = { ...(current.paymentDueNotices ?? {}) };
      for (const [nk, nv] of Object.entries(value as Record<string, unknown>)) {
        if (nv === undefined) continue;
        if (nv === null) delete notices[nk];
        else notices[nk] = nv;
      }
      if (Object.keys(notices).length === 0) delete next.paymentDueNotices;
      else next.paymentDueNotices = notices;
      continue;
    }
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next as GroupOverrides;
}

/** Every key resolved: the group's override, else the company's value. */
export function resolveSettings(company: GroupSettings, overrides: GroupOverrides): GroupSettings {
  return {
    ...company,
    ...(Object.fromEntries(Object.entries(overrides).filter(([k]) => k !== 'paymentDueNotices')) as Partial<GroupSettings>),
    paymentDueNotices: { ...company.paymentDueNotices, ...(overrides.paymentDueNotices ?? {}) },
  };
}
