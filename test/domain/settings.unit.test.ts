import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyGroupSettingsPatch,
  DEFAULT_GROUP_SETTINGS,
  groupOverridesPatchSchema,
  groupSettingsSchema,
  mergeOverrides,
  resolveSettings,
  type GroupOverrides,
  type GroupOverridesPatch,
  type GroupSettings,
} from '../../functions/domain/settings.js';

const company: GroupSettings = structuredClone(DEFAULT_GROUP_SETTINGS);

describe('resolveSettings', () => {
  it('gives every key the company value when the group overrides nothing', () => {
    expect(resolveSettings(company, {})).toEqual(company);
  });

  it('lets a group override win over the company value', () => {
    const resolved = resolveSettings(company, { invoiceDaysBeforeRenewal: 3, enableAutoDebit: false, voidInvoicesDaysAfterDue: 30 });
    expect(resolved.invoiceDaysBeforeRenewal).toBe(3);
    expect(resolved.enableAutoDebit).toBe(false);
    expect(resolved.voidInvoicesDaysAfterDue).toBe(30);
    expect(resolved.autoDebitAttempts).toBe(company.autoDebitAttempts);
  });

  it('resolves paymentDueNotices key by key: overridden keys from the group, the rest from the company', () => {
    const resolved = resolveSettings(company, { paymentDueNotices: { secondNoticeDays: 'never' } });
    expect(resolved.paymentDueNotices).toEqual({ ...company.paymentDueNotices, secondNoticeDays: 'never' });
  });

  it('follows a change of the company value for keys the group does not override', () => {
    const overrides: GroupOverrides = { autoDebitAttempts: 5, paymentDueNotices: { firstNoticeDays: 2 } };
    const changed: GroupSettings = {
      ...company,
      invoiceDaysBeforeRenewal: 30,
      autoDebitAttempts: 9,
      paymentDueNotices: { ...company.paymentDueNotices, firstNoticeDays: 10, thirdNoticeDays: 21 },
    };
    const resolved = resolveSettings(changed, overrides);
    expect(resolved.invoiceDaysBeforeRenewal).toBe(30);
    expect(resolved.autoDebitAttempts).toBe(5);
    expect(resolved.paymentDueNotices.firstNoticeDays).toBe(2);
    expect(resolved.paymentDueNotices.thirdNoticeDays).toBe(21);
  });

  it('does not mutate its inputs', () => {
    const before = structuredClone(company);
    const overrides: GroupOverrides = { paymentDueNotices: { enabled: false } };
    resolveSettings(company, overrides);
    expect(company).toEqual(before);
    expect(overrides).toEqual({ paymentDueNotices: { enabled: false } });
  });
});

