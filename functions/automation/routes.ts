import { companyOf } from '../domain/principal.js';
import { decodeCursor, encodeCursor, listQuery } from '../http/cursor.js';
import { json, route } from '../http/route.js';
import { idParam } from '../http/schemas.js';
import type { StoredRunAction } from '../store/automation-runs.js';
import { readRun, readRunActions, readRuns, type RunWithPlan } from './read-runs.js';
import { runActionListSchema, runListSchema, runSchema } from './response-schemas.js';
import { startRunBody } from './schemas.js';
import { startRun } from './start-run.js';

const STAFF = ['staff'] as const;

/** A run as the API shows it; `planned` only on dry runs. */
function runView({ run, planned }: RunWithPlan) {
  return {
    id: run.id,
    companyId: run.companyId,
    date: run.date,
    dryRun: run.dryRun,
    status: run.status,
    trigger: run.trigger,
    tasks: run.tasks,
    ...(planned
      ? { planned: planned.map(({ task, objectType, objectId, clientId, action, details }) => ({ task, objectType, objectId, clientId, action, details })) }
      : {}),
    plannedCount: run.plannedCount,
    executionName: run.executionName,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    createdAt: run.createdAt,
    updatedAt: run.updatedAt,
    version: run.version,
  };
}

const actionView = (a: StoredRunAction) => ({
  task: a.task,
  objectType: a.objectType,
  objectId: a.objectId,
  clientId: a.clientId,
  action: a.action,
  outcome: a.outcome,
  message: a.message ?? null,
  details: a.details,
  at: a.at,
});

export const automationRoutes = [
  route({
    method: 'POST',
    path: '/v1/automation/runs',
    area: 'automation',
    access: STAFF,
    summary: "Start an automation run for a date (default: the company's today); 409 while another run of the company is queued or running",
    tags: ['Automation'],
    body: startRunBody,
    successStatus: 202,
    response: runSchema,
    errors: [409],
    handle: async ({ principal, body }) => {
      // The run lists its tasks in the contract order (newRun), whatever order the body names them in.
      const result = await startRun({ companyId: companyOf(principal), date: body.date, tasks: body.tasks, dryRun: body.dryRun, trigger: 'api' });
      // An API run's execution name holds its new id, so it is never already started.
      if (result.outcome !== 'started') throw new Error('An API run was reported as already started.');
      return json(202, runView({ run: result.run, planned: result.run.dryRun ? [] : undefined }));
    },
  }),
  route({
    method: 'GET',
    path: '/v1/automation/runs',
    area: 'automation',
    access: STAFF,
    summary: "The company's automation runs, newest first",
    tags: ['Automation'],
    query: listQuery,
    response: runListSchema,
    handle: async ({ principal, query }) => {
      const companyId = companyOf(principal);
      const scope = `${companyId}|automation-runs`;
      const page = await readRuns(companyId, query.limit, await decodeCursor(scope, query.cursor));
      return json(200, { data: page.items.map(runView), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  }),
  route({
    method: 'GET',
    path: '/v1/automation/runs/{id}',
    area: 'automation',
    access: STAFF,
    summary: 'An automation run with its per-task counts (and, for a dry run, what it planned)',
    tags: ['Automation'],
    params: idParam,
    response: runSchema,
    handle: async ({ principal, params }) => json(200, runView(await readRun(companyOf(principal), params.id))),
  }),
  route({
    method: 'GET',
    path: '/v1/automation/runs/{id}/actions',
    area: 'automation',
    access: STAFF,
    summary: 'What a run did, skipped, failed at or planned, one row per object and action, in the order it did them',
    tags: ['Automation'],
    params: idParam,
    query: listQuery,
    response: runActionListSchema,
    handle: async ({ principal, params, query }) => {
      const companyId = companyOf(principal);
      const scope = `${companyId}|automation-run-actions|${params.id}`;
      const page = await readRunActions(companyId, params.id, query.limit, await decodeCursor(scope, query.cursor));
      return json(200, { data: page.items.map(actionView), nextCursor: await encodeCursor(scope, page.lastKey) });
    },
  }),
];
