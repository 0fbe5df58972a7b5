import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { API_AREAS } from '../../functions/http/route.js';
import { AREA_ACCESS } from '../../lib/api.js';
import type { BillowStack } from '../../lib/billow-stack.js';
import { IMPORT_PROCESS_BUCKET_ACTIONS, IMPORT_REPORT_PREFIX, IMPORT_UPLOAD_PREFIX } from '../../lib/function.js';
import { COGNITO_ADMIN_ACTIONS } from '../../lib/identity.js';
import {
  IMPORT_ACCESS_LOG_RETENTION,
  IMPORT_BATCH_SIZE,
  IMPORT_FILE_RETENTION,
  IMPORT_MAX_CONCURRENCY,
  IMPORT_MAX_RECEIVE_COUNT,
  IMPORT_NONCURRENT_RETENTION,
  IMPORT_REPORT_RETENTION,
  IMPORT_VISIBILITY_TIMEOUT,
  IMPORT_WORKER_TIMEOUT,
} from '../../lib/imports.js';
import { buildTemplate, grantsOfRole, json, TEST_ENV, type Grant, type Resource } from '../support/cdk.js';

/** The imports path (lib/imports.ts) as synthesised in the Billow stack: bucket → queue (+DLQ) → worker. */
let stack: BillowStack;
let template: Template;
const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId((construct.node.defaultChild ?? construct) as never);
const resolve = (value: unknown) => stack.resolve(value);
const resources = (type: string) => template.findResources(type) as Record<string, Resource>;
const pairs = (grants: Grant[]) => grants.map((g) => `${g.action} ${g.resource}`).sort();
const byService = (grants: Grant[], prefix: string) => grants.filter((g) => g.action.startsWith(`${prefix}:`));
const bucketPolicy = (bucket: { node: { defaultChild?: unknown } }) =>
  (Object.values(resources('AWS::S3::BucketPolicy')).find((p) => json(p.Properties.Bucket) === json({ Ref: id(bucket) }))?.Properties.PolicyDocument
    .Statement ?? []) as Array<Record<string, any>>;
const queuePolicyEntry = (queue: { node: { defaultChild?: unknown } }) =>
  Object.entries(resources('AWS::SQS::QueuePolicy')).find(([, p]) => json(p.Properties.Queues).includes(id(queue)));
const queuePolicy = (queue: { node: { defaultChild?: unknown } }) => queuePolicyEntry(queue)?.[1];
const denyWithoutTls = expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });

beforeAll(() => {
  ({ stack, template } = buildTemplate());
});

