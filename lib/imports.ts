import { createHash } from 'node:crypto';
import { Duration, Fn, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BillowTable } from './data.js';
import { BillowFunction, functionEntry, IMPORT_REPORT_PREFIX, IMPORT_UPLOAD_PREFIX } from './function.js';
import type { BillowIdentity } from './identity.js';

/** The longest a worker invocation runs: one chunk of rows (the first worker also splits the file). */
export const IMPORT_WORKER_TIMEOUT = Duration.minutes(5);
/**
 * A message a worker holds is hidden this long: six times the worker's timeout, as AWS advises for Lambda event sources,
 * so a message is never handed to a second worker while the first may still run it (a retry of a throttled invocation
 * included). A worker that crashed is resumed from its checkpoint once this has passed.
 */
export const IMPORT_VISIBILITY_TIMEOUT = Duration.seconds(IMPORT_WORKER_TIMEOUT.toSeconds() * 6);
/** Deliveries of one message before it moves to the dead-letter queue (5: a throttled invocation counts as one). */
export const IMPORT_MAX_RECEIVE_COUNT = 5;
/**
 * Messages per invocation: one. A message is a whole chunk (or a whole file to split), minutes of work; a batch would
 * only make one slow chunk hold back the others and widen what a retry redoes.
 */
export const IMPORT_BATCH_SIZE = 1;
/**
 * At most this many worker invocations at once (the event source's maximum concurrency), across all imports: what
 * DynamoDB's per-company hot keys (the client-number counter), Cognito's AdminCreateUser quota and the API's own
 * traffic leave room for. The local stack runs its queue at the same concurrency (`bin/local/imports.ts`).
 */
export const IMPORT_MAX_CONCURRENCY = 4;
/** Files under `imports/` (already imported, or never claimed) are deleted this long after upload. */
export const IMPORT_FILE_RETENTION = Duration.days(30);
/** Error reports under `reports/` are deleted this long after they are written. */
export const IMPORT_REPORT_RETENTION = Duration.days(90);
/** Overwritten or deleted versions (versioning is on) are kept this long, to recover a file replaced by mistake. */
export const IMPORT_NONCURRENT_RETENTION = Duration.days(7);
/** Server access logs of the imports bucket are kept this long. */
export const IMPORT_ACCESS_LOG_RETENTION = Duration.days(365);
/** Browsers PUT files to presigned URLs straight from a web app: these origins may (all: the URL itself is the credential). */
export const IMPORT_UPLOAD_CORS: s3.CorsRule = {
  allowedMethods: [s3.HttpMethods.PUT],
  allowedOrigins: ['*'],
  allowedHeaders: ['content-type', 'content-length', 'content-md5', 'x-amz-*'],
  exposedHeaders: ['etag', 'x-amz-request-id', 'x-amz-version-id'],
  maxAge: 3600,
};

export interface BillowImportsProps {
  table: BillowTable;
  /** Rows with a username or email get a client login (createClient), as through the API. */
  identity: BillowIdentity;
}

/**
 * Client imports from CSV (the design card's fan-out):
 *
 *   imports bucket ──ObjectCreated (prefix imports/)──> imports queue (+ dead-letter queue) ──> import worker
 *                                                            ^                                     │
 *                                                            └──── one chunk message per byte range ┘
 *
 * The bucket notifies the queue of every object created under `imports/`, whatever its name: API uploads keep the
 * user's file name (S3's suffix filter is case-sensitive, so `.CSV` or a name without `.csv` would never arrive), and
 * what a key means (an upload for an import, or an ops drop) is decided by the worker from its segments. The worker
 * (`functions/imports/worker.ts`) reports failed messages one by one (ReportBatchItemFailures); a message that fails
 * `IMPORT_MAX_RECEIVE_COUNT` times moves to the dead-letter queue.
 */
export class BillowImports extends Construct {
  /** The imports bucket (`BILLOW_IMPORTS_BUCKET`): files under `imports/`, error reports under `reports/`. */
  readonly bucket: s3.Bucket;
  /** Server access logs of `bucket`. */
  readonly accessLogs: s3.Bucket;
  /** The imports queue (`BILLOW_IMPORTS_QUEUE_URL`): S3 event notifications and chunk messages. */
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly worker: BillowFunction;

