import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { TASK_NAMES } from '../../functions/automation/task.js';
import { METRIC } from '../../functions/observability/metrics.js';
import { resolveDefinition } from '../../lib/automation.js';
import type { BillowStack } from '../../lib/billow-stack.js';
import { BillowFunction, REPO_ROOT } from '../../lib/function.js';
import { STUCK_PENDING_CHARGE_AGE } from '../../lib/observability.js';
import { buildStack, buildTemplate, grantsOfRole, json, testApp, type Resource } from '../support/cdk.js';

let stack: BillowStack;
let template: Template;
let id: (construct: unknown) => string;

beforeAll(() => {
  ({ stack, template } = buildTemplate());
  id = (construct) => {
    const c = construct as { node: { defaultChild?: unknown } };
    return stack.getLogicalId((c.node.defaultChild ?? construct) as Parameters<BillowStack['getLogicalId']>[0]);
  };
});

const resources = (type: string, from: Template = template) => Object.entries(from.findResources(type) as Record<string, Resource>);
const alarms = () => resources('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
const alarmId = (alarm: Record<string, any>) => String(alarm.AlarmName).replace(/^Billow-/, '');
const billowFunctions = () => stack.node.findAll().filter((c): c is BillowFunction => c instanceof BillowFunction);

describe('alarm topic', () => {
  it('every alarm notifies the alarm topic when it fires and when it clears', () => {
    const topic = resources('AWS::SNS::Topic').find(([, t]) => t.Properties.DisplayName === 'Billow alarms');
    expect(topic).toBeDefined();
    const ref = { Ref: topic![0] };
    expect(alarms().length).toBe(stack.observability.alarms.length);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions, alarm.AlarmName).toEqual([ref]);
      expect(alarm.OKActions, alarm.AlarmName).toEqual([ref]);
      expect(alarm.ActionsEnabled ?? true, alarm.AlarmName).toBe(true);
      expect(alarm.AlarmName, 'named by its construct id, which is its runbook heading').toMatch(/^Billow-[A-Za-z0-9]+$/);
    }
  });

  it('is encrypted with a rotated key CloudWatch may use, TLS only, and only this account`s alarms may publish', () => {
    const [, topic] = resources('AWS::SNS::Topic').find(([, t]) => t.Properties.DisplayName === 'Billow alarms')!;
    const keyId = topic.Properties.KmsMasterKeyId['Fn::GetAtt'][0] as string;
    const key = template.toJSON().Resources[keyId];
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const keyStatements = key.Properties.KeyPolicy.Statement as Array<Record<string, any>>;
    expect(keyStatements.some((s) => json(s.Principal).includes('cloudwatch.amazonaws.com') && json(s.Action).includes('kms:GenerateDataKey'))).toBe(true);

    const policy = resources('AWS::SNS::TopicPolicy').find(([, p]) => json(p.Properties.Topics).includes(id(stack.observability.alarmTopic)));
    const statements = policy![1].Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    const tls = statements.find((s) => s.Effect === 'Deny' && json(s.Condition) === json({ Bool: { 'aws:SecureTransport': 'false' } }));
    expect(tls?.Action).toBe('sns:Publish');
    const publish = statements.find((s) => s.Effect === 'Allow' && json(s.Principal).includes('cloudwatch.amazonaws.com'));
    expect(publish?.Action).toBe('sns:Publish');
    expect(publish?.Condition.StringEquals['aws:SourceAccount']).toBe('123456789012');
    expect(json(publish?.Condition.ArnLike['aws:SourceArn'])).toContain(':cloudwatch:eu-west-1:123456789012:alarm:*');
  });

  it('mails the address of -c alarmEmail (validated); without it the topic has no subscription', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 1); // the SES events Lambda's only
    const withMail = buildTemplate({ alarmEmail: 'ops@acme.test' });
    const mail = resources('AWS::SNS::Subscription', withMail.template).filter(([, s]) => s.Properties.Protocol === 'email');
    expect(mail).toHaveLength(1);
    expect(mail[0][1].Properties.Endpoint).toBe('ops@acme.test');
    expect(json(mail[0][1].Properties.TopicArn)).toContain(withMail.stack.getLogicalId(withMail.stack.observability.alarmTopic.node.defaultChild as never));
    expect(() => buildStack(testApp({ alarmEmail: 'not a mail address' }))).toThrow(/alarmEmail/);
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(json(outputs.AlarmTopicArn.Value)).toContain(id(stack.observability.alarmTopic));
  });
});

