import * as z from 'zod';
import { ValidationError } from '../domain/errors.js';
import { metrics } from '../observability/metrics.js';
import { tracedHandler } from '../observability/tracer.js';
import { finishRun } from './finish-run.js';
import { recordFailure } from './record-failure.js';
import { continueRun } from './continue-run.js';
import { runTaskPage, type TaskPageResult } from './run-task-page.js';
import { TASK_NAMES } from './task.js';

const run = { runId: z.string().min(1).max(100), companyId: z.string().min(1).max(100) };

/** What the state machine's Task states send (lib/automation.ts builds the payloads). */
const taskEvent = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('page'),
    ...run,
    date: z.iso.date(),
    dryRun: z.boolean(),
    task: z.enum(TASK_NAMES),
    cursor: z.string().max(4096).nullable(),
    pages: z.number().int().min(0).optional(),
  }),
  z.strictObject({ action: z.literal('continue'), ...run, task: z.enum(TASK_NAMES), cursor: z.string().min(1).max(4096) }),
  z.strictObject({
    action: z.literal('fail'),
    ...run,
    task: z.enum(TASK_NAMES),
    error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }),
  }),
  z.strictObject({ action: z.literal('finish'), ...run }),
]);

export type TaskResult = TaskPageResult | { recorded: true } | { status: string } | { executionName: string };

/**
 * The Step Functions task Lambda: one page of a task (`page` → `{ cursor, done, pages, continue }`), a task that kept
 * failing (`fail`), a run that goes on in a fresh execution (`continue`), or the end of a run (`finish`). One function
 * for all, so the run's steps share one role.
 */
export async function handleTask(event: unknown): Promise<TaskResult> {
  const parsed = taskEvent.safeParse(event);
  if (!parsed.success) {
    throw new ValidationError(
      'Not a task event.',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  const input = parsed.data;
  switch (input.action) {
    case 'page':
      return runTaskPage(input);
    case 'continue':
      return continueRun(input);
    case 'fail':
      await recordFailure(input);
      return { recorded: true };
    case 'finish': {
      const finished = await finishRun(input);
      return { status: finished.status };
    }
  }
}

export const handler = tracedHandler(async (event: unknown) => {
  try {
    return await handleTask(event);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
});
