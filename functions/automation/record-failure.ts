import { currentTime } from '../domain/clock.js';
import { recordTaskFailure } from '../store/automation-runs.js';
import type { TaskName } from './task.js';

/** What Step Functions hands a Catch: the error's name and its cause (for a Lambda error, its JSON). */
export interface CaughtError {
  Error?: string;
  Cause?: string;
}

/** The message of a caught error: a Lambda error's `errorMessage` when the cause is its JSON, else the cause or name. */
export function messageOf(error: CaughtError): string {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage.slice(0, 1000);
  } catch {
    // Not JSON: the cause as it is.
  }
  return (cause || error.Error || 'The task failed.').slice(0, 1000);
}

/** A task whose page kept failing after its retries (the state machine's Catch): recorded on the run, which goes on. */
export async function recordFailure(input: { companyId: string; runId: string; task: TaskName; error: CaughtError }): Promise<void> {
  await recordTaskFailure(input.companyId, input.runId, input.task, messageOf(input.error), currentTime().toISOString());
}
