import { currentTime } from '../domain/clock.js';
import { todayIn } from '../domain/dates.js';
import { ConflictError } from '../domain/errors.js';
import { logger } from '../observability/logger.js';
import { tracedHandler } from '../observability/tracer.js';
import { getServices } from '../services.js';
import { getRun, getScheduledRunId } from '../store/automation-runs.js';
import { listCompanies } from '../store/companies.js';
import { executionInputOf, startRun } from './start-run.js';

/** Companies started at once: each start is a few reads, one transaction and a StartExecution. */
export const DISPATCH_CONCURRENCY = 10;

/** A scheduled run still `queued` this long after it was recorded lost its start (a crash in between): start it again. */
export const REQUEUE_AFTER_MS = 15 * 60 * 1000;

export interface DispatchResult {
  started: number;
  /** The company's run for its date was already started (this hour or an earlier one). */
  alreadyStarted: number;
  /** Another run of the company is queued or running: the next hour tries again. */
  busy: number;
  /** A queued run whose execution was started again. */
  restarted: number;
  failed: number;
}

/**
 * The hourly schedule's entry: for every company, its run for its own local date, started once. A company's date
 * turns at its local midnight, so the first dispatch after that starts the company's day (within the hour); later
 * dispatches that day find the date's marker and start nothing. A company busy with another run (one started
 * through the API) is tried again the next hour. One company's failure does not stop the others; the dispatch throws
 * at the end if any failed, so the schedule's retries (and then its dead-letter queue) see it.
 */
export async function dispatchRuns(): Promise<DispatchResult> {
  const result: DispatchResult = { started: 0, alreadyStarted: 0, busy: 0, restarted: 0, failed: 0 };
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await listCompanies(100, startKey);
    await eachAtMost(DISPATCH_CONCURRENCY, page.items, async (company) => {
      const date = todayIn(company.own.timeZone);
      try {
        const runId = await getScheduledRunId(company.id, date);
        if (runId) {
          result[(await restartIfLost(company.id, runId)) ? 'restarted' : 'alreadyStarted']++;
          return;
        }
        const started = await startRun({ companyId: company.id, date, trigger: 'schedule' });
        result[started.outcome === 'started' ? 'started' : 'alreadyStarted']++;
      } catch (error) {
        if (error instanceof ConflictError && error.code === 'run_in_progress') {
          result.busy++;
          return;
        }
        result.failed++;
        logger.error('Starting a scheduled automation run failed', { companyId: company.id, date, error });
      }
    });
    startKey = page.lastKey;
  } while (startKey);
  logger.info('Automation dispatch', { ...result });
  if (result.failed) throw new Error(`${result.failed} company run(s) could not be started (${result.started} started).`);
  return result;
}

/**
 * A scheduled run recorded but never started (the dispatcher stopped between the two): its execution is started
 * with the same name, which Step Functions refuses if it did start after all.
 */
async function restartIfLost(companyId: string, runId: string): Promise<boolean> {
  const run = await getRun(companyId, runId);
  if (run?.status !== 'queued' || currentTime().getTime() - Date.parse(run.createdAt) < REQUEUE_AFTER_MS) return false;
  return (await getServices().workflow.start(run.executionName, { ...executionInputOf(run) })) === 'started';
}

/** Runs `work` on every item, at most `limit` at a time. */
async function eachAtMost<T>(limit: number, items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export const handler = tracedHandler(async (_scheduleEvent: unknown) => dispatchRuns());
