import type { SNSEvent } from 'aws-lambda';
import { count, metrics, METRIC } from '../observability/metrics.js';
import { logger } from '../observability/logger.js';
import { tracedHandler } from '../observability/tracer.js';
import { getClient } from '../store/clients.js';
import {
  changeMailStatus,
  clientOfMail,
  findMailByMessageId,
  getMailEntry,
  markClientEmailSuppressed,
  suppressAddress,
  type MailPointer,
  type MailStatus,
} from '../store/mail.js';

/**
 * SES delivery events → the mail log. SES publishes the events of the configuration set to an SNS topic, which
 * invokes this function; each record's `Message` is one SES event (`eventType` Send, Delivery, Bounce, Complaint,
 * Reject, Rendering Failure, …). The entry is found through the `SESMSG#<messageId>` pointer written when SES
 * accepted the mail, or, if the event outran that write, through the mail's `companyId`/`mailId` message tags.
 * Events may come twice and in any order: statuses only move forward, and suppression is an idempotent put.
 */

export type DeliveryEventType = 'send' | 'delivery' | 'bounce' | 'complaint' | 'reject' | 'rendering_failure' | 'delivery_delay' | 'other';

/** One SES event, reduced to what the mail log needs. */
export interface DeliveryEvent {
  type: DeliveryEventType;
  messageId: string;
  /** `Permanent`, `Transient` or `Undetermined` for bounces. */
  bounceType?: string;
  bounceSubType?: string;
  /** The recipients the event is about (bounced, complained, delivered). */
  recipients: string[];
  /** Provider detail: the diagnostic code, the reject reason, the feedback type. */
  detail?: string;
  /** The mail's message tags, one value each. */
  tags: Record<string, string>;
  timestamp?: string;
}

export interface DeliveryDecision {
  /** The entry's new status, or null to leave it as it is. */
  status: MailStatus | null;
  statusReason: string | null;
  /** Addresses to stop automatic mail to. */
  suppress: Array<{ email: string; reason: 'bounce' | 'complaint'; detail: string | null }>;
}

const TYPES: Record<string, DeliveryEventType> = {
  send: 'send',
  delivery: 'delivery',
  bounce: 'bounce',
  complaint: 'complaint',
  reject: 'reject',
  'rendering failure': 'rendering_failure',
  renderingfailure: 'rendering_failure',
  deliverydelay: 'delivery_delay',
};

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const addresses = (list: unknown, field = 'emailAddress'): string[] =>
  Array.isArray(list)
    ? list.map((r) => (typeof r === 'string' ? r : isObject(r) ? r[field] : undefined)).filter((a): a is string => typeof a === 'string' && a.length > 0)
    : [];

/**
 * Reads one SES event (configuration-set event publishing, `eventType`; or a classic notification,
 * `notificationType`). Returns undefined for anything that is not an SES mail event.
 */
