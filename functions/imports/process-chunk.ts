import type { Phone } from '../domain/client.js';
import { assertCompanyCurrency, type Company } from '../domain/company.js';
import { BillowError, ConcurrentChangeError, ConflictError, ThrottledError, UnavailableError, UpstreamError, ValidationError } from '../domain/errors.js';
import { columnLabel, type FileColumns, type ResolvedMapping, type SystemField } from '../domain/import-mapping.js';
import type { ImportJob, ImportPlan, RowOutcome } from '../domain/import-job.js';
import { createClient, type CreateClientInput } from '../clients/create-client.js';
import { unusablePassword } from '../clients/passwords.js';
import { updateClientProfile, type ClientProfilePatch } from '../clients/update-client.js';
import { logger } from '../observability/logger.js';
import { count, METRIC } from '../observability/metrics.js';
import { getServices } from '../services.js';
import { getClient, ownerOfUnique, setClientUserId } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { listGroups } from '../store/groups.js';
import {
  checkpointChunk,
  countOutcomes,
  finishChunk,
  getChunk,
  getImport,
  deleteRowMarker,
  recordedRows,
  recordRow,
  rowMarkerPut,
  type ImportChunk,
  type ImportRowError,
} from '../store/imports.js';
import { nowIso } from '../store/items.js';
import { phoneColumn } from './export-csv.js';
import { finishImportIfDone } from './finish-import.js';
import { parseCsv, type CsvRecord } from './parse-csv.js';
import { rowToClient, type RowError } from './row-to-client.js';
import type { ChunkMessage } from './start-import.js';

/**
 * A chunk worker: one byte range of the file, from its checkpoint. Each row is mapped and checked (row-to-client),
 * then found among existing clients by its unique field (skipped, or updated when `updateExisting`), else created
 * through the same use case as `POST /v1/clients`. A row's outcome marker commits in the same transaction as the
 * client it writes, so a row run again — a redelivered message, a worker that died mid-chunk and is run again from
 * its checkpoint — is seen as done and never imported twice. A bad row never stops the others; a fault (DynamoDB,
 * the identity provider unavailable) fails the message, which the queue delivers again.
 */

/** Rows read, checked for markers and written together; the checkpoint moves after each batch. */
export const BATCH = 25;
/** Rows of a batch written at once. */
export const ROW_CONCURRENCY = 10;

export interface ChunkHooks {
  /** Called after each row's outcome is recorded (tests stop a worker mid-chunk by throwing here). */
  afterRow?: (row: number) => void;
}

export async function processChunk(message: ChunkMessage, hooks: ChunkHooks = {}): Promise<void> {
  const job = await getImport(message.companyId, message.importId);
  if (!job) {
    logger.warn('A chunk message for no import', { ...message });
    return;
  }
  if (job.status === 'completed' || job.status === 'failed') return;
  if (!job.plan) throw new Error(`Import ${job.id} has no plan, yet a chunk of it was sent.`);
  let chunk = await getChunk(job.companyId, job.id, message.chunk);
  if (!chunk) throw new Error(`Import ${job.id} has no chunk ${message.chunk}.`);
  if (chunk.status !== 'done') {
    await runChunk(job, job.plan, chunk, hooks);
    for (let attempt = 0; chunk.status !== 'done' && attempt < 5; attempt++) {
      const counts = await countOutcomes(job.companyId, job.id, chunk.firstRow, chunk.endRow);
      if (await finishChunk(job.companyId, job.id, chunk, counts, nowIso())) {
        // Counted by the one delivery that finished the chunk, so a redelivery never counts its rows twice.
        count(METRIC.importRowsProcessed, counts.created + counts.updated + counts.skipped + counts.failed);
        count(METRIC.importRowsFailed, counts.failed);
        break;
      }
      // Another delivery of this chunk moved its checkpoint (or ended it) meanwhile: read it again.
      chunk = (await getChunk(job.companyId, job.id, message.chunk)) as ImportChunk;
    }
  }
  await finishImportIfDone(job.companyId, job.id);
}

