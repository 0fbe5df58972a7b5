import { App, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { TASK_NAMES } from '../functions/automation/task.js';
import { RUN_TIMEOUT_MS } from '../functions/domain/automation-run.js';
import type { BillowTable, TableAccess } from './data.js';
import type { BillowEmail } from './email.js';
import { BillowFunction, functionEntry } from './function.js';

/** How often the dispatcher looks for companies whose local date has turned. */
export const DISPATCH_RATE = Duration.hours(1);

/**
 * What the dispatcher reads and writes (functions/automation/dispatcher.ts and start-run.ts): every company through
 * GSI1 (Query), a company, its scheduled-run marker and run (Get); a new run with the company's lock and the date's
 * marker (one transaction of Puts); a run that could not be started (Update) and its lock (Delete). No Scan, no batch.
 */
export const DISPATCHER_TABLE_ACCESS: TableAccess = {
  items: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'],
  queryIndexes: true,
};

/** The state names of one task's steps (the local runner and the state-machine test map Task states by name). */
export const taskStateNames = (task: string) => ({
  choose: `${task}?`,
  start: `${task}: first page`,
  page: `${task}: page`,
  more: `${task}: more?`,
  failed: `${task}: record failure`,
  continue: `${task}: continue in a new execution`,
});
export const FINISH_STATE = 'Finish run';
export const RESUME_STATE = 'Resume?';

export interface BillowAutomationProps {
  table: BillowTable;
  email: BillowEmail;
  /** The KMS key of stored payment details (auto-debit charges with stored accounts). */
  paymentKey: kms.IKey;
  /** The Stripe secret key; absent when the simulator is the gateway. */
  gatewaySecret?: secretsmanager.ISecret;
}

/**
 * The daily automation: an EventBridge Scheduler schedule invokes the dispatcher every hour; the dispatcher starts,
 * for each company whose local date has turned, one Standard execution of the run state machine named
 * `<companyId>-<date>`. The state machine runs the tasks in the contract's order, each as a loop of one-page
 * invocations of the task function (functions/automation/task-handler.ts), and finishes the run on every path.
 */
export class BillowAutomation extends Construct {
  readonly taskFunction: BillowFunction;
  readonly dispatcher: BillowFunction;
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: BillowAutomationProps) {
    super(scope, id);
    const environment = { BILLOW_RUNTIME: 'aws', POWERTOOLS_SERVICE_NAME: 'billow', POWERTOOLS_LOG_LEVEL: 'INFO' };

    // The work sources create invoices (and send them), charge stored accounts, send notices and keep the mail log:
    // the table (batch writes of a run's action rows included), mail, blobs, the payment key and the gateway.
    this.taskFunction = new BillowFunction(this, 'TaskFunction', {
      entry: functionEntry('automation', 'task-handler.ts'),
      description: 'Billow automation: one page of a task of a run, a failed task, or the end of a run',
      timeout: Duration.minutes(5),
      environment,
      adapters: ['mailer', 'blobs', 'cipher', 'gateway', 'workflow'],
    })
      .bindTable(props.table, 'readWrite')
      .bindMailer(props.email)
      .bindBlobs(props.email.blobBucket, 'readWrite')
      .bindPaymentKey(props.paymentKey);
    if (props.gatewaySecret) this.taskFunction.bindGatewaySecret(props.gatewaySecret);

    this.logGroup = new logs.LogGroup(this, 'StateMachineLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    // Named, so the task function can be granted StartExecution on it (a run continues in a fresh execution) by an ARN
    // built from the name: a reference would make the function and the state machine depend on each other.
    const stateMachineName = `${Stack.of(this).stackName}-AutomationRun`;
    this.stateMachine = new sfn.StateMachine(this, 'RunStateMachine', { ...runStateMachineProps(this, this.taskFunction, this.logGroup), stateMachineName });
    const stateMachineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.taskFunction.bindWorkflow(sfn.StateMachine.fromStateMachineArn(this, 'RunStateMachineByName', stateMachineArn));
    Validations.of(this.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.taskFunction.node.defaultChild as never)}.Arn>:*]`,
      reason:
        "lambda:InvokeFunction on the task function's qualified ARNs (versions and aliases), as LambdaInvoke's grant writes it; the state machine invokes only the task function.",
    });
    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only the CloudWatch Logs vended-delivery actions (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing use Resource *: they support no resource-level permissions.',
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DispatchDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue: of the dispatch schedule (Scheduler target DLQ) and of the dispatcher it invokes (on-failure destination). cdk-nag only recognises SQS redrive policies.',
    });

    this.dispatcher = new BillowFunction(this, 'Dispatcher', {
      entry: functionEntry('automation', 'dispatcher.ts'),
      description: "Billow automation: starts each company's run for its local date",
      memorySize: 512,
      // Shorter than the rate, so dispatches do not pile up.
      timeout: Duration.minutes(10),
      environment,
      adapters: ['workflow'],
    })
      .bindTable(props.table, DISPATCHER_TABLE_ACCESS)
      .bindWorkflow(this.stateMachine);
    // Scheduler invokes asynchronously: a dispatch that throws is retried twice by Lambda, then recorded in the queue.
    this.dispatcher.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.deadLetterQueue) });

    const invokeRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Billow: lets the automation schedule invoke its dispatcher and write to its dead-letter queue',
    });
    Validations.of(invokeRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.dispatcher.node.defaultChild as never)}.Arn>:*]`,
      reason:
        "lambda:InvokeFunction on the dispatcher's qualified ARNs (versions and aliases), as Lambda's grantInvoke writes it; the role can invoke nothing else, and the schedule invokes the unqualified function.",
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: "Billow: start each company's automation run for its local date",
      schedule: scheduler.ScheduleExpression.rate(DISPATCH_RATE),
      target: new schedulerTargets.LambdaInvoke(this.dispatcher, {
        role: invokeRole,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(30),
      }),
    });
  }
}

