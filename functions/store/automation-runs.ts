import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AutomationRun, RunAction, RunTask, RunTaskStatus } from '../domain/automation-run.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import { batchGetAll, batchWriteAll, db, queryFiltered, queryPage, tableName, transact, type Page, type TransactItem } from './dynamo.js';
import { isConditionFailure } from './items.js';
import { RUN_ACTION_SK_PREFIX, RUN_SK_PREFIX, runActionSk, runListingSk, runLockSk, runPageSk, runPartitionPk, runSk, runsPk, scheduledRunSk } from './keys.js';
import type { EveryField, StoredItem } from './mapping.js';
import { withRetries } from './retry.js';

/**
 * Run records of the daily automation. A run item holds its per-task counters (a map by task name, so a page adds
 * to its task's counters in place); a page is recorded once, whatever Step Functions retries; a company has at most
 * one run queued or running (its lock).
 */

/**
 * How many planned actions a dry run's body shows; all of them are rows of `GET /v1/automation/runs/{id}/actions`.
 * The first ones are kept on the run item itself, so a list of runs reads no run's own partition.
 */
export const PLANNED_EMBED_LIMIT = 100;

/**
 * Bytes of planned actions (as JSON) a run item keeps, well inside DynamoDB's 400 KB item: a plan whose first
 * actions are larger (a renewal's every line, forty services on one invoice) is marked `plannedOverflow`, and its
 * body reads them from its action rows instead.
 */
const PLANNED_EMBED_BYTES = 200_000;

/** A planned action as a run's body shows it. */
export type PlannedAction = Pick<RunAction, 'task' | 'objectType' | 'objectId' | 'clientId' | 'action' | 'details'>;

/** A run with, for a dry run, its first planned actions (at most PLANNED_EMBED_LIMIT). */
export interface RunWithPlan {
  run: AutomationRun;
  /** Undefined for a run that changes things. */
  planned?: PlannedAction[];
}

const runKey = (companyId: string, runId: string) => ({ PK: runsPk(companyId), SK: runSk(runId) });
const lockKey = (companyId: string) => ({ PK: runsPk(companyId), SK: runLockSk });

interface StoredTask {
  status: RunTaskStatus;
  examined: number;
  acted: number;
  failed: number;
  error?: string;
}

export function runToItem(run: AutomationRun) {
  const { tasks, startedAt, finishedAt, ...rest } = run;
  return {
    ...runKey(run.companyId, run.id),
    entity: 'automationRun',
    ...rest,
    taskOrder: tasks.map((t) => t.name),
    tasks: Object.fromEntries(tasks.map(({ name, ...counts }) => [name, counts satisfies StoredTask])),
    // A dry run's first planned actions, appended by the pages that plan them (recordPage).
    ...(run.dryRun ? { planned: [] } : {}),
    // Absent until set, so a page can set them with if_not_exists.
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
  };
}

