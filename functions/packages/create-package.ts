import { newId } from '../domain/ids.js';
import { newPackage, type Package, type PricingInput } from '../domain/package.js';
import { requireCompany } from '../store/companies.js';
import { nowIso } from '../store/items.js';
import { putNewPackage } from '../store/packages.js';

export interface CreatePackageInput {
  companyId: string;
  name: string;
  description?: string | null;
  pricing: readonly PricingInput[];
}

/** Adds a package to the company's catalogue, each pricing in one of the company's currencies. */
export async function createPackage(input: CreatePackageInput): Promise<Package> {
  const company = await requireCompany(input.companyId);
  const pkg = newPackage({
    id: newId('pkg'),
    name: input.name,
    description: input.description,
    pricing: input.pricing,
    currencies: company.own.currencies,
    newPricingId: () => newId('prc'),
    now: nowIso(),
  });
  await putNewPackage(input.companyId, pkg);
  return pkg;
}
