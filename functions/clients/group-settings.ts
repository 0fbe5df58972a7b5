import type { Company } from '../domain/company.js';
import type { ContactRules } from '../domain/contact.js';
import { resolveSettings } from '../domain/settings.js';
import { getGroup } from '../store/groups.js';

/**
 * What a contact of a client in `groupId` must satisfy: the company's contact types and the group's required fields.
 * The company is passed in when the caller read it with the client (store/client-context.ts): only the group is read.
 */
export async function contactRulesFor(company: Company, groupId: string, currentType?: string): Promise<ContactRules> {
  const group = await getGroup(company.id, groupId);
  const settings = resolveSettings(company.groupSettings, group?.settings ?? {});
  return { companyTypes: company.own.contactTypes, requiredFields: settings.requiredContactFields, currentType };
}
