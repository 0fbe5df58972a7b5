import { SESv2Client, SendEmailCommand, type MessageTag } from '@aws-sdk/client-sesv2';
import MailComposer from 'nodemailer/lib/mail-composer';
import { MailSendError, type Mailer, type OutgoingEmail } from './port.js';
import { tracer } from '../../observability/tracer.js';
import { injectFaultsInto } from '../../faults/sdk.js';

export interface SesMailerOptions {
  /** SES configuration set that publishes delivery, bounce and complaint events; omitted from the call when unset. */
  configurationSetName?: string;
  /** A ready client (tests, the local stack); otherwise a module-scoped one is used. */
  client?: SESv2Client;
  /** Endpoint of the module-scoped client, e.g. a VPC endpoint; the standard AWS env applies otherwise. */
  endpoint?: string;
}

// One client per endpoint for the life of the container, reused across invocations.
const sharedClients = new Map<string, SESv2Client>();

function sharedClient(endpoint: string | undefined): SESv2Client {
  const key = endpoint ?? '';
  let client = sharedClients.get(key);
  if (!client) {
    client = tracer.captureAWSv3Client(injectFaultsInto(new SESv2Client(endpoint ? { endpoint } : {}), 'ses'));
    sharedClients.set(key, client);
  }
  return client;
}

// SES refuses these outright; sending the same message again cannot succeed until someone changes something.
const PERMANENT_FAILURES = new Set([
  'MessageRejected',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'BadRequestException',
  'NotFoundException',
]);

const TAG_MAX_LENGTH = 256;

/**
 * Makes a tag name or value acceptable to SES, which allows only ASCII letters, digits, `_` and `-`, at most 256
 * characters: every other character becomes `_`.
 *
 * @example sesTagText('co_1.2 x') // 'co_1_2_x'
 */
export function sesTagText(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, TAG_MAX_LENGTH);
}

/**
 * SES message tags from a plain record. Tags whose name or value is empty are left out (SES rejects them), and
 * when two names sanitise to the same text the first one wins (SES rejects duplicates).
 */
export function sesMessageTags(tags: Record<string, string> | undefined): MessageTag[] {
  const result: MessageTag[] = [];
  const seen = new Set<string>();
  for (const [rawName, rawValue] of Object.entries(tags ?? {})) {
    const name = sesTagText(rawName);
    const value = sesTagText(rawValue);
    if (!name || !value || seen.has(name)) continue;
    seen.add(name);
    result.push({ Name: name, Value: value });
  }
  return result;
}

/**
 * Builds the RFC 5322 message (multipart: text and HTML alternatives plus attachments). File and URL access are
 * disabled so nothing in a message can make the composer read a local file or fetch a URL.
 */
export async function composeRawMessage(message: OutgoingEmail): Promise<Buffer> {
  const composer = new MailComposer({
    from: message.from,
    to: message.to,
    cc: message.cc?.length ? message.cc : undefined,
    replyTo: message.replyTo?.length ? message.replyTo : undefined,
    subject: message.subject,
    text: message.text,
    html: message.html,
    attachments: (message.attachments ?? []).map((attachment) => ({
      filename: attachment.filename,
      contentType: attachment.contentType,
      content: attachment.content,
    })),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}

/** The `Mailer` on Amazon SES (v2 `SendEmail` with raw content, so attachments travel with the message). */
export class SesMailer implements Mailer {
  private readonly client: SESv2Client;
  private readonly configurationSetName: string | undefined;

  constructor(options: SesMailerOptions = {}) {
    this.client = options.client ?? sharedClient(options.endpoint);
    this.configurationSetName = options.configurationSetName;
  }

  /**
   * Sends one message. Throws `MailSendError` when SES does not accept it, with `permanent` telling a rejected
   * message from a temporary failure.
   *
   * @example await new SesMailer({ configurationSetName: 'billow' }).send({ from, to: ['a@example.com'], subject, html, text })
   */
  async send(message: OutgoingEmail): Promise<{ messageId: string }> {
    const raw = await composeRawMessage(message);
    const tags = sesMessageTags(message.tags);
    const command = new SendEmailCommand({
      Destination: { ToAddresses: message.to, ...(message.cc?.length ? { CcAddresses: message.cc } : {}) },
      Content: { Raw: { Data: raw } },
      ...(this.configurationSetName ? { ConfigurationSetName: this.configurationSetName } : {}),
      ...(tags.length ? { EmailTags: tags } : {}),
    });
    sentAtMostOnce(command);
    let messageId: string | undefined;
    try {
      ({ MessageId: messageId } = await this.client.send(command));
    } catch (error) {
      const name = (error as Error).name;
      throw new MailSendError(`SES did not accept the message (${name}): ${(error as Error).message}`, PERMANENT_FAILURES.has(name), { cause: error });
    }
    // Not a delivery failure to retry: SES took the message, so sending it again would duplicate it.
    if (!messageId) throw new Error('SES accepted the message but returned no message id');
    return { messageId };
  }
}

/** What the SDK's retries are not given: a send whose answer never came (SES may have taken the message). */
export class SesAnswerLostError extends Error {
  /** Not `cause`: the SDK's retry classification follows `cause`, and would retry the reset connection it holds. */
  readonly lost: unknown;
  constructor(lost: unknown) {
    super(`SES gave no answer (${(lost as Error).message}); it may have taken the message, so it is not sent again`);
    this.name = 'SesAnswerLostError';
    this.lost = lost;
  }
}

type Handler = (args: unknown) => Promise<unknown>;

/**
 * SendEmail is not idempotent: the SDK retries a timed-out or reset connection, and SES then sends the message a
 * second time when the first attempt had reached it (found by the fault workload, test/faults/workload.e2e.test.ts:
 * receipts and notices mailed twice with one mail-log entry). An attempt that got no answer at all ends the send with
 * `SesAnswerLostError`, which the SDK does not retry; an answer (throttling, a 5xx) says SES did not take the message,
 * and those are still retried. Added inside the SDK's retries (finalizeRequest, after `retryMiddleware`).
 */
export function sentAtMostOnce(command: SendEmailCommand): void {
  const middleware =
    (next: Handler): Handler =>
    async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const answered = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined;
        throw answered ? error : Object.assign(new SesAnswerLostError(error), { $metadata: {} });
      }
    };
  command.middlewareStack.add(middleware as never, { step: 'finalizeRequest', priority: 'normal', name: 'billowSesSentAtMostOnce' });
}