describe('imports bucket', () => {
  it('is private, S3-encrypted, TLS only, versioned, retained, and logs its access to its own log bucket', () => {
    const bucket = resources('AWS::S3::Bucket')[id(stack.imports.bucket)];
    expect(bucket.Properties).toMatchObject({
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: id(stack.imports.accessLogs) }, LogFilePrefix: 'imports/' },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucketPolicy(stack.imports.bucket)).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    const logs = resources('AWS::S3::Bucket')[id(stack.imports.accessLogs)].Properties;
    expect(logs.LifecycleConfiguration.Rules).toEqual([expect.objectContaining({ Status: 'Enabled', ExpirationInDays: IMPORT_ACCESS_LOG_RETENTION.toDays() })]);
    const delivery = bucketPolicy(stack.imports.accessLogs).find((st) => st.Effect === 'Allow');
    expect(delivery).toMatchObject({ Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' });
    expect(delivery!.Condition.ArnLike['aws:SourceArn']).toEqual(resolve(stack.imports.bucket.bucketArn));
  });

  it('expires imported files and error reports by prefix, old versions and their delete markers, and abandoned uploads', () => {
    const rules = resources('AWS::S3::Bucket')[id(stack.imports.bucket)].Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Status: 'Enabled', Prefix: IMPORT_UPLOAD_PREFIX, ExpirationInDays: IMPORT_FILE_RETENTION.toDays() }),
        expect.objectContaining({ Status: 'Enabled', Prefix: IMPORT_REPORT_PREFIX, ExpirationInDays: IMPORT_REPORT_RETENTION.toDays() }),
        expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: IMPORT_NONCURRENT_RETENTION.toDays() } }),
        expect.objectContaining({ Status: 'Enabled', ExpiredObjectDeleteMarker: true }),
        expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
      ]),
    );
    // Nothing but imports/ expires early: a rule without a prefix would also delete error reports before their time.
    for (const rule of rules) if ('ExpirationInDays' in rule) expect(rule.Prefix).toBeDefined();
  });

  it('lets browsers PUT to presigned URLs (CORS), and nothing else', () => {
    const cors = resources('AWS::S3::Bucket')[id(stack.imports.bucket)].Properties.CorsConfiguration.CorsRules;
    expect(cors).toEqual([
      expect.objectContaining({ AllowedMethods: ['PUT'], AllowedOrigins: ['*'], AllowedHeaders: expect.arrayContaining(['content-type']) }),
    ]);
  });

  it('notifies the queue of every object created under imports/ (no suffix filter), and the queue takes messages from this bucket only', () => {
    const bucket = resources('AWS::S3::Bucket')[id(stack.imports.bucket)];
    expect(bucket.Properties.NotificationConfiguration).toEqual({
      QueueConfigurations: [
        {
          Event: 's3:ObjectCreated:*',
          Queue: resolve(stack.imports.queue.queueArn),
          Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: IMPORT_UPLOAD_PREFIX }] } },
        },
      ],
    });
    const [policyId, policy] = queuePolicyEntry(stack.imports.queue)!;
    // S3 checks that it may send when the notification is configured: the policy must exist first. No custom
    // resource (CDK's addEventNotification would add one, with a Lambda function of its own).
    expect(bucket.DependsOn).toContain(policyId);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    const statements = policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    expect(statements).toContainEqual(denyWithoutTls);
    const allow = statements.filter((st) => st.Effect === 'Allow');
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({ Principal: { Service: 's3.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: resolve(stack.imports.queue.queueArn) });
    expect(allow[0].Condition.StringEquals['aws:SourceAccount']).toBe(TEST_ENV.account);
    // The policy names the bucket by the name the bucket is given, not by a reference to it (no cycle); unique per
    // account, region and stack.
    const name = bucket.Properties.BucketName as string;
    expect(name).toMatch(new RegExp(`^billow-imports-${TEST_ENV.account}-${TEST_ENV.region}-[0-9a-f]{8}$`));
    expect(name.length).toBeLessThanOrEqual(63);
    expect(allow[0].Condition.ArnEquals['aws:SourceArn']).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${name}`]] });
  });
});

describe('imports queue', () => {
  it('is SQS-encrypted and TLS only, hides a message for six worker timeouts, and dead-letters it after the redrive count', () => {
    const queues = resources('AWS::SQS::Queue');
    const queue = queues[id(stack.imports.queue)].Properties;
    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(queue.VisibilityTimeout).toBe(IMPORT_VISIBILITY_TIMEOUT.toSeconds());
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * IMPORT_WORKER_TIMEOUT.toSeconds());
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [id(stack.imports.deadLetterQueue), 'Arn'] },
      maxReceiveCount: IMPORT_MAX_RECEIVE_COUNT,
    });
    const dlq = queues[id(stack.imports.deadLetterQueue)].Properties;
    expect(dlq.SqsManagedSseEnabled).toBe(true);
    expect(dlq.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(queuePolicy(stack.imports.deadLetterQueue)!.Properties.PolicyDocument.Statement).toContainEqual(denyWithoutTls);
  });

  it('an alarm watches the dead-letter queue', () => {
    const alarms = Object.values(resources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const dlq = alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && json(a.Dimensions).includes(id(stack.imports.deadLetterQueue)));
    expect(dlq).toHaveLength(1);
  });
});

describe('import worker', () => {
  it('runs functions/imports/worker.ts from the queue, one message at a time, reporting failed messages one by one, at bounded concurrency', () => {
    const fn = template.toJSON().Resources[id(stack.imports.worker)].Properties;
    expect(fn).toMatchObject({ Handler: 'index.handler', Timeout: IMPORT_WORKER_TIMEOUT.toSeconds() });
    expect(fn.Environment.Variables).toMatchObject({
      BILLOW_RUNTIME: 'aws',
      BILLOW_TABLE: resolve(stack.data.table.tableName),
      BILLOW_IMPORTS_BUCKET: resolve(stack.imports.bucket.bucketName),
      BILLOW_IMPORTS_QUEUE_URL: resolve(stack.imports.queue.queueUrl),
      BILLOW_USER_POOL_ID: resolve(stack.identity.userPool.userPoolId),
      BILLOW_USER_POOL_CLIENT_ID: resolve(stack.identity.client.userPoolClientId),
    });
    const mappings = Object.values(resources('AWS::Lambda::EventSourceMapping')).filter(
      (m) => json(m.Properties.FunctionName) === json({ Ref: id(stack.imports.worker) }),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0].Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [id(stack.imports.queue), 'Arn'] },
      BatchSize: IMPORT_BATCH_SIZE,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: IMPORT_MAX_CONCURRENCY },
    });
  });

  it('its role: the table, client logins, import files read and reports written by prefix, its own queue; nothing else', () => {
    const grants = grantsOfRole(template, id(stack.imports.worker.executionRole));
    const queueArn = json(resolve(stack.imports.queue.queueArn));
    const objects = (prefix: string) => json(resolve(stack.imports.bucket.arnForObjects(`${prefix}*`)));
    expect(pairs(byService(grants, 's3'))).toEqual(
      pairs([
        { action: 's3:GetObject', resource: objects(IMPORT_UPLOAD_PREFIX) },
        { action: 's3:PutObject', resource: objects(IMPORT_REPORT_PREFIX) },
        ...IMPORT_PROCESS_BUCKET_ACTIONS.map((action) => ({ action, resource: json(resolve(stack.imports.bucket.bucketArn)) })),
      ]),
    );
    expect(pairs(byService(grants, 'sqs'))).toEqual(
      pairs(
        ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].map(
          (action) => ({ action, resource: queueArn }),
        ),
      ),
    );
    const poolArn = json(resolve(stack.identity.userPool.userPoolArn));
    expect(pairs(byService(grants, 'cognito-idp'))).toEqual(pairs(COGNITO_ADMIN_ACTIONS.map((action) => ({ action, resource: poolArn }))));
    expect(byService(grants, 'dynamodb').every((g) => g.action !== 'dynamodb:Scan')).toBe(true);
    expect(byService(grants, 'dynamodb').length).toBeGreaterThan(0);
    expect([...new Set(grants.map((g) => g.action.split(':')[0]))].sort()).toEqual(['cognito-idp', 'dynamodb', 'logs', 's3', 'sqs', 'xray']);
  });

  it('no other function reaches the imports bucket or queue, but the API areas that use them, for uploads and reports only', () => {
    const bucketArns = [
      stack.imports.bucket.bucketArn,
      stack.imports.bucket.arnForObjects(`${IMPORT_UPLOAD_PREFIX}*`),
      stack.imports.bucket.arnForObjects(`${IMPORT_REPORT_PREFIX}*`),
    ].map((arn) => json(resolve(arn)));
    const queueArn = json(resolve(stack.imports.queue.queueArn));
    const objects = (prefix: string) => json(resolve(stack.imports.bucket.arnForObjects(`${prefix}*`)));
    for (const role of Object.keys(resources('AWS::IAM::Role'))) {
      if (role === id(stack.imports.worker.executionRole)) continue;
      const grants = grantsOfRole(template, role).filter((g) => bucketArns.includes(g.resource) || g.resource === queueArn);
      const area = API_AREAS.find((a) => id(stack.api.functions[a].executionRole) === role);
      const expected: Grant[] = [];
      if (area && AREA_ACCESS[area].uses.includes('importFiles'))
        expected.push({ action: 's3:PutObject', resource: objects(IMPORT_UPLOAD_PREFIX) }, { action: 's3:GetObject', resource: objects(IMPORT_REPORT_PREFIX) });
      if (area && AREA_ACCESS[area].uses.includes('importQueue')) expected.push({ action: 'sqs:SendMessage', resource: queueArn });
      expect(pairs(grants), area ?? role).toEqual(pairs(expected));
    }
  });
});