describe('mergeOverrides', () => {
  it('adds and replaces overrides key by key, keeping the others', () => {
    const merged = mergeOverrides({ invoiceDaysBeforeRenewal: 3, enableAutoDebit: false }, { invoiceDaysBeforeRenewal: 7, autoDebitAttempts: 2 });
    expect(merged).toEqual({ invoiceDaysBeforeRenewal: 7, enableAutoDebit: false, autoDebitAttempts: 2 });
  });

  it('removes an override set to null, so the key inherits the company value again', () => {
    const merged = mergeOverrides({ invoiceDaysBeforeRenewal: 3, enableAutoDebit: false }, { invoiceDaysBeforeRenewal: null });
    expect(merged).toEqual({ enableAutoDebit: false });
    expect(resolveSettings(company, merged).invoiceDaysBeforeRenewal).toBe(company.invoiceDaysBeforeRenewal);
  });

  it('ignores keys left undefined', () => {
    expect(mergeOverrides({ autoDebitAttempts: 4 }, { autoDebitAttempts: undefined })).toEqual({ autoDebitAttempts: 4 });
  });

  it('merges paymentDueNotices key by key', () => {
    const merged = mergeOverrides({ paymentDueNotices: { firstNoticeDays: 2, enabled: false } }, { paymentDueNotices: { secondNoticeDays: 9, enabled: true } });
    expect(merged.paymentDueNotices).toEqual({ firstNoticeDays: 2, secondNoticeDays: 9, enabled: true });
  });

  it('removes a single notice override with null and the whole notices override when none is left', () => {
    const one = mergeOverrides({ paymentDueNotices: { firstNoticeDays: 2, secondNoticeDays: 9 } }, { paymentDueNotices: { firstNoticeDays: null } });
    expect(one).toEqual({ paymentDueNotices: { secondNoticeDays: 9 } });
    const none = mergeOverrides(one, { paymentDueNotices: { secondNoticeDays: null } });
    expect(none).toEqual({});
  });

  it('removes every notice override with paymentDueNotices: null', () => {
    expect(mergeOverrides({ paymentDueNotices: { firstNoticeDays: 2 }, autoDebitAttempts: 2 }, { paymentDueNotices: null })).toEqual({ autoDebitAttempts: 2 });
  });

  it('stores "never" and zero as real overrides (not as removals)', () => {
    const merged = mergeOverrides(
      {},
      { suspendServicesDaysAfterDue: 'never', invoiceDaysBeforeRenewal: 0, enableAutoDebit: false, paymentDueNotices: { thirdNoticeDays: 0 } },
    );
    expect(merged).toEqual({
      suspendServicesDaysAfterDue: 'never',
      invoiceDaysBeforeRenewal: 0,
      enableAutoDebit: false,
      paymentDueNotices: { thirdNoticeDays: 0 },
    });
  });

  it('does not mutate the stored overrides', () => {
    const current: GroupOverrides = { autoDebitAttempts: 2, paymentDueNotices: { firstNoticeDays: 1 } };
    const before = structuredClone(current);
    mergeOverrides(current, { autoDebitAttempts: null, paymentDueNotices: { firstNoticeDays: null, secondNoticeDays: 3 } });
    expect(current).toEqual(before);
  });
});

describe('applyGroupSettingsPatch (the company values groups inherit)', () => {
  it('replaces the keys given and keeps the others', () => {
    const next = applyGroupSettingsPatch(company, { autoDebitAttempts: 9, voidInvoicesDaysAfterDue: 30 });
    expect(next).toEqual({ ...company, autoDebitAttempts: 9, voidInvoicesDaysAfterDue: 30 });
  });

  it('merges paymentDueNotices key by key', () => {
    const next = applyGroupSettingsPatch(company, { paymentDueNotices: { secondNoticeDays: 'never', enabled: false } });
    expect(next.paymentDueNotices).toEqual({ ...company.paymentDueNotices, secondNoticeDays: 'never', enabled: false });
  });

  it('treats a key set to undefined as not given', () => {
    expect(applyGroupSettingsPatch(company, { autoDebitAttempts: undefined, paymentDueNotices: { firstNoticeDays: undefined } })).toEqual(company);
  });

  it('stores zero, false and "never" as values', () => {
    const next = applyGroupSettingsPatch(company, {
      invoiceDaysBeforeRenewal: 0,
      enableAutoDebit: false,
      suspendServicesDaysAfterDue: 'never',
      paymentDueNotices: { thirdNoticeDays: 0 },
    });
    expect(next).toMatchObject({ invoiceDaysBeforeRenewal: 0, enableAutoDebit: false, suspendServicesDaysAfterDue: 'never' });
    expect(next.paymentDueNotices.thirdNoticeDays).toBe(0);
  });

  it('does not mutate the current values', () => {
    const before = structuredClone(company);
    applyGroupSettingsPatch(company, { autoDebitAttempts: 2, paymentDueNotices: { enabled: false } });
    expect(company).toEqual(before);
  });
});

// ---- property: merge then resolve behaves like "patch value, else earlier override, else company value" ----

