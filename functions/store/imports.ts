import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ImportCounts, ImportJob, ImportPlan, RowOutcome } from '../domain/import-job.js';
import { NotFoundError } from '../domain/errors.js';
import { batchGetAll, db, putNew, queryPage, tableName, transact, type Page, type TransactItem } from './dynamo.js';
import { isConditionFailure } from './items.js';
import {
  IMPORT_ERROR_SK_PREFIX,
  IMPORT_ROW_SK_PREFIX,
  IMPORT_SK_PREFIX,
  importChunkSk,
  importDropSk,
  importErrorSk,
  importPartitionPk,
  importRowSk,
  importSk,
  importsPk,
} from './keys.js';
import type { EveryField, StoredItem } from './mapping.js';

/**
 * Client imports: the job item (its status, options, plan and counts), one item per chunk of the file (its
 * checkpoint), one outcome marker per data row and one error item per problem. Counts are summed from the markers
 * when a chunk ends, so whatever redelivery or resumption runs a row again, it counts once.
 */

const jobKey = (companyId: string, importId: string) => ({ PK: importsPk(companyId), SK: importSk(importId) });
const chunkKey = (companyId: string, importId: string, chunk: number) => ({ PK: importPartitionPk(companyId, importId), SK: importChunkSk(chunk) });
const rowKey = (companyId: string, importId: string, row: number) => ({ PK: importPartitionPk(companyId, importId), SK: importRowSk(row) });

export function importToItem(job: ImportJob) {
  return { ...jobKey(job.companyId, job.id), entity: 'import', ...job };
}

export function importFromItem(item: StoredItem): ImportJob {
  const job: EveryField<ImportJob> = {
    id: item.id,
    companyId: item.companyId,
    filename: item.filename,
    objectKey: item.objectKey,
    source: item.source,
    status: item.status,
    options: item.options,
    totalRows: item.totalRows ?? null,
    processedRows: item.processedRows ?? 0,
    unmappedColumns: item.unmappedColumns ?? [],
    plan: item.plan ?? null,
    finishedChunks: item.finishedChunks ?? 0,
    created: item.created ?? 0,
    updated: item.updated ?? 0,
    skipped: item.skipped ?? 0,
    failed: item.failed ?? 0,
    error: item.error ?? null,
    errorReportKey: item.errorReportKey ?? null,
    startedAt: item.startedAt ?? null,
    finishedAt: item.finishedAt ?? null,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
  return job;
}

export async function insertImport(job: ImportJob): Promise<void> {
  await putNew(importToItem(job));
}

/**
 * Records the import of a file dropped into the bucket, once per object version: the drop's marker (keyed by a
 * hash of the object key and its S3 sequencer) is put with the job in one transaction. Returns the import that
 * already has the object when this is a redelivery.
 */
export async function insertDroppedImport(job: ImportJob, objectHash: string): Promise<{ inserted: true } | { inserted: false; importId: string }> {
  const marker = { PK: importsPk(job.companyId), SK: importDropSk(objectHash) };
  const items: TransactItem[] = [
    { Put: { TableName: tableName(), Item: { ...marker, entity: 'importDrop', importId: job.id }, ConditionExpression: 'attribute_not_exists(PK)' } },
    { Put: { TableName: tableName(), Item: importToItem(job), ConditionExpression: 'attribute_not_exists(PK)' } },
  ];
  try {
    await transact(items, () => new DropAlreadyRecorded());
    return { inserted: true };
  } catch (error) {
    if (!(error instanceof DropAlreadyRecorded)) throw error;
    const out = await db().send(new GetCommand({ TableName: tableName(), Key: marker, ConsistentRead: true }));
    return { inserted: false, importId: String(out.Item?.importId) };
  }
}

class DropAlreadyRecorded extends Error {}

export async function getImport(companyId: string, importId: string): Promise<ImportJob | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: jobKey(companyId, importId), ConsistentRead: true }));
  return out.Item ? importFromItem(out.Item) : undefined;
}

export async function requireImport(companyId: string, importId: string): Promise<ImportJob> {
  const job = await getImport(companyId, importId);
  if (!job) throw new NotFoundError('No such import.');
  return job;
}

/** A company's imports, newest first (import ids are time-ordered), however they arrived. */
export async function listImports(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<ImportJob>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': importsPk(companyId), ':p': IMPORT_SK_PREFIX },
    ScanIndexForward: false,
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(importFromItem), lastKey: page.lastKey };
}

