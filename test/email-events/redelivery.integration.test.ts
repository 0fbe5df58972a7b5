import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendClientEmail } from '../../functions/email/notify.js';
import { handler, parseSesEvent, processDeliveryEvent } from '../../functions/email-events/handler.js';
import { getServices, overrideServices } from '../../functions/services.js';
import { getClient } from '../../functions/store/clients.js';
import { getMailEntry, suppressedAmong, type MailEntry } from '../../functions/store/mail.js';
import { seedClient, seedCompanyWith } from '../automation/tasks/fixtures.js';
import type { Company } from '../../functions/domain/company.js';
import { useFreshTables } from '../support/tables.js';

/**
 * SES events delivered again, at once and out of order (issue 14, "redelivery is harmless"), against DynamoDB Local:
 * the SNS topic delivers at least once and in no particular order, and the handler is retried when it throws. A mail's
 * status only moves forward (queued → sent → delivered|failed → bounced → complained, functions/email-events), each
 * move is applied once, and suppression is an idempotent put.
 */

let company: Company;
const realMailer = getServices().mailer;
let nextMessageId = 0;

beforeAll(async () => {
  await useFreshTables();
  company = await seedCompanyWith();
  overrideServices({ mailer: { send: async () => ({ messageId: `ses-redelivery-${++nextMessageId}` }) } });
});
afterAll(() => overrideServices({ mailer: realMailer }));

/** A manual mail to a fresh client, handed to the (stand-in) provider: `sent`, with its message id. */
async function sentMail(): Promise<MailEntry> {
  const client = await seedClient(company, { email: `to-${Math.random().toString(36).slice(2)}@example.com` });
  const entry = await sendClientEmail({
    companyId: company.id,
    client,
    subject: 'Hello',
    html: '<p>Hello</p>',
    automatic: false,
    billing: false,
    actor: { type: 'staff', id: 'usr_test' },
  });
  if (!entry?.messageId) throw new Error('not sent');
  expect(entry.status).toBe('sent');
  return entry;
}

/** An SES event of the configuration set, as SNS carries it. */
function sesEvent(entry: MailEntry, eventType: string, extra: Record<string, unknown> = {}) {
  return {
    eventType,
    mail: {
      messageId: entry.messageId,
      timestamp: '2030-01-01T00:00:00.000Z',
      destination: entry.to,
      tags: { companyId: [company.id], clientId: [entry.clientId], mailId: [entry.id] },
    },
    ...extra,
  };
}
const delivery = (e: MailEntry) => sesEvent(e, 'Delivery', { delivery: { recipients: e.to } });
const bounce = (e: MailEntry) =>
  sesEvent(e, 'Bounce', { bounce: { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: e.to[0] }] } });

const apply = (raw: object) => processDeliveryEvent(parseSesEvent(raw) as NonNullable<ReturnType<typeof parseSesEvent>>);
const statusOf = async (e: MailEntry) => (await getMailEntry(company.id, e.clientId, e.id))?.status;

function snsOf(...messages: object[]): SNSEvent {
  return { Records: messages.map((m) => ({ Sns: { Message: JSON.stringify(m) } })) } as unknown as SNSEvent;
}

describe('the same SES event delivered again', () => {
  it('a Delivery twice moves the mail once', async () => {
    const entry = await sentMail();
    expect(await apply(delivery(entry))).toEqual({ status: 'delivered', suppressed: [] });
    const after = await getMailEntry(company.id, entry.clientId, entry.id);
    expect(await apply(delivery(entry))).toEqual({ status: null, suppressed: [] });
    expect(await getMailEntry(company.id, entry.clientId, entry.id)).toEqual(after);
  });

  it('a Delivery delivered four times at once moves the mail once', async () => {
    const entry = await sentMail();
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => apply(delivery(entry))));
    expect(outcomes.filter((o) => o.status === 'delivered')).toHaveLength(1);
    expect(await statusOf(entry)).toBe('delivered');
  });

  it('the same SNS notification twice through the handler (a retried invocation) is applied once', async () => {
    const entry = await sentMail();
    const notification = snsOf(sesEvent(entry, 'Send'), delivery(entry));
    expect(await handler(notification, {} as never)).toEqual({ processed: 2, skipped: 0 });
    expect(await handler(notification, {} as never)).toEqual({ processed: 2, skipped: 0 });
    expect(await statusOf(entry)).toBe('delivered');
  });

  it('a permanent bounce twice suppresses the address once and bounces the mail once', async () => {
    const entry = await sentMail();
    expect(await apply(bounce(entry))).toMatchObject({ status: 'bounced', suppressed: [entry.to[0]] });
    expect(await apply(bounce(entry))).toMatchObject({ status: null, suppressed: [entry.to[0]] });
    expect(await statusOf(entry)).toBe('bounced');
    expect(await suppressedAmong(company.id, entry.to)).toEqual(new Set([entry.to[0]]));
    expect((await getClient(company.id, entry.clientId))?.emailSuppressed).toBe(true);
  });
});

describe('SES events out of order', () => {
  it('delivered, then a late Send: stays delivered', async () => {
    const entry = await sentMail();
    await apply(delivery(entry));
    expect(await apply(sesEvent(entry, 'Send'))).toEqual({ status: null, suppressed: [] });
    expect(await statusOf(entry)).toBe('delivered');
  });

  it('delivered, then a bounce: bounced, as documented (a bounce may come after the receiving server accepted the mail); a late Delivery does not undo it', async () => {
    const entry = await sentMail();
    await apply(delivery(entry));
    expect((await apply(bounce(entry))).status).toBe('bounced');
    expect((await apply(delivery(entry))).status).toBeNull();
    expect(await statusOf(entry)).toBe('bounced');
  });

  it('a complaint is final: a late bounce, delivery or send leaves it complained', async () => {
    const entry = await sentMail();
    const complaint = sesEvent(entry, 'Complaint', { complaint: { complainedRecipients: [{ emailAddress: entry.to[0] }], complaintFeedbackType: 'abuse' } });
    expect((await apply(complaint)).status).toBe('complained');
    for (const late of [bounce(entry), delivery(entry), sesEvent(entry, 'Send')]) expect((await apply(late)).status).toBeNull();
    expect(await statusOf(entry)).toBe('complained');
  });

  it('every order of Send, Delivery and Bounce, delivered at once, ends bounced', async () => {
    const entry = await sentMail();
    const events = [sesEvent(entry, 'Send'), delivery(entry), bounce(entry), delivery(entry), sesEvent(entry, 'Send')];
    await Promise.all(events.map((e) => apply(e)));
    expect(await statusOf(entry)).toBe('bounced');
  });
});
