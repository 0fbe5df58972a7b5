import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BillowApi } from './api.js';
import type { BillowTable } from './data.js';
import type { BillowFunction } from './function.js';
import { METRIC, type MetricName } from '../functions/observability/metrics.js';

export interface BillowObservabilityProps {
  api: BillowApi;
  table: BillowTable;
  /** Functions outside the API (Cognito triggers, the SES events handler, later automation and import tasks). */
  otherFunctions?: readonly BillowFunction[];
  /** Queues that only ever hold failures: any message in one is an alarm. */
  deadLetterQueues?: readonly sqs.IQueue[];
  /**
   * State machines whose executions should never fail: a failed or timed-out execution is an alarm (a run whose
   * task failed still ends its execution normally; only the engine itself failing ends one so).
   */
  stateMachines?: readonly sfn.IStateMachine[];
  /** A warning shown across the top of the dashboard (a deployment whose payments are simulated). */
  banner?: string;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The alarms and the dashboard ops watch: API 5xx and latency, Lambda errors and throttles, dead-letter queues,
 * table throttles and system errors. Alarms have no action here; subscribe a topic with `addAlarmAction` per deployment.
 */
export class BillowObservability extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BillowObservabilityProps) {
    super(scope, id);
    const { httpApi } = props.api;
    const apiFunctions = Object.values(props.api.functions) as BillowFunction[];
    const allFunctions = [...apiFunctions, ...(props.otherFunctions ?? [])];

    const api5xx = httpApi.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' });
    this.alarm('Api5xx', api5xx, 5, 'The API answered 5 or more 5xx responses in 5 minutes.');
    const apiP99 = httpApi.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' });
    this.alarm('ApiLatencyP99', apiP99, 5_000, 'API p99 latency over 5 s for 15 minutes.', 3);

    for (const fn of allFunctions) {
      const name = fn.node.id;
      this.alarm(`${name}Errors`, fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `${name} threw (errors ≥ 1 in 5 minutes).`);
      this.alarm(`${name}Throttles`, fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }), 1, `${name} was throttled.`);
    }

    for (const queue of props.deadLetterQueues ?? []) {
      const name = queue.node.id;
      const visible = queue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' });
      this.alarm(`${name}Messages`, visible, 1, `${name} holds messages that could not be processed; inspect and redrive them.`);
    }

    for (const machine of props.stateMachines ?? []) {
      const name = (machine as unknown as { node: { id: string } }).node.id;
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
      alarmDescription: `Billow: ${description}`,
    });
    this.alarms.push(alarm);
    return alarm;
  }
}