/** Runs a conditional update of the job; false when the condition failed (another delivery got there first). */
async function updateJob(
  companyId: string,
  importId: string,
  update: { expression: string; condition: string; names?: Record<string, string>; values: Record<string, unknown> },
): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: jobKey(companyId, importId),
        UpdateExpression: update.expression,
        ConditionExpression: `attribute_exists(PK) AND ${update.condition}`,
        ExpressionAttributeNames: { '#status': 'status', ...update.names },
        ExpressionAttributeValues: update.values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The upload arrived: awaiting_upload → queued, once. False when it was already queued (or further). */
export function markQueued(companyId: string, importId: string, at: string): Promise<boolean> {
  return updateJob(companyId, importId, {
    expression: 'SET #status = :queued, startedAt = :at, updatedAt = :at',
    condition: '#status = :awaiting',
    values: { ':queued': 'queued', ':awaiting': 'awaiting_upload', ':at': at },
  });
}

/** The first worker read the file: its plan and row count, while the job is still queued. */
export function savePlan(
  companyId: string,
  importId: string,
  input: { plan: ImportPlan; totalRows: number; unmappedColumns: string[]; at: string },
): Promise<boolean> {
  return updateJob(companyId, importId, {
    expression: 'SET #plan = :plan, totalRows = :total, unmappedColumns = :unmapped, updatedAt = :at',
    condition: '#status = :queued',
    names: { '#plan': 'plan' },
    values: { ':plan': input.plan, ':total': input.totalRows, ':unmapped': input.unmappedColumns, ':at': input.at, ':queued': 'queued' },
  });
}

/** Every chunk has been sent to the queue: queued → running. */
export function markRunning(companyId: string, importId: string, at: string): Promise<boolean> {
  return updateJob(companyId, importId, {
    expression: 'SET #status = :running, updatedAt = :at',
    condition: '#status = :queued',
    values: { ':running': 'running', ':queued': 'queued', ':at': at },
  });
}

/** The import cannot go on (no required field mapped, a file that cannot be read): failed, with why. */
export function failImport(companyId: string, importId: string, error: string, at: string): Promise<boolean> {
  return updateJob(companyId, importId, {
    expression: 'SET #status = :failed, #error = :error, finishedAt = :at, updatedAt = :at, startedAt = if_not_exists(startedAt, :at)',
    condition: '#status IN (:awaiting, :queued, :running)',
    names: { '#error': 'error' },
    values: { ':failed': 'failed', ':error': error, ':at': at, ':awaiting': 'awaiting_upload', ':queued': 'queued', ':running': 'running' },
  });
}

/** Every chunk has finished: completed, with the error report's key when rows were rejected. Once. */
export function completeImport(companyId: string, importId: string, reportKey: string | null, at: string): Promise<boolean> {
  return updateJob(companyId, importId, {
    expression: reportKey
      ? 'SET #status = :completed, finishedAt = :at, updatedAt = :at, errorReportKey = :report'
      : 'SET #status = :completed, finishedAt = :at, updatedAt = :at',
    condition: '#status IN (:queued, :running)',
    values: { ':completed': 'completed', ':at': at, ':queued': 'queued', ':running': 'running', ...(reportKey ? { ':report': reportKey } : {}) },
  });
}

/** One byte range of the file, processed by one queue message. */
export interface ImportChunk {
  chunk: number;
  start: number;
  /** Exclusive. */
  end: number;
  firstRow: number;
  /** The first row of the next chunk (exclusive), or null for the last. */
  endRow: number | null;
  /** Data rows in the chunk (the header not counted). */
  dataRows: number;
  status: 'pending' | 'done';
  /** Rows before this one have their outcome recorded and counted in `processed`. */
  checkpoint: number;
  processed: number;
}

function chunkFromItem(item: StoredItem): ImportChunk {
  const chunk: EveryField<ImportChunk> = {
    chunk: item.chunk,
    start: item.start,
    end: item.end,
    firstRow: item.firstRow,
    endRow: item.endRow ?? null,
    dataRows: item.dataRows,
    status: item.status,
    checkpoint: item.checkpoint,
    processed: item.processed ?? 0,
  };
  return chunk;
}

/**
 * Writes the chunk items of a plan. A chunk already written (a redelivered S3 event splitting the file again) is
 * left as it is, with its checkpoint: the split is deterministic, so the item holds the same range.
 */
