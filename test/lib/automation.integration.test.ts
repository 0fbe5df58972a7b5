import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { TASK_NAMES } from '../../functions/automation/task.js';
import { RUN_TIMEOUT_MS } from '../../functions/domain/automation-run.js';
import { DISPATCH_RATE, FINISH_STATE, localRunDefinition, RESUME_STATE, resolveDefinition, taskStateNames } from '../../lib/automation.js';
import type { BillowStack } from '../../lib/billow-stack.js';
import { BLOB_KEY_PREFIX } from '../../lib/function.js';
import { buildTemplate, grantsOfRole, json, type Grant, type Resource } from '../support/cdk.js';

/** The daily automation (lib/automation.ts) as synthesised in the Billow stack. */
let stack: BillowStack;
let template: Template;
const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId((construct.node.defaultChild ?? construct) as never);
const resolve = (value: unknown) => stack.resolve(value);
const pairs = (grants: Grant[]) => grants.map((g) => `${g.action} ${g.resource}`).sort();
const byService = (grants: Grant[], prefix: string) => grants.filter((g) => g.action.startsWith(`${prefix}:`));
const stateMachineResource = () => template.toJSON().Resources[id(stack.automation.stateMachine)] as Resource;
const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

beforeAll(() => {
  ({ stack, template } = buildTemplate());
});

describe('automation schedule', () => {
  it('invokes the dispatcher hourly, retried, with an encrypted TLS-only dead-letter queue', () => {
    const schedule = Object.values(template.findResources('AWS::Scheduler::Schedule') as Record<string, Resource>).find(
      (s) => json(s.Properties.Target.Arn) === json({ 'Fn::GetAtt': [id(stack.automation.dispatcher), 'Arn'] }),
    )?.Properties;
    expect(schedule).toBeDefined();
    expect(schedule?.ScheduleExpression).toBe(`rate(${DISPATCH_RATE.toHours()} hour)`);
    expect(schedule?.State).toBe('ENABLED');
    expect(schedule?.Target.RetryPolicy.MaximumRetryAttempts).toBe(2);
    expect(schedule?.Target.DeadLetterConfig.Arn).toEqual(resolve(stack.automation.deadLetterQueue.queueArn));
    const queueId = id(stack.automation.deadLetterQueue);
    const queue = (template.findResources('AWS::SQS::Queue') as Record<string, Resource>)[queueId].Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy') as Record<string, Resource>).find((p) =>
      json(p.Properties.Queues).includes(queueId),
    );
    expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(stack.automation.dispatcher) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });
});

describe('run state machine', () => {
  it('is a Standard workflow with a timeout, logging ALL with execution data to its log group, and X-Ray tracing', () => {
    const props = stateMachineResource().Properties;
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    expect(props.LoggingConfiguration.Level).toBe('ALL');
    expect(props.LoggingConfiguration.IncludeExecutionData).toBe(true);
    expect(json(props.LoggingConfiguration.Destinations)).toContain(id(stack.automation.logGroup));
    const definition = resolveDefinition(props.DefinitionString);
    expect(definition.TimeoutSeconds).toBe(RUN_TIMEOUT_MS / 1000);
  });

  it('passes asl-validator, uses JSONPath only, and runs the tasks in the contract order, each paged with Retry and Catch', () => {
    const definition = resolveDefinition(stateMachineResource().Properties.DefinitionString) as {
      StartAt: string;
      QueryLanguage?: string;
      States: Record<string, Record<string, any>>;
    };
    const result = aslValidator(definition);
    expect(result.isValid, result.errorsText()).toBe(true);
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(JSON.stringify(definition)).not.toMatch(/"Assign"|JSONata|ItemReader|"DISTRIBUTED"/);
    expect(definition.StartAt).toBe(RESUME_STATE);
    expect(definition.States[RESUME_STATE]).toMatchObject({ Type: 'Choice', Default: taskStateNames(TASK_NAMES[0]).choose });
    expect(definition.States[RESUME_STATE].Choices.map((c: { Next: string }) => c.Next)).toEqual(TASK_NAMES.map((t) => taskStateNames(t).page));
    TASK_NAMES.forEach((task, i) => {
      const names = taskStateNames(task);
      const nextChoice = i + 1 < TASK_NAMES.length ? taskStateNames(TASK_NAMES[i + 1]).choose : FINISH_STATE;
      expect(definition.States[names.choose]).toMatchObject({
        Type: 'Choice',
        Default: nextChoice,
        Choices: [{ Variable: `$.tasks.${task}`, BooleanEquals: true, Next: names.start }],
      });
      const page = definition.States[names.page];
      expect(page).toMatchObject({ Type: 'Task', Next: names.more, ResultPath: '$.page' });
      expect(page.Parameters.Payload).toMatchObject({ action: 'page', task, 'cursor.$': '$.page.cursor', 'pages.$': '$.page.pages' });
      expect(definition.States[names.start]).toMatchObject({
        Type: 'Pass',
        Parameters: { cursor: '', 'pages.$': '$.page.pages' },
        ResultPath: '$.page',
        Next: names.page,
      });
      expect(page.Retry.at(-1)).toMatchObject({ ErrorEquals: ['States.ALL'], MaxAttempts: 3, BackoffRate: 2 });
      expect(page.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: names.failed }]);
      expect(definition.States[names.more]).toMatchObject({
        Type: 'Choice',
        Default: nextChoice,
        Choices: [
          { Variable: '$.page.continue', BooleanEquals: true, Next: names.continue },
          { Variable: '$.page.done', BooleanEquals: false, Next: names.page },
        ],
      });
      expect(definition.States[names.continue]).toMatchObject({ Type: 'Task', Next: 'Run continued', Catch: [{ Next: FINISH_STATE }] });
      expect(definition.States[names.failed]).toMatchObject({ Type: 'Task', Next: nextChoice });
    });
    expect(definition.States[FINISH_STATE]).toMatchObject({ Type: 'Task', Next: 'Run finished' });
  });

  it('the local runner gets the same definition as the stack deploys (only the function ARN differs)', () => {
    const deployed = JSON.stringify(resolveDefinition(stateMachineResource().Properties.DefinitionString));
    const local = JSON.stringify(localRunDefinition());
    const taskArn = `arn:aws:lambda:us-east-1:000000000000:function:${id(stack.automation.taskFunction)}`;
    expect(local).toBe(deployed.replaceAll(taskArn, 'arn:aws:lambda:us-east-1:000000000000:function:billow-automation-task'));
  });

  it('a failed run (the AutomationRunsFailed metric) is an alarm', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).map((a) => a.Properties);
    expect(alarms.find((a) => a.Namespace === 'Billow' && a.MetricName === 'AutomationRunsFailed')?.Threshold).toBe(1);
  });

  it('a failed or timed-out execution is an alarm', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>).map((a) => a.Properties);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      const alarm = alarms.find((a) => a.Namespace === 'AWS/States' && a.MetricName === metric);
      expect(alarm?.Threshold, metric).toBe(1);
      expect(json(alarm?.Dimensions)).toContain(id(stack.automation.stateMachine));
    }
  });

  it("the state machine's role may invoke only the task function (and write its logs and traces)", () => {
    const roleId = id(stack.automation.stateMachine.role);
    const grants = grantsOfRole(template, roleId);
    const fnArn = { 'Fn::GetAtt': [id(stack.automation.taskFunction), 'Arn'] };
    expect(pairs(byService(grants, 'lambda'))).toEqual(
      [`lambda:InvokeFunction ${json(fnArn)}`, `lambda:InvokeFunction ${json({ 'Fn::Join': ['', [fnArn, ':*']] })}`].sort(),
    );
    expect([...new Set(grants.map((g) => g.action.split(':')[0]))].sort()).toEqual(['lambda', 'logs', 'xray']);
  });
});

