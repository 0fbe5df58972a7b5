import type { AutomationRun } from '../domain/automation-run.js';
import type { Page } from '../store/dynamo.js';
import { listPlannedActions, listRunActions, listRuns, requireRun, type StoredRunAction } from '../store/automation-runs.js';

/** How many planned actions a dry run's body embeds; all of them are rows of `GET /v1/automation/runs/{id}/actions`. */
export const PLANNED_EMBED_LIMIT = 100;

export interface RunWithPlan {
  run: AutomationRun;
  /** A dry run's first planned actions (at most PLANNED_EMBED_LIMIT); undefined for a run that changes things. */
  planned?: StoredRunAction[];
}

const withPlan = async (run: AutomationRun): Promise<RunWithPlan> =>
  run.dryRun ? { run, planned: run.plannedCount ? await listPlannedActions(run.companyId, run.id, PLANNED_EMBED_LIMIT) : [] } : { run };

export async function readRun(companyId: string, runId: string): Promise<RunWithPlan> {
  return withPlan(await requireRun(companyId, runId));
}

export async function readRuns(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<RunWithPlan>> {
  const page = await listRuns(companyId, limit, startKey);
  return { items: await Promise.all(page.items.map(withPlan)), lastKey: page.lastKey };
}

/** A run's actions, in the order it did them; an unknown run is a NotFoundError. */
export async function readRunActions(companyId: string, runId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<StoredRunAction>> {
  await requireRun(companyId, runId);
  return listRunActions(companyId, runId, limit, startKey);
}
