import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sesEventNotification } from '../../bin/local/ses.js';
import { applyDeliveryEvent, parseSesEvent, sesEventsOf, type DeliveryEvent } from '../../functions/email-events/handler.js';
import { MAIL_STATUSES, type MailStatus } from '../../functions/store/mail.js';

const event = (overrides: Partial<DeliveryEvent>): DeliveryEvent => ({
  type: 'delivery',
  messageId: 'm-1',
  recipients: ['ada@example.com'],
  tags: {},
  ...overrides,
});

const RANK: Record<MailStatus, number> = { queued: 0, sent: 1, delivered: 2, failed: 2, bounced: 3, complained: 4 };

describe('applyDeliveryEvent', () => {
  it('moves a sent mail to delivered, bounced or complained', () => {
    expect(applyDeliveryEvent('sent', event({ type: 'delivery' }))).toEqual({ status: 'delivered', statusReason: null, suppress: [] });
    expect(applyDeliveryEvent('queued', event({ type: 'send' })).status).toBe('sent');
    expect(applyDeliveryEvent('sent', event({ type: 'bounce', bounceType: 'Transient', bounceSubType: 'MailboxFull' }))).toMatchObject({
      status: 'bounced',
      statusReason: 'Transient/MailboxFull bounce',
    });
    expect(applyDeliveryEvent('delivered', event({ type: 'complaint', detail: 'abuse' }))).toMatchObject({
      status: 'complained',
      statusReason: 'Complaint (abuse)',
    });
    expect(applyDeliveryEvent('sent', event({ type: 'reject', detail: 'Bad content' }))).toMatchObject({
      status: 'failed',
      statusReason: 'Rejected by SES: Bad content',
    });
    expect(applyDeliveryEvent('sent', event({ type: 'rendering_failure' })).status).toBe('failed');
  });

  it('never moves backwards: a late delivery does not undo a bounce, a late send does not undo a delivery', () => {
    expect(applyDeliveryEvent('bounced', event({ type: 'delivery' })).status).toBeNull();
    expect(applyDeliveryEvent('delivered', event({ type: 'send' })).status).toBeNull();
    expect(applyDeliveryEvent('complained', event({ type: 'bounce', bounceType: 'Permanent' })).status).toBeNull();
    expect(applyDeliveryEvent('delivered', event({ type: 'delivery' })).status).toBeNull();
    expect(applyDeliveryEvent('failed', event({ type: 'delivery' })).status).toBeNull();
  });

  it('ignores events that say nothing about the outcome', () => {
    expect(applyDeliveryEvent('sent', event({ type: 'delivery_delay' }))).toEqual({ status: null, statusReason: null, suppress: [] });
    expect(applyDeliveryEvent('sent', event({ type: 'other' }))).toEqual({ status: null, statusReason: null, suppress: [] });
  });

  it('suppresses the recipients of a permanent bounce or a complaint, lower-cased, each once', () => {
    const bounce = applyDeliveryEvent(
      'sent',
      event({
        type: 'bounce',
        bounceType: 'Permanent',
        bounceSubType: 'General',
        recipients: ['Ada@Example.com', 'ada@example.com', 'bob@example.com'],
        detail: 'smtp; 550',
      }),
    );
    expect(bounce.status).toBe('bounced');
    expect(bounce.statusReason).toBe('Permanent/General bounce: smtp; 550');
    expect(bounce.suppress).toEqual([
      { email: 'ada@example.com', reason: 'bounce', detail: 'Permanent/General bounce: smtp; 550' },
      { email: 'bob@example.com', reason: 'bounce', detail: 'Permanent/General bounce: smtp; 550' },
    ]);
    expect(applyDeliveryEvent('sent', event({ type: 'complaint', detail: 'abuse' })).suppress).toEqual([
      { email: 'ada@example.com', reason: 'complaint', detail: 'abuse' },
    ]);
  });

  it('does not suppress after a transient or undetermined bounce', () => {
    expect(applyDeliveryEvent('sent', event({ type: 'bounce', bounceType: 'Transient' })).suppress).toEqual([]);
    expect(applyDeliveryEvent('sent', event({ type: 'bounce', bounceType: 'Undetermined' })).suppress).toEqual([]);
  });

  it('still suppresses when the mail is unknown or already further along', () => {
    expect(applyDeliveryEvent(undefined, event({ type: 'complaint' }))).toMatchObject({ status: null, suppress: [{ email: 'ada@example.com' }] });
    expect(applyDeliveryEvent('complained', event({ type: 'bounce', bounceType: 'Permanent' })).suppress).toHaveLength(1);
  });

  it('is monotone and order-independent in its final status, whatever order events arrive in', () => {
    const types = ['send', 'delivery', 'bounce', 'complaint', 'reject', 'delivery_delay', 'other'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...MAIL_STATUSES), fc.array(fc.constantFrom(...types), { maxLength: 8 }), (start, sequence) => {
        let status: MailStatus = start;
        for (const type of sequence) {
          const next = applyDeliveryEvent(status, event({ type, bounceType: 'Permanent' })).status;
          if (next) {
            expect(RANK[next]).toBeGreaterThan(RANK[status]);
            status = next;
          }
        }
        // Applying the same events again changes nothing (SNS may deliver twice).
        for (const type of sequence) expect(applyDeliveryEvent(status, event({ type, bounceType: 'Permanent' })).status).toBeNull();
      }),
    );
  });
});

describe('parseSesEvent', () => {
  it('reads the SES event inside an SNS notification', () => {
    const notification = sesEventNotification({ type: 'Bounce', messageId: 'ses-1', tags: { companyId: 'co_1', mailId: 'mail_1' } }, ['ada@example.com']);
    const [raw] = sesEventsOf(notification);
    expect(parseSesEvent(raw)).toEqual({
      type: 'bounce',
      messageId: 'ses-1',
      bounceType: 'Permanent',
      bounceSubType: 'General',
      recipients: ['ada@example.com'],
      detail: 'smtp; 550 5.1.1 user unknown',
      tags: { companyId: 'co_1', mailId: 'mail_1' },
      timestamp: expect.any(String),
    });
  });

  it('reads every event type SES publishes, and classic notifications', () => {
    for (const [type, expected] of [
      ['Send', 'send'],
      ['Delivery', 'delivery'],
      ['Complaint', 'complaint'],
      ['Reject', 'reject'],
      ['Rendering Failure', 'rendering_failure'],
      ['DeliveryDelay', 'delivery_delay'],
    ] as const) {
      const [raw] = sesEventsOf(sesEventNotification({ type, messageId: 'ses-2' }, ['a@example.com']));
      expect(parseSesEvent(raw)?.type, type).toBe(expected);
    }
    expect(parseSesEvent({ notificationType: 'Delivery', mail: { messageId: 'x' }, delivery: { recipients: ['a@b.c'] } })).toMatchObject({
      type: 'delivery',
      recipients: ['a@b.c'],
    });
    expect(parseSesEvent({ eventType: 'Open', mail: { messageId: 'x' } })?.type).toBe('other');
  });

  it('rejects anything that is not an SES mail event', () => {
    for (const junk of [null, 'text', [], {}, { eventType: 'Bounce' }, { eventType: 'Bounce', mail: {} }, { eventType: 3, mail: { messageId: 'x' } }]) {
      expect(parseSesEvent(junk)).toBeUndefined();
    }
    expect(sesEventsOf({ Records: [{ Sns: { Message: 'not json' } }] })).toEqual([undefined]);
    expect(sesEventsOf({ detail: { eventType: 'Send' } })).toEqual([{ eventType: 'Send' }]);
  });
});
