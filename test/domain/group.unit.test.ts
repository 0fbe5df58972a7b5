import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../functions/domain/errors.js';
import { applyGroupPatch, assertDeletable, newDefaultGroup, newGroup } from '../../functions/domain/group.js';

const CREATED = '2030-01-01T00:00:00.000Z';
const CHANGED = '2030-01-02T00:00:00.000Z';

describe('newDefaultGroup', () => {
  it('is the default group General, overriding nothing, version 1', () => {
    expect(newDefaultGroup('grp_1', CREATED)).toEqual({
      id: 'grp_1',
      name: 'General',
      description: null,
      color: null,
      isDefault: true,
      settings: {},
      version: 1,
      createdAt: CREATED,
      updatedAt: CREATED,
    });
  });
});

describe('newGroup', () => {
  it('is not the default; missing description and colour are null', () => {
    expect(newGroup('grp_2', { name: 'Resellers' }, CREATED)).toEqual({
      id: 'grp_2',
      name: 'Resellers',
      description: null,
      color: null,
      isDefault: false,
      settings: {},
      version: 1,
      createdAt: CREATED,
      updatedAt: CREATED,
    });
  });

  it('stores only the overrides given, dropping the ones set to null', () => {
    const group = newGroup(
      'grp_3',
      { name: 'G', settings: { autoDebitAttempts: 2, enableAutoDebit: null, paymentDueNotices: { firstNoticeDays: 4, enabled: null } } },
      CREATED,
    );
    expect(group.settings).toEqual({ autoDebitAttempts: 2, paymentDueNotices: { firstNoticeDays: 4 } });
  });
});

describe('applyGroupPatch', () => {
  const current = newGroup(
    'grp_4',
    { name: 'Resellers', description: 'Wholesale', color: '#aa00ff', settings: { autoDebitAttempts: 2, voidInvoicesDaysAfterDue: 30 } },
    CREATED,
  );

  it('keeps what is not given and moves the version and updatedAt', () => {
    expect(applyGroupPatch(current, {}, CHANGED)).toEqual({ ...current, version: 2, updatedAt: CHANGED });
  });

  it('clears description and colour with null', () => {
    expect(applyGroupPatch(current, { description: null, color: null }, CHANGED)).toMatchObject({ name: 'Resellers', description: null, color: null });
  });

  it('merges settings key by key; null removes an override', () => {
    const next = applyGroupPatch(current, { settings: { voidInvoicesDaysAfterDue: null, enableAutoDebit: false } }, CHANGED);
    expect(next.settings).toEqual({ autoDebitAttempts: 2, enableAutoDebit: false });
  });
});

describe('assertDeletable', () => {
  it('refuses the default group with a default_group conflict', () => {
    expect(() => assertDeletable(newDefaultGroup('grp_1', CREATED))).toThrow(ConflictError);
    expect(() => assertDeletable(newDefaultGroup('grp_1', CREATED))).toThrow(expect.objectContaining({ code: 'default_group' }));
  });

  it('lets any other group go', () => {
    expect(() => assertDeletable(newGroup('grp_2', { name: 'Other' }, CREATED))).not.toThrow();
  });
});