describe('alarms where an operator must act', () => {
  const business = (metric: string) => alarms().find((a) => a.Namespace === 'Billow' && a.MetricName === metric);

  it('a failed automation run, a failed or timed-out execution', () => {
    expect(business(METRIC.automationRunsFailed)?.Threshold).toBe(1);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
      const alarm = alarms().find((a) => a.Namespace === 'AWS/States' && a.MetricName === metric);
      expect(json(alarm?.Dimensions), metric).toContain(id(stack.automation.stateMachine));
    }
  });

  it('reconciliation failing two runs in a row, a pending charge older than the limit, one that needs a person', () => {
    const failing = business(METRIC.pendingChargesFailed);
    expect(failing).toMatchObject({ Threshold: 1, EvaluationPeriods: 2, Statistic: 'Sum' });
    const stuck = business(METRIC.oldestPendingChargeAgeSeconds);
    expect(stuck).toMatchObject({ Threshold: STUCK_PENDING_CHARGE_AGE.toSeconds(), Statistic: 'Maximum' });
    expect(business(METRIC.pendingChargesNeedingAttention)?.Threshold).toBe(1);
  });

  it('every dead-letter queue of an asynchronous path holds no message unnoticed', () => {
    // Queues named as a dead letter anywhere: a redrive policy, an on-failure destination, a schedule's DLQ, an SNS subscription's.
    const deadLetters = new Set<string>();
    const arnOf = (value: unknown) => (value as { 'Fn::GetAtt'?: [string, string] })?.['Fn::GetAtt']?.[0];
    for (const [, queue] of resources('AWS::SQS::Queue')) deadLetters.add(arnOf(queue.Properties.RedrivePolicy?.deadLetterTargetArn) ?? '');
    for (const [, config] of resources('AWS::Lambda::EventInvokeConfig'))
      deadLetters.add(arnOf(config.Properties.DestinationConfig?.OnFailure?.Destination) ?? '');
    for (const [, schedule] of resources('AWS::Scheduler::Schedule')) deadLetters.add(arnOf(schedule.Properties.Target.DeadLetterConfig?.Arn) ?? '');
    for (const [, subscription] of resources('AWS::SNS::Subscription'))
      deadLetters.add(arnOf(subscription.Properties.RedrivePolicy?.deadLetterTargetArn) ?? '');
    deadLetters.delete('');
    expect(deadLetters.size).toBe(4);
    for (const queue of deadLetters) {
      const watching = alarms().filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && json(a.Dimensions).includes(queue));
      expect(watching, queue).toHaveLength(1);
      expect(watching[0].Threshold).toBe(1);
    }
  });
});

describe('dashboard', () => {
  const body = () => json(resources('AWS::CloudWatch::Dashboard')[0][1].Properties.DashboardBody);

  it('has automation panels: runs started, succeeded and failed; actions and failures per task', () => {
    for (const title of ['Automation runs', 'Automation actions per task', 'Automation failures per task']) expect(body()).toContain(title);
    for (const metric of [METRIC.automationRunsStarted, METRIC.automationRunsSucceeded, METRIC.automationRunsFailed]) expect(body()).toContain(metric);
    for (const task of TASK_NAMES) {
      expect(body()).toMatch(new RegExp(`${METRIC.automationTaskActions}.{0,80}\\\\"task\\\\",\\\\"${task}\\\\"`));
      expect(body()).toMatch(new RegExp(`${METRIC.automationTaskFailures}.{0,80}\\\\"task\\\\",\\\\"${task}\\\\"`));
    }
  });

  it('has import panels: rows per second, rows processed and failed, the dead-letter queue depth', () => {
    for (const title of ['Imports: rows per second', 'Imports: rows processed and failed', 'Imports: dead-letter queue depth']) expect(body()).toContain(title);
    expect(body()).toContain('PERIOD(rows)');
    for (const metric of [METRIC.importRowsProcessed, METRIC.importRowsFailed]) expect(body()).toContain(metric);
    expect(body()).toMatch(new RegExp(`ApproximateNumberOfMessagesVisible.{0,80}${id(stack.imports.deadLetterQueue)}`));
  });

  it('has reconciliation panels: pending charges reconciled, failed, needing a person; the oldest one`s age', () => {
    for (const title of ['Reconciliation: pending charges', 'Reconciliation: oldest pending charge']) expect(body()).toContain(title);
    for (const metric of [
      METRIC.pendingChargesReconciled,
      METRIC.pendingChargesFailed,
      METRIC.pendingChargesNeedingAttention,
      METRIC.oldestPendingChargeAgeSeconds,
    ])
      expect(body()).toContain(metric);
  });
});