export function runFromItem(item: StoredItem): AutomationRun {
  const tasks = item.tasks as Record<string, StoredTask>;
  const run: EveryField<AutomationRun> = {
    id: item.id,
    companyId: item.companyId,
    date: item.date,
    dryRun: item.dryRun,
    trigger: item.trigger,
    status: item.status,
    tasks: (item.taskOrder as string[]).map(
      (name): RunTask => ({
        name,
        status: tasks[name].status,
        examined: tasks[name].examined,
        acted: tasks[name].acted,
        failed: tasks[name].failed,
        ...(tasks[name].error ? { error: tasks[name].error } : {}),
      }),
    ),
    executionName: item.executionName,
    plannedCount: item.plannedCount ?? 0,
    startedAt: item.startedAt ?? null,
    finishedAt: item.finishedAt ?? null,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
  return run;
}

const plannedView = ({ task, objectType, objectId, clientId, action, details }: PlannedAction): PlannedAction => ({
  task,
  objectType,
  objectId,
  clientId,
  action,
  details: details ?? {},
});

/**
 * The run and, for a dry run, the planned actions kept on its item. A dry run whose plan did not fit the item
 * (`plannedOverflow`), or recorded before items kept it (no `planned`), has them read from its action rows.
 */
async function runWithPlanFromItem(item: StoredItem): Promise<RunWithPlan> {
  const run = runFromItem(item);
  if (!run.dryRun) return { run };
  if (Array.isArray(item.planned) && !item.plannedOverflow) return { run, planned: (item.planned as PlannedAction[]).map(plannedView) };
  return { run, planned: run.plannedCount ? (await listPlannedActions(run.companyId, run.id, PLANNED_EMBED_LIMIT)).map(plannedView) : [] };
}

export interface StoredRunAction extends RunAction {
  /** When the page that did it was recorded. */
  at: string;
}

function actionFromItem(item: StoredItem): StoredRunAction {
  const action: EveryField<StoredRunAction> = {
    task: item.task,
    objectType: item.objectType,
    objectId: item.objectId,
    clientId: item.clientId,
    action: item.action,
    outcome: item.outcome,
    message: item.message,
    details: item.details ?? {},
    at: item.at,
  };
  return action;
}

/** The company already has a run queued or running (two starts at once: exactly one wins). */
export const runInProgress = () =>
  new ConflictError('A run of this company is queued or running; start another when it has finished.', { code: 'run_in_progress' });

/** The scheduled run of this company and date was already started. */
export class AlreadyStartedError extends ConflictError {
  constructor(readonly runId: string | undefined) {
    super('The scheduled run of this date was already started.', { code: 'already_started' });
  }
}

/**
 * Records a new run and takes the company's run lock in one transaction: the lock is put only when there is none or
 * the one there has expired (`lockedUntil`, the state machine's timeout: a lock left by an execution that died is
 * not held for ever). A scheduled run also puts its date's marker, so each date is started once by the schedule.
 */
export async function insertRun(run: AutomationRun, options: { lockedUntil: string; now: string; scheduled: boolean }): Promise<void> {
  const items: TransactItem[] = [
    {
      Put: {
        TableName: tableName(),
        Item: { ...lockKey(run.companyId), entity: 'automationRunLock', runId: run.id, lockedUntil: options.lockedUntil },
        ConditionExpression: 'attribute_not_exists(PK) OR lockedUntil < :now',
        ExpressionAttributeValues: { ':now': options.now },
      },
    },
    { Put: { TableName: tableName(), Item: runToItem(run), ConditionExpression: 'attribute_not_exists(PK)' } },
  ];
  if (options.scheduled) {
    items.push({
      Put: {
        TableName: tableName(),
        Item: { PK: runsPk(run.companyId), SK: scheduledRunSk(run.date), entity: 'automationScheduledRun', runId: run.id, at: options.now },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    });
  }
  // Two starts at the same moment may collide as a transaction conflict rather than a failed condition: the retry
  // then finds the winner's lock.
  await withRetries(() =>
    transact(items, (index) => {
      if (index === 0) return runInProgress();
      if (index === 2) return new AlreadyStartedError(undefined);
      return new Error('Run id collision');
    }),
  );
}

/** The run the schedule started for a company's date, if it did. */
export async function getScheduledRunId(companyId: string, date: string): Promise<string | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: runsPk(companyId), SK: scheduledRunSk(date) }, ConsistentRead: true }));
  return out.Item?.runId as string | undefined;
}

export async function getRun(companyId: string, runId: string): Promise<AutomationRun | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: runKey(companyId, runId), ConsistentRead: true }));
  return out.Item ? runFromItem(out.Item) : undefined;
}

/** A run with what a dry run planned (NotFoundError when there is none). */
export async function requireRunWithPlan(companyId: string, runId: string): Promise<RunWithPlan> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: runKey(companyId, runId), ConsistentRead: true }));
  if (!out.Item) throw new NotFoundError('No such automation run.');
  return runWithPlanFromItem(out.Item);
}

export async function requireRun(companyId: string, runId: string): Promise<AutomationRun> {
  const run = await getRun(companyId, runId);
  if (!run) throw new NotFoundError('No such automation run.');
  return run;
}

/** A company's runs, newest first (run ids are time-ordered), dry runs with what they planned: one query. */
export async function listRuns(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<RunWithPlan>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': runsPk(companyId), ':p': RUN_SK_PREFIX },
    ScanIndexForward: false,
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: await Promise.all(page.items.map(runWithPlanFromItem)), lastKey: page.lastKey };
}

/** A run's actions in the order it did them (task, page, action). */
export async function listRunActions(companyId: string, runId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<StoredRunAction>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': runPartitionPk(companyId, runId), ':p': RUN_ACTION_SK_PREFIX },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(actionFromItem), lastKey: page.lastKey };
}

/** The first `limit` actions a dry run planned, from its action rows. */
async function listPlannedActions(companyId: string, runId: string, limit: number): Promise<StoredRunAction[]> {
  const page = await queryFiltered<StoredItem>(
    {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': runPartitionPk(companyId, runId), ':p': RUN_ACTION_SK_PREFIX },
    },
    limit,
    (item) => item.outcome === 'planned',
    (item) => ({ PK: item.PK, SK: item.SK }),
  );
  return page.items.map(actionFromItem);
}

