import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { BLOB_KEY_PREFIX } from '../../lib/function.js';
import type { BillowStack } from '../../lib/billow-stack.js';
import { RECONCILE_RATE } from '../../lib/reconciler.js';
import { buildTemplate, grantsOfRole, json, type Grant, type Resource } from '../support/cdk.js';

/** The scheduled payment reconciler (lib/reconciler.ts) as synthesised in the Billow stack. */
let stack: BillowStack;
let template: Template;
const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId((construct.node.defaultChild ?? construct) as never);
const resolve = (value: unknown) => stack.resolve(value);
const pairs = (grants: Grant[]) => grants.map((g) => `${g.action} ${g.resource}`).sort();
const byService = (grants: Grant[], prefix: string) => grants.filter((g) => g.action.startsWith(`${prefix}:`));
/** The reconciler's schedule (the automation has its own, test/lib/automation.integration.test.ts). */
const schedules = () =>
  Object.values(template.findResources('AWS::Scheduler::Schedule') as Record<string, Resource>).filter(
    (s) => json(s.Properties.Target.Arn) === json({ 'Fn::GetAtt': [id(stack.reconciler.function), 'Arn'] }),
  );

beforeAll(() => {
  ({ stack, template } = buildTemplate());
});

describe('payment reconciler', () => {
  it('runs the reconcile handler on a Scheduler rate, retried twice, with the dead-letter queue for what cannot be delivered', () => {
    const fn = stack.reconciler.function;
    const queueArn = resolve(stack.reconciler.deadLetterQueue.queueArn);
    expect(schedules()).toHaveLength(1);
    const schedule = schedules()[0].Properties;
    expect(schedule.ScheduleExpression).toBe(`rate(${RECONCILE_RATE.toMinutes()} minutes)`);
    expect(schedule.State).toBe('ENABLED');
    expect(schedule.Target.Arn).toEqual({ 'Fn::GetAtt': [id(fn), 'Arn'] });
    expect(schedule.Target.RetryPolicy.MaximumRetryAttempts).toBe(2);
    expect(schedule.Target.DeadLetterConfig.Arn).toEqual(queueArn);
    const deployed = template.toJSON().Resources[id(fn)].Properties;
    expect(deployed.Handler).toBe('index.handler');
    expect(deployed.Timeout).toBeLessThan(RECONCILE_RATE.toSeconds());
  });

  it('the schedule assumes a role of its own that may invoke only the reconciler and write only to its queue', () => {
    const roleArn = schedules()[0].Properties.Target.RoleArn as { 'Fn::GetAtt': [string, string] };
    const grants = grantsOfRole(template, roleArn['Fn::GetAtt'][0]);
    const fnArn = json({ 'Fn::GetAtt': [id(stack.reconciler.function), 'Arn'] });
    const fnVersions = json({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [id(stack.reconciler.function), 'Arn'] }, ':*']] });
    expect(pairs(grants)).toEqual(
      [
        `lambda:InvokeFunction ${fnArn}`,
        `lambda:InvokeFunction ${fnVersions}`,
        `sqs:SendMessage ${json(resolve(stack.reconciler.deadLetterQueue.queueArn))}`,
      ].sort(),
    );
  });

  it('a run that fails is retried twice by Lambda, then recorded in the same encrypted, TLS-only queue', () => {
    const queueId = id(stack.reconciler.deadLetterQueue);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id(stack.reconciler.function) },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    const queue = (template.findResources('AWS::SQS::Queue') as Record<string, Resource>)[queueId].Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy') as Record<string, Resource>).find((p) =>
      json(p.Properties.Queues).includes(queueId),
    );
    expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('its role: the listed table actions (no Scan, no batch write), Query on the indexes, the payment key, mail, its queue; nothing else', () => {
    const grants = grantsOfRole(template, id(stack.reconciler.function.executionRole));
    const table = json(resolve(stack.data.table.tableArn));
    const indexes = stack.data.indexArns().map((arn) => json(resolve(arn)));
    expect(pairs(byService(grants, 'dynamodb'))).toEqual(
      [
        ...['GetItem', 'BatchGetItem', 'Query', 'ConditionCheckItem', 'PutItem', 'UpdateItem', 'DeleteItem'].map((a) => `dynamodb:${a} ${table}`),
        ...indexes.map((index) => `dynamodb:Query ${index}`),
      ].sort(),
    );
    const key = json(resolve(stack.payments.key.keyArn));
    expect(pairs(byService(grants, 'kms'))).toEqual([`kms:Decrypt ${key}`, `kms:GenerateDataKey ${key}`]);
    const queue = json(resolve(stack.reconciler.deadLetterQueue.queueArn));
    expect(pairs(byService(grants, 'sqs'))).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].map((action) => `${action} ${queue}`));
    const objects = json(resolve(stack.email.blobBucket.arnForObjects(`${BLOB_KEY_PREFIX}*`)));
    expect(pairs(byService(grants, 's3'))).toEqual([`s3:GetObject ${objects}`, `s3:PutObject ${objects}`]);
    expect([...new Set(grants.map((g) => g.action.split(':')[0]))].sort()).toEqual(['dynamodb', 'kms', 'logs', 's3', 'ses', 'sqs', 'xray']);
  });

  it('with gateway=stripe it reads the Stripe secret and selects the Stripe gateway', () => {
    const built = buildTemplate({ gateway: 'stripe' });
    const fn = built.stack.reconciler.function;
    const secretArn = built.stack.resolve(built.stack.payments.gatewaySecret?.secretArn);
    const variables = built.template.toJSON().Resources[built.stack.getLogicalId(fn.node.defaultChild as never)].Properties.Environment.Variables;
    expect(variables.BILLOW_GATEWAY).toBe('stripe');
    expect(variables.BILLOW_STRIPE_SECRET_ARN).toEqual(secretArn);
    const reads = grantsOfRole(built.template, built.stack.getLogicalId(fn.executionRole.node.defaultChild as never))
      .filter((g) => g.resource === json(secretArn))
      .map((g) => g.action)
      .sort();
    expect(reads).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });
});
