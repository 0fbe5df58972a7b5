import { Annotations, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { AnyRoute } from '../functions/http/route.js';
import { BillowApi } from './api.js';
import { BillowAutomation } from './automation.js';
import { BillowTable } from './data.js';
import { BillowEmail } from './email.js';
import { BillowIdentity } from './identity.js';
import { BillowImports } from './imports.js';
import { BillowObservability } from './observability.js';
import { BillowPayments, GATEWAY_CHOICES, type GatewayChoice } from './payments.js';
import { BillowReconciler } from './reconciler.js';

/** Used when neither a prop nor the `mailDomain` context value is given; SES cannot verify it. */
export const DEFAULT_MAIL_DOMAIN = 'example.com';

export interface BillowStackProps extends StackProps {
  /** The API's route table (`allRoutes` from `functions/http/route-table.ts`). */
  routes: readonly AnyRoute[];
  /** Sender domain, verified as an SES identity. @default context `mailDomain`, else 'example.com' */
  mailDomain?: string;
  /** From address of every mail, at `mailDomain`. @default context `mailFrom`, else `billing@<mailDomain>` */
  mailFrom?: string;
  /** Base URL of the web app, for links in mail (set-password, login). @default context `appUrl`, else `https://app.<mailDomain>` */
  appUrl?: string;
  /** Payment gateway: required, as a prop or the context value `gateway` (`-c gateway=stripe|simulator`). */
  gateway?: GatewayChoice;
  /** An address the alarm topic mails. @default context `alarmEmail`, else none (subscribe the topic yourself) */
  alarmEmail?: string;
}

/** Deployment settings: props first, then `cdk.json`/`-c` context values, then defaults. */
export interface BillowSettings {
  mailDomain: string;
  mailFrom: string;
  appUrl: string;
  gateway: GatewayChoice;
  alarmEmail?: string;
}

/** Said at synth and on the dashboard of a deployment whose payments go through the simulator. */
export const SIMULATED_PAYMENTS =
  'Payments go through the simulator (gateway=simulator): nothing is charged, and every transaction carries livemode: false. Deploy with -c gateway=stripe to take real money.';

const isGatewayChoice = (value: string): value is GatewayChoice => (GATEWAY_CHOICES as readonly string[]).includes(value);

export function resolveSettings(scope: Construct, props: Omit<BillowStackProps, 'routes'> = {}): BillowSettings {
  const context = (key: string): string | undefined => {
    const value: unknown = scope.node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new Error(`Context value '${key}' must be a string`);
    return value.trim();
  };
  const mailDomain = (props.mailDomain ?? context('mailDomain') ?? DEFAULT_MAIL_DOMAIN).toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(mailDomain))
    throw new Error(`mailDomain '${mailDomain}' is not a domain name`);
  const mailFrom = props.mailFrom ?? context('mailFrom') ?? `billing@${mailDomain}`;
  const appUrl = (props.appUrl ?? context('appUrl') ?? `https://app.${mailDomain}`).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(appUrl);
  } catch {
    throw new Error(`appUrl '${appUrl}' is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`appUrl '${appUrl}' must be an http(s) URL`);
  // No default: a deploy that forgot the gateway would take "payments" that move no money.
  const gateway = props.gateway ?? context('gateway');
  if (gateway === undefined) {
    throw new Error('Choose the payment gateway: -c gateway=stripe (real money) or -c gateway=simulator (test numbers; nothing is charged).');
  }
  if (!isGatewayChoice(gateway)) throw new Error(`gateway must be 'stripe' or 'simulator', not '${gateway}'`);
  const alarmEmail = props.alarmEmail ?? context('alarmEmail');
  if (alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail)) throw new Error(`alarmEmail '${alarmEmail}' is not a mail address`);
  return { mailDomain, mailFrom, appUrl, gateway, alarmEmail };
}

/** Billow's one stack: a construct per capability. Infrastructure only; no business rules. */
export class BillowStack extends Stack {
  readonly settings: BillowSettings;
  readonly data: BillowTable;
  readonly identity: BillowIdentity;
  readonly payments: BillowPayments;
  readonly email: BillowEmail;
  readonly api: BillowApi;
  readonly reconciler: BillowReconciler;
  readonly automation: BillowAutomation;
  readonly imports: BillowImports;
  readonly observability: BillowObservability;

  constructor(scope: Construct, id: string, props: BillowStackProps) {
    super(scope, id, props);
    this.settings = resolveSettings(this, props);
    if (this.settings.mailDomain === DEFAULT_MAIL_DOMAIN) {
      Annotations.of(this).addWarningV2(
        'billow:mailDomain',
        `No mailDomain set: the SES identity is ${DEFAULT_MAIL_DOMAIN}, which cannot be verified. Deploy with -c mailDomain=<your domain> (README, Deploying).`,
      );
    }

    if (this.settings.gateway === 'simulator') Annotations.of(this).addWarningV2('billow:gateway', SIMULATED_PAYMENTS);

    this.data = new BillowTable(this, 'Data');
    this.identity = new BillowIdentity(this, 'Identity', { table: this.data });
    this.payments = new BillowPayments(this, 'Payments', { gateway: this.settings.gateway });
    this.email = new BillowEmail(this, 'Email', {
      table: this.data,
      domain: this.settings.mailDomain,
      mailFrom: this.settings.mailFrom,
      appUrl: this.settings.appUrl,
    });
    this.automation = new BillowAutomation(this, 'Automation', {
      table: this.data,
      email: this.email,
      paymentKey: this.payments.key,
      gatewaySecret: this.payments.gatewaySecret,
    });
    this.imports = new BillowImports(this, 'Imports', { table: this.data, identity: this.identity });
    this.api = new BillowApi(this, 'Api', {
      table: this.data,
      identity: this.identity,
      email: this.email,
      paymentKey: this.payments.key,
      gatewaySecret: this.payments.gatewaySecret,
      stateMachine: this.automation.stateMachine,
      imports: { bucket: this.imports.bucket, queue: this.imports.queue },
      routes: props.routes,
    });
    this.reconciler = new BillowReconciler(this, 'Reconciler', {
      table: this.data,
      email: this.email,
      paymentKey: this.payments.key,
      gatewaySecret: this.payments.gatewaySecret,
    });
    this.observability = new BillowObservability(this, 'Observability', {
      api: this.api,
      table: this.data,
      otherFunctions: [
        ...this.identity.triggers,
        this.email.eventsFunction,
        this.reconciler.function,
        this.automation.taskFunction,
        this.automation.dispatcher,
        this.imports.worker,
      ],
      deadLetterQueues: [this.email.eventsDeadLetterQueue, this.reconciler.deadLetterQueue, this.automation.deadLetterQueue, this.imports.deadLetterQueue],
      importsDeadLetterQueue: this.imports.deadLetterQueue,
      stateMachines: [this.automation.stateMachine],
      alarmEmail: this.settings.alarmEmail,
      banner: this.settings.gateway === 'simulator' ? SIMULATED_PAYMENTS : undefined,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'UserPoolId', { value: this.identity.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.identity.client.userPoolClientId });
    new CfnOutput(this, 'TableName', { value: this.data.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.observability.alarmTopic.topicArn,
      description: 'Every alarm notifies this topic (subscribe with -c alarmEmail=… or aws sns subscribe); runbook: docs/operations.md',
    });
    new CfnOutput(this, 'MailIdentity', {
      value: this.email.identity.emailIdentityName,
      description: 'SES identity to verify (publish its DKIM CNAME records)',
    });
    this.email.identity.dkimRecords.forEach((record, index) => {
      new CfnOutput(this, `MailDkimRecord${index + 1}`, {
        value: Fn.join(' ', [record.name, 'CNAME', record.value]),
        description: 'DNS record that verifies the mail domain (Easy DKIM)',
      });
    });
    new CfnOutput(this, 'MailConfigurationSet', { value: this.email.configurationSet.configurationSetName });
    new CfnOutput(this, 'MailEventsDeadLetterQueueUrl', {
      value: this.email.eventsDeadLetterQueue.queueUrl,
      description: 'SES events that could not be applied',
    });
    new CfnOutput(this, 'ImportsBucketName', {
      value: this.imports.bucket.bucketName,
      description: 'Drop a client CSV at imports/<companyId>/<name>.csv to import it (README, Importing clients)',
    });
    new CfnOutput(this, 'ImportsDeadLetterQueueUrl', {
      value: this.imports.deadLetterQueue.queueUrl,
      description: 'Import messages (uploads, chunks) that failed every delivery',
    });
    if (this.payments.gatewaySecret) {
      new CfnOutput(this, 'StripeSecretArn', {
        value: this.payments.gatewaySecret.secretArn,
        description: 'Put the Stripe secret key here (aws secretsmanager put-secret-value)',
      });
    }
  }
}
