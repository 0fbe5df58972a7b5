import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BillowTable, TableAccess } from './data.js';
import type { BillowEmail } from './email.js';
import { BillowFunction, functionEntry } from './function.js';

/** How often pending payment attempts are reconciled; each run settles those older than its grace period (2 minutes). */
export const RECONCILE_RATE = Duration.minutes(5);

/**
 * What reconciling reads and writes (functions/billing/payments/reconcile-payment.ts and what it calls): the pending
 * index (Query on GSI2), the attempt, its request, its account and the ledger it settles into (Get, BatchGet, Query);
 * the ledger transaction and the settlement of a declined or failed attempt (Put, Update, Delete, ConditionCheck);
 * the receipt or decline notice in the mail log (Put, Update). No batch writes.
 */
export const RECONCILER_TABLE_ACCESS: TableAccess = {
  items: ['GetItem', 'BatchGetItem', 'Query', 'ConditionCheckItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  queryIndexes: true,
};

export interface BillowReconcilerProps {
  table: BillowTable;
  email: BillowEmail;
  /** The KMS key of stored payment details: the tokens a replay charges with are sealed under it. */
  paymentKey: kms.IKey;
  /** The Stripe secret key; absent when the simulator is the gateway. */
  gatewaySecret?: secretsmanager.ISecret;
}

/**
 * The payment reconciler: an EventBridge Scheduler schedule invokes `functions/billing/payments/reconcile-handler.ts`
 * every five minutes. An invocation Scheduler cannot deliver, and a run that fails (an attempt could not be settled)
 * after Lambda's two retries, end in the dead-letter queue; settling is idempotent, so a retry or an overlapping run
 * never charges or records twice.
 */
export class BillowReconciler extends Construct {
  readonly function: BillowFunction;
  readonly deadLetterQueue: sqs.Queue;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: BillowReconcilerProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue: of the reconciler schedule (Scheduler target DLQ) and of the function it invokes (on-failure destination). cdk-nag only recognises SQS redrive policies.',
    });

    const fn = new BillowFunction(this, 'Function', {
      entry: functionEntry('billing', 'payments', 'reconcile-handler.ts'),
      description: 'Billow: settles payment attempts left pending (replays the charge with its idempotency key)',
      memorySize: 512,
      // Shorter than the rate, so runs do not pile up.
      timeout: Duration.minutes(4),
      environment: {
        BILLOW_RUNTIME: 'aws',
        POWERTOOLS_SERVICE_NAME: 'billow',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      // Replaying a charge: the sealed token (cipher), the gateway, and the receipt mail with its blobs.
      adapters: ['mailer', 'blobs', 'cipher', 'gateway'],
    })
      .bindTable(props.table, RECONCILER_TABLE_ACCESS)
      .bindMailer(props.email)
      .bindBlobs(props.email.blobBucket, 'readWrite')
      .bindPaymentKey(props.paymentKey);
    if (props.gatewaySecret) fn.bindGatewaySecret(props.gatewaySecret);
    // Scheduler invokes asynchronously: a run that throws is retried twice by Lambda, then recorded in the queue.
    fn.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.deadLetterQueue) });
    this.function = fn;

    // Its own role, rather than the stack-wide one the target would make, so it names this schedule's only grants.
    const invokeRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Billow: lets the reconciler schedule invoke its function and write to its dead-letter queue',
    });
    Validations.of(invokeRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as never)}.Arn>:*]`,
      reason:
        "lambda:InvokeFunction on the reconciler function's qualified ARNs (versions and aliases), as Lambda's grantInvoke writes it; the role can invoke nothing else, and the schedule invokes the unqualified function.",
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'Billow: reconcile pending payment attempts',
      schedule: scheduler.ScheduleExpression.rate(RECONCILE_RATE),
      target: new schedulerTargets.LambdaInvoke(fn, {
        role: invokeRole,
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: 2,
        maxEventAge: Duration.minutes(10),
      }),
    });
  }
}
