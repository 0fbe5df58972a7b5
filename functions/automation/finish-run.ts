import { finishedTasks, type AutomationRun } from '../domain/automation-run.js';
import { currentTime } from '../domain/clock.js';
import { count, countForTask, METRIC } from '../observability/metrics.js';
import { releaseLock, requireRun, saveFinishedRun } from '../store/automation-runs.js';

/**
 * The run's last step, on every path of the state machine: the run succeeds unless a task failed or never finished,
 * and the company's run lock is released. Finishing a finished run again changes nothing.
 */
export async function finishRun(input: { companyId: string; runId: string }): Promise<AutomationRun> {
  const run = await requireRun(input.companyId, input.runId);
  // Finished, but the lock's release may have failed after the run was saved (the step is then retried): release it
  // again, or the company could start no run until the lock expires (found by the fault workload).
  if (run.finishedAt) {
    await releaseLock(run.companyId, run.id);
    return run;
  }
  const ended = finishedTasks(run.tasks);
  const finished: AutomationRun = { ...run, ...ended, finishedAt: currentTime().toISOString() };
  await saveFinishedRun(finished);
  count(finished.status === 'failed' ? METRIC.automationRunsFailed : METRIC.automationRunsSucceeded);
  for (const task of finished.tasks) {
    if (task.status === 'skipped') continue;
    countForTask(METRIC.automationTaskActions, task.name, task.acted);
    countForTask(METRIC.automationTaskFailures, task.name, task.failed + (task.status === 'failed' ? 1 : 0));
  }
  const objectsFailed = finished.tasks.reduce((sum, task) => sum + task.failed, 0);
  if (objectsFailed) count(METRIC.automationObjectsFailed, objectsFailed);
  return finished;
}