export function parseSesEvent(input: unknown): DeliveryEvent | undefined {
  if (!isObject(input)) return undefined;
  const rawType = input.eventType ?? input.notificationType;
  const mail = input.mail;
  if (typeof rawType !== 'string' || !isObject(mail) || typeof mail.messageId !== 'string' || !mail.messageId) return undefined;
  const type = TYPES[rawType.toLowerCase()] ?? TYPES[rawType.toLowerCase().replace(/\s+/g, '')] ?? 'other';
  const tags: Record<string, string> = {};
  if (isObject(mail.tags)) {
    for (const [name, value] of Object.entries(mail.tags)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === 'string') tags[name] = first;
    }
  }
  const event: DeliveryEvent = {
    type,
    messageId: mail.messageId,
    recipients: [],
    tags,
    timestamp: typeof mail.timestamp === 'string' ? mail.timestamp : undefined,
  };
  if (type === 'bounce' && isObject(input.bounce)) {
    event.bounceType = input.bounce.bounceType as string | undefined;
    event.bounceSubType = input.bounce.bounceSubType as string | undefined;
    event.recipients = addresses(input.bounce.bouncedRecipients);
    const diagnostic = Array.isArray(input.bounce.bouncedRecipients)
      ? input.bounce.bouncedRecipients.find((r: unknown) => isObject(r) && r.diagnosticCode)?.diagnosticCode
      : undefined;
    if (typeof diagnostic === 'string') event.detail = diagnostic;
  } else if (type === 'complaint' && isObject(input.complaint)) {
    event.recipients = addresses(input.complaint.complainedRecipients);
    if (typeof input.complaint.complaintFeedbackType === 'string') event.detail = input.complaint.complaintFeedbackType;
  } else if (type === 'delivery' && isObject(input.delivery)) {
    event.recipients = addresses(input.delivery.recipients);
  } else if (type === 'reject' && isObject(input.reject)) {
    if (typeof input.reject.reason === 'string') event.detail = input.reject.reason;
  } else if (type === 'rendering_failure' && isObject(input.failure)) {
    if (typeof input.failure.errorMessage === 'string') event.detail = input.failure.errorMessage;
  }
  return event;
}

/** How far along a mail is; a status only ever moves to a higher rank. */
const RANK: Record<MailStatus, number> = { queued: 0, sent: 1, delivered: 2, failed: 2, bounced: 3, complained: 4 };

function targetOf(event: DeliveryEvent): { status: MailStatus; reason: string | null } | undefined {
  switch (event.type) {
    case 'send':
      return { status: 'sent', reason: null };
    case 'delivery':
      return { status: 'delivered', reason: null };
    case 'bounce': {
      const kind = [event.bounceType ?? 'Undetermined', event.bounceSubType].filter(Boolean).join('/');
      return { status: 'bounced', reason: `${kind} bounce${event.detail ? `: ${event.detail}` : ''}` };
    }
    case 'complaint':
      return { status: 'complained', reason: `Complaint${event.detail ? ` (${event.detail})` : ''}` };
    case 'reject':
      return { status: 'failed', reason: `Rejected by SES${event.detail ? `: ${event.detail}` : ''}` };
    case 'rendering_failure':
      return { status: 'failed', reason: `Rendering failure${event.detail ? `: ${event.detail}` : ''}` };
    default:
      return undefined;
  }
}

/**
 * What an event does to a mail whose status is `current` (undefined when the entry is not known): the status it
 * moves to (never backwards: a late Delivery does not undo a bounce, a late Send does not undo a delivery), and
 * the addresses to suppress (every recipient of a Permanent bounce or of a complaint). Pure.
 *
 * @example applyDeliveryEvent('sent', { type: 'bounce', bounceType: 'Permanent', recipients: ['a@x.test'], … })
 * // { status: 'bounced', statusReason: 'Permanent bounce', suppress: [{ email: 'a@x.test', reason: 'bounce', … }] }
 */
export function applyDeliveryEvent(current: MailStatus | undefined, event: DeliveryEvent): DeliveryDecision {
  const target = targetOf(event);
  const moves = target !== undefined && current !== undefined && RANK[target.status] > RANK[current];
  const suppress: DeliveryDecision['suppress'] = [];
  if (event.type === 'bounce' && event.bounceType === 'Permanent') {
    for (const email of new Set(event.recipients.map((r) => r.trim().toLowerCase())))
      suppress.push({ email, reason: 'bounce', detail: target?.reason ?? null });
  }
  if (event.type === 'complaint') {
    for (const email of new Set(event.recipients.map((r) => r.trim().toLowerCase())))
      suppress.push({ email, reason: 'complaint', detail: event.detail ?? null });
  }
  return { status: moves ? target.status : null, statusReason: moves ? target.reason : null, suppress };
}

