import { continuationNameOf, RUN_LOCK_MS } from '../domain/automation-run.js';
import { getServices } from '../services.js';
import { extendLock, requireRun } from '../store/automation-runs.js';
import { decodeTaskCursor } from './run-task-page.js';
import { executionInputOf } from './start-run.js';
import { TASK_NAMES, type TaskName } from './task.js';

/**
 * A run whose execution has run its share of pages (EXECUTION_LIMITS) goes on in a fresh execution of the same state
 * machine, from the task and cursor where it stopped, so no execution nears Step Functions' history limit. The new
 * execution's name is made from the run's and the page it resumes at, so a retried continue starts nothing twice.
 * The company's lock is extended by another run timeout.
 */
export async function continueRun(input: { companyId: string; runId: string; task: TaskName; cursor: string }): Promise<{ executionName: string }> {
  const run = await requireRun(input.companyId, input.runId);
  const executionName = continuationNameOf(run.executionName, TASK_NAMES.indexOf(input.task), decodeTaskCursor(input.cursor).p);
  // Real time, like the lock itself (start-run.ts): it guards the execution's real timeout.
  await extendLock(run.companyId, run.id, new Date(Date.now() + RUN_LOCK_MS).toISOString());
  await getServices().workflow.start(executionName, {
    ...executionInputOf(run),
    page: { cursor: input.cursor, pages: 0 },
    resume: { task: input.task },
  });
  return { executionName };
}