describe('runbook', () => {
  it('docs/operations.md has a section headed by each alarm`s id', () => {
    const runbook = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8');
    const headings = runbook.split('\n').filter((line) => /^#{2,4} /.test(line));
    const missing = alarms()
      .map(alarmId)
      .filter((name) => !headings.some((heading) => heading.includes(`\`${name}\``)));
    expect(missing, `alarms without a runbook section in docs/operations.md: ${missing.join(', ')}`).toEqual([]);
  });
});

describe('Powertools in every function', () => {
  it('every Lambda of the template is a Billow function: traced, with the service name and log level Powertools reads', () => {
    const lambdas = resources('AWS::Lambda::Function');
    expect(lambdas.map(([logicalId]) => logicalId).sort()).toEqual(billowFunctions().map(id).sort());
    for (const [logicalId, fn] of lambdas) {
      expect(fn.Properties.TracingConfig, logicalId).toEqual({ Mode: 'Active' });
      expect(fn.Properties.Environment.Variables, logicalId).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'billow', POWERTOOLS_LOG_LEVEL: 'INFO' });
    }
  });

  it('every entry a function runs is wrapped in the logger, metrics and tracer middleware', () => {
    // createApiHandler (functions/http/lambda.ts) and tracedHandler (functions/observability/tracer.ts) both add the three.
    const observed = /=\s*(createApiHandler|tracedHandler)\(/;
    const wrappers = [
      readFileSync(join(REPO_ROOT, 'functions/http/lambda.ts'), 'utf8'),
      readFileSync(join(REPO_ROOT, 'functions/observability/tracer.ts'), 'utf8'),
    ];
    for (const wrapper of wrappers) {
      for (const middleware of ['traceInvocation()', 'injectLambdaContext(logger', 'publishMetrics()']) expect(wrapper).toContain(middleware);
    }
    for (const fn of billowFunctions()) {
      const source = readFileSync(fn.entry, 'utf8');
      const handler = String(template.toJSON().Resources[id(fn)].Properties.Handler).split('.')[1];
      const exported = source.split('\n').find((line) => line.startsWith(`export const ${handler} =`));
      expect(exported, `${fn.entry} exports ${handler}`).toBeDefined();
      expect(exported, fn.entry).toMatch(observed);
    }
  });
});

