/**
 * A run of the daily automation for one company and local date, as it is recorded (store/automation-runs.ts) and
 * shown (`GET /v1/automation/runs/{id}`). Pure: the task names themselves live with the tasks
 * (functions/automation/task.ts); here a task is known by its name.
 */
/**
 * How long one execution may run (the state machine's timeout, lib/automation.ts). A company's run lock is held at
 * most this long plus a margin, so a lock left by an execution that died is free again once it cannot be running.
 */
export const RUN_TIMEOUT_MS = 6 * 60 * 60 * 1000;
export const RUN_LOCK_MS = RUN_TIMEOUT_MS + 5 * 60 * 1000;

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const RUN_TASK_STATUSES = ['pending', 'running', 'succeeded', 'failed', 'skipped'] as const;
export type RunTaskStatus = (typeof RUN_TASK_STATUSES)[number];

/** What started a run: the hourly schedule (its dispatcher) or `POST /v1/automation/runs`. */
export const RUN_TRIGGERS = ['schedule', 'api'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

export interface RunTask {
  name: string;
  /** `skipped` when the run was not asked to do this task; `failed` when a page kept failing after its retries. */
  status: RunTaskStatus;
  /** Objects looked at, changed (or, in a dry run, planned), and failed at, summed over the task's pages. */
  examined: number;
  acted: number;
  failed: number;
  /** Why the task failed (the last error of the page that kept failing). */
  error?: string;
}

export interface AutomationRun {
  id: string;
  companyId: string;
  /** The company-local date the run is for (`YYYY-MM-DD`). */
  date: string;
  dryRun: boolean;
  trigger: RunTrigger;
  status: RunStatus;
  /** Every task, in the contract's order, requested or not. */
  tasks: RunTask[];
  /** The Step Functions execution that runs it. */
  executionName: string;
  /** Actions a dry run planned (each is an action row with outcome `planned`). */
  plannedCount: number;
  /** When the first page ran; null while queued. */
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** One thing a run did, skipped, failed at or planned, as recorded (the automation's AutomationAction). */
export interface RunAction {
  task: string;
  objectType: string;
  objectId: string;
  clientId: string;
  action: string;
  outcome: 'done' | 'skipped' | 'failed' | 'planned';
  message?: string;
  details: Record<string, unknown>;
}

/** A new run: requested tasks pending, the others skipped. */
export function newRun(input: {
  id: string;
  companyId: string;
  date: string;
  dryRun: boolean;
  trigger: RunTrigger;
  taskNames: readonly string[];
  requested: readonly string[];
  executionName: string;
  now: string;
}): AutomationRun {
  return {
    id: input.id,
    companyId: input.companyId,
    date: input.date,
    dryRun: input.dryRun,
    trigger: input.trigger,
    status: 'queued',
    tasks: input.taskNames.map((name) => ({
      name,
      status: input.requested.includes(name) ? 'pending' : 'skipped',
      examined: 0,
      acted: 0,
      failed: 0,
    })),
    executionName: input.executionName,
    plannedCount: 0,
    startedAt: null,
    finishedAt: null,
    createdAt: input.now,
    updatedAt: input.now,
    version: 1,
  };
}

/**
 * How a run ends: failed when a task failed (a page kept failing after its retries) or never finished (the
 * execution stopped before reaching it); succeeded otherwise. Objects a task could not handle are counted in its
 * `failed` and listed in the actions, but do not fail the run: the rest of the task's work was done, and the next
 * run retries only them.
 */
export function finishedTasks(tasks: readonly RunTask[], reason = 'The run stopped before this task finished.'): { status: RunStatus; tasks: RunTask[] } {
  const ended = tasks.map(
    (task): RunTask => (task.status === 'pending' || task.status === 'running' ? { ...task, status: 'failed', error: task.error ?? reason } : task),
  );
  return { status: ended.some((task) => task.status === 'failed') ? 'failed' : 'succeeded', tasks: ended };
}

/**
 * The Step Functions execution name of a run: `<companyId>-<date>` for the scheduled run (the name is the second
 * guard against starting a company's date twice), `<companyId>-<date>-<runId>` for a run started through the API.
 * Names allow 80 characters of letters, digits, `-` and `_`; Billow's ids and dates fit.
 */
export function executionNameOf(companyId: string, date: string, runId?: string): string {
  const name = runId ? `${companyId}-${date}-${runId}` : `${companyId}-${date}`;
  if (name.length > 80 || !/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`Execution name '${name}' is not a valid Step Functions name`);
  return name;
}

/**
 * The name of the execution a run continues in (`<run's execution name>-<task index>-<page, base 36>`): made from the
 * page it resumes at, so starting it twice is refused by Step Functions. Within 80 characters for every run name.
 */
export function continuationNameOf(executionName: string, taskIndex: number, page: number): string {
  const name = `${executionName}-${taskIndex}-${page.toString(36)}`;
  if (name.length > 80 || !/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`Execution name '${name}' is not a valid Step Functions name`);
  return name;
}