interface ChunkContext {
  job: ImportJob;
  company: Company;
  rowContext: { mapping: ResolvedMapping; columns: FileColumns };
  /** Group ids by name, trimmed and lower-cased. */
  groups: Map<string, string>;
  chunk: ImportChunk;
}

async function groupsByName(companyId: string): Promise<Map<string, string>> {
  const groups = new Map<string, string>();
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listGroups(companyId, 100, startKey);
    for (const group of page.items) if (!groups.has(group.name.trim().toLowerCase())) groups.set(group.name.trim().toLowerCase(), group.id);
    startKey = page.lastKey;
  } while (startKey);
  return groups;
}

async function runChunk(job: ImportJob, plan: ImportPlan, chunk: ImportChunk, hooks: ChunkHooks): Promise<void> {
  const ctx: ChunkContext = {
    job,
    company: await requireCompany(job.companyId),
    rowContext: { mapping: { columns: plan.mapping, unmappedColumns: job.unmappedColumns }, columns: plan.columns },
    groups: await groupsByName(job.companyId),
    chunk,
  };
  const bytes = await getServices().importFiles.read(job.objectKey, { start: chunk.start, end: chunk.end });
  const reader = parseCsv(bytes, { delimiter: plan.delimiter, encoding: plan.encoding, firstRow: chunk.firstRow, atFileStart: chunk.start === 0 });
  let skipHeader = chunk.chunk === 0 && job.options.firstRowIsHeader;
  /** Data records read so far, those before the checkpoint included: what `processed` is once a batch is recorded. */
  let seen = 0;
  let batch: CsvRecord[] = [];
  const flush = async (): Promise<boolean> => {
    await runBatch(ctx, batch, hooks);
    const last = batch[batch.length - 1].row;
    batch = [];
    if (await checkpointChunk(job.companyId, job.id, chunk, { checkpoint: last + 1, processed: seen, at: nowIso() })) return true;
    const now = await getChunk(job.companyId, job.id, chunk.chunk);
    if (!now || now.status === 'done') return false;
    Object.assign(chunk, now);
    return true;
  };
  for await (const record of reader) {
    if (skipHeader) {
      skipHeader = false;
      continue;
    }
    seen++;
    if (record.row < chunk.checkpoint) continue;
    batch.push(record);
    if (batch.length === BATCH && !(await flush())) return;
  }
  if (batch.length) await flush();
}

async function runBatch(ctx: ChunkContext, records: CsvRecord[], hooks: ChunkHooks): Promise<void> {
  const done = await recordedRows(
    ctx.job.companyId,
    ctx.job.id,
    records.map((r) => r.row),
  );
  // Rows a delivery that died already created: one whose worker died between the client's transaction and its login
  // has no login yet, and its marker makes every later delivery pass it over, so the login is made here.
  await Promise.all(
    [...done.values()].map((marker) => (marker.outcome === 'created' && marker.clientId ? completeLogin(ctx.job.companyId, marker.clientId) : undefined)),
  );
  const pending = records.filter((r) => !done.has(r.row));
  const failures: unknown[] = [];
  // A few rows at once, not the whole batch: their reads, transactions and logins overlap (creates at once take
  // their numbers by atomic increments, so they no longer race on the counter), within what one worker should ask
  // of DynamoDB and the identity provider.
  const worker = async () => {
    for (let record = pending.shift(); record; record = pending.shift()) {
      try {
        await importRow(ctx, record);
        hooks.afterRow?.(record.row);
      } catch (error) {
        failures.push(error);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: ROW_CONCURRENCY }, worker));
  if (failures.length) throw failures[0];
}

/**
 * Makes and links the login `createClient` makes for a client with a username, when the client has none linked: its
 * worker died after the client's transaction, before the login was made or before it was linked. A login of that
 * username made for this client is linked; one made for anyone else (a staff login of the same name) is left alone,
 * and the warning names the client for an operator (createClient would have undone the client).
 */
