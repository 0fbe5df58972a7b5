import { companyOf } from '../domain/principal.js';
import { importOptions, type ImportJob } from '../domain/import-job.js';
import { decodeCursor, encodeCursor, listQuery } from '../http/cursor.js';
import { json, route } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import { createImport, UPLOAD_CONTENT_TYPE } from './create-import.js';
import { importErrorsCsv } from './import-errors.js';
import { readImport, readImportErrors, readImports } from './read-imports.js';
import { createdImportSchema, importErrorListSchema, importListSchema, importSchema } from './response-schemas.js';
import { createImportBody, importErrorsQuery } from './schemas.js';

const STAFF = ['staff'] as const;

/** An import as the API shows it. */
function importView(job: ImportJob) {
  return {
    id: job.id,
    filename: job.filename,
    status: job.status,
    source: job.source,
    dryRun: job.options.dryRun,
    updateExisting: job.options.updateExisting,
    uniqueBy: job.options.uniqueBy,
    totalRows: job.totalRows,
    processedRows: job.processedRows,
    created: job.created,
    updated: job.updated,
    skipped: job.skipped,
    failed: job.failed,
    unmappedColumns: job.unmappedColumns,
    ...(job.error ? { error: job.error } : {}),
    ...(job.errorReportKey ? { errorReport: job.errorReportKey } : {}),
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

export const importRoutes = [
  route({
    method: 'POST',
    path: '/v1/imports',
    area: 'imports',
    access: STAFF,
    summary: 'Create a client import from CSV: returns a presigned URL to PUT the file to; the upload starts the import',
    tags: ['Imports'],
    body: createImportBody,
    response: createdImportSchema,
    handle: async ({ principal, body }) => {
      const { job, uploadUrl } = await createImport({
        companyId: companyOf(principal),
        filename: body.filename,
        options: importOptions({
          delimiter: body.delimiter,
          firstRowIsHeader: body.firstRowIsHeader,
          mapping: body.mapping,
          updateExisting: body.updateExisting,
          uniqueBy: body.uniqueBy,
          dryRun: body.dryRun,
        }),
      });
      return json(201, { ...importView(job), uploadUrl, uploadMethod: 'PUT', uploadHeaders: { 'Content-Type': UPLOAD_CONTENT_TYPE } });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/imports',
    area: 'imports',
    access: STAFF,
    summary: "The company's imports, newest first, whether uploaded through the API or dropped into the bucket",
    tags: ['Imports'],
    query: listQuery,
    response: importListSchema,
    handle: async ({ principal, query }) => {
      const companyId = companyOf(principal);
      const scope = `${companyId}|imports`;
      const page = await readImports(companyId, query.limit, await decodeCursor(scope, query.cursor));
      return json(200, { data: page.items.map(importView), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/imports/{id}',
    area: 'imports',
    access: STAFF,
    summary: 'An import with its live progress and counts',
    tags: ['Imports'],
    params: idParam,
    response: importSchema,
    handle: async ({ principal, params }) => json(200, importView(await readImport(companyOf(principal), params.id))),
  }),
  route({
    method: 'GET',
    path: '/v1/imports/{id}/errors',
    area: 'imports',
    access: STAFF,
    summary:
      "An import's row errors in row order (JSON, paged), or `?format=csv` its rejected rows as CSV with an `error` column (over 5 MiB, a 303 to the error report)",
    tags: ['Imports'],
    params: idParam,
    query: importErrorsQuery,
    response: importErrorListSchema,
    produces: ['text/csv'],
    errors: [422],
    redirects: { 303: 'CSV only: the rejected rows are too many to answer inline; `Location` is a link to the error report, valid 15 minutes.' },
    handle: async ({ principal, params, query }) => {
      const companyId = companyOf(principal);
      if (query.format === 'csv') {
        const csv = await importErrorsCsv(companyId, params.id);
        if ('url' in csv) return { status: 303, headers: { location: csv.url, 'cache-control': 'no-store' } };
        return {
          status: 200,
          headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${params.id}-errors.csv"` },
          body: csv.text,
        };
      }
      const scope = `${companyId}|import-errors|${params.id}`;
      const page = await readImportErrors(companyId, params.id, query.limit, await decodeCursor(scope, query.cursor));
      return json(200, {
        data: page.items.map((e) => ({
          row: e.row,
          ...(e.column !== undefined ? { column: e.column } : {}),
          ...(e.value !== undefined ? { value: e.value } : {}),
          message: e.message,
        })),
        nextCursor: await encodeCursor(scope, page.lastKey),
      });
    },
  }),
];
