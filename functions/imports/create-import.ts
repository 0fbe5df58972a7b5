import { ValidationError } from '../domain/errors.js';
import { assertMappingShape } from '../domain/import-mapping.js';
import { newId } from '../domain/ids.js';
import { safeFilename, uploadKey, type ImportJob, type ImportOptions } from '../domain/import-job.js';
import { getServices } from '../services.js';
import { requireCompany } from '../store/companies.js';
import { insertImport } from '../store/imports.js';
import { nowIso } from '../store/items.js';

/** How long the presigned upload URL works. */
export const UPLOAD_URL_SECONDS = 15 * 60;
export const UPLOAD_CONTENT_TYPE = 'text/csv';

export interface CreateImportInput {
  companyId: string;
  filename: string;
  options: ImportOptions;
}

export interface CreatedImport {
  job: ImportJob;
  uploadUrl: string;
}

/** A new import job of a company, awaiting the file; the same defaults a file dropped into the bucket gets. */
export function newImportJob(input: {
  id: string;
  companyId: string;
  filename: string;
  objectKey: string;
  source: ImportJob['source'];
  options: ImportOptions;
  now: string;
}): ImportJob {
  return {
    id: input.id,
    companyId: input.companyId,
    filename: input.filename,
    objectKey: input.objectKey,
    source: input.source,
    status: input.source === 'api' ? 'awaiting_upload' : 'queued',
    options: input.options,
    totalRows: null,
    processedRows: 0,
    unmappedColumns: [],
    plan: null,
    finishedChunks: 0,
    created: 0,
    updated: 0,
    skipped: 0,
    failed: 0,
    error: null,
    errorReportKey: null,
    startedAt: input.source === 'api' ? null : input.now,
    finishedAt: null,
    createdAt: input.now,
    updatedAt: input.now,
  };
}

/**
 * `POST /v1/imports`: the mapping's shape is checked now (what can be without the file), the job is recorded
 * `awaiting_upload`, and a presigned PUT URL for `imports/<company>/<import>/<filename>` is returned. The upload's
 * object-created event starts the import (start-import.ts).
 */
export async function createImport(input: CreateImportInput): Promise<CreatedImport> {
  const { mapping, firstRowIsHeader } = input.options;
  if (mapping) assertMappingShape(mapping);
  if (!firstRowIsHeader) {
    // Without a header there are no names to match: every column must be given by its index.
    if (!mapping) throw ValidationError.field('mapping', 'A file without a header row needs a mapping by 0-based column index.');
    const errors = Object.entries(mapping)
      .filter(([, column]) => typeof column === 'string')
      .map(([field]) => ({ path: `mapping.${field}`, message: 'The file has no header row: map by 0-based column index.' }));
    if (errors.length) throw new ValidationError(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  }
  await requireCompany(input.companyId);
  const now = nowIso();
  const id = newId('imp');
  const filename = safeFilename(input.filename);
  const job = newImportJob({
    id,
    companyId: input.companyId,
    filename,
    objectKey: uploadKey(input.companyId, id, filename),
    source: 'api',
    options: input.options,
    now,
  });
  await insertImport(job);
  const uploadUrl = await getServices().importFiles.presignPut(job.objectKey, UPLOAD_CONTENT_TYPE, UPLOAD_URL_SECONDS);
  return { job, uploadUrl };
}