async function completeLogin(companyId: string, clientId: string): Promise<void> {
  const client = await getClient(companyId, clientId);
  if (!client?.username || client.userId) return;
  const identity = getServices().identity;
  let login = await identity.findUser(companyId, client.username);
  login ??= await identity.createUser({
    username: client.username,
    password: unusablePassword(),
    role: 'client',
    companyId,
    clientId,
    email: client.email ?? undefined,
  });
  if (login.clientId !== clientId) {
    logger.warn('An imported client has no login: its username is another login’s at the identity provider', { companyId, clientId });
    return;
  }
  await setClientUserId(companyId, clientId, login.userId);
}

/** A BillowError that says the row is wrong (not that something is down): the row fails, the others go on. */
function isRowProblem(error: unknown): error is BillowError {
  return error instanceof BillowError && !(error instanceof UpstreamError || error instanceof UnavailableError || isBusy(error));
}

async function importRow(ctx: ChunkContext, record: CsvRecord): Promise<void> {
  const { job, rowContext } = ctx;
  const { row } = record;
  const label = (field: SystemField) => {
    const index = rowContext.mapping.columns[field];
    return index === undefined ? undefined : columnLabel(rowContext.columns, index);
  };
  const reject = (outcome: RowOutcome, errors: RowError[]) => recordRow(job.companyId, job.id, row, outcome, errors, record.cells);
  const cellError = (field: SystemField, message: string): RowError => {
    const index = rowContext.mapping.columns[field];
    const value = index === undefined ? undefined : record.cells[index];
    return { row, ...(label(field) ? { column: label(field) } : {}), ...(value !== undefined ? { value } : {}), message };
  };

  const result = rowToClient(record, rowContext);
  if (!result.ok) return void (await reject('failed', result.errors));
  // A row repeating an earlier row's unique value was recorded failed by the first worker: its marker passes it over.
  const input: CreateClientInput = { ...result.input };
  if (result.groupName !== undefined) {
    const groupId = ctx.groups.get(result.groupName.toLowerCase());
    if (!groupId) return void (await reject('failed', [cellError('group', `No client group is named ${JSON.stringify(result.groupName)}.`)]));
    input.groupId = groupId;
  }
  if (input.currency) {
    try {
      assertCompanyCurrency(ctx.company, input.currency);
    } catch (error) {
      if (error instanceof ValidationError) return void (await reject('failed', [cellError('currency', error.errors[0]?.message ?? error.message)]));
      throw error;
    }
  }

  const uniqueBy = job.options.uniqueBy;
  const uniqueValue = uniqueBy === 'email' ? input.email : input.number !== undefined ? String(input.number) : undefined;
  const ownerId = uniqueValue ? await ownerOfUnique(job.companyId, uniqueBy, uniqueValue) : undefined;
  if (ownerId && !job.options.updateExisting)
    return void (await reject('skipped', [
      cellError(uniqueBy, `A client with this ${uniqueBy} already exists (${ownerId}); it is left as it is (updateExisting is off).`),
    ]));

  // The other unique values must be free (or the matched client's own): checked here so a dry run fails the rows
  // the real run would, with the same message.
  const taken = await takenElsewhere(job.companyId, input, uniqueBy, ownerId);
  if (taken) return void (await reject('failed', [cellError(taken.field, `Another client (${taken.ownerId}) already has this ${taken.field}.`)]));

  if (job.options.dryRun) {
    if (ownerId && !(await getClient(job.companyId, ownerId)))
      return void (await reject('failed', [cellError(uniqueBy, 'The matching client was just deleted.')]));
    return void (await reject(ownerId ? 'updated' : 'created', []));
  }
  // The client a create wrote before its login failed and it was undone: its marker must go with it.
  let createdId: string | undefined;
  try {
    await withBackoff(async () => {
      createdId = undefined;
      try {
        if (ownerId) {
          const current = await getClient(job.companyId, ownerId);
          if (!current) throw ValidationError.field(uniqueBy, 'The matching client was just deleted.');
          await updateClientProfile({
            companyId: job.companyId,
            clientId: ownerId,
            patch: patchFrom(input, current.phones),
            principal: null,
            alsoWrite: [rowMarkerPut(job.companyId, job.id, row, 'updated', ownerId)],
          });
        } else {
          await createClient(job.companyId, input, null, {
            company: ctx.company,
            alsoWrite: (client) => {
              createdId = client.id;
              return [rowMarkerPut(job.companyId, job.id, row, 'created', client.id)];
            },
          });
        }
      } catch (error) {
        if (createdId && !(await getClient(job.companyId, createdId))) await deleteRowMarker(job.companyId, job.id, row, createdId);
        throw error;
      }
    });
  } catch (error) {
    if (!isRowProblem(error)) throw error;
    // The marker's condition failing looks like any conflict: a row another delivery did is not a failure.
    if ((await recordedRows(job.companyId, job.id, [row])).has(row)) return;
    await reject('failed', rowErrorsOf(error, row, label));
  }
}

