import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';

/**
 * Business metrics ops watch, published as CloudWatch embedded metrics (namespace `Billow`) when each invocation
 * ends. Locally and in tests `POWERTOOLS_METRICS_DISABLED=true` keeps them off stdout.
 */
export const metrics = new Metrics({ namespace: 'Billow', serviceName: 'billow' });

/** Names shared with the CDK alarms (`lib/observability.ts`). */
export const METRIC = {
  serverErrors: 'ServerErrors',
  paymentsApproved: 'PaymentsApproved',
  paymentsDeclined: 'PaymentsDeclined',
  gatewayFailures: 'GatewayFailures',
  paymentsKeptAsCredit: 'PaymentsKeptAsCredit',
  refunds: 'Refunds',
  mailSent: 'MailSent',
  mailFailed: 'MailFailed',
  mailBounced: 'MailBounced',
  mailComplained: 'MailComplained',
  /** An automation run's execution was started (by the schedule's dispatcher or `POST /v1/automation/runs`). */
  automationRunsStarted: 'AutomationRunsStarted',
  /** An automation run ended with every task it was asked to do finished. */
  automationRunsSucceeded: 'AutomationRunsSucceeded',
  /** An automation run ended failed (a task kept failing after its retries, or the run was cut short). */
  automationRunsFailed: 'AutomationRunsFailed',
  /** Objects an automation run could not handle (counted in its tasks' `failed`; the next run retries them). */
  automationObjectsFailed: 'AutomationObjectsFailed',
  /** Per task (dimension `task`), when a run finishes: the objects it changed (or, in a dry run, planned). */
  automationTaskActions: 'AutomationTaskActions',
  /** Per task (dimension `task`), when a run finishes: the objects it failed at, and 1 more if the task itself failed. */
  automationTaskFailures: 'AutomationTaskFailures',
  /** Import rows whose outcome a finished chunk recorded (created, updated, skipped or failed). */
  importRowsProcessed: 'ImportRowsProcessed',
  /** Import rows a finished chunk rejected (they are in the import's error report). */
  importRowsFailed: 'ImportRowsFailed',
  /** Pending payment attempts the reconciler settled (approved, declined or failed at the gateway). */
  pendingChargesReconciled: 'PendingChargesReconciled',
  /** Pending payment attempts the reconciler could not settle for a fault; the next run tries again. */
  pendingChargesFailed: 'PendingChargesFailed',
  /** Pending payment attempts the reconciler cannot settle by itself (no request kept, account gone): a person must. */
  pendingChargesNeedingAttention: 'PendingChargesNeedingAttention',
  /** Age in seconds of the oldest pending payment attempt a reconciler run left pending (0 when it settled them all). */
  oldestPendingChargeAgeSeconds: 'OldestPendingChargeAgeSeconds',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export function count(name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}

/** The dimension metrics per automation task carry besides `service`. */
export const TASK_DIMENSION = 'task';

/** A count for one automation task, published at once (the invocation's other metrics have no `task` dimension). */
export function countForTask(name: MetricName, task: string, value: number): void {
  metrics.singleMetric().addDimension(TASK_DIMENSION, task).addMetric(name, MetricUnit.Count, value);
}

/** A gauge in seconds, published when the invocation ends like `count`. */
export function seconds(name: MetricName, value: number): void {
  metrics.addMetric(name, MetricUnit.Seconds, value);
}

/**
 * Middleware that flushes the invocation's business metrics, if it counted any, when it ends (failed or not): most
 * invocations count none, and flushing an empty buffer makes Powertools warn every time.
 */
export function publishMetrics(): middy.MiddlewareObj {
  const flush = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
