import { LocalWorkflow, useLocalWorkflow } from '../../functions/adapters/workflow/local.js';
import { handler as dispatch } from '../../functions/automation/dispatcher.js';
import { handleTask } from '../../functions/automation/task-handler.js';
import { DISPATCH_RATE, localRunDefinition } from '../../lib/automation.js';

export interface LocalAutomation {
  workflow: LocalWorkflow;
  stop(): Promise<void>;
}

/**
 * The automation on this machine: the run state machine's definition as the stack deploys it (lib/automation.ts),
 * executed in-process by aws-local-stepfunctions with every Task state running the task Lambda's handler; starting
 * a run (the API, the dispatcher) goes through the local workflow adapter. The EventBridge schedule is a timer that
 * calls the dispatcher every hour, as in AWS (not at start: a run for today starts within the hour).
 */
export function startLocalAutomation(): LocalAutomation {
  const workflow = new LocalWorkflow({ definition: localRunDefinition(), handlerOf: () => handleTask });
  useLocalWorkflow(workflow);
  const timer = setInterval(() => {
    dispatch({}).catch((error: unknown) => console.error(`Starting the scheduled automation runs: ${(error as Error).message}`));
  }, DISPATCH_RATE.toMilliseconds());
  timer.unref();
  return {
    workflow,
    // A run cut short by Ctrl-C is finished as failed (its unfinished tasks say so) and its lock released, so the
    // next start can run the company again at once; running the date again does only what was left.
    stop: async () => {
      clearInterval(timer);
      for (const input of await workflow.abortAll()) {
        await handleTask({ action: 'finish', runId: input.runId, companyId: input.companyId }).catch((error: unknown) =>
          console.error(`Finishing automation run ${String(input.runId)}: ${(error as Error).message}`),
        );
      }
      useLocalWorkflow(undefined);
    },
  };
}
