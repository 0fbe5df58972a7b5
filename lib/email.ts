import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cxapi from 'aws-cdk-lib/cx-api';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BillowTable, TableAccess } from './data.js';
import { BillowFunction, EXPORT_KEY_PREFIX, functionEntry } from './function.js';

/** The SES events the mail log follows (`functions/email-events/handler.ts`). */
export const MAIL_EVENTS = [
  ses.EmailSendingEvent.SEND,
  ses.EmailSendingEvent.DELIVERY,
  ses.EmailSendingEvent.BOUNCE,
  ses.EmailSendingEvent.COMPLAINT,
  ses.EmailSendingEvent.REJECT,
  ses.EmailSendingEvent.RENDERING_FAILURE,
  ses.EmailSendingEvent.DELIVERY_DELAY,
] as const;

/** The SES actions `functions/adapters/mailer/ses.ts` needs (SESv2 SendEmail with raw content). */
export const SES_SEND_ACTIONS = ['ses:SendEmail', 'ses:SendRawEmail'] as const;

/**
 * What the events handler does with the table: it finds the mail through the `SESMSG#` pointer or the mail's ref
 * item and reads the entry and the client (GetItem), moves the entry's status with a conditional update and
 * marks the client's address suppressed (UpdateItem), and records suppressions (PutItem). Nothing else.
 */
export const MAIL_EVENTS_TABLE_ACCESS: TableAccess = { items: ['GetItem', 'PutItem', 'UpdateItem'] };

export interface BillowEmailProps {
  table: BillowTable;
  /** The sender domain, verified as an SES identity (DKIM records to publish are in the SES console/outputs). */
  domain: string;
  /** The From address of every mail; must be at `domain`. */
  mailFrom: string;
  /** Base URL of the web app, for links in mail (`BILLOW_APP_URL`). */
  appUrl: string;
}

/** Server access logs of the blob bucket are kept this long. */
export const BLOB_ACCESS_LOG_RETENTION = Duration.days(365);
/** Mail bodies move to S3 Intelligent-Tiering after this long: few are read again after the first weeks. */
export const BLOB_TIERING_AFTER = Duration.days(30);

/**
 * Outgoing mail on SES: the sender domain's identity, a configuration set that publishes delivery events to a
 * KMS-encrypted SNS topic, and the `EmailEvents` Lambda that applies them to the mail log (statuses and
 * suppressions). Messages SNS cannot deliver, and events the function still fails on after Lambda's retries,
 * land in an encrypted dead-letter queue. And the blob bucket: mail bodies and attachments too big for a mail-log
 * item (`functions/store/mail.ts`), private, with its server access logs in a bucket of their own.
 */
export class BillowEmail extends Construct {
  readonly identity: ses.EmailIdentity;
  readonly configurationSet: ses.ConfigurationSet;
  /** ARN of the configuration set (SES authorises SendEmail against it as well as against the identity). */
  readonly configurationSetArn: string;
  readonly eventsKey: kms.Key;
  readonly eventsTopic: sns.Topic;
  readonly eventsDeadLetterQueue: sqs.Queue;
  readonly eventsFunction: BillowFunction;
  /**
   * The blob store (`BILLOW_BLOB_BUCKET`, bound with `bindBlobs`): mail bodies and attachments too big for a table
   * item. Private, S3-managed encryption, TLS only, unversioned (a client delete must really remove its mail),
   * retained with the table.
   */
  readonly blobBucket: s3.Bucket;
  /** Server access logs of `blobBucket`. */
  readonly blobAccessLogs: s3.Bucket;
  readonly domain: string;
  readonly mailFrom: string;
  readonly appUrl: string;