export interface PageRecord {
  companyId: string;
  runId: string;
  task: string;
  /** The task's position in the run (orders its actions). */
  taskIndex: number;
  /** Which of the task's sources the page read, and the cursor it started from: together they name the page. */
  source: number;
  cursorIn: string | null;
  /** The page's number within the task (0 for the first), carried in the cursor. */
  pageNo: number;
  examined: number;
  acted: number;
  failed: number;
  actions: readonly RunAction[];
  /** The task has no more pages after this one. */
  last: boolean;
  at: string;
}

export const cursorHash = (cursor: string | null) =>
  createHash('sha256')
    .update(cursor ?? '')
    .digest('hex')
    .slice(0, 32);

/** The index entries one page of a work source read, as the page's first attempt read them. */
export interface PageListing<T> extends Page<T> {
  /** When the first attempt read them: what a marker of this run written since then was written by. */
  listedAt: string;
  /** This is the page run again (its first attempt died or was retried): the entries are the first attempt's. */
  replay: boolean;
}

/**
 * Keeps the index entries a page's first attempt read, before it acts on any, once per (run, source, key): the
 * page run again after a crash gets the same entries back, even those its killed attempt moved out of the index (a
 * voided invoice, a renewed service), so the replay looks at the same objects, counts each once, and continues from
 * the same key. Gzipped JSON (50 index entries of invoices with their lines) to stay well inside an item's 400 KB.
 * The first attempt reads nothing more (a conditional put); only a replay reads the item.
 */
export async function keepPageListing<T>(
  companyId: string,
  runId: string,
  source: string,
  key: string | null,
  page: Page<T>,
  at: string,
): Promise<PageListing<T>> {
  const itemKey = { PK: runPartitionPk(companyId, runId), SK: runListingSk(source, cursorHash(key)) };
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...itemKey, entity: 'automationListing', body: gzipSync(JSON.stringify({ items: page.items, lastKey: page.lastKey })), at },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return { ...page, listedAt: at, replay: false };
  } catch (error) {
    // Kept by an earlier attempt (or by this put, its answer lost and the SDK's retry refused: the same entries).
    if (!isConditionFailure(error)) throw error;
  }
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: itemKey, ConsistentRead: true }));
  if (!out.Item) throw new Error(`The listing of page ${itemKey.SK} of run ${runId} is gone.`);
  const kept = JSON.parse(gunzipSync(out.Item.body as Uint8Array).toString('utf8')) as Page<T>;
  return { items: kept.items, lastKey: kept.lastKey, listedAt: String(out.Item.at), replay: true };
}

/**
 * Records one page of a task on its run, once. The page's record (keyed by task, source and the cursor it started
 * from) is put with `attribute_not_exists` in the same transaction as the run's counters, so a page Step Functions
 * runs again after a timeout or a crash is counted once. Its action rows are written first, under keys made from the
 * page, so a retry after a crash between the two rewrites the same rows with what the retry did, and a retry after
 * the page was recorded changes nothing. Returns false when the page had already been recorded.
 */
