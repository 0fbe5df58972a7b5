import { applySettingsPatch, type Company, type CompanySettingsPatch } from '../domain/company.js';
import { assertVersion, nowIso } from '../store/items.js';
import { requireCompany, saveCompany } from '../store/companies.js';
import { applyChange } from '../store/retry.js';

export interface UpdateSettingsInput {
  companyId: string;
  /** The version the caller last read; the change is refused when the settings have moved on since. */
  expectedVersion?: number;
  patch: CompanySettingsPatch;
}

/** Changes the company's own settings and the group-setting values its groups inherit. */
export function updateSettings(input: UpdateSettingsInput): Promise<Company> {
  return applyChange(input.expectedVersion, () => updateSettingsOnce(input));
}

async function updateSettingsOnce(input: UpdateSettingsInput): Promise<Company> {
  const current = await requireCompany(input.companyId);
  assertVersion(current, input.expectedVersion);
  const next = applySettingsPatch(current, input.patch, nowIso());
  await saveCompany(current, next);
  return next;
}
