import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { tracer } from '../../observability/tracer.js';
import { injectFaultsInto } from '../../faults/sdk.js';
import type { Workflow } from './port.js';

/** Starts executions of the automation state machine (`BILLOW_STATE_MACHINE_ARN`); needs states:StartExecution on it. */
export class StepFunctionsWorkflow implements Workflow {
  private readonly client: SFNClient;

  constructor(
    private readonly stateMachineArn: string,
    client?: SFNClient,
  ) {
    this.client = client ?? tracer.captureAWSv3Client(injectFaultsInto(new SFNClient({}), 'sfn'));
  }

  async start(name: string, input: Record<string, unknown>): Promise<'started' | 'already_started'> {
    try {
      await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }));
      return 'started';
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') return 'already_started';
      throw error;
    }
  }
}
