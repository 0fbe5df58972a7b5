import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SESv2Client, SendEmailCommand, SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { MessageRejected, TooManyRequestsException } from '@aws-sdk/client-sesv2';
import { MailSendError, type OutgoingEmail } from '../../../functions/adapters/mailer/port.js';
import { SesMailer, composeRawMessage, sesMessageTags } from '../../../functions/adapters/mailer/ses.js';
import { localSesClient, readLocalMailbox, startLocalSes, type LocalSes } from '../../../functions/adapters/mailer/local.js';

// A small but well-formed one-page PDF: enough for a mail client (and the stand-in's parser) to treat it as one.
const PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n' +
    '3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

function invoiceMail(overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    from: 'Billow Hosting <billing@billow.test>',
    to: ['ada@example.com', 'charles@example.com'],
    cc: ['accounts@example.com'],
    replyTo: ['support@billow.test'],
    subject: 'Invoice #42 from Billow Hosting – €12.50',
    html: '<p>Hello Ada,</p><p>Your invoice is attached.</p>',
    text: 'Hello Ada,\n\nYour invoice is attached.',
    attachments: [{ filename: 'invoice-42.pdf', contentType: 'application/pdf', content: PDF }],
    tags: { companyId: 'co_123', mailId: 'mail_456' },
    ...overrides,
  };
}

/** An SES client double that records the commands it is sent and answers with `answer`. */
function recordingClient(answer: () => Promise<unknown>) {
  const inputs: SendEmailCommandInput[] = [];
  const client = {
    send: async (command: SendEmailCommand) => {
      inputs.push(command.input);
      return answer();
    },
  } as unknown as SESv2Client;
  return { client, inputs };
}

describe('SesMailer against the local SES stand-in', () => {
  let ses: LocalSes;

  beforeAll(async () => {
    ses = await startLocalSes();
  });

  afterAll(async () => {
    await ses?.stop();
  });

  it('delivers a mail with HTML and text parts and a PDF attachment', async () => {
    const startedAt = new Date();
    const mailer = new SesMailer({ client: localSesClient(ses.endpoint), configurationSetName: 'billow-events' });
    const { messageId } = await mailer.send(invoiceMail());
    expect(messageId).toBeTruthy();

    const captured = (await readLocalMailbox(ses.endpoint, { since: startedAt })).find((mail) => mail.messageId === messageId);
    expect(captured).toBeDefined();
    expect(captured!.subject).toBe('Invoice #42 from Billow Hosting – €12.50');
    expect(captured!.from).toContain('billing@billow.test');
    expect(captured!.to).toEqual(['ada@example.com', 'charles@example.com']);
    expect(captured!.cc).toEqual(['accounts@example.com']);
    expect(captured!.replyTo).toEqual(['support@billow.test']);
    expect(captured!.html).toContain('<p>Your invoice is attached.</p>');
    expect(captured!.text?.trim()).toBe('Hello Ada,\n\nYour invoice is attached.');
    expect(captured!.attachments).toHaveLength(1);
    expect(captured!.attachments[0]).toMatchObject({ filename: 'invoice-42.pdf', contentType: 'application/pdf', size: PDF.length });
    expect(captured!.attachments[0].content.equals(PDF)).toBe(true);
  });

  it('delivers a mail without attachments, cc or reply-to', async () => {
    const mailer = new SesMailer({ client: localSesClient(ses.endpoint) });
    const { messageId } = await mailer.send(
      invoiceMail({ to: ['solo@example.com'], cc: undefined, replyTo: undefined, attachments: undefined, tags: undefined }),
    );
    const captured = (await readLocalMailbox(ses.endpoint)).find((mail) => mail.messageId === messageId);
    expect(captured).toMatchObject({ to: ['solo@example.com'], cc: [], replyTo: [], attachments: [] });
  });

  it('reads only the mail taken since a given time', async () => {
    const future = new Date(Date.now() + 60_000);
    expect(await readLocalMailbox(ses.endpoint, { since: future })).toEqual([]);
  });

  it('refuses to start on a port that is already taken', async () => {
    const port = Number(new URL(ses.endpoint).port);
    await expect(startLocalSes({ port })).rejects.toThrow(/could not listen/);
  });
});

describe('SesMailer request', () => {
  it('sends raw MIME to the recipients, with the configuration set and sanitised tags', async () => {
    const { client, inputs } = recordingClient(async () => ({ MessageId: 'm-1' }));
    const result = await new SesMailer({ client, configurationSetName: 'billow-events' }).send(
      invoiceMail({ tags: { companyId: 'co_123', 'mail id': 'mail.456/x', empty: '', 'ses:caller': 'é' } }),
    );
    expect(result).toEqual({ messageId: 'm-1' });
    const [input] = inputs;
    expect(input.ConfigurationSetName).toBe('billow-events');
    expect(input.Destination).toEqual({ ToAddresses: ['ada@example.com', 'charles@example.com'], CcAddresses: ['accounts@example.com'] });
    expect(input.EmailTags).toEqual([
      { Name: 'companyId', Value: 'co_123' },
      { Name: 'mail_id', Value: 'mail_456_x' },
      { Name: 'ses_caller', Value: '_' },
    ]);
    const raw = Buffer.from(input.Content!.Raw!.Data!).toString('utf8');
    expect(raw).toMatch(/^Content-Type: multipart\/mixed/m);
    expect(raw).toMatch(/^Content-Type: multipart\/alternative/m);
    expect(raw).toContain('filename=invoice-42.pdf');
  });

  it('leaves the configuration set and tags out when there are none', async () => {
    const { client, inputs } = recordingClient(async () => ({ MessageId: 'm-2' }));
    await new SesMailer({ client }).send(invoiceMail({ tags: undefined, cc: [] }));
    expect(inputs[0]).not.toHaveProperty('ConfigurationSetName');
    expect(inputs[0]).not.toHaveProperty('EmailTags');
    expect(inputs[0].Destination).toEqual({ ToAddresses: ['ada@example.com', 'charles@example.com'] });
  });

  it('reports a rejected message as a permanent failure and throttling as a temporary one', async () => {
    const rejected = recordingClient(async () => {
      throw new MessageRejected({ message: 'Email address is not verified.', $metadata: {} });
    });
    const error = await new SesMailer({ client: rejected.client }).send(invoiceMail()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MailSendError);
    expect(error).toMatchObject({ permanent: true, message: expect.stringContaining('MessageRejected') });

    const throttled = recordingClient(async () => {
      throw new TooManyRequestsException({ message: 'Too many requests', $metadata: {} });
    });
    await expect(new SesMailer({ client: throttled.client }).send(invoiceMail())).rejects.toMatchObject({ name: 'MailSendError', permanent: false });
  });
});

describe('sesMessageTags', () => {
  it('replaces characters SES does not allow, caps the length, and drops empty or duplicate names', () => {
    expect(sesMessageTags({ 'a.b': 'x y', 'a b': 'second', '': 'v', n: '' })).toEqual([{ Name: 'a_b', Value: 'x_y' }]);
    expect(sesMessageTags({ long: 'v'.repeat(300) })[0].Value).toHaveLength(256);
    expect(sesMessageTags(undefined)).toEqual([]);
  });
});

describe('composeRawMessage', () => {
  it('keeps header injection out of the subject', async () => {
    const raw = (await composeRawMessage(invoiceMail({ subject: 'Hi\r\nBcc: victim@example.com', attachments: [] }))).toString('utf8');
    expect(raw).not.toMatch(/^Bcc:/im);
  });
});