/** Attempts of a row whose write meets a busy service (Cognito's user-creation quota, a DynamoDB conflict). */
const BUSY_ATTEMPTS = 6;

function isBusy(error: unknown): boolean {
  // `busy`: the row's transaction kept meeting concurrent ones on the same items (the API's, another chunk's).
  return error instanceof ThrottledError || error instanceof ConcurrentChangeError || (error instanceof ConflictError && error.code === 'busy');
}

/**
 * Runs a row's write again while the service is busy, with full-jitter backoff from 200 ms doubling to 6.4 s, rather
 * than failing the whole chunk back to the queue (whose visibility timeout is long) at the first throttle.
 */
async function withBackoff(step: () => Promise<void>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (attempt >= BUSY_ATTEMPTS || !isBusy(error)) throw error;
      await new Promise((r) => setTimeout(r, Math.random() * 200 * 2 ** attempt));
    }
  }
}

/** A unique value of the row (email, username from the email, number) held by a client other than `ownerId`. */
async function takenElsewhere(
  companyId: string,
  input: CreateClientInput,
  uniqueBy: 'email' | 'number',
  ownerId: string | undefined,
): Promise<{ field: 'email' | 'number'; ownerId: string } | undefined> {
  // The uniqueBy value was looked up already: it is free, or the matched client's own.
  const checks: Array<['email' | 'number', 'email' | 'username' | 'number', string]> = [];
  if (input.email) {
    if (uniqueBy !== 'email') checks.push(['email', 'email', input.email]);
    checks.push(['email', 'username', input.email]);
  }
  if (input.number !== undefined && uniqueBy !== 'number') checks.push(['number', 'number', String(input.number)]);
  for (const [field, kind, value] of checks) {
    const owner = await ownerOfUnique(companyId, kind, value);
    if (owner && owner !== ownerId) return { field, ownerId: owner };
  }
  return undefined;
}

/**
 * The row as a change to an existing client: only the fields the file gives. `phones` replaces the whole list, so
 * the client's numbers of the kinds (telephone, fax, mobile) the row leaves empty are kept.
 */
function patchFrom(input: CreateClientInput, existing: readonly Phone[]): ClientProfilePatch {
  const { phones, username, password, generatePassword, ...rest } = input;
  const patch: ClientProfilePatch = { ...rest };
  if (phones?.length) {
    const given = new Set(phones.map(phoneColumn));
    patch.phones = [...existing.filter((p) => !given.has(phoneColumn(p))), ...phones];
  }
  return patch;
}

function rowErrorsOf(error: BillowError, row: number, label: (field: SystemField) => string | undefined): ImportRowError[] {
  const fieldErrors = error instanceof ValidationError ? error.errors : [];
  if (!fieldErrors.length) {
    const field = error.details.field as SystemField | undefined;
    const column = field ? label(field) : undefined;
    return [{ row, ...(column ? { column } : {}), message: error.message }];
  }
  return fieldErrors.map((e) => {
    const column = label(e.path.split('.')[0] as SystemField);
    return { row, ...(column ? { column } : {}), message: e.message };
  });
}
