import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { logger } from '../../observability/logger.js';
import type { Workflow } from './port.js';

export { localWorkflow, useLocalWorkflow } from './local-registry.js';

/** What a Task state of the definition runs locally: the Lambda handler its `FunctionName` names, given the payload. */
export type LocalTaskHandler = (payload: unknown) => Promise<unknown>;

export interface LocalWorkflowOptions {
  /** The state machine's ASL, as synthesised for AWS (lib/automation.ts `localRunDefinition`). */
  definition: Record<string, unknown>;
  /** The handler of each Task state, by state name. */
  handlerOf: (stateName: string) => LocalTaskHandler;
  /** Milliseconds between retries (tests: 0). @default the definition's own intervals */
  retryIntervalMs?: number;
}

interface TaskState {
  Type: string;
  Resource?: string;
}

interface RunningExecution {
  input: Record<string, unknown>;
  abort: () => void;
  done: Promise<void>;
}

/**
 * Runs executions of the deployed definition in this process with aws-local-stepfunctions. Every Task state is a
 * `lambda:invoke`: the library calls the local handler with `{ FunctionName, Payload }` and the state then reads the
 * result as Lambda's `{ StatusCode, Payload }`, so the handler's answer is wrapped the same way. Names are unique for
 * the life of the process, like execution names in an account (the scheduled-run markers guard across restarts).
 */
export class LocalWorkflow implements Workflow {
  private readonly names = new Set<string>();
  private readonly running = new Set<RunningExecution>();
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, (input: unknown) => Promise<unknown>>;
  private readonly retryOverrides: Record<string, number>;

  constructor(options: LocalWorkflowOptions) {
    this.machine = new StateMachine(options.definition as unknown as StateMachineDefinition, { validationOptions: { checkArn: false } });
    const states = Object.entries((options.definition.States ?? {}) as Record<string, TaskState>).filter(([, s]) => s.Type === 'Task');
    this.handlers = Object.fromEntries(
      states.map(([name]) => {
        const handle = options.handlerOf(name);
        return [name, async (input: unknown) => ({ StatusCode: 200, Payload: await handle((input as { Payload: unknown }).Payload) })];
      }),
    );
    const interval = options.retryIntervalMs;
    this.retryOverrides = interval === undefined ? {} : Object.fromEntries(states.map(([name]) => [name, interval]));
  }

  async start(name: string, input: Record<string, unknown>): Promise<'started' | 'already_started'> {
    if (this.names.has(name)) return 'already_started';
    this.names.add(name);
    const execution = this.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: this.handlers as never, retryIntervalOverrides: this.retryOverrides },
      noThrowOnAbort: true,
    });
    const running: RunningExecution = {
      input,
      abort: () => execution.abort(),
      done: execution.result.then(
        () => undefined,
        (error: unknown) => logger.error('Local automation execution failed', { name, error }),
      ),
    };
    this.running.add(running);
    void running.done.finally(() => this.running.delete(running));
    return 'started';
  }

  /** Resolves when every execution started so far has ended (tests). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running].map((r) => r.done));
  }

  /** Stops every execution still running (the local stack is stopping) and returns the inputs they were started with. */
  async abortAll(): Promise<Record<string, unknown>[]> {
    const stopped = [...this.running];
    for (const execution of stopped) execution.abort();
    await Promise.all(stopped.map((r) => r.done));
    return stopped.map((r) => r.input);
  }
}
