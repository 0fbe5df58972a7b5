import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { TASK_NAMES } from '../functions/automation/task.js';
import type { BillowApi } from './api.js';
import type { BillowTable } from './data.js';
import type { BillowFunction } from './function.js';
import { METRIC, TASK_DIMENSION, type MetricName } from '../functions/observability/metrics.js';

export interface BillowObservabilityProps {
  api: BillowApi;
  table: BillowTable;
  /** Functions outside the API (Cognito triggers, the SES events handler, later automation and import tasks). */
  otherFunctions?: readonly BillowFunction[];
  /** Queues that only ever hold failures: any message in one is an alarm. */
  deadLetterQueues?: readonly sqs.IQueue[];
  /** The imports dead-letter queue, whose depth the imports panel shows (it is one of `deadLetterQueues`). */
  importsDeadLetterQueue?: sqs.IQueue;
  /**
   * State machines whose executions should never fail: a failed or timed-out execution is an alarm (a run whose
   * task failed still ends its execution normally; only the engine itself failing ends one so).
   */
  stateMachines?: readonly sfn.IStateMachine[];
  /** A warning shown across the top of the dashboard (a deployment whose payments are simulated). */
  banner?: string;
  /** An address the alarm topic mails (it must confirm the subscription). @default none: subscribe the topic yourself */
  alarmEmail?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * How old a pending payment attempt may get before it is an alarm: the reconciler runs every five minutes and takes
 * attempts older than two, so one still pending after half an hour has failed several runs or needs a person.
 */
export const STUCK_PENDING_CHARGE_AGE = Duration.minutes(30);

/** The construct path under the stack, without separators: `Api/ClientsFunction` → `ApiClientsFunction`. */
const nameOf = (construct: IConstruct) => {
  const stackPath = Stack.of(construct).node.path;
  return construct.node.path.slice(stackPath.length + 1).replace(/\//g, '');
};

/**
 * The alarms and the dashboard ops watch: API 5xx and latency, Lambda errors and throttles, dead-letter queues,
 * table throttles, payments and mail, automation runs, imports and payment reconciliation. Every alarm notifies the
 * alarm topic when it fires and when it clears; `docs/operations.md` has a section per alarm, under its id.
 */
export class BillowObservability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  /** Where every alarm goes: subscribe a mail address (`-c alarmEmail=…`), a pager or a chat webhook to it. */
  readonly alarmTopic: sns.Topic;
  /** The customer-managed key of the alarm topic (CloudWatch cannot publish to a topic under the AWS-managed SNS key). */
  readonly alarmTopicKey: kms.Key;
  private readonly alarmAction: SnsAction;

  constructor(scope: Construct, id: string, props: BillowObservabilityProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Billow: encrypts alarm notifications on their SNS topic',
      enableKeyRotation: true,
    });
    this.alarmTopicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToTheEncryptedTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'Billow alarms', masterKey: this.alarmTopicKey, enforceSSL: true });
    // The topic policy enforceSSL writes replaces SNS's default one: CloudWatch needs its own grant, for this account's alarms only.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );
    if (props.alarmEmail) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    this.alarmAction = new SnsAction(this.alarmTopic);
    const { httpApi } = props.api;
    const apiFunctions = Object.values(props.api.functions) as BillowFunction[];
    const allFunctions = [...apiFunctions, ...(props.otherFunctions ?? [])];

    const api5xx = httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' });
    this.alarm('Api5xx', api5xx, 5, 'The API answered 5 or more 5xx responses in 5 minutes.');
    const apiP99 = httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' });
    this.alarm('ApiLatencyP99', apiP99, 5_000, 'API p99 latency over 5 s for 15 minutes.', 3);

    for (const fn of allFunctions) {
      const name = nameOf(fn);
      this.alarm(`${name}Errors`, fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `${name} threw (errors ≥ 1 in 5 minutes).`);
      this.alarm(`${name}Throttles`, fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `${name} was throttled.`);
    }

    for (const queue of props.deadLetterQueues ?? []) {
      const name = nameOf(queue);
      const visible = queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' });
      this.alarm(`${name}Messages`, visible, 1, `${name} holds messages that could not be processed; inspect and redrive them.`);
    }

    for (const machine of props.stateMachines ?? []) {
      const name = nameOf(machine);
      this.alarm(
        `${name}ExecutionsFailed`,
        machine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum' }),
        1,
        `${name}: an execution failed (the run could not be finished).`,
      );
      this.alarm(`${name}ExecutionsTimedOut`, machine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `${name}: an execution timed out.`);
    }

    const table = props.table.table;
    const tableThrottles = new cloudwatch.MathExpression({
      expression: 'FILL(r, 0) + FILL(w, 0)',
      label: 'Read + write throttle events',
      period: FIVE_MINUTES,
      usingMetrics: {
        r: table.metric('ReadThrottleEvents', { statistic: 'Sum', period: FIVE_MINUTES }),
        w: table.metric('WriteThrottleEvents', { statistic: 'Sum', period: FIVE_MINUTES }),
      },
    });
    this.alarm('TableThrottles', tableThrottles, 10, 'DynamoDB throttled 10 or more requests in 5 minutes.');

    // Business metrics the handlers publish (functions/http/metrics.ts).
    const business = (name: MetricName) =>
      new cloudwatch.Metric({ namespace: 'Billow', metricName: name, dimensionsMap: { service: 'billow' }, statistic: 'Sum', period: FIVE_MINUTES });
    this.alarm('GatewayFailures', business(METRIC.gatewayFailures), 5, 'The payment gateway failed 5 or more charges or refunds in 5 minutes (not declines).');
    this.alarm('MailFailures', business(METRIC.mailFailed), 5, 'SES refused 5 or more messages in 5 minutes.');
    this.alarm('MailComplaints', business(METRIC.mailComplained), 1, 'A recipient marked Billow mail as spam.');
    this.alarm(
      'AutomationRunsFailed',
      business(METRIC.automationRunsFailed),
      1,
      'An automation run failed: a task kept failing (GET /v1/automation/runs/{id} says which and why).',
    );
    const perTask = (name: MetricName, task: string) =>
      new cloudwatch.Metric({
        namespace: 'Billow',
        metricName: name,
        dimensionsMap: { service: 'billow', [TASK_DIMENSION]: task },
        statistic: 'Sum',
        period: FIVE_MINUTES,
        label: task,
      });

    // A run that fails settles nothing; two in a row (ten minutes) is not a passing fault.
    this.alarm(
      'ReconciliationFailing',
      business(METRIC.pendingChargesFailed),
      1,
      'The payment reconciler could not settle pending payments in two runs in a row (faults at the gateway or the table).',
      2,
    );
    const oldestPending = new cloudwatch.Metric({
      namespace: 'Billow',
      metricName: METRIC.oldestPendingChargeAgeSeconds,
      dimensionsMap: { service: 'billow' },
      statistic: 'Maximum',
      period: FIVE_MINUTES,
    });
    this.alarm(
      'PendingChargesStuck',
      oldestPending,
      STUCK_PENDING_CHARGE_AGE.toSeconds(),
      `A payment attempt pending for ${STUCK_PENDING_CHARGE_AGE.toMinutes()} minutes or more was left pending by the reconciler: it keeps failing on it or cannot settle it.`,
    );
    this.alarm(
      'PendingChargesNeedAttention',
      business(METRIC.pendingChargesNeedingAttention),
      1,
      'The reconciler found a pending payment it cannot settle by itself (its request or payment account is gone): a person must.',
    );

    const apiDurationP99 = apiFunctions.map((fn) => fn.metricDuration({ period: FIVE_MINUTES, statistic: 'p99', label: fn.node.id }));
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        ...(props.banner ? [[new cloudwatch.TextWidget({ markdown: `# ⚠ ${props.banner}`, width: 24, height: 2 })]] : []),
        [
          new cloudwatch.GraphWidget({
            title: 'API requests and errors',
            left: [
              httpApi.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
              httpApi.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' }),
              api5xx,
            ],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'API latency',
            left: [
              httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }),
              apiP99,
              httpApi.metricIntegrationLatency({ period: FIVE_MINUTES, statistic: 'p99' }),
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Lambda errors',
            left: allFunctions.map((fn) => fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum', label: fn.node.id })),
            width: 12,
          }),
          new cloudwatch.GraphWidget({ title: 'API Lambda duration p99', left: apiDurationP99, width: 12 }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'DynamoDB consumed capacity',
            left: [table.metricConsumedReadCapacityUnits({ period: FIVE_MINUTES }), table.metricConsumedWriteCapacityUnits({ period: FIVE_MINUTES })],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'DynamoDB throttles and conditional-check failures',
            left: [tableThrottles],
            right: [table.metricConditionalCheckFailedRequests({ period: FIVE_MINUTES, statistic: 'Sum' })],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Payments',
            left: [METRIC.paymentsApproved, METRIC.paymentsDeclined, METRIC.gatewayFailures, METRIC.paymentsKeptAsCredit, METRIC.refunds].map(business),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Mail',
            left: [METRIC.mailSent, METRIC.mailFailed, METRIC.mailBounced, METRIC.mailComplained].map(business),
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Automation runs',
            left: [METRIC.automationRunsStarted, METRIC.automationRunsSucceeded, METRIC.automationRunsFailed].map(business),
            right: (props.stateMachines ?? []).flatMap((machine) => [
              machine.metricFailed({ period: FIVE_MINUTES, statistic: 'Sum', label: 'Executions failed' }),
              machine.metricTimedOut({ period: FIVE_MINUTES, statistic: 'Sum', label: 'Executions timed out' }),
            ]),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Automation actions per task',
            left: TASK_NAMES.map((task) => perTask(METRIC.automationTaskActions, task)),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Automation failures per task',
            left: TASK_NAMES.map((task) => perTask(METRIC.automationTaskFailures, task)),
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Imports: rows per second',
            left: [
              new cloudwatch.MathExpression({
                expression: 'FILL(rows, 0) / PERIOD(rows)',
                label: 'Rows per second',
                period: FIVE_MINUTES,
                usingMetrics: { rows: business(METRIC.importRowsProcessed) },
              }),
            ],
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Imports: rows processed and failed',
            left: [METRIC.importRowsProcessed, METRIC.importRowsFailed].map(business),
            width: 8,
          }),
          new cloudwatch.GraphWidget({
            title: 'Imports: dead-letter queue depth',
            left: props.importsDeadLetterQueue
              ? [props.importsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: 'Messages' })]
              : [],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Reconciliation: pending charges',
            left: [METRIC.pendingChargesReconciled, METRIC.pendingChargesFailed, METRIC.pendingChargesNeedingAttention].map(business),
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Reconciliation: oldest pending charge (seconds)',
            left: [oldestPending],
            leftAnnotations: [{ value: STUCK_PENDING_CHARGE_AGE.toSeconds(), label: 'Alarm' }],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Dead-letter queues',
            left: (props.deadLetterQueues ?? []).map((queue) =>
              queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: nameOf(queue) }),
            ),
            width: 24,
          }),
        ],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 })],
      ],
    });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string, evaluationPeriods = 1): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Billow: ${description} Runbook: docs/operations.md, section ${id}.`,
      // Named by its id, so the notification names the runbook section.
      alarmName: `${Stack.of(this).stackName}-${id}`,
    });
    alarm.addAlarmAction(this.alarmAction);
    alarm.addOkAction(this.alarmAction);
    this.alarms.push(alarm);
    return alarm;
  }
}