  constructor(scope: Construct, id: string, props: BillowImportsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Log delivery is allowed by a bucket policy, not the LogDeliveryWrite ACL (ACLs are off on these buckets).
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    this.deadLetterQueue = new sqs.Queue(this, 'ImportsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the imports queue (its redrive policy names it); it has no consumer of its own.',
    });
    // SQS-managed encryption: S3 can publish to it (an AWS-managed KMS key would need a key policy S3 cannot be given).
    this.queue = new sqs.Queue(this, 'ImportsQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: IMPORT_VISIBILITY_TIMEOUT,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: IMPORT_MAX_RECEIVE_COUNT },
    });

    const privateBucket = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    } satisfies s3.BucketProps;
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...privateBucket,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: IMPORT_ACCESS_LOG_RETENTION }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket only receives the server access logs of the imports bucket; logging its own access would log the log deliveries.',
    });

    // The bucket's name is made here, not by CloudFormation, so the queue policy can name the bucket as the only
    // sender without referring to it: the bucket's notification configuration needs that policy to exist first, and a
    // reference both ways would be a cycle. (CDK's addEventNotification breaks the cycle with a custom-resource Lambda
    // instead, one more function outside Billow's conventions.) Unique per account, region and stack.
    const bucketName = Fn.join('-', ['billow-imports', stack.account, stack.region, stackHash(stack)]);
    const bucketArn = Fn.join('', ['arn:', stack.partition, ':s3:::', bucketName]);
    const queuePolicy = this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowTheImportsBucketToNotify',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: { ArnEquals: { 'aws:SourceArn': bucketArn }, StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...privateBucket,
      bucketName,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'imports/',
      cors: [IMPORT_UPLOAD_CORS],
      lifecycleRules: [
        { id: 'ExpireImportedFiles', prefix: IMPORT_UPLOAD_PREFIX, expiration: IMPORT_FILE_RETENTION },
        { id: 'ExpireErrorReports', prefix: IMPORT_REPORT_PREFIX, expiration: IMPORT_REPORT_RETENTION },
        { id: 'ExpireOldVersions', noncurrentVersionExpiration: IMPORT_NONCURRENT_RETENTION },
        { id: 'RemoveExpiredDeleteMarkers', expiredObjectDeleteMarker: true },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
    const cfnBucket = this.bucket.node.defaultChild as s3.CfnBucket;
    cfnBucket.notificationConfiguration = {
      queueConfigurations: [
        {
          event: 's3:ObjectCreated:*',
          queue: this.queue.queueArn,
          filter: { s3Key: { rules: [{ name: 'prefix', value: IMPORT_UPLOAD_PREFIX }] } },
        },
      ],
    };
    // S3 checks that it may send to the queue when the notification is configured.
    if (queuePolicy.policyDependable) cfnBucket.node.addDependency(queuePolicy.policyDependable);

    this.worker = new BillowFunction(this, 'ImportWorker', {
      entry: functionEntry('imports', 'worker.ts'),
      description: 'Billow imports: splits an uploaded CSV into chunks, imports each chunk, completes the import',
      timeout: IMPORT_WORKER_TIMEOUT,
      environment: {
        BILLOW_RUNTIME: 'aws',
        POWERTOOLS_SERVICE_NAME: 'billow',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      adapters: ['identity', 'importFiles', 'importQueue'],
    })
      .bindTable(props.table, 'readWrite')
      .bindIdentity(props.identity)
      .bindImportFiles(this.bucket, 'process')
      .bindImportQueue(this.queue);
    // Also grants what consuming takes (ReceiveMessage, DeleteMessage, ChangeMessageVisibility, GetQueueAttributes) on this queue only.
    this.worker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: IMPORT_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: IMPORT_MAX_CONCURRENCY,
      }),
    );
  }
}

/** Eight hex characters that tell this stack's bucket from another Billow stack's in the same account and region. */
function stackHash(stack: Stack): string {
  const name = Token.isUnresolved(stack.stackName) ? Names.uniqueId(stack) : stack.stackName;
  return createHash('sha256').update(name).digest('hex').slice(0, 8);
}
