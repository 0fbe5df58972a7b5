import * as z from 'zod';
import { isoDate } from '../http/schemas.js';
import { TASK_NAMES } from './task.js';

/** `POST /v1/automation/runs`: every field optional (the company's today, every task, a real run); an empty body is `{}`. */
export const startRunBody = z.strictObject({
  date: isoDate.optional().meta({ description: "The company-local date to run for; default: the company's today." }),
  tasks: z
    .array(z.enum(TASK_NAMES))
    .min(1)
    .max(TASK_NAMES.length)
    .refine((names) => new Set(names).size === names.length, 'Name each task once.')
    .optional()
    .meta({ description: 'The tasks to run (they run in the contract order whatever the order given); default: all.' }),
  dryRun: z.boolean().optional().meta({ description: 'Plan only: `planned` lists what the run would do; nothing changes.' }),
});