export async function recordPage(page: PageRecord): Promise<boolean> {
  const pageKey = { PK: runPartitionPk(page.companyId, page.runId), SK: runPageSk(page.task, page.source, cursorHash(page.cursorIn)) };
  // The page's record and the run, read together: a page already recorded, or one of a run that has finished (a
  // straggler), writes nothing, not even action rows.
  const found = await batchGetAll([pageKey, runKey(page.companyId, page.runId)], {
    consistent: true,
    projection: 'PK, SK, finishedAt, plannedCount, plannedBytes, plannedOverflow',
  });
  if (found.some((item) => item.SK === pageKey.SK)) return false;
  const run = found.find((item) => item.SK === runSk(page.runId));
  if (!run || run.finishedAt) throw runFinished();

  await batchWriteAll(
    page.actions.map((action, n) => ({
      PutRequest: {
        Item: {
          PK: pageKey.PK,
          SK: runActionSk(page.taskIndex, page.pageNo, n),
          entity: 'automationAction',
          ...action,
          at: page.at,
        },
      },
    })),
  );
  const plannedActions = page.actions.filter((a) => a.outcome === 'planned');
  const planned = plannedActions.length;
  // The run item keeps the first PLANNED_EMBED_LIMIT planned actions. The pages of a run are recorded one after
  // another (one execution at a time runs them), so the count read above is the one this update adds to.
  const embed: PlannedAction[] = [];
  let bytes = Number(run.plannedBytes ?? 0);
  let overflow = Boolean(run.plannedOverflow);
  for (const action of plannedActions.slice(0, Math.max(0, PLANNED_EMBED_LIMIT - Number(run.plannedCount ?? 0)))) {
    if (overflow) break;
    const view = plannedView(action);
    const size = Buffer.byteLength(JSON.stringify(view));
    if (bytes + size > PLANNED_EMBED_BYTES) overflow = true;
    else {
      embed.push(view);
      bytes += size;
    }
  }
  const overflowNow = overflow && !run.plannedOverflow;
  const items: TransactItem[] = [
    {
      Put: {
        TableName: tableName(),
        Item: { ...pageKey, entity: 'automationPage', cursor: page.cursorIn, examined: page.examined, acted: page.acted, failed: page.failed, at: page.at },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: runKey(page.companyId, page.runId),
        UpdateExpression:
          'SET #status = :running, startedAt = if_not_exists(startedAt, :at), updatedAt = :at, #tasks.#t.#ts = :taskStatus, ' +
          '#tasks.#t.examined = #tasks.#t.examined + :e, #tasks.#t.acted = #tasks.#t.acted + :a, #tasks.#t.#f = #tasks.#t.#f + :f, ' +
          'plannedCount = if_not_exists(plannedCount, :zero) + :planned' +
          (embed.length ? ', planned = list_append(if_not_exists(planned, :none), :embed), plannedBytes = :bytes' : '') +
          (overflowNow ? ', plannedOverflow = :true' : '') +
          ' ADD version :one',
        // A page of a run already finished (a straggler after the local stack stopped it) changes nothing.
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(finishedAt)',
        ExpressionAttributeNames: { '#status': 'status', '#tasks': 'tasks', '#t': page.task, '#ts': 'status', '#f': 'failed' },
        ExpressionAttributeValues: {
          ':running': 'running',
          ':at': page.at,
          ':taskStatus': page.last ? 'succeeded' : 'running',
          ':e': page.examined,
          ':a': page.acted,
          ':f': page.failed,
          ':planned': planned,
          ':zero': 0,
          ':one': 1,
          ...(embed.length ? { ':none': [], ':embed': embed, ':bytes': bytes } : {}),
          ...(overflowNow ? { ':true': true } : {}),
        },
      },
    },
  ];
  try {
    await withRetries(() => transact(items, (index) => (index === 0 ? new PageAlreadyRecorded() : runFinished())));
  } catch (error) {
    if (error instanceof PageAlreadyRecorded) return false;
    throw error;
  }
  return true;
}

class PageAlreadyRecorded extends Error {}

const runFinished = () => new ConflictError('No such automation run, or it has finished.', { code: 'run_finished' });

/** A task's page kept failing after its retries: the task is failed, with the error, and the run goes on. */
export async function recordTaskFailure(companyId: string, runId: string, task: string, error: string, at: string): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: runKey(companyId, runId),
        UpdateExpression:
          'SET #tasks.#t.#ts = :failed, #tasks.#t.#err = :error, #status = :running, startedAt = if_not_exists(startedAt, :at), updatedAt = :at ADD version :one',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(finishedAt)',
        ExpressionAttributeNames: { '#tasks': 'tasks', '#t': task, '#ts': 'status', '#err': 'error', '#status': 'status' },
        ExpressionAttributeValues: { ':failed': 'failed', ':error': error, ':running': 'running', ':at': at, ':one': 1 },
      }),
    );
  } catch (e) {
    if (isConditionFailure(e)) throw runFinished();
    throw e;
  }
}

/**
 * Ends a run: its status and final task statuses, and the company's lock released if this run still holds it (a
 * lock that expired and was taken by a later run is left alone). Finishing twice changes nothing the second time.
 */
export async function saveFinishedRun(run: AutomationRun): Promise<void> {
  if (!run.finishedAt) throw new Error('saveFinishedRun needs finishedAt');
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: runKey(run.companyId, run.id),
      UpdateExpression: 'SET #status = :status, #tasks = :tasks, finishedAt = :finishedAt, updatedAt = :finishedAt ADD version :one',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#status': 'status', '#tasks': 'tasks' },
      ExpressionAttributeValues: {
        ':status': run.status,
        ':tasks': runToItem(run).tasks,
        ':finishedAt': run.finishedAt,
        ':one': 1,
      },
    }),
  );
  await releaseLock(run.companyId, run.id);
}

/** Holds the company's run lock longer while `runId` holds it (a run that continues in a fresh execution). */
export async function extendLock(companyId: string, runId: string, lockedUntil: string): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: lockKey(companyId),
        UpdateExpression: 'SET lockedUntil = :until',
        ConditionExpression: 'runId = :run',
        ExpressionAttributeValues: { ':run': runId, ':until': lockedUntil },
      }),
    );
  } catch (error) {
    // The lock expired and another run holds it: the once-markers keep the two from doing anything twice.
    if (!isConditionFailure(error)) throw error;
  }
}

/** Deletes the company's run lock if `runId` holds it. */
export async function releaseLock(companyId: string, runId: string): Promise<void> {
  try {
    await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: lockKey(companyId),
        ConditionExpression: 'runId = :run',
        ExpressionAttributeValues: { ':run': runId },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
