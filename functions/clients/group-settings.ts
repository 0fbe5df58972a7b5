import type { Company } from '../domain/company.js';
import type { ContactRules } from '../domain/contact.js';
import { resolveSettings, type GroupSettings } from '../domain/settings.js';
import { requireCompany } from '../store/companies.js';
import { getGroup } from '../store/groups.js';

/** The settings that apply to a client of `groupId`: the group's overrides over the company's values. */
export async function effectiveSettingsFor(companyId: string, groupId: string): Promise<{ company: Company; settings: GroupSettings }> {
  const company = await requireCompany(companyId);
  const group = await getGroup(companyId, groupId);
  return { company, settings: resolveSettings(company.groupSettings, group?.settings ?? {}) };
}

/**
 * What a contact of a client in `groupId` must satisfy: the company's contact types and the group's required fields.
 * The company is passed in when the caller read it with the client (store/client-context.ts): only the group is read.
 */
export async function contactRulesFor(company: Company, groupId: string, currentType?: string): Promise<ContactRules> {
  const group = await getGroup(company.id, groupId);
  const settings = resolveSettings(company.groupSettings, group?.settings ?? {});
  return { companyTypes: company.own.contactTypes, requiredFields: settings.requiredContactFields, currentType };
}