const dayOrNever = fc.oneof(fc.integer({ min: 0, max: 3650 }), fc.constant('never' as const));
const relativeOrNever = fc.oneof(fc.integer({ min: -3650, max: 3650 }), fc.constant('never' as const));
const noticesArb = fc.record({
  enabled: fc.boolean(),
  firstNoticeDays: relativeOrNever,
  secondNoticeDays: relativeOrNever,
  thirdNoticeDays: relativeOrNever,
  autoDebitPendingNoticeDays: relativeOrNever,
});
const valueArbs = {
  invoiceDaysBeforeRenewal: fc.integer({ min: 0, max: 3650 }),
  autoDebitDaysBeforeDue: fc.integer({ min: 0, max: 3650 }),
  autoDebitAttempts: fc.integer({ min: 1, max: 100 }),
  enableAutoDebit: fc.boolean(),
  autoApplyLooseCredits: fc.boolean(),
  invoiceServicesTogether: fc.boolean(),
  invoiceSuspendedServices: fc.boolean(),
  suspendServicesDaysAfterDue: dayOrNever,
  voidInvoicesDaysAfterDue: dayOrNever,
  invoiceDeliveryMethods: fc.subarray(['email', 'paper'] as ('email' | 'paper')[]),
  requiredContactFields: fc.subarray(['email', 'phones', 'country', 'zip'] as ('email' | 'phones' | 'country' | 'zip')[]),
};
const companyArb: fc.Arbitrary<GroupSettings> = fc.record({ ...valueArbs, paymentDueNotices: noticesArb });
const overridesArb: fc.Arbitrary<GroupOverrides> = fc
  .record(
    {
      ...valueArbs,
      paymentDueNotices: noticesArb.chain((n) => fc.subarray(Object.keys(n)).map((keys) => Object.fromEntries(keys.map((k) => [k, n[k as keyof typeof n]])))),
    },
    { requiredKeys: [] },
  )
  .map((o) => {
    const out = { ...o } as GroupOverrides;
    if (out.paymentDueNotices && Object.keys(out.paymentDueNotices).length === 0) delete out.paymentDueNotices;
    return out;
  });
const orNullOrAbsent = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.constant(null));
const patchArb: fc.Arbitrary<GroupOverridesPatch> = fc.record(
  {
    ...Object.fromEntries(Object.entries(valueArbs).map(([k, a]) => [k, orNullOrAbsent(a as fc.Arbitrary<unknown>)])),
    paymentDueNotices: fc.oneof(
      fc.constant(null),
      fc.record(
        Object.fromEntries(
          Object.entries({
            enabled: fc.boolean(),
            firstNoticeDays: relativeOrNever,
            secondNoticeDays: relativeOrNever,
            thirdNoticeDays: relativeOrNever,
            autoDebitPendingNoticeDays: relativeOrNever,
          }).map(([k, a]) => [k, orNullOrAbsent(a as fc.Arbitrary<unknown>)]),
        ),
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<GroupOverridesPatch>;

describe('mergeOverrides + resolveSettings (property)', () => {
  it('resolves each key to the patch value, else the earlier override, else the company value; null always inherits', () => {
    fc.assert(
      fc.property(companyArb, overridesArb, patchArb, (co, current, patch) => {
        // The generated patches are ones the API would accept.
        expect(groupOverridesPatchSchema.safeParse(patch).success).toBe(true);
        const merged = mergeOverrides(current, patch);
        const resolved = resolveSettings(co, merged);
        expect(groupSettingsSchema.safeParse(resolved).success).toBe(true);

        for (const key of Object.keys(valueArbs) as (keyof typeof valueArbs)[]) {
          const p = (patch as Record<string, unknown>)[key];
          const expected = p === null ? co[key] : p !== undefined ? p : key in current ? current[key] : co[key];
          expect(resolved[key]).toEqual(expected);
          // A null in the patch leaves no override behind.
          if (p === null) expect(key in merged).toBe(false);
        }
        const pn = patch.paymentDueNotices;
        for (const nk of Object.keys(co.paymentDueNotices) as (keyof GroupSettings['paymentDueNotices'])[]) {
          const fromPatch = pn === null ? null : pn?.[nk];
          const earlier = current.paymentDueNotices?.[nk];
          const expected =
            fromPatch === null ? co.paymentDueNotices[nk] : fromPatch !== undefined ? fromPatch : earlier !== undefined ? earlier : co.paymentDueNotices[nk];
          expect(resolved.paymentDueNotices[nk]).toEqual(expected);
        }
        // Stored overrides never hold an empty notices object.
        if (merged.paymentDueNotices) expect(Object.keys(merged.paymentDueNotices).length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('a group without overrides always mirrors the company, whatever the company values are', () => {
    fc.assert(
      fc.property(companyArb, (co) => {
        expect(resolveSettings(co, {})).toEqual(co);
      }),
    );
  });
});
