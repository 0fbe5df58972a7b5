/** A file sent with a mail: an invoice or statement PDF, a CSV report. */
export interface EmailAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** One message as the domain hands it to the mailer: bodies already rendered and sanitised. */
export interface OutgoingEmail {
  /** `billing@example.com` or `Example Ltd <billing@example.com>`. */
  from: string;
  to: string[];
  cc?: string[];
  replyTo?: string[];
  subject: string;
  html: string;
  text: string;
  attachments?: EmailAttachment[];
  /** Delivery-event tags (SES message tags), e.g. `{ companyId, mailId }`, so bounces find their mail-log entry. */
  tags?: Record<string, string>;
}

/** Sends mail: SES in AWS (`ses.ts`); locally the same SES code against the in-process stand-in (`local.ts`). */
export interface Mailer {
  /** Resolves with the provider's message id once the provider has accepted the message. */
  send(message: OutgoingEmail): Promise<{ messageId: string }>;
}

/**
 * The provider refused or failed to take a message. `permanent` says whether sending the same message again can
 * succeed: a rejected message or an unverified sender will not (mark the mail "failed"); throttling or a provider
 * fault may (retry later).
 */
export class MailSendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailSendError';
  }
}