/**
 * The run state machine's properties: a Standard workflow, JSONPath only (no JSONata, no variables, no Distributed
 * Map) so that aws-local-stepfunctions runs the same definition locally. For each task in TASK_NAMES order:
 *
 *   Resume? ──resume.task = T──────────────────────────────> T: page          (a run continued from a past execution)
 *      └─otherwise─> first task's "?"
 *   T? ──not requested──────────────────────────────────────────────────────────────────┐
 *     └─requested─> T: first page (cursor "") ─> T: page ─> T: more? ─done false──> T: page
 *                                                  │ (Retry)   ├─continue─> T: continue in a new execution ─> Run continued
 *                                                  │           └─otherwise──────────────────────────────────┤
 *                                                  └─Catch─> T: record failure ──────────────────────────────┤
 *                                                                                           next task's ? <┘
 *   … after the last task: Finish run ─> Run finished  (Finish run's own failure: Run not finished)
 */
export function runStateMachineProps(scope: Construct, taskFunction: lambda.IFunction, logGroup: logs.ILogGroup): sfn.StateMachineProps {
  const run = { runId: sfn.JsonPath.stringAt('$.runId'), companyId: sfn.JsonPath.stringAt('$.companyId') };
  const invoke = (id: string, payload: Record<string, unknown>, options: Partial<tasks.LambdaInvokeProps> = {}) =>
    new tasks.LambdaInvoke(scope, id, {
      stateName: id,
      lambdaFunction: taskFunction,
      payload: sfn.TaskInput.fromObject(payload),
      retryOnServiceExceptions: true,
      resultPath: sfn.JsonPath.DISCARD,
      ...options,
    }).addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2 });

  const finish = invoke(FINISH_STATE, { action: 'finish', ...run });
  finish.addCatch(
    new sfn.Fail(scope, 'Run not finished', {
      error: 'RunNotFinished',
      cause: 'The run could not be recorded as finished; its lock expires with the state machine timeout.',
    }),
    {
      resultPath: '$.error',
    },
  );
  finish.next(new sfn.Succeed(scope, 'Run finished'));

  const continued = new sfn.Succeed(scope, 'Run continued', { comment: 'The run goes on in the execution the continue step started.' });
  const pages = new Map<string, sfn.IChainable>();
  let next: sfn.IChainable = finish;
  for (const task of [...TASK_NAMES].reverse()) {
    const names = taskStateNames(task);
    const failed = invoke(names.failed, { action: 'fail', ...run, task, error: sfn.JsonPath.objectAt('$.error') });
    failed.addCatch(finish, { resultPath: '$.error' });
    failed.next(next);
    const page = invoke(
      names.page,
      {
        action: 'page',
        ...run,
        date: sfn.JsonPath.stringAt('$.date'),
        dryRun: sfn.JsonPath.stringAt('$.dryRun'),
        task,
        cursor: sfn.JsonPath.stringAt('$.page.cursor'),
        pages: sfn.JsonPath.numberAt('$.page.pages'),
      },
      {
        resultSelector: { 'cursor.$': '$.Payload.cursor', 'done.$': '$.Payload.done', 'pages.$': '$.Payload.pages', 'continue.$': '$.Payload.continue' },
        resultPath: '$.page',
      },
    );
    page.addCatch(failed, { resultPath: '$.error' });
    pages.set(task, page);
    const goOn = invoke(names.continue, { action: 'continue', ...run, task, cursor: sfn.JsonPath.stringAt('$.page.cursor') });
    goOn.addCatch(finish, { resultPath: '$.error' });
    goOn.next(continued);
    const more = new sfn.Choice(scope, names.more)
      .when(sfn.Condition.booleanEquals('$.page.continue', true), goOn)
      .when(sfn.Condition.booleanEquals('$.page.done', false), page)
      .otherwise(next);
    page.next(more);
    // A task starts with an empty cursor; the count of pages this execution has run carries over from task to task.
    const start = new sfn.Pass(scope, names.start, { parameters: { cursor: '', 'pages.$': '$.page.pages' }, resultPath: '$.page' });
    start.next(page);
    next = new sfn.Choice(scope, names.choose).when(sfn.Condition.booleanEquals(`$.tasks.${task}`, true), start).otherwise(next);
  }
  // A run that continues in a fresh execution starts at the page of the task it stopped in (`resume`, `page`).
  const resume = new sfn.Choice(scope, RESUME_STATE);
  for (const task of TASK_NAMES) {
    const page = pages.get(task);
    if (page) resume.when(sfn.Condition.and(sfn.Condition.isPresent('$.resume.task'), sfn.Condition.stringEquals('$.resume.task', task)), page);
  }
  resume.otherwise(next);
  return {
    definitionBody: sfn.DefinitionBody.fromChainable(resume),
    stateMachineType: sfn.StateMachineType.STANDARD,
    comment: "Billow: one company's automation run for one local date",
    timeout: Duration.millis(RUN_TIMEOUT_MS),
    tracingEnabled: true,
    logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
  };
}