async function locate(event: DeliveryEvent): Promise<MailPointer | undefined> {
  const found = await findMailByMessageId(event.messageId);
  if (found) return found;
  const { companyId, mailId } = event.tags;
  if (!companyId || !mailId) return undefined;
  const clientId = await clientOfMail(companyId, mailId);
  return clientId ? { companyId, clientId, mailId } : undefined;
}

/** Applies one event to the mail log and the suppression list. */
export async function processDeliveryEvent(event: DeliveryEvent): Promise<{ status: MailStatus | null; suppressed: string[] }> {
  const pointer = await locate(event);
  const companyId = pointer?.companyId ?? event.tags.companyId;
  let status: MailStatus | null = null;
  let decision = applyDeliveryEvent(undefined, event);
  if (pointer) {
    let clientId: string | undefined = pointer.clientId;
    // Optimistic: read, decide, write if unchanged; a concurrent event (or a merge) makes us read again.
    for (let attempt = 0; attempt < 5 && clientId; attempt++) {
      const entry = await getMailEntry(pointer.companyId, clientId, pointer.mailId);
      if (!entry) {
        clientId = await clientOfMail(pointer.companyId, pointer.mailId);
        if (clientId === pointer.clientId) break;
        continue;
      }
      decision = applyDeliveryEvent(entry.status, event);
      if (!decision.status) break;
      if (await changeMailStatus(pointer.companyId, clientId, pointer.mailId, entry.status, decision.status, decision.statusReason, new Date().toISOString())) {
        status = decision.status;
        break;
      }
      clientId = (await clientOfMail(pointer.companyId, pointer.mailId)) ?? clientId;
    }
  } else {
    logger.warn('SES event for an unknown mail', { messageId: event.messageId, eventType: event.type });
  }

  const suppressed: string[] = [];
  if (companyId && decision.suppress.length) {
    const owner = pointer ? await clientOfMail(pointer.companyId, pointer.mailId) : undefined;
    const client = owner ? await getClient(companyId, owner) : undefined;
    const now = new Date().toISOString();
    for (const { email, reason, detail } of decision.suppress) {
      await suppressAddress(companyId, { email, reason, detail, mailId: pointer?.mailId ?? null, at: now });
      suppressed.push(email);
      if (client && client.email?.trim().toLowerCase() === email) await markClientEmailSuppressed(companyId, client.id, now);
    }
  }
  logger.info('SES event applied', {
    messageId: event.messageId,
    eventType: event.type,
    status,
    suppressed: suppressed.length,
    companyId,
    mailId: pointer?.mailId,
  });
  return { status, suppressed };
}

/** The SES events in a Lambda event: SNS records, an EventBridge event, or a bare SES event. */
export function sesEventsOf(input: unknown): unknown[] {
  if (isObject(input) && Array.isArray(input.Records)) {
    return input.Records.map((record: unknown) => {
      const message = isObject(record) && isObject(record.Sns) ? record.Sns.Message : undefined;
      if (typeof message !== 'string') return undefined;
      try {
        return JSON.parse(message);
      } catch {
        return undefined;
      }
    });
  }
  if (isObject(input) && isObject(input.detail)) return [input.detail];
  return [input];
}

/**
 * Applies every SES event of a Lambda event. A malformed or unrelated message is logged and skipped (retrying cannot
 * fix it); a store failure throws, so the invocation is retried (applying an event twice is harmless).
 */
async function applySesEvents(input: SNSEvent | Json): Promise<{ processed: number; skipped: number }> {
  let processed = 0;
  let skipped = 0;
  for (const raw of sesEventsOf(input)) {
    const event = parseSesEvent(raw);
    if (!event) {
      skipped++;
      logger.warn('not an SES mail event; skipped');
      continue;
    }
    const outcome = await processDeliveryEvent(event);
    if (outcome.status === 'bounced') count(METRIC.mailBounced);
    if (outcome.status === 'complained') count(METRIC.mailComplained);
    processed++;
  }
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  return { processed, skipped };
}

/** The Lambda entry, traced. */
export const handler = tracedHandler(applySesEvents);
