import { stringify } from 'csv-stringify/sync';
import { columnLabel, type FileColumns } from '../domain/import-mapping.js';
import type { ImportJob } from '../domain/import-job.js';
import { RuleViolationError } from '../domain/errors.js';
import { getServices } from '../services.js';
import { allImportErrors, requireImport, type StoredImportError } from '../store/imports.js';
import { neutraliseCell, STRINGIFY_OPTIONS } from './export-csv.js';

/**
 * The rejected rows of an import as CSV (`GET /v1/imports/{id}/errors?format=csv`, and the report the import writes
 * to the bucket when it completes): the file's columns as it had them, then an `error` column with every problem of
 * the row, so the file can be fixed in a spreadsheet and imported again (the `error` column is reported unmapped).
 * UTF-8 with a BOM and formula neutralisation, like the export; the import takes the neutralisation off again.
 */

function headerOf(columns: FileColumns | undefined, width: number): string[] {
  const count = columns ? ('header' in columns ? columns.header.length : columns.count) : width;
  return Array.from({ length: Math.max(count, width) }, (_, i) => (columns ? columnLabel(columns, i) : String(i)));
}

/** A row's problems in one cell: `Email "x": Must be an email address.; …`. */
function describe(errors: readonly StoredImportError[]): string {
  return errors.map((e) => (e.column ? `${e.column}${e.value !== undefined ? ` ${JSON.stringify(e.value)}` : ''}: ${e.message}` : e.message)).join('; ');
}

/** The CSV text of an import's rejected rows, streamed in pieces. */
export async function* rejectedRowsCsv(job: ImportJob): AsyncGenerator<string> {
  const columns = job.plan?.columns;
  const line = (cells: readonly string[]) => stringify([cells.map(neutraliseCell)], STRINGIFY_OPTIONS);
  let group: StoredImportError[] = [];
  let headerWritten = false;
  const flush = function* (): Generator<string> {
    if (!group.length) return;
    const cells = group[0].cells ?? [];
    if (!headerWritten) {
      headerWritten = true;
      yield `\uFEFF${line([...headerOf(columns, cells.length), 'error'])}`;
    }
    const width = columns ? ('header' in columns ? columns.header.length : columns.count) : cells.length;
    const padded = [...cells, ...Array.from({ length: Math.max(0, width - cells.length) }, () => '')];
    yield line([...padded, describe(group)]);
    group = [];
  };
  for await (const error of allImportErrors(job.companyId, job.id)) {
    if (group.length && group[0].row !== error.row) yield* flush();
    group.push(error);
  }
  yield* flush();
  if (!headerWritten) yield `\uFEFF${line([...headerOf(columns, 0), 'error'])}`;
}

/** The largest CSV of rejected rows answered inline (API Gateway and Lambda cap a response at 6 MB). */
export const INLINE_CSV_BYTES = 5 * 1024 * 1024;
/** How long the link to a large error report works; the route redirects to it at once. */
export const REPORT_LINK_SECONDS = 15 * 60;

export type ImportErrorsCsv = { text: string } | { url: string };

/**
 * The rejected rows of a company's import as CSV: the text, or — past `INLINE_CSV_BYTES`, once the import has
 * completed and its report is in the bucket — a short-lived link to the report. An unknown import is a
 * NotFoundError; a running import with more rejected rows than fit inline is a RuleViolationError (page the JSON,
 * or ask again when it has completed).
 */
export async function importErrorsCsv(companyId: string, importId: string, maxBytes = INLINE_CSV_BYTES): Promise<ImportErrorsCsv> {
  const job = await requireImport(companyId, importId);
  let text = '';
  for await (const piece of rejectedRowsCsv(job)) {
    text += piece;
    if (Buffer.byteLength(text) > maxBytes) {
      if (!job.errorReportKey)
        throw new RuleViolationError(
          'The rejected rows are too many to answer inline while the import runs: page the JSON errors, or ask again once it has completed.',
          { code: 'report_not_ready' },
        );
      const url = await getServices().importFiles.downloadUrl(job.errorReportKey, {
        filename: `${importId}-errors.csv`,
        contentType: 'text/csv; charset=utf-8',
        expiresInSeconds: REPORT_LINK_SECONDS,
      });
      return { url };
    }
  }
  return { text };
}
