import * as z from 'zod';
import { RUN_STATUSES, RUN_TASK_STATUSES, RUN_TRIGGERS } from '../domain/automation-run.js';
import { calendarDate, listOf, timestamp } from '../http/schemas.js';
import { PLANNED_EMBED_LIMIT } from './read-runs.js';
import { TASK_NAMES } from './task.js';

/** What the API answers about automation runs (the views in routes.ts). */

const OUTCOMES = ['done', 'skipped', 'failed', 'planned'] as const;

export const plannedActionSchema = z
  .strictObject({
    task: z.enum(TASK_NAMES),
    objectType: z.string(),
    objectId: z.string(),
    clientId: z.string(),
    action: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'PlannedAction' });

export const runSchema = z
  .strictObject({
    id: z.string(),
    companyId: z.string(),
    date: calendarDate,
    dryRun: z.boolean(),
    status: z.enum(RUN_STATUSES),
    trigger: z.enum(RUN_TRIGGERS),
    tasks: z.array(
      z.strictObject({
        name: z.enum(TASK_NAMES),
        status: z.enum(RUN_TASK_STATUSES),
        examined: z.number().int().min(0),
        acted: z.number().int().min(0),
        failed: z.number().int().min(0),
        error: z.string().optional(),
      }),
    ),
    planned: z
      .array(plannedActionSchema)
      .optional()
      .meta({ description: `Dry runs only: the first ${PLANNED_EMBED_LIMIT} planned actions (all of them: \`GET /v1/automation/runs/{id}/actions\`).` }),
    plannedCount: z.number().int().min(0).meta({ description: 'How many actions a dry run planned (0 for a real run).' }),
    executionName: z.string().meta({ description: 'The Step Functions execution that runs it.' }),
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
    version: z.number().int().min(1),
  })
  .meta({ id: 'AutomationRun' });

export const runListSchema = listOf(runSchema);

export const runActionSchema = z
  .strictObject({
    task: z.enum(TASK_NAMES),
    objectType: z.string(),
    objectId: z.string(),
    clientId: z.string(),
    action: z.string(),
    outcome: z.enum(OUTCOMES),
    message: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    at: timestamp,
  })
  .meta({ id: 'AutomationAction' });

export const runActionListSchema = listOf(runActionSchema);
