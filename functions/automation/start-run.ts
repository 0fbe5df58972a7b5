import { executionNameOf, finishedTasks, newRun, RUN_LOCK_MS, type AutomationRun, type RunTrigger } from '../domain/automation-run.js';
import { currentTime } from '../domain/clock.js';
import { todayIn } from '../domain/dates.js';
import { ValidationError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { count, METRIC } from '../observability/metrics.js';
import { getServices } from '../services.js';
import { requireCompany } from '../store/companies.js';
import { AlreadyStartedError, insertRun, releaseLock, saveFinishedRun } from '../store/automation-runs.js';
import { TASK_NAMES, type TaskName } from './task.js';

/**
 * What the state machine is started with: the run, which tasks it does (a Choice state per task reads `tasks`), the
 * page state (the cursor of the task being paged, the pages this execution has run) and, for a run that continues in
 * a fresh execution, the task it resumes (`resume`, with `page.cursor`).
 */
export interface RunExecutionInput {
  runId: string;
  companyId: string;
  date: string;
  dryRun: boolean;
  tasks: Record<TaskName, boolean>;
  page: { cursor: string; pages: number };
  resume?: { task: TaskName };
}

export interface StartRunInput {
  companyId: string;
  /** The company-local date to run for. @default the company's today */
  date?: string;
  /** @default every task */
  tasks?: readonly TaskName[];
  dryRun?: boolean;
  trigger: RunTrigger;
}

export type StartRunResult = { outcome: 'started'; run: AutomationRun } | { outcome: 'already_started' };

export const executionInputOf = (run: AutomationRun): RunExecutionInput => ({
  runId: run.id,
  companyId: run.companyId,
  date: run.date,
  dryRun: run.dryRun,
  tasks: Object.fromEntries(TASK_NAMES.map((name) => [name, run.tasks.find((t) => t.name === name)?.status !== 'skipped'])) as Record<TaskName, boolean>,
  page: { cursor: '', pages: 0 },
});

/**
 * Starts a run: records it `queued` with the company's run lock (another run queued or running → ConflictError
 * `run_in_progress`), then starts its execution, named `<companyId>-<date>` when the schedule starts it (a date the
 * schedule already started → `already_started`, nothing recorded) and `<companyId>-<date>-<runId>` from the API.
 * If the execution cannot be started the run is recorded as failed and the lock released.
 */
export async function startRun(input: StartRunInput): Promise<StartRunResult> {
  const company = await requireCompany(input.companyId);
  const date = input.date ?? todayIn(company.own.timeZone);
  const requested = input.tasks ?? TASK_NAMES;
  if (!requested.length) throw ValidationError.field('tasks', 'Name at least one task.');
  const now = currentTime();
  const id = newId('run', now.getTime());
  const scheduled = input.trigger === 'schedule';
  const run = newRun({
    id,
    companyId: company.id,
    date,
    dryRun: input.dryRun ?? false,
    trigger: input.trigger,
    taskNames: TASK_NAMES,
    requested,
    executionName: executionNameOf(company.id, date, scheduled ? undefined : id),
    now: now.toISOString(),
  });
  try {
    // The lock follows the real clock, not the business one (domain/clock.ts): it must outlast the execution's real
    // timeout, whatever date the run is for.
    await insertRun(run, { lockedUntil: new Date(Date.now() + RUN_LOCK_MS).toISOString(), now: new Date().toISOString(), scheduled });
  } catch (error) {
    if (error instanceof AlreadyStartedError) return { outcome: 'already_started' };
    throw error;
  }
  let started: 'started' | 'already_started';
  try {
    started = await getServices().workflow.start(run.executionName, { ...executionInputOf(run) });
  } catch (error) {
    await endUnstarted(run, `The execution could not be started: ${(error as Error).message}`);
    count(METRIC.automationRunsFailed);
    throw error;
  }
  if (started === 'already_started') {
    // Only a scheduled name can exist already (an API run's name holds its new id): that date ran before.
    await endUnstarted(run, 'An execution of this date was already started.');
    return { outcome: 'already_started' };
  }
  count(METRIC.automationRunsStarted);
  return { outcome: 'started', run };
}

async function endUnstarted(run: AutomationRun, reason: string): Promise<void> {
  const ended = finishedTasks(run.tasks, reason);
  await saveFinishedRun({ ...run, status: 'failed', tasks: ended.tasks, finishedAt: currentTime().toISOString() }).catch(() =>
    releaseLock(run.companyId, run.id),
  );
}
