import * as z from 'zod';
import { UNIQUE_FIELDS } from '../domain/import-job.js';
import { SYSTEM_FIELDS } from '../domain/import-mapping.js';
import { listQuery } from '../http/cursor.js';
import { requiredText } from '../http/schemas.js';
import { DELIMITERS } from './csv-delimiters.js';

/**
 * `POST /v1/imports`. The mapping's keys and values are checked by `assertMappingShape` (create-import.ts), which
 * names each problem `mapping.<field>`: an unknown system field, a value neither a name nor a 0-based index, or
 * no required field mapped.
 */
export const createImportBody = z.strictObject({
  filename: requiredText(200).meta({ description: 'The file name, kept as the last segment of the upload key.' }),
  delimiter: z.enum(DELIMITERS).optional().meta({ description: 'Sniffed from the first line when absent.' }),
  firstRowIsHeader: z.boolean().optional().meta({ description: 'Default true; without a header, map by 0-based column index.' }),
  mapping: z
    .record(z.string().max(100), z.union([z.string().max(1000), z.number().int()]))
    .optional()
    .meta({ description: `System field → column name or 0-based index; default: header names matched to the fields. Fields: ${SYSTEM_FIELDS.join(', ')}.` }),
  updateExisting: z.boolean().optional().meta({ description: 'Update a client whose unique field matches a row (default false: skip it).' }),
  uniqueBy: z.enum(UNIQUE_FIELDS).optional().meta({ description: 'The field that finds an existing client; default email.' }),
  dryRun: z.boolean().optional().meta({ description: 'Count and report what would happen; write no client.' }),
});

export const importErrorsQuery = listQuery.extend({
  format: z.enum(['json', 'csv']).optional().meta({ description: '`csv`: the rejected rows as CSV with an `error` column (no paging).' }),
});
