import { finishedTasks, type AutomationRun } from '../domain/automation-run.js';
import { currentTime } from '../domain/clock.js';
import { count, countForTask, METRIC } from '../observability/metrics.js';
import { requireRun, saveFinishedRun } from '../store/automation-runs.js';

/**
 * The run's last step, on every path of the state machine: the run succeeds unless a task failed or never finished,
 * and the company's run lock is released. Finishing a finished run again changes nothing.
 */
export async function finishRun(input: { companyId: string; runId: string }): Promise<AutomationRun> {
  const run = await requireRun(input.companyId, input.runId);
  if (run.finishedAt) return run;
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
