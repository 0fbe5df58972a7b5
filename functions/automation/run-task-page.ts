import * as z from 'zod';
import { currentTime } from '../domain/clock.js';
import { ValidationError } from '../domain/errors.js';
import { recordPage } from '../store/automation-runs.js';
import { TASK_NAMES, type RunContext, type TaskName } from './task.js';
import { WORK_SOURCES } from './tasks/index.js';

/** Index entries a work source reads per page: one Lambda invocation, well inside its timeout. */
export const PAGE_LIMIT = 50;

/**
 * Pages one execution runs before the run continues in a fresh execution (a Standard execution keeps at most 25,000
 * history events; a page costs about 7). Tests lower it.
 */
export const EXECUTION_LIMITS = { pagesPerExecution: 2500 };

/**
 * Where a task continues: which of its sources (WORK_SOURCES[task], in order), the source's own key, and the page's
 * number within the task (it orders the run's action rows). Carried by the state machine as an opaque string.
 */
const cursorSchema = z.strictObject({ s: z.number().int().min(0), k: z.string().nullable(), p: z.number().int().min(0) });
type TaskCursor = z.infer<typeof cursorSchema>;

const encodeTaskCursor = (cursor: TaskCursor) => JSON.stringify(cursor);

/** A task's first page: no cursor (the state machine starts each task with an empty string). */
export function decodeTaskCursor(cursor: string | null): TaskCursor {
  if (cursor === null || cursor === '') return { s: 0, k: null, p: 0 };
  try {
    return cursorSchema.parse(JSON.parse(cursor));
  } catch {
    throw ValidationError.field('cursor', 'Not a task cursor.');
  }
}

export interface TaskPageInput extends RunContext {
  task: TaskName;
  cursor: string | null;
  /** Pages this execution has run so far, all tasks together. */
  pages?: number;
}

export interface TaskPageResult {
  cursor: string | null;
  done: boolean;
  /** Pages this execution has run, this one included. */
  pages: number;
  /** The task is not done but this execution has run its share of pages: the run goes on in a fresh execution. */
  continue: boolean;
}

/**
 * Runs one page of a task: the page of the source the cursor names, recorded on the run (once, even when Step
 * Functions runs the page again), and the cursor of the next page: the same source's next key, else the next
 * source's first page, else null (the task is done). A page that throws is retried by the state machine.
 */
export async function runTaskPage(input: TaskPageInput): Promise<TaskPageResult> {
  const sources = WORK_SOURCES[input.task];
  const at = decodeTaskCursor(input.cursor);
  const ctx: RunContext = { companyId: input.companyId, runId: input.runId, date: input.date, dryRun: input.dryRun };
  const source = sources[at.s];
  const page = source ? await source.page(ctx, at.k, PAGE_LIMIT) : { examined: 0, acted: 0, failed: 0, actions: [], nextKey: null };
  let next: TaskCursor | null = null;
  if (page.nextKey !== null) next = { s: at.s, k: page.nextKey, p: at.p + 1 };
  else if (at.s + 1 < sources.length) next = { s: at.s + 1, k: null, p: at.p + 1 };
  await recordPage({
    companyId: input.companyId,
    runId: input.runId,
    task: input.task,
    taskIndex: TASK_NAMES.indexOf(input.task),
    source: at.s,
    cursorIn: input.cursor,
    pageNo: at.p,
    examined: page.examined,
    acted: page.acted,
    failed: page.failed,
    actions: page.actions,
    last: next === null,
    at: currentTime().toISOString(),
  });
  const pages = (input.pages ?? 0) + 1;
  return { cursor: next && encodeTaskCursor(next), done: next === null, pages, continue: next !== null && pages >= EXECUTION_LIMITS.pagesPerExecution };
}