/** A CloudFormation value as it appears in a synthesised template: a string or an intrinsic. */
type CfnValue = string | { 'Fn::Join': [string, CfnValue[]] } | { Ref: string } | { 'Fn::GetAtt': [string, string] };

/**
 * Resolves a synthesised `DefinitionString` (a `Fn::Join` of strings, the partition and function ARNs) into the ASL
 * document, with the account, region and each function's ARN (`arn:aws:lambda:<region>:<account>:function:<logicalId>`).
 */
export function resolveDefinition(
  definition: unknown,
  env: { account: string; region: string } = { account: '000000000000', region: 'us-east-1' },
): Record<string, unknown> {
  const resolve = (value: CfnValue): string => {
    if (typeof value === 'string') return value;
    if ('Fn::Join' in value) return value['Fn::Join'][1].map(resolve).join(value['Fn::Join'][0]);
    if ('Ref' in value) {
      const pseudo: Record<string, string> = {
        'AWS::Partition': 'aws',
        'AWS::Region': env.region,
        'AWS::AccountId': env.account,
        'AWS::URLSuffix': 'amazonaws.com',
      };
      if (!(value.Ref in pseudo)) throw new Error(`Cannot resolve Ref ${value.Ref} in a state-machine definition`);
      return pseudo[value.Ref];
    }
    if ('Fn::GetAtt' in value && value['Fn::GetAtt'][1] === 'Arn') return `arn:aws:lambda:${env.region}:${env.account}:function:${value['Fn::GetAtt'][0]}`;
    throw new Error(`Cannot resolve ${JSON.stringify(value)} in a state-machine definition`);
  };
  return JSON.parse(resolve(definition as CfnValue)) as Record<string, unknown>;
}

let localDefinition: Record<string, unknown> | undefined;

/**
 * The run state machine's ASL as the stack deploys it (the same `runStateMachineProps`), built in a throwaway app
 * with a stand-in task function ARN, for the local runner (`npm start`), which maps every Task state to the task
 * handler by state name.
 */
export function localRunDefinition(): Record<string, unknown> {
  if (localDefinition) return localDefinition;
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'BillowAutomationLocal', { env: { account: '000000000000', region: 'us-east-1' } });
  const taskFunction = lambda.Function.fromFunctionArn(stack, 'TaskFunction', 'arn:aws:lambda:us-east-1:000000000000:function:billow-automation-task');
  const logGroup = logs.LogGroup.fromLogGroupName(stack, 'Logs', 'billow-automation-local');
  const machine = new sfn.StateMachine(stack, 'RunStateMachine', runStateMachineProps(stack, taskFunction, logGroup));
  localDefinition = resolveDefinition(stack.resolve((machine.node.defaultChild as sfn.CfnStateMachine).definitionString));
  return localDefinition;
}
