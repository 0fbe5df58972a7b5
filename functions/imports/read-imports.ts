import type { ImportJob } from '../domain/import-job.js';
import type { Page } from '../store/dynamo.js';
import { listImportErrors, listImports, requireImport, type StoredImportError } from '../store/imports.js';

export function readImport(companyId: string, importId: string): Promise<ImportJob> {
  return requireImport(companyId, importId);
}

/** A company's imports, newest first, whether created through the API or dropped into the bucket. */
export function readImports(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<ImportJob>> {
  return listImports(companyId, limit, startKey);
}

/** An import's row errors in row order; an unknown import is a NotFoundError. */
export async function readImportErrors(
  companyId: string,
  importId: string,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<Page<StoredImportError>> {
  await requireImport(companyId, importId);
  return listImportErrors(companyId, importId, limit, startKey);
}