export async function putChunks(companyId: string, importId: string, chunks: readonly ImportChunk[]): Promise<void> {
  for (const chunk of chunks) {
    try {
      await db().send(
        new PutCommand({
          TableName: tableName(),
          Item: { ...chunkKey(companyId, importId, chunk.chunk), entity: 'importChunk', ...chunk },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}

export async function getChunk(companyId: string, importId: string, chunk: number): Promise<ImportChunk | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: chunkKey(companyId, importId, chunk), ConsistentRead: true }));
  return out.Item ? chunkFromItem(out.Item) : undefined;
}

/** A row's recorded outcome, and the client it created or updated. */
export interface RecordedRow {
  outcome: RowOutcome;
  clientId?: string;
}

/** The rows among `rows` whose outcome is already recorded, with it. */
export async function recordedRows(companyId: string, importId: string, rows: readonly number[]): Promise<Map<number, RecordedRow>> {
  if (!rows.length) return new Map();
  const items = await batchGetAll(
    rows.map((row) => rowKey(companyId, importId, row)),
    { consistent: true, projection: 'SK, outcome, clientId' },
  );
  return new Map(
    items.map((i) => [
      Number(String(i.SK).slice(IMPORT_ROW_SK_PREFIX.length)),
      { outcome: i.outcome as RowOutcome, ...(typeof i.clientId === 'string' ? { clientId: i.clientId } : {}) },
    ]),
  );
}

/**
 * The row's outcome marker, to commit in the same transaction as the client the row creates or updates: its
 * condition refuses a second write, so a row run again (a redelivered message, a resumed chunk) cannot commit twice.
 */
export function rowMarkerPut(companyId: string, importId: string, row: number, outcome: RowOutcome, clientId?: string): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: { ...rowKey(companyId, importId, row), entity: 'importRow', row, outcome, ...(clientId ? { clientId } : {}) },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/**
 * Takes back the marker of a row whose client was created and then undone (its login could not be made, so
 * `createClient` deleted it again): the row is not done, and is recorded failed or run again.
 */
export async function deleteRowMarker(companyId: string, importId: string, row: number, clientId: string): Promise<void> {
  try {
    await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: rowKey(companyId, importId, row),
        ConditionExpression: 'clientId = :id',
        ExpressionAttributeValues: { ':id': clientId },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** One problem of a rejected (failed or skipped) row, as `GET /v1/imports/{id}/errors` lists it. */
export interface ImportRowError {
  row: number;
  column?: string;
  value?: string;
  message: string;
}

/** DynamoDB allows 100 items a transaction: the marker and at most this many errors of one row. */
const MAX_ERRORS_PER_ROW = 50;
/** The row's cells are kept for the CSV of rejected rows while they fit an item comfortably. */
const MAX_CELLS_BYTES = 300 * 1024;

/**
 * Records a row that writes no client (failed, skipped, or any row of a dry run) with its errors, once. The row's
 * cells go with its first error, for the CSV of rejected rows. False when the row was already recorded.
 */
export async function recordRow(
  companyId: string,
  importId: string,
  row: number,
  outcome: RowOutcome,
  errors: readonly ImportRowError[],
  cells: readonly string[],
): Promise<boolean> {
  const pk = importPartitionPk(companyId, importId);
  const kept = errors.slice(0, MAX_ERRORS_PER_ROW);
  const fitCells = Buffer.byteLength(JSON.stringify(cells)) <= MAX_CELLS_BYTES;
  const items: TransactItem[] = [
    rowMarkerPut(companyId, importId, row, outcome),
    ...kept.map(
      (error, n): TransactItem => ({
        Put: {
          TableName: tableName(),
          Item: {
            PK: pk,
            SK: importErrorSk(row, n),
            entity: 'importError',
            row,
            outcome,
            message: error.message,
            ...(error.column !== undefined ? { column: error.column } : {}),
            ...(error.value !== undefined ? { value: error.value } : {}),
            ...(n === 0 && fitCells ? { cells } : {}),
          },
        },
      }),
    ),
  ];
  try {
    await transact(items, (index) => (index === 0 ? new RowAlreadyRecorded() : new Error('Import error item collision')));
    return true;
  } catch (error) {
    if (error instanceof RowAlreadyRecorded) return false;
    throw error;
  }
}

class RowAlreadyRecorded extends Error {}

/**
 * Moves a chunk's checkpoint (the rows before `checkpoint` are recorded) and adds the rows processed since the last
 * checkpoint to the job's `processedRows`, in one transaction conditioned on the checkpoint read: two workers on the
 * same chunk cannot both count the same rows.
 */
export async function checkpointChunk(
  companyId: string,
  importId: string,
  chunk: ImportChunk,
  next: { checkpoint: number; processed: number; at: string },
): Promise<boolean> {
  const delta = next.processed - chunk.processed;
  if (delta <= 0) return true;
  const items: TransactItem[] = [
    {
      Update: {
        TableName: tableName(),
        Key: chunkKey(companyId, importId, chunk.chunk),
        UpdateExpression: 'SET #checkpoint = :cp, #processed = :processed',
        ConditionExpression: '#processed = :was AND #status = :pending',
        ExpressionAttributeNames: { '#status': 'status', '#checkpoint': 'checkpoint', '#processed': 'processed' },
        ExpressionAttributeValues: { ':cp': next.checkpoint, ':processed': next.processed, ':was': chunk.processed, ':pending': 'pending' },
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: jobKey(companyId, importId),
        UpdateExpression: 'SET updatedAt = :at ADD #processedRows :delta',
        ExpressionAttributeNames: { '#processedRows': 'processedRows' },
        ExpressionAttributeValues: { ':delta': delta, ':at': next.at },
      },
    },
  ];
  try {
    await transact(items, () => new CheckpointMoved());
    chunk.checkpoint = next.checkpoint;
    chunk.processed = next.processed;
    return true;
  } catch (error) {
    if (error instanceof CheckpointMoved) return false;
    throw error;
  }
}

class CheckpointMoved extends Error {}

/** The outcomes recorded for rows `firstRow` up to (not including) `endRow`, counted. */
export async function countOutcomes(companyId: string, importId: string, firstRow: number, endRow: number | null): Promise<ImportCounts> {
  const counts: ImportCounts = { created: 0, updated: 0, skipped: 0, failed: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await queryPage<StoredItem>({
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': importPartitionPk(companyId, importId),
        ':from': importRowSk(firstRow),
        ':to': importRowSk(endRow === null ? 9_999_999_999 : endRow - 1),
      },
      ProjectionExpression: '#outcome',
      ExpressionAttributeNames: { '#outcome': 'outcome' },
      ConsistentRead: true,
      ExclusiveStartKey: startKey,
    });
    for (const item of page.items) counts[item.outcome as RowOutcome]++;
    startKey = page.lastKey;
  } while (startKey);
  return counts;
}

/**
 * Ends a chunk, once: its status, and on the job its counts, the rest of its processed rows and one more finished
 * chunk, in one transaction. Returns false when the chunk had already been ended (a redelivered message).
 */
export async function finishChunk(companyId: string, importId: string, chunk: ImportChunk, counts: ImportCounts, at: string): Promise<boolean> {
  const items: TransactItem[] = [
    {
      Update: {
        TableName: tableName(),
        Key: chunkKey(companyId, importId, chunk.chunk),
        UpdateExpression: 'SET #status = :done, #processed = :all, #counts = :counts',
        ConditionExpression: '#processed = :was AND #status = :pending',
        ExpressionAttributeNames: { '#status': 'status', '#processed': 'processed', '#counts': 'counts' },
        ExpressionAttributeValues: { ':done': 'done', ':all': chunk.dataRows, ':counts': counts, ':was': chunk.processed, ':pending': 'pending' },
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: jobKey(companyId, importId),
        UpdateExpression:
          'SET updatedAt = :at ADD #processedRows :rest, #created :created, #updated :updated, #skipped :skipped, #failed :failed, #finished :one',
        ExpressionAttributeNames: {
          '#processedRows': 'processedRows',
          '#created': 'created',
          '#updated': 'updated',
          '#skipped': 'skipped',
          '#failed': 'failed',
          '#finished': 'finishedChunks',
        },
        ExpressionAttributeValues: {
          ':at': at,
          ':rest': chunk.dataRows - chunk.processed,
          ':created': counts.created,
          ':updated': counts.updated,
          ':skipped': counts.skipped,
          ':failed': counts.failed,
          ':one': 1,
        },
      },
    },
  ];
  try {
    await transact(items, () => new CheckpointMoved());
    return true;
  } catch (error) {
    if (error instanceof CheckpointMoved) return false;
    throw error;
  }
}

export interface StoredImportError extends ImportRowError {
  outcome: RowOutcome;
  /** The row's cells, on its first error only. */
  cells?: string[];
}

function errorFromItem(item: StoredItem): StoredImportError {
  const error: EveryField<StoredImportError> = {
    row: item.row,
    column: item.column,
    value: item.value,
    message: item.message,
    outcome: item.outcome,
    cells: item.cells,
  };
  return error;
}

/** An import's row errors in row order, a page at a time. */
export async function listImportErrors(
  companyId: string,
  importId: string,
  limit: number,
  startKey?: Record<string, unknown>,
): Promise<Page<StoredImportError>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': importPartitionPk(companyId, importId), ':p': IMPORT_ERROR_SK_PREFIX },
    Limit: limit,
    ExclusiveStartKey: startKey,
    ConsistentRead: true,
  });
  return { items: page.items.map(errorFromItem), lastKey: page.lastKey };
}

/** Every row error of an import in row order, streamed a page at a time (the CSV of rejected rows). */
export async function* allImportErrors(companyId: string, importId: string): AsyncGenerator<StoredImportError> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listImportErrors(companyId, importId, 500, startKey);
    yield* page.items;
    startKey = page.lastKey;
  } while (startKey);
}
