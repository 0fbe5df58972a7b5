import * as z from 'zod';
import { IMPORT_STATUSES, UNIQUE_FIELDS } from '../domain/import-job.js';
import { listOf, timestamp } from '../http/schemas.js';

/** What the API answers about imports (the views in routes.ts). */

const count = z.number().int().min(0);

const importShape = {
  id: z.string(),
  filename: z.string(),
  status: z.enum(IMPORT_STATUSES),
  source: z.enum(['api', 'drop']).meta({ description: '`api`: created with POST /v1/imports; `drop`: a file dropped into the imports bucket.' }),
  dryRun: z.boolean(),
  updateExisting: z.boolean(),
  uniqueBy: z.enum(UNIQUE_FIELDS),
  totalRows: count.nullable().meta({ description: 'Data rows of the file (not the header); null until the file has been read.' }),
  processedRows: count,
  created: count,
  updated: count,
  skipped: count,
  failed: count,
  unmappedColumns: z.array(z.string()).meta({ description: "The file's columns no system field took (header, or 0-based index)." }),
  error: z.string().optional().meta({ description: 'Why a failed import failed.' }),
  errorReport: z.string().optional().meta({ description: 'The imports-bucket key of the CSV of rejected rows, once completed with any.' }),
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
};

export const importSchema = z.strictObject(importShape).meta({ id: 'Import' });

export const createdImportSchema = z
  .strictObject({
    ...importShape,
    uploadUrl: z.string().meta({ description: 'A presigned URL: PUT the file there within 15 minutes, with `uploadHeaders`.' }),
    uploadMethod: z.literal('PUT'),
    uploadHeaders: z.strictObject({ 'Content-Type': z.literal('text/csv') }),
  })
  .meta({ id: 'CreatedImport' });

export const importListSchema = listOf(importSchema);

export const importErrorSchema = z
  .strictObject({
    row: z.number().int().min(1).meta({ description: 'As in the file, 1-based, counting the header line.' }),
    column: z.string().optional(),
    value: z.string().optional(),
    message: z.string(),
  })
  .meta({ id: 'ImportRowError' });

export const importErrorListSchema = listOf(importErrorSchema);