  constructor(scope: Construct, id: string, props: BillowEmailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.domain = props.domain;
    this.mailFrom = props.mailFrom;
    this.appUrl = props.appUrl;
    const address = /<([^>]+)>\s*$/.exec(props.mailFrom)?.[1] ?? props.mailFrom;
    if (!address.toLowerCase().endsWith(`@${props.domain.toLowerCase()}`)) {
      throw new Error(`The mail sender ${props.mailFrom} is not at the SES identity's domain ${props.domain}; the send grant would not cover it.`);
    }

    this.configurationSet = new ses.ConfigurationSet(this, 'ConfigurationSet', { reputationMetrics: true, sendingEnabled: true });
    this.configurationSetArn = stack.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet.configurationSetName });
    this.identity = new ses.EmailIdentity(this, 'Identity', {
      identity: ses.Identity.domain(props.domain),
      configurationSet: this.configurationSet,
    });

    // One key for the events topic and its dead-letter queue. SES encrypts what it publishes to the topic, and SNS
    // encrypts what it moves to the queue, so both services may use the key (AWS-managed keys cannot allow that).
    this.eventsKey = new kms.Key(this, 'EventsKey', {
      description: 'Billow: encrypts SES delivery events on their SNS topic and dead-letter queue',
      enableKeyRotation: true,
    });
    this.eventsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesToPublishToTheEncryptedTopic',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
      }),
    );
    this.eventsKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSnsToMoveUndeliverableEventsToTheEncryptedQueue',
        principals: [new iam.ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
      }),
    );

    this.eventsTopic = new sns.Topic(this, 'EventsTopic', {
      displayName: 'Billow SES delivery events',
      masterKey: this.eventsKey,
      enforceSSL: true,
    });
    // Also adds the topic policy: ses.amazonaws.com may publish, for this account and this configuration set only.
    this.configurationSet.addEventDestination('EventsToTopic', {
      destination: ses.EventDestination.snsTopic(this.eventsTopic),
      events: [...MAIL_EVENTS],
    });

    this.eventsDeadLetterQueue = new sqs.Queue(this, 'EventsDeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.eventsKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.eventsDeadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue: of the SNS subscription of the EmailEvents Lambda (RedrivePolicy) and of its asynchronous invocations (on-failure destination). cdk-nag only recognises SQS redrive policies.',
    });

    this.eventsFunction = new BillowFunction(this, 'EmailEvents', {
      entry: functionEntry('email-events', 'handler.ts'),
      description: 'Billow: SES delivery events (SNS) → mail log statuses and suppressions',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: {
        BILLOW_RUNTIME: 'aws',
        POWERTOOLS_SERVICE_NAME: 'billow',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      // Statuses and suppressions are table items only.
      adapters: [],
    }).bindTable(props.table, MAIL_EVENTS_TABLE_ACCESS);

    this.eventsTopic.addSubscription(new subscriptions.LambdaSubscription(this.eventsFunction, { deadLetterQueue: this.eventsDeadLetterQueue }));
    // SNS invokes asynchronously: a store failure is retried twice by Lambda, then kept in the queue for a redrive.
    this.eventsFunction.configureAsyncInvoke({ retryAttempts: 2, onFailure: new QueueDestination(this.eventsDeadLetterQueue, this.eventsKey) });

    const blobs = new Construct(this, 'Blobs');
    // Log delivery is allowed by a bucket policy, not the LogDeliveryWrite ACL (ACLs are off on these buckets),
    // whatever the app's feature flags say.
    blobs.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const privateBucket = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: false,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    } satisfies s3.BucketProps;
    this.blobAccessLogs = new s3.Bucket(blobs, 'AccessLogs', {
      ...privateBucket,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: BLOB_ACCESS_LOG_RETENTION }],
    });
    Validations.of(this.blobAccessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket only receives the server access logs of the mail blob bucket; logging its own access would log the log deliveries.',
    });
    this.blobBucket = new s3.Bucket(blobs, 'Bucket', {
      ...privateBucket,
      serverAccessLogsBucket: this.blobAccessLogs,
      serverAccessLogsPrefix: 'blobs/',
      lifecycleRules: [
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'TierOldMail', transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: BLOB_TIERING_AFTER }] },
        // A clients export's file is fetched through a 15-minute link; a day is ample.
        { id: 'ExpireExports', prefix: EXPORT_KEY_PREFIX, expiration: Duration.days(1) },
      ],
    });
  }

  /** SendEmail/SendRawEmail from the sender identity through the configuration set, nothing else. */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...SES_SEND_ACTIONS], resourceArns: [this.identity.emailIdentityArn, this.configurationSetArn] });
  }
}

/**
 * An on-failure destination that grants exactly what sending to a KMS-encrypted queue needs (`SqsDestination`
 * would grant `kms:ReEncrypt*`/`kms:GenerateDataKey*`, wildcards the infra tests forbid).
 */
class QueueDestination implements lambda.IDestination {
  constructor(
    private readonly queue: sqs.IQueue,
    private readonly key: kms.IKey,
  ) {}

  bind(_scope: Construct, fn: lambda.IFunction): lambda.DestinationConfig {
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [this.key.keyArn] });
    return { destination: this.queue.queueArn };
  }
}
