import { assertDeletable } from '../domain/group.js';
import { moveGroupMembers } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { deleteGroupItem, requireGroup } from '../store/groups.js';

/** Deletes a client group; its clients move to the company's default group. */
export async function deleteGroup(input: { companyId: string; groupId: string }): Promise<void> {
  const { companyId, groupId } = input;
  const [company, group] = await Promise.all([requireCompany(companyId), requireGroup(companyId, groupId)]);
  assertDeletable(group);
  // Move the members first: a crash leaves the group in place and the delete can simply be repeated.
  await moveGroupMembers(companyId, group.id, company.defaultGroupId);
  await deleteGroupItem(companyId, group);
  // A client write that checked the group just before it went is committed by now: sweep it out too.
  await moveGroupMembers(companyId, group.id, company.defaultGroupId);
}
