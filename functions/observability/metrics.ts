import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

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
  /** An automation run ended failed (a task kept failing after its retries, or the run was cut short). */
  automationRunsFailed: 'AutomationRunsFailed',
  /** Objects an automation run could not handle (counted in its tasks' `failed`; the next run retries them). */
  automationObjectsFailed: 'AutomationObjectsFailed',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export function count(name: MetricName, value = 1): void {
  metrics.addMetric(name, MetricUnit.Count, value);
}
