import { applyGroupPatch, type GroupInput } from '../domain/group.js';
import { requireCompany } from '../store/companies.js';
import { requireGroup, saveGroup } from '../store/groups.js';
import { assertVersion, nowIso } from '../store/items.js';
import type { GroupWithInherited } from './create-group.js';
import { applyChange } from '../store/retry.js';

export interface UpdateGroupInput {
  companyId: string;
  groupId: string;
  /** The version the caller last read; the change is refused when the group has moved on since. */
  expectedVersion?: number;
  patch: Partial<GroupInput>;
}

export function updateGroup(input: UpdateGroupInput): Promise<GroupWithInherited> {
  return applyChange(input.expectedVersion, () => updateGroupOnce(input));
}

async function updateGroupOnce(input: UpdateGroupInput): Promise<GroupWithInherited> {
  const [company, current] = await Promise.all([requireCompany(input.companyId), requireGroup(input.companyId, input.groupId)]);
  assertVersion(current, input.expectedVersion);
  const next = applyGroupPatch(current, input.patch, nowIso());
  await saveGroup(input.companyId, current, next);
  return { group: next, companySettings: company.groupSettings };
}
