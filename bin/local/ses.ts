import { randomUUID } from 'node:crypto';
import type { SNSEvent } from 'aws-lambda';
import { startLocalSes } from '../../functions/adapters/mailer/local.js';
import { handler as emailEventsHandler } from '../../functions/email-events/handler.js';
import { getMail } from '../../functions/store/mail.js';

export interface LocalMail {
  /** The stand-in's endpoint; open it in a browser to see captured mail. */
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts the SES stand-in in this process and points the local mailer at it (`BILLOW_LOCAL_SES_ENDPOINT`).
 * `port` 0 (the default) picks a free one.
 *
 * @example const mail = await startLocalMail({ port: Number(process.env.BILLOW_SES_PORT ?? 0) });
 */
export async function startLocalMail(options: { port?: number; host?: string } = {}): Promise<LocalMail> {
  const ses = await startLocalSes(options);
  process.env.BILLOW_LOCAL_SES_ENDPOINT = ses.endpoint;
  return {
    endpoint: ses.endpoint,
    stop: async () => {
      if (process.env.BILLOW_LOCAL_SES_ENDPOINT === ses.endpoint) delete process.env.BILLOW_LOCAL_SES_ENDPOINT;
      await ses.stop();
    },
  };
}

export type SimulatedEventType = 'Send' | 'Delivery' | 'Bounce' | 'Complaint' | 'Reject' | 'Rendering Failure' | 'DeliveryDelay';

export interface SimulatedDeliveryEvent {
  type: SimulatedEventType;
  /** The SES message id, or the mail to take it from (`companyId` and `mailId`). */
  messageId?: string;
  companyId?: string;
  mailId?: string;
  /** Recipients the event is about; default: the mail's `to` (when the mail is given), else none. */
  recipients?: string[];
  /** For bounces. @default 'Permanent' */
  bounceType?: 'Permanent' | 'Transient' | 'Undetermined';
  bounceSubType?: string;
  /** For complaints. @default 'abuse' */
  complaintFeedbackType?: string;
  /** Message tags as SES reports them (each value a one-element list). */
  tags?: Record<string, string>;
}

/**
 * The SES event JSON, as a configuration set publishes it, wrapped in an SNS notification: what the events Lambda
 * receives in AWS.
 */
export function sesEventNotification(
  event: Required<Pick<SimulatedDeliveryEvent, 'type' | 'messageId'>> & SimulatedDeliveryEvent,
  recipients: string[],
): SNSEvent {
  const timestamp = new Date().toISOString();
  const tags = Object.fromEntries(Object.entries(event.tags ?? {}).map(([k, v]) => [k, [v]]));
  const message: Record<string, unknown> = {
    eventType: event.type,
    mail: { timestamp, source: 'billing@billow.local', messageId: event.messageId, destination: recipients, tags },
  };
  switch (event.type) {
    case 'Bounce':
      message.bounce = {
        bounceType: event.bounceType ?? 'Permanent',
        bounceSubType: event.bounceSubType ?? 'General',
        bouncedRecipients: recipients.map((emailAddress) => ({
          emailAddress,
          action: 'failed',
          status: '5.1.1',
          diagnosticCode: 'smtp; 550 5.1.1 user unknown',
        })),
        timestamp,
        feedbackId: randomUUID(),
      };
      break;
    case 'Complaint':
      message.complaint = {
        complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })),
        complaintFeedbackType: event.complaintFeedbackType ?? 'abuse',
        timestamp,
        feedbackId: randomUUID(),
      };
      break;
    case 'Delivery':
      message.delivery = { timestamp, recipients, processingTimeMillis: 100, smtpResponse: '250 OK' };
      break;
    case 'Reject':
      message.reject = { reason: 'Bad content' };
      break;
    case 'Rendering Failure':
      message.failure = { errorMessage: 'Simulated rendering failure', templateName: 'billow' };
      break;
    case 'DeliveryDelay':
      message.deliveryDelay = { timestamp, delayType: 'MailboxFull', delayedRecipients: recipients.map((emailAddress) => ({ emailAddress })) };
      break;
    case 'Send':
      message.send = {};
      break;
  }
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'arn:aws:sns:us-east-1:000000000000:billow-ses-events:local',
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: 'arn:aws:sns:us-east-1:000000000000:billow-ses-events',
          Subject: '',
          Message: JSON.stringify(message),
          Timestamp: timestamp,
          SignatureVersion: '1',
          Signature: 'local',
          SigningCertUrl: 'http://127.0.0.1/local.pem',
          UnsubscribeUrl: 'http://127.0.0.1/unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}

/**
 * Builds an SNS-wrapped SES event and runs the delivery-events handler on it, as SES → SNS → Lambda would in AWS.
 * Give the SES `messageId`, or the mail (`companyId` + `mailId`) to take it, its recipients and its tags from.
 *
 * @example await simulateDeliveryEvent({ type: 'Bounce', companyId, mailId, bounceType: 'Permanent' })
 */
export async function simulateDeliveryEvent(event: SimulatedDeliveryEvent): Promise<{ processed: number; skipped: number }> {
  let messageId = event.messageId;
  let recipients = event.recipients;
  let tags = event.tags;
  if (event.companyId && event.mailId) {
    const mail = await getMail(event.companyId, event.mailId);
    if (!mail) throw new Error(`No mail ${event.mailId} in company ${event.companyId}`);
    messageId ??= mail.entry.messageId ?? undefined;
    recipients ??= mail.entry.to;
    tags ??= { companyId: event.companyId, clientId: mail.entry.clientId, mailId: event.mailId };
  }
  if (!messageId) throw new Error('simulateDeliveryEvent needs a messageId, or a companyId and mailId of a mail that was sent');
  return emailEventsHandler(sesEventNotification({ ...event, messageId, tags }, recipients ?? []));
}