describe('automation functions', () => {
  it('the dispatcher: its table actions, Query on the indexes, StartExecution on this state machine only; nothing else', () => {
    const grants = grantsOfRole(template, id(stack.automation.dispatcher.executionRole));
    const table = json(resolve(stack.data.table.tableArn));
    const indexes = stack.data.indexArns().map((arn) => json(resolve(arn)));
    expect(pairs(byService(grants, 'dynamodb'))).toEqual(
      [
        ...['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'].map((a) => `dynamodb:${a} ${table}`),
        ...indexes.map((i) => `dynamodb:Query ${i}`),
      ].sort(),
    );
    expect(pairs(byService(grants, 'states'))).toEqual([`states:StartExecution ${json(resolve(stack.automation.stateMachine.stateMachineArn))}`]);
    expect([...new Set(grants.map((g) => g.action.split(':')[0]))].sort()).toEqual(['dynamodb', 'logs', 'sqs', 'states', 'xray']);
    const variables = template.toJSON().Resources[id(stack.automation.dispatcher)].Properties.Environment.Variables;
    expect(variables.BILLOW_STATE_MACHINE_ARN).toEqual(resolve(stack.automation.stateMachine.stateMachineArn));
  });

  it('the task function: the table, mail, its blobs, the payment key, StartExecution on its own state machine (a run continues); no Cognito, no signing secret', () => {
    const grants = grantsOfRole(template, id(stack.automation.taskFunction.executionRole));
    const key = json(resolve(stack.payments.key.keyArn));
    expect(pairs(byService(grants, 'kms'))).toEqual([`kms:Decrypt ${key}`, `kms:GenerateDataKey ${key}`]);
    const objects = json(resolve(stack.email.blobBucket.arnForObjects(`${BLOB_KEY_PREFIX}*`)));
    expect(pairs(byService(grants, 's3'))).toEqual([`s3:GetObject ${objects}`, `s3:PutObject ${objects}`]);
    expect(byService(grants, 'dynamodb').some((g) => g.action === 'dynamodb:Scan')).toBe(false);
    const machineArn = resolve(stack.automation.stateMachine.stateMachineArn) as { Ref: string };
    const named = template.toJSON().Resources[machineArn.Ref].Properties.StateMachineName;
    expect(byService(grants, 'states').map((g) => g.action)).toEqual(['states:StartExecution']);
    expect(byService(grants, 'states')[0].resource).toContain(`:stateMachine:${named}`);
    expect([...new Set(grants.map((g) => g.action.split(':')[0]))].sort()).toEqual(['dynamodb', 'kms', 'logs', 's3', 'ses', 'states', 'xray']);
    const deployed = template.toJSON().Resources[id(stack.automation.taskFunction)].Properties;
    expect(deployed.Handler).toBe('index.handler');
  });

  it('with gateway=stripe the task function reads the Stripe secret (auto-debit)', () => {
    const built = buildTemplate({ gateway: 'stripe' });
    const fn = built.stack.automation.taskFunction;
    const variables = built.template.toJSON().Resources[built.stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables;
    expect(variables.BILLOW_GATEWAY).toBe('stripe');
  });
});
