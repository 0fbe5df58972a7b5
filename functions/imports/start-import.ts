import { createHash } from 'node:crypto';
import { ValidationError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { autoMapHeader, columnLabel, resolveMapping, type FileColumns, type ResolvedMapping } from '../domain/import-mapping.js';
import { DEFAULT_IMPORT_OPTIONS, parseImportKey, type ImportJob } from '../domain/import-job.js';
import { logger } from '../observability/logger.js';
import { getServices } from '../services.js';
import { getCompany } from '../store/companies.js';
import { failImport, getImport, insertDroppedImport, markQueued, markRunning, putChunks, recordRow, savePlan, type ImportChunk } from '../store/imports.js';
import { nowIso } from '../store/items.js';
import { newImportJob } from './create-import.js';
import { parseCsv, rowAlignedRanges, type CsvRange, type CsvRecord } from './parse-csv.js';
import { rowToClient } from './row-to-client.js';

/**
 * The first worker of an import: an object arrived in the imports bucket (its S3 event, delivered at least once).
 * The job goes `queued` (once), the file is read to split it into row-aligned byte ranges, map its columns, count its
 * rows and find the rows repeating an earlier row's unique value; then one chunk item and one queue message per
 * range, and the job is `running`. Every step is safe to run again: a redelivered event finds the job past `queued`
 * and does nothing, or (if the first delivery died mid-way) does the same split again.
 */

/** Bytes per chunk (`BILLOW_IMPORT_CHUNK_BYTES`; tests make it small to get many chunks from a small file). */
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;

function chunkBytes(): number {
  const value = Number(process.env.BILLOW_IMPORT_CHUNK_BYTES);
  return Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_CHUNK_BYTES;
}

/** One object of an S3 event notification, its key decoded. */
export interface CreatedObject {
  key: string;
  /** What the event says the object weighs (S3 always says; without it the read is taken as the object's). */
  size?: number;
  /** Orders the events of one key; two PUTs of the same key have different ones, redeliveries of one the same. */
  sequencer?: string;
  eTag?: string;
}

/** The chunk message: the first worker sends one per range. */
export interface ChunkMessage {
  type: 'import-chunk';
  companyId: string;
  importId: string;
  chunk: number;
}

export async function onObjectCreated(object: CreatedObject): Promise<void> {
  const target = parseImportKey(object.key);
  if (!target) {
    logger.warn('An object that is not an import arrived in the imports bucket', { key: object.key });
    return;
  }
  let job: ImportJob | undefined;
  if (target.kind === 'upload') {
    job = await getImport(target.companyId, target.importId);
    if (!job || job.objectKey !== object.key) {
      logger.warn('An upload for no import arrived in the imports bucket', { key: object.key });
      return;
    }
    if (job.status === 'awaiting_upload') {
      await markQueued(job.companyId, job.id, nowIso());
      job = await getImport(job.companyId, job.id);
    }
  } else {
    if (!(await getCompany(target.companyId))) {
      logger.warn('A file was dropped for a company that does not exist', { key: object.key });
      return;
    }
    const now = nowIso();
    const objectHash = createHash('sha256')
      .update(`${object.key}\n${object.sequencer ?? object.eTag ?? ''}`)
      .digest('hex')
      .slice(0, 40);
    const fresh = newImportJob({
      id: newId('imp'),
      companyId: target.companyId,
      filename: target.filename,
      objectKey: object.key,
      source: 'drop',
      // Mapped by its header names, new clients only: the defaults.
      options: DEFAULT_IMPORT_OPTIONS,
      now,
    });
    const outcome = await insertDroppedImport(fresh, objectHash);
    job = outcome.inserted ? fresh : await getImport(target.companyId, outcome.importId);
  }
  // Past `queued`: this event was delivered before and the first delivery got the import going.
  if (job?.status !== 'queued') return;
  await splitImport(job, object.size);
}

/**
 * Whether the object at the key is still the one this event announced (`size` bytes). It may have been replaced since
 * — in AWS by a newer PUT, whose own event follows; locally s3rver even writes the next PUT in place, so a read can
 * meet a half-written file. A replaced object is left to its own event rather than failing the import on a file the
 * caller never sent.
 */
async function stillAnnounced(key: string, size: number | undefined, bytesRead?: number): Promise<boolean> {
  if (size === undefined) return true;
  if (bytesRead !== undefined) return bytesRead === size;
  return (await getServices().importFiles.head(key))?.size === size;
}

/** Counts what a read yields, to compare with the size the event announced. */
function counting(source: AsyncIterable<Uint8Array>): { bytes: () => number; stream: AsyncIterable<Uint8Array> } {
  let bytes = 0;
  async function* pass() {
    for await (const chunk of source) {
      bytes += chunk.byteLength;
      yield chunk;
    }
  }
  return { bytes: () => bytes, stream: pass() };
}

/** Reads the file, plans the chunks, writes them and sends their messages. */
async function splitImport(job: ImportJob, announcedSize: number | undefined): Promise<void> {
  const files = getServices().importFiles;
  const at = () => nowIso();
  const superseded = () => logger.info('The object was replaced after this event; its own event imports it', { key: job.objectKey });
  let split: Awaited<ReturnType<typeof rowAlignedRanges>>;
  const read = counting(await files.read(job.objectKey));
  try {
    split = await rowAlignedRanges(read.stream, { chunkSize: chunkBytes(), delimiter: job.options.delimiter });
  } catch (error) {
    if (error instanceof ValidationError) {
      if (!(await stillAnnounced(job.objectKey, announcedSize))) return superseded();
      await failImport(job.companyId, job.id, error.message, at());
      return;
    }
    throw error;
  }
  if (!(await stillAnnounced(job.objectKey, announcedSize, read.bytes()))) return superseded();
  const { ranges, format } = split;
  const scan = await scanFile(job, format);
  if ('error' in scan) {
    if (!(await stillAnnounced(job.objectKey, announcedSize))) return superseded();
    await failImport(job.companyId, job.id, scan.error, at());
    return;
  }
  const headerRecords = job.options.firstRowIsHeader ? 1 : 0;
  const totalRows = ranges.reduce((sum, r) => sum + r.records, 0) - headerRecords;
  if (totalRows <= 0) {
    await failImport(job.companyId, job.id, 'The file has no data rows.', at());
    return;
  }
  const chunks = ranges.map((range, i): ImportChunk => chunkOf(range, ranges[i + 1], i, i === 0 ? headerRecords : 0));
  const plan = { delimiter: format.delimiter, encoding: format.encoding, columns: scan.columns, mapping: scan.mapping.columns, chunkCount: chunks.length };
  // Saved while queued: a redelivery that finds the job running has nothing to redo.
  if (!(await savePlan(job.companyId, job.id, { plan, totalRows, unmappedColumns: scan.mapping.unmappedColumns, at: at() }))) return;
  await putChunks(job.companyId, job.id, chunks);
  const queue = getServices().importQueue;
  for (const chunk of chunks) await queue.send({ type: 'import-chunk', companyId: job.companyId, importId: job.id, chunk: chunk.chunk } satisfies ChunkMessage);
  await markRunning(job.companyId, job.id, at());
}

function chunkOf(range: CsvRange, next: CsvRange | undefined, index: number, header: number): ImportChunk {
  const endRow = next ? next.firstRow : null;
  return {
    chunk: index,
    start: range.start,
    end: range.end,
    firstRow: range.firstRow,
    endRow,
    dataRows: range.records - header,
    status: 'pending',
    checkpoint: range.firstRow,
    processed: 0,
  };
}

/** A later row repeating an earlier row's unique value: the row that keeps it, and the column and value repeated. */
interface DuplicateOf {
  firstRow: number;
  column: string;
  value: string;
}

type Scan = { columns: FileColumns; mapping: ResolvedMapping } | { error: string };

/** Duplicate rows recorded at once, while the file is scanned. */
const DUPLICATE_BATCH = 25;

/**
 * Reads the whole file once more as records: the header (or the first row's width) resolves the mapping, and each
 * row that can be imported claims its unique values (email, number), so a later row repeating one is failed as
 * "duplicate of row N" — the first such row wins, as a spreadsheet user reading top-down expects. Both unique fields
 * are claimed whatever `uniqueBy` is: two rows with one email cannot both become clients either way, and the dry run
 * must count what the real run will. A duplicate row is recorded failed right here, before any chunk runs (its
 * marker makes the chunk worker pass over it), so nothing about it has to travel with the chunk.
 */
async function scanFile(job: ImportJob, format: { delimiter: ImportJob['options']['delimiter'] & string; encoding: 'utf-8' | 'windows-1252' }): Promise<Scan> {
  const reader = parseCsv(await getServices().importFiles.read(job.objectKey), { delimiter: format.delimiter, encoding: format.encoding });
  let columns: FileColumns | undefined;
  let mapping: ResolvedMapping | undefined;
  const seen = { email: new Map<string, number>(), number: new Map<string, number>() };
  let duplicates: Array<{ record: CsvRecord; duplicate: DuplicateOf }> = [];
  const recordDuplicates = async () => {
    const batch = duplicates;
    duplicates = [];
    await Promise.all(
      batch.map(({ record, duplicate }) =>
        recordRow(
          job.companyId,
          job.id,
          record.row,
          'failed',
          [{ row: record.row, column: duplicate.column, value: duplicate.value, message: `Duplicate of row ${duplicate.firstRow}.` }],
          record.cells,
        ),
      ),
    );
  };
  const resolve = (fileColumns: FileColumns): string | undefined => {
    columns = fileColumns;
    try {
      mapping = job.options.mapping ? resolveMapping(job.options.mapping, fileColumns) : autoMapHeader('header' in fileColumns ? fileColumns.header : []);
      return undefined;
    } catch (error) {
      if (error instanceof ValidationError) return error.message;
      throw error;
    }
  };
  for await (const record of reader) {
    if (!columns) {
      if (record.error) return { error: `Row ${record.row}: ${record.error}` };
      if (job.options.firstRowIsHeader) {
        const problem = resolve({ header: record.cells });
        if (problem) return { error: problem };
        continue;
      }
      if (!job.options.mapping) return { error: 'mapping: a file without a header row needs a mapping by 0-based column index.' };
      const problem = resolve({ count: record.cells.length });
      if (problem) return { error: problem };
    }
    const duplicate = claimUnique(record, columns as FileColumns, mapping as ResolvedMapping, job.options.uniqueBy, seen);
    if (duplicate) duplicates.push({ record, duplicate });
    if (duplicates.length >= DUPLICATE_BATCH) await recordDuplicates();
  }
  await recordDuplicates();
  if (!columns || !mapping) return { error: 'The file is empty.' };
  return { columns, mapping };
}

function claimUnique(
  record: CsvRecord,
  columns: FileColumns,
  mapping: ResolvedMapping,
  uniqueBy: 'email' | 'number',
  seen: Record<'email' | 'number', Map<string, number>>,
): DuplicateOf | undefined {
  const result = rowToClient(record, { mapping, columns });
  if (!result.ok) return undefined;
  const values = {
    email: result.input.email ? result.input.email.toLowerCase() : undefined,
    number: result.input.number !== undefined ? String(result.input.number) : undefined,
  };
  const order = uniqueBy === 'email' ? (['email', 'number'] as const) : (['number', 'email'] as const);
  for (const field of order) {
    const value = values[field];
    const first = value === undefined ? undefined : seen[field].get(value);
    if (first !== undefined) {
      const index = mapping.columns[field] as number;
      return { firstRow: first, column: columnLabel(columns, index), value: record.cells[index] ?? value ?? '' };
    }
  }
  for (const field of order) {
    const value = values[field];
    if (value !== undefined) seen[field].set(value, record.row);
  }
  return undefined;
}
