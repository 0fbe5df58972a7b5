import { newGroup, type Group, type GroupInput } from '../domain/group.js';
import { newId } from '../domain/ids.js';
import type { GroupSettings } from '../domain/settings.js';
import { requireCompany } from '../store/companies.js';
import { putNewGroup } from '../store/groups.js';
import { nowIso } from '../store/items.js';

/** A group with the company values it inherits for every key it does not override. */
export interface GroupWithInherited {
  group: Group;
  companySettings: GroupSettings;
}

export interface CreateGroupInput extends GroupInput {
  companyId: string;
}

export async function createGroup(input: CreateGroupInput): Promise<GroupWithInherited> {
  const { companyId, ...fields } = input;
  const company = await requireCompany(companyId);
  const group = newGroup(newId('grp'), fields, nowIso());
  await putNewGroup(companyId, group);
  return { group, companySettings: company.groupSettings };
}
