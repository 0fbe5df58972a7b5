import { newId } from '../domain/ids.js';
import { revisePackage, type Package, type PricingInput } from '../domain/package.js';
import { requireCompany } from '../store/companies.js';
import { assertVersion, nowIso } from '../store/items.js';
import { requirePackage, savePackage } from '../store/packages.js';
import { applyChange } from '../store/retry.js';

export interface UpdatePackageInput {
  companyId: string;
  packageId: string;
  /** The version the caller last read (`If-Match`); without it the change is not conditional. */
  expectedVersion?: number;
  name?: string;
  description?: string | null;
  /** Replaces the pricing list; a pricing given with its `id` keeps it. Services keep the pricing they were sold with. */
  pricing?: readonly PricingInput[];
}

export function updatePackage(input: UpdatePackageInput): Promise<Package> {
  return applyChange(input.expectedVersion, () => updatePackageOnce(input));
}

async function updatePackageOnce(input: UpdatePackageInput): Promise<Package> {
  const [company, current] = await Promise.all([requireCompany(input.companyId), requirePackage(input.companyId, input.packageId)]);
  assertVersion(current, input.expectedVersion);
  const next = revisePackage(
    current,
    { name: input.name, description: input.description, pricing: input.pricing },
    company.own.currencies,
    () => newId('prc'),
    nowIso(),
  );
  await savePackage(input.companyId, current, next);
  return next;
}
