import type { Package } from '../domain/package.js';
import type { Page } from '../store/dynamo.js';
import { listPackages, requirePackage } from '../store/packages.js';

export function readPackage(companyId: string, packageId: string): Promise<Package> {
  return requirePackage(companyId, packageId);
}

/** One page of the company's packages, oldest first. */
export function listPackagesPage(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Package>> {
  return listPackages(companyId, limit, startKey);
}
