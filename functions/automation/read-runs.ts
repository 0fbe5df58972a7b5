import type { Page } from '../store/dynamo.js';
import { listRunActions, listRuns, requireRun, requireRunWithPlan, type RunWithPlan, type StoredRunAction } from '../store/automation-runs.js';

export { PLANNED_EMBED_LIMIT, type RunWithPlan } from '../store/automation-runs.js';

/** A run; a dry run with its first planned actions (kept on the run item: one read). */
export async function readRun(companyId: string, runId: string): Promise<RunWithPlan> {
  return requireRunWithPlan(companyId, runId);
}

/** A page of the company's runs: one query, whatever the dry runs among them planned. */
export async function readRuns(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<RunWithPlan>> {
  return listRuns(companyId, limit, startKey);
}

/** A run's actions, in the order it did them; an unknown run is a NotFoundError. */
export async function readRunActions(companyId: string, runId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<StoredRunAction>> {
  await requireRun(companyId, runId);
  return listRunActions(companyId, runId, limit, startKey);
}