describe('infrastructure', () => {
  it('encryption at rest: the table, every bucket, queue and topic', () => {
    for (const [logicalId, table] of resources('AWS::DynamoDB::GlobalTable')) expect(table.Properties.SSESpecification?.SSEEnabled, logicalId).toBe(true);
    for (const [logicalId, bucket] of resources('AWS::S3::Bucket'))
      expect(bucket.Properties.BucketEncryption?.ServerSideEncryptionConfiguration?.[0]?.ServerSideEncryptionByDefault?.SSEAlgorithm, logicalId).toBeDefined();
    for (const [logicalId, queue] of resources('AWS::SQS::Queue'))
      expect(queue.Properties.SqsManagedSseEnabled === true || queue.Properties.KmsMasterKeyId !== undefined, logicalId).toBe(true);
    for (const [logicalId, topic] of resources('AWS::SNS::Topic')) expect(topic.Properties.KmsMasterKeyId, logicalId).toBeDefined();
    for (const [logicalId, key] of resources('AWS::KMS::Key')) expect(key.Properties.EnableKeyRotation, logicalId).toBe(true);
    expect(resources('AWS::DynamoDB::GlobalTable').length + resources('AWS::DynamoDB::Table').length).toBe(1);
  });

  it('every queue, topic and bucket refuses requests without TLS', () => {
    const denied = new Set<string>();
    for (const type of ['AWS::SQS::QueuePolicy', 'AWS::SNS::TopicPolicy', 'AWS::SNS::TopicInlinePolicy', 'AWS::S3::BucketPolicy']) {
      for (const [, policy] of resources(type)) {
        const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
        if (!statements.some((s) => s.Effect === 'Deny' && json(s.Condition).includes('"aws:SecureTransport":"false"'))) continue;
        const targets = [...(policy.Properties.Queues ?? []), ...(policy.Properties.Topics ?? []), policy.Properties.TopicArn, policy.Properties.Bucket];
        for (const target of targets.filter(Boolean)) denied.add(json(target).match(/"(?:Ref|Fn::GetAtt)":\[?"([A-Za-z0-9]+)"/)?.[1] ?? json(target));
      }
    }
    for (const type of ['AWS::SQS::Queue', 'AWS::SNS::Topic', 'AWS::S3::Bucket'])
      for (const [logicalId] of resources(type)) expect(denied, `${type} ${logicalId}`).toContain(logicalId);
  });

  it('every asynchronous invocation ends somewhere on failure', () => {
    // Scheduler targets: retried, then a dead-letter queue.
    const schedules = resources('AWS::Scheduler::Schedule');
    expect(schedules.length).toBeGreaterThan(0);
    for (const [logicalId, schedule] of schedules) {
      expect(schedule.Properties.Target.DeadLetterConfig?.Arn, logicalId).toBeDefined();
      expect(schedule.Properties.Target.RetryPolicy?.MaximumRetryAttempts, logicalId).toBeGreaterThan(0);
    }
    // Lambdas invoked asynchronously (by a schedule or an SNS subscription): retried, then an on-failure destination.
    const invokedAsync = new Set<string>();
    for (const [, schedule] of schedules) invokedAsync.add(schedule.Properties.Target.Arn['Fn::GetAtt'][0]);
    for (const [logicalId, subscription] of resources('AWS::SNS::Subscription')) {
      if (subscription.Properties.Protocol !== 'lambda') continue;
      expect(subscription.Properties.RedrivePolicy?.deadLetterTargetArn, logicalId).toBeDefined();
      invokedAsync.add(subscription.Properties.Endpoint['Fn::GetAtt'][0]);
    }
    const configs = resources('AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    for (const fn of invokedAsync) {
      const config = configs.find((c) => c.FunctionName.Ref === fn);
      expect(config?.DestinationConfig?.OnFailure?.Destination, fn).toBeDefined();
    }
    // Queues a Lambda consumes (S3 notifications arrive in one): a redrive policy to a dead-letter queue.
    const queues = template.toJSON().Resources as Record<string, Resource>;
    for (const [logicalId, mapping] of resources('AWS::Lambda::EventSourceMapping')) {
      const queue = queues[mapping.Properties.EventSourceArn['Fn::GetAtt'][0]];
      expect(queue.Properties.RedrivePolicy?.deadLetterTargetArn, logicalId).toBeDefined();
    }
    // Step Functions: every Task state catches every error.
    for (const [logicalId, machine] of resources('AWS::StepFunctions::StateMachine')) {
      const definition = resolveDefinition(machine.Properties.DefinitionString) as {
        States: Record<string, { Type: string; Catch?: Array<{ ErrorEquals: string[] }> }>;
      };
      const tasks = Object.entries(definition.States).filter(([, state]) => state.Type === 'Task');
      expect(tasks.length, logicalId).toBeGreaterThan(0);
      for (const [name, state] of tasks)
        expect(
          state.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')),
          name,
        ).toBe(true);
    }
  });

  it('least privilege: no wildcard action; data resources only of this stack (its table and indexes, buckets, queues, keys, secrets, state machine)', () => {
    const own = (type: string) => resources(type).map(([logicalId]) => logicalId);
    const allowed: Record<string, string[]> = {
      dynamodb: [...own('AWS::DynamoDB::GlobalTable'), ...own('AWS::DynamoDB::Table')],
      s3: own('AWS::S3::Bucket'),
      sqs: own('AWS::SQS::Queue'),
      kms: own('AWS::KMS::Key'),
      secretsmanager: own('AWS::SecretsManager::Secret'),
      'cognito-idp': own('AWS::Cognito::UserPool'),
      states: [
        ...own('AWS::StepFunctions::StateMachine'),
        ...resources('AWS::StepFunctions::StateMachine').map(([, m]) => `stateMachine:${m.Properties.StateMachineName}`),
      ],
    };
    for (const fn of billowFunctions()) {
      for (const grant of grantsOfRole(template, id(fn.executionRole))) {
        const [service, action] = grant.action.split(':');
        expect(action, `${fn.node.path} ${grant.action}`).not.toContain('*');
        if (grant.resource === '"*"') expect(service, `${fn.node.path} ${grant.action} on *`).toBe('xray');
        if (!(service in allowed)) continue;
        const ownResource = allowed[service].some((name) => grant.resource.includes(`"${name}"`) || grant.resource.includes(name));
        expect(ownResource, `${fn.node.path} ${grant.action} ${grant.resource}`).toBe(true);
      }
    }
  });
});
