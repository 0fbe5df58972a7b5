/**
 * The workflow engine that runs an automation run: Step Functions in AWS (`sfn.ts`), the same state-machine
 * definition run in-process by aws-local-stepfunctions locally (`local.ts`). An execution's name is unique: starting
 * a name already used answers `already_started` (Step Functions' ExecutionAlreadyExists), which is what guards a
 * company's scheduled date against a second start.
 */
export interface Workflow {
  start(name: string, input: Record<string, unknown>): Promise<'started' | 'already_started'>;
}
