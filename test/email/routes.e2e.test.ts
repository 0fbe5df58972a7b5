import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulateDeliveryEvent, startLocalMail, type LocalMail } from '../../bin/local/ses.js';
import { readLocalMailbox, type CapturedEmail } from '../../functions/adapters/mailer/local.js';
import { MailSendError } from '../../functions/adapters/mailer/port.js';
import { createSetPasswordLink } from '../../functions/clients/login-details.js';
import {
  sendClientEmail,
  sendInvoiceEmail,
  sendLoginDetailsEmail,
  sendPaymentReceipt,
  sendRegistrationEmail,
  sendStatementEmail,
} from '../../functions/email/notify.js';
import { getServices, overrideServices } from '../../functions/services.js';
import { requireClient } from '../../functions/store/clients.js';
import { db, tableName, type Item } from '../../functions/store/dynamo.js';
import { clientPk, mailAttachmentKey, mailBodyKey, mailSk } from '../../functions/store/keys.js';
import { clientOfMail, findMailByMessageId, INLINE_ITEM_LIMIT } from '../../functions/store/mail.js';
import type { Actor } from '../../functions/store/client-records.js';
import { startTestApi, type TestApi } from '../support/stack.js';
import { createClientWithLogin, errorPaths, expectProblem } from '../support/platform.js';

let mail: LocalMail;
let api: TestApi;
let companyId: string;
const system: Actor = { type: 'system', id: 'test' };

beforeAll(async () => {
  // Until the local stack starts the stand-in itself, the test starts it first (this sets BILLOW_LOCAL_SES_ENDPOINT).
  mail = await startLocalMail();
  api = await startTestApi();
  companyId = api.facts.companyId;
});
afterAll(async () => {
  await api?.stack.stop();
  await mail?.stop();
});

const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;

async function newClient(extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = unique('client');
  const res = await api.staff('POST', '/v1/clients', { firstName: 'Ada', lastName: 'Lovelace', email, ...extra });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id, email };
}

/** Messages the stand-in captured for `address` (to or cc). */
async function inbox(address: string): Promise<CapturedEmail[]> {
  const all = await readLocalMailbox(mail.endpoint);
  return all.filter((m) => [...m.to, ...m.cc].some((a) => a.toLowerCase() === address.toLowerCase()));
}

/** Every item of a client's partition. */
async function partition(clientId: string): Promise<Item[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId) },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

/** An item's size as DynamoDB counts it, near enough: names and values, binary by its byte length. */
const itemSize = (item: Item) => Buffer.byteLength(JSON.stringify(item, (_, value) => (value instanceof Uint8Array ? 'x'.repeat(value.length) : value)));

async function mailItem(clientId: string, mailId: string): Promise<Item> {
  const item = (await partition(clientId)).find((i) => i.SK === mailSk(mailId));
  expect(item, mailId).toBeDefined();
  return item!;
}

/** Checks that no item of the client's partition is over the inline limit and nothing is split into parts. */
async function expectSmallItems(clientId: string): Promise<void> {
  const items = await partition(clientId);
  for (const item of items) expect(itemSize(item), String(item.SK)).toBeLessThan(INLINE_ITEM_LIMIT);
  expect(items.filter((i) => /^MAIL(BODY|ATT)#/.test(String(i.SK)))).toEqual([]);
}

const largeHtml = () => {
  const paragraph = `<p>${'Lorem ipsum dolor sit amet, é ü ✓ '.repeat(40)}</p>`;
  return paragraph.repeat(Math.floor((500 * 1024) / Buffer.byteLength(paragraph)));
};

async function sendManual(clientId: string, body: Record<string, unknown> = {}) {
  return api.staff('POST', `/v1/clients/${clientId}/emails`, { subject: 'Hello', html: '<p>Hello there</p>', ...body });
}

describe('manual email', () => {
  it('arrives sanitised in the mailbox and in the mail log', async () => {
    const client = await newClient();
    const html =
      '<p onclick="steal()">Hello <b>there</b></p><script>alert("pwned")</script><a href="javascript:alert(1)">click</a><iframe src="https://evil.test"></iframe><form><input name="x"></form>';
    const res = await sendManual(client.id, { subject: 'Welcome aboard', html });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^mail_/),
      clientId: client.id,
      to: [client.email],
      cc: [],
      subject: 'Welcome aboard',
      template: null,
      status: 'sent',
      resentFrom: null,
      createdAt: expect.any(String),
    });

    const [captured] = await inbox(client.email);
    expect(captured).toBeDefined();
    expect(captured.messageId).toBe(res.body.messageId);
    expect(captured.subject).toBe('Welcome aboard');
    for (const part of [captured.html!, captured.text!]) {
      expect(part).not.toMatch(/<script|pwned|onclick|javascript:|<iframe|<form|<input/i);
    }
    expect(captured.html).toContain('<b>there</b>');
    expect(captured.text).toContain('Hello there');

    const read = await api.staff('GET', `/v1/emails/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: res.body.id, clientId: client.id, status: 'sent', attachments: [] });
    expect(read.body.html).toContain('<b>there</b>');
    expect(read.body.html).not.toMatch(/<script|pwned|onclick|javascript:|<iframe|<form/i);
    expect(read.body.text).toContain('Hello there');

    const log = await api.staff('GET', `/v1/clients/${client.id}/emails`);
    expect(log.status).toBe(200);
    expect(log.body).toEqual({ data: [expect.objectContaining({ id: res.body.id, status: 'sent' })], nextCursor: null });
    expect(log.body.data[0].html).toBeUndefined();
  });

  it('goes to the given addresses, contacts and cc, each once', async () => {
    const client = await newClient();
    const contactEmail = unique('tech');
    const contact = await api.staff('POST', `/v1/clients/${client.id}/contacts`, {
      type: 'technical',
      firstName: 'Tess',
      lastName: 'Tech',
      email: contactEmail,
    });
    const other = unique('other');
    const cc = unique('cc');
    const res = await sendManual(client.id, { to: [other, other.toUpperCase()], contactIds: [contact.body.id], cc: [cc, other] });
    expect(res.status, res.text).toBe(201);
    expect(res.body.to).toEqual([other, contactEmail]);
    expect(res.body.cc).toEqual([cc]);
    const [captured] = await inbox(cc);
    expect(captured.to.sort()).toEqual([other, contactEmail].sort());
    expect(await inbox(client.email)).toEqual([]);
  });

  it('validates its input', async () => {
    const client = await newClient();
    expectProblem(await sendManual(client.id, { html: 'x'.repeat(512 * 1024 + 1) }), 400);
    expect(errorPaths(await sendManual(client.id, { html: 'x'.repeat(512 * 1024 + 1) }))).toEqual(['html']);
    expect(errorPaths(await api.staff('POST', `/v1/clients/${client.id}/emails`, { html: '<p>x</p>' }))).toEqual(['subject']);
    expect(errorPaths(await sendManual(client.id, { to: ['not an address'] }))).toEqual(['to.0']);
    expect(errorPaths(await sendManual(client.id, { bcc: ['a@example.com'] }))).toEqual(['bcc']);
    expect(errorPaths(await sendManual(client.id, { contactIds: ['ct_missing'] }))).toEqual(['contactIds.0']);
    expectProblem(await api.staff('POST', `/v1/clients/cl_missing/emails`, { subject: 'x', html: '<p>x</p>' }), 404);
    const noEmail = await api.staff('POST', '/v1/clients', { company: 'No Mail Ltd' });
    const res = await sendManual(noEmail.body.id);
    expectProblem(res, 422);
    expect(res.body.code).toBe('no_recipient');
  });

  it('keeps a large body (over an item) whole, in the blob store', async () => {
    const client = await newClient();
    const html = largeHtml();
    const res = await sendManual(client.id, { html });
    expect(res.status, res.text).toBe(201);
    const read = await api.staff('GET', `/v1/emails/${res.body.id}`);
    expect(read.body.html).toBe(html);
    expect(read.body.text.length).toBeGreaterThan(100_000);

    // The entry keeps the key of its body; the body is in the blob store, byte for byte what was sent.
    const key = mailBodyKey(companyId, res.body.id);
    const item = await mailItem(client.id, res.body.id);
    expect(item).toMatchObject({ bodyKey: key, blobs: [key] });
    expect(item.html).toBeUndefined();
    expect(item.text).toBeUndefined();
    const stored = await getServices().blobs.get(key);
    expect(JSON.parse(stored!.toString('utf8'))).toEqual({ html, text: read.body.text });
    await expectSmallItems(client.id);
    const [captured] = await inbox(client.email);
    expect(captured.html).toBe(html);
  });

  it('keeps a small mail whole in its entry, with nothing in the blob store', async () => {
    const client = await newClient();
    const res = await sendManual(client.id);
    const item = await mailItem(client.id, res.body.id);
    expect(item).toMatchObject({ html: '<p>Hello there</p>' });
    expect(item.bodyKey).toBeUndefined();
    expect(item.blobs).toBeUndefined();
    expect(await getServices().blobs.get(mailBodyKey(companyId, res.body.id))).toBeUndefined();
  });

  it('is recorded as failed, with the reason, when the provider refuses it', async () => {
    const client = await newClient();
    const original = getServices().mailer;
    overrideServices({
      mailer: { send: async () => Promise.reject(new MailSendError('SES did not accept the message (MessageRejected): Email address is not verified.', true)) },
    });
    try {
      const res = await sendManual(client.id);
      expect(res.status, res.text).toBe(201);
      expect(res.body).toMatchObject({ status: 'failed', statusReason: expect.stringContaining('MessageRejected'), messageId: null });
    } finally {
      overrideServices({ mailer: original });
    }
    // The record survives and can be sent again once the provider takes it.
    const [entry] = (await api.staff('GET', `/v1/clients/${client.id}/emails`)).body.data;
    const resent = await api.staff('POST', `/v1/emails/${entry.id}/resend`, {});
    expect(resent.body).toMatchObject({ status: 'sent', resentFrom: entry.id });
  });
});

describe('resend', () => {
  it('sends again to another address as a new, linked entry', async () => {
    const client = await newClient();
    const first = await sendManual(client.id, { subject: 'Your account', html: '<p>Account details</p>' });
    const other = unique('other');
    const res = await api.staff('POST', `/v1/emails/${first.body.id}/resend`, { to: [other] });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ clientId: client.id, to: [other], cc: [], subject: 'Your account', resentFrom: first.body.id, status: 'sent' });
    expect(res.body.id).not.toBe(first.body.id);
    const [captured] = await inbox(other);
    expect(captured.html).toContain('Account details');

    const log = await api.staff('GET', `/v1/clients/${client.id}/emails`);
    expect(log.body.data.map((e: { id: string }) => e.id)).toEqual([res.body.id, first.body.id]);

    const same = await api.staff('POST', `/v1/emails/${first.body.id}/resend`);
    expect(same.status, same.text).toBe(201);
    expect(same.body.to).toEqual([client.email]);
    expect(await inbox(client.email)).toHaveLength(2);
    expectProblem(await api.staff('POST', '/v1/emails/mail_01ARZ3NDEKTSV4RRFFQ69G5FAV/resend', {}), 404);
  });
});

describe('billing mail', () => {
  const invoice = { id: 'inv_test', number: 7, currency: 'USD', dateBilled: '2027-01-05', dateDue: '2027-01-19', total: 123456, due: 100050 };
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');

  it('goes to the billing contacts, with the PDF attached, and is re-sent with it', async () => {
    const client = await newClient();
    const billing = [unique('billing'), unique('billing2')];
    for (const email of billing) await api.staff('POST', `/v1/clients/${client.id}/contacts`, { type: 'billing', firstName: 'Bill', lastName: 'Payer', email });
    const tech = unique('tech');
    await api.staff('POST', `/v1/clients/${client.id}/contacts`, { type: 'technical', firstName: 'Tess', lastName: 'Tech', email: tech });

    const entry = await sendInvoiceEmail(companyId, await requireClient(companyId, client.id), invoice, pdf, system);
    expect(entry).toMatchObject({ to: billing, template: 'invoice_delivery', status: 'sent', automatic: true });
    const [captured] = await inbox(billing[0]);
    expect(captured.to.sort()).toEqual([...billing].sort());
    expect(captured.subject).toBe('Invoice #7 from Demo Hosting Co');
    expect(captured.text).toContain('$1,234.56');
    expect(captured.text).toContain('$1,000.50');
    expect(captured.attachments).toEqual([expect.objectContaining({ filename: 'invoice-7.pdf', contentType: 'application/pdf', size: pdf.length })]);
    expect(captured.attachments[0].content.equals(pdf)).toBe(true);
    expect(await inbox(client.email)).toEqual([]);
    expect(await inbox(tech)).toEqual([]);

    const read = await api.staff('GET', `/v1/emails/${entry!.id}`);
    expect(read.body.attachments).toEqual([{ filename: 'invoice-7.pdf', contentType: 'application/pdf', size: pdf.length }]);

    const other = unique('accounts');
    const resent = await api.staff('POST', `/v1/emails/${entry!.id}/resend`, { to: [other] });
    expect(resent.body).toMatchObject({ template: 'invoice_delivery', resentFrom: entry!.id });
    const [again] = await inbox(other);
    expect(again.attachments).toHaveLength(1);
    expect(again.attachments[0].content.equals(pdf)).toBe(true);
  });

  it('goes to the client itself when it has no billing contacts', async () => {
    const client = await newClient();
    const receipt = await sendPaymentReceipt(
      companyId,
      await requireClient(companyId, client.id),
      { id: 'txn_1', amount: 5000, currency: 'EUR', date: '2027-01-06', method: 'card' },
      system,
      { paymentMethodLabel: 'Visa ending 4242' },
    );
    expect(receipt).toMatchObject({ to: [client.email], template: 'payment_receipt' });
    const [captured] = await inbox(client.email);
    expect(captured.text).toContain('€50.00');
    expect(captured.text).toContain('Visa ending 4242');
  });

  it('keeps a large attachment whole and sends statements with theirs', async () => {
    const client = await newClient();
    const big = Buffer.concat([pdf, randomBytes(700_000)]);
    const entry = await sendStatementEmail(
      companyId,
      await requireClient(companyId, client.id),
      { currency: 'USD', from: '2026-12-01', to: '2026-12-31', closingBalance: 4200 },
      big,
      system,
    );
    expect(entry).toMatchObject({ template: 'statement', status: 'sent' });
    const [captured] = await inbox(client.email);
    expect(captured.attachments[0]).toMatchObject({ filename: 'statement-2026-12-31.pdf', size: big.length });
    expect(captured.text).toContain('$42.00');
    // The PDF does not fit in the entry: it is in the blob store, and the entry keeps its key.
    const key = mailAttachmentKey(companyId, entry!.id, 0);
    const item = await mailItem(client.id, entry!.id);
    expect(item.blobs).toEqual([key]);
    expect(item.attachments).toEqual([{ filename: 'statement-2026-12-31.pdf', contentType: 'application/pdf', size: big.length, blobKey: key }]);
    expect(item.bodyKey).toBeUndefined();
    expect((await getServices().blobs.get(key))!.equals(big)).toBe(true);
    await expectSmallItems(client.id);
    const read = await api.staff('GET', `/v1/emails/${entry!.id}`);
    expect(read.body.attachments).toEqual([{ filename: 'statement-2026-12-31.pdf', contentType: 'application/pdf', size: big.length }]);

    const other = unique('resend');
    const resent = await api.staff('POST', `/v1/emails/${entry!.id}/resend`, { to: [other] });
    const [again] = await inbox(other);
    expect(again.attachments[0].content.equals(big)).toBe(true);
    // The re-sent mail has its own copy, under its own id.
    expect((await mailItem(client.id, resent.body.id)).blobs).toEqual([mailAttachmentKey(companyId, resent.body.id, 0)]);
  });
});

describe('automatic mail and client status', () => {
  it('sends no automatic mail to an inactive or fraud client, but staff mail still goes', async () => {
    for (const status of ['inactive', 'fraud']) {
      const client = await newClient();
      const readBefore = await requireClient(companyId, client.id);
      expect((await api.staff('POST', `/v1/clients/${client.id}/status`, { status })).status).toBe(200);
      const profile = await requireClient(companyId, client.id);
      // A client read before the change (an automation page, say) does not get past the check either.
      expect(
        await sendInvoiceEmail(
          companyId,
          readBefore,
          { id: 'inv_x', number: 1, currency: 'USD', dateBilled: '2027-01-01', dateDue: '2027-01-01', total: 100, due: 100 },
          Buffer.from('%PDF'),
          system,
        ),
      ).toBeNull();
      expect(
        await sendPaymentReceipt(companyId, profile, { id: 'txn_2', amount: 100, currency: 'USD', date: '2027-01-06', method: 'check' }, system),
      ).toBeNull();
      expect(await sendRegistrationEmail(companyId, profile, system)).toBeNull();
      expect(await sendClientEmail({ companyId, client: profile, template: 'late_notice_first', automatic: true, billing: true, actor: system })).toBeNull();
      expect(await inbox(client.email)).toEqual([]);
      expect((await api.staff('GET', `/v1/clients/${client.id}/emails`)).body.data).toEqual([]);

      const manual = await sendManual(client.id);
      expect(manual.status).toBe(201);
      expect(manual.body.status).toBe('sent');
      expect(await inbox(client.email)).toHaveLength(1);
    }
  });
});

describe('delivery events', () => {
  it('move the status forward and a hard bounce suppresses automatic mail to the address', async () => {
    const client = await newClient();
    const sent = await sendManual(client.id);
    expect(sent.body.status).toBe('sent');
    const status = async () => (await api.staff('GET', `/v1/emails/${sent.body.id}`)).body.status;

    await simulateDeliveryEvent({ type: 'Delivery', companyId, mailId: sent.body.id });
    expect(await status()).toBe('delivered');
    await simulateDeliveryEvent({ type: 'Send', companyId, mailId: sent.body.id });
    expect(await status()).toBe('delivered');

    await simulateDeliveryEvent({ type: 'Bounce', companyId, mailId: sent.body.id, bounceType: 'Permanent' });
    const bounced = (await api.staff('GET', `/v1/emails/${sent.body.id}`)).body;
    expect(bounced).toMatchObject({ status: 'bounced', statusReason: expect.stringContaining('Permanent') });
    await simulateDeliveryEvent({ type: 'Delivery', companyId, mailId: sent.body.id });
    expect(await status()).toBe('bounced');

    const profile = await api.staff('GET', `/v1/clients/${client.id}`);
    expect(profile.body.emailSuppressed).toBe(true);
    expect(profile.body.version).toBe(2);

    const before = (await inbox(client.email)).length;
    const fresh = await requireClient(companyId, client.id);
    expect(await sendRegistrationEmail(companyId, fresh, system)).toBeNull();
    expect(await sendPaymentReceipt(companyId, fresh, { id: 'txn_3', amount: 100, currency: 'USD', date: '2027-01-06', method: 'cash' }, system)).toBeNull();
    expect(await inbox(client.email)).toHaveLength(before);

    // Staff may still write to the address on purpose.
    expect((await sendManual(client.id)).body.status).toBe('sent');
    expect(await inbox(client.email)).toHaveLength(before + 1);
  });

  it('a soft bounce marks the mail but suppresses nothing; a complaint on a contact suppresses only the contact', async () => {
    const client = await newClient();
    const billing = unique('billing');
    await api.staff('POST', `/v1/clients/${client.id}/contacts`, { type: 'billing', firstName: 'Bill', lastName: 'Payer', email: billing });
    const soft = await sendManual(client.id);
    await simulateDeliveryEvent({ type: 'Bounce', companyId, mailId: soft.body.id, bounceType: 'Transient', bounceSubType: 'MailboxFull' });
    expect((await api.staff('GET', `/v1/emails/${soft.body.id}`)).body.status).toBe('bounced');
    expect((await api.staff('GET', `/v1/clients/${client.id}`)).body.emailSuppressed).toBe(false);

    const toContact = await sendManual(client.id, { to: [billing] });
    await simulateDeliveryEvent({ type: 'Complaint', companyId, mailId: toContact.body.id });
    expect((await api.staff('GET', `/v1/emails/${toContact.body.id}`)).body.status).toBe('complained');
    expect((await api.staff('GET', `/v1/clients/${client.id}`)).body.emailSuppressed).toBe(false);

    // Billing mail skips the suppressed contact; with no other recipient, nothing is sent.
    const profile = await requireClient(companyId, client.id);
    expect(await sendPaymentReceipt(companyId, profile, { id: 'txn_4', amount: 100, currency: 'USD', date: '2027-01-06', method: 'cash' }, system)).toBeNull();
    // Non-billing automatic mail still reaches the client.
    expect(await sendRegistrationEmail(companyId, profile, system)).toMatchObject({ to: [client.email], status: 'sent' });
  });

  it('find the mail by its tags when the event outruns the message-id pointer, and ignore unknown mail', async () => {
    const client = await newClient();
    const sent = await sendManual(client.id);
    const result = await simulateDeliveryEvent({
      type: 'Delivery',
      messageId: 'not-a-known-message-id',
      recipients: [client.email],
      tags: { companyId, mailId: sent.body.id },
    });
    expect(result).toEqual({ processed: 1, skipped: 0 });
    expect((await api.staff('GET', `/v1/emails/${sent.body.id}`)).body.status).toBe('delivered');
    expect(await simulateDeliveryEvent({ type: 'Delivery', messageId: 'nobody-knows-me', recipients: ['x@example.com'] })).toEqual({
      processed: 1,
      skipped: 0,
    });
  });

  it('follow the mail log through a client merge, and the log goes with a deleted client', async () => {
    const source = await newClient();
    const target = await newClient();
    const sent = await sendManual(source.id);
    const merged = await api.staff('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target.id });
    expect(merged.status, merged.text).toBe(200);
    const moved = await api.staff('GET', `/v1/emails/${sent.body.id}`);
    expect(moved.body).toMatchObject({ clientId: target.id, status: 'sent' });
    expect(moved.body.html).toContain('Hello there');
    expect((await api.staff('GET', `/v1/clients/${target.id}/emails`)).body.data.map((e: { id: string }) => e.id)).toEqual([sent.body.id]);

    await simulateDeliveryEvent({ type: 'Delivery', companyId, mailId: sent.body.id });
    expect((await api.staff('GET', `/v1/emails/${sent.body.id}`)).body.status).toBe('delivered');

    expect(await findMailByMessageId(sent.body.messageId)).toMatchObject({ clientId: target.id, mailId: sent.body.id });

    expect((await api.staff('DELETE', `/v1/clients/${target.id}`)).status).toBe(204);
    expectProblem(await api.staff('GET', `/v1/emails/${sent.body.id}`), 404);
    // Its pointers went with it.
    expect(await findMailByMessageId(sent.body.messageId)).toBeUndefined();
    expect(await clientOfMail(companyId, sent.body.id)).toBeUndefined();
  });

  it("keep a large mail's blobs through a client merge, and delete them with the client", async () => {
    const source = await newClient();
    const target = await newClient();
    const html = largeHtml();
    const manual = await sendManual(source.id, { html });
    const big = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(600_000)]);
    const statement = await sendStatementEmail(
      companyId,
      await requireClient(companyId, source.id),
      { currency: 'USD', from: '2026-12-01', to: '2026-12-31', closingBalance: 0 },
      big,
      system,
    );
    const keys = [mailBodyKey(companyId, manual.body.id), mailAttachmentKey(companyId, statement!.id, 0)];
    const items = await partition(source.id);
    expect(items.flatMap((i) => (i.blobs as string[] | undefined) ?? []).sort()).toEqual([...keys].sort());
    for (const key of keys) expect(await getServices().blobs.get(key)).toBeDefined();

    expect((await api.staff('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target.id })).status).toBe(200);
    expect((await api.staff('GET', `/v1/emails/${manual.body.id}`)).body).toMatchObject({ clientId: target.id, html });
    const other = unique('after-merge');
    await api.staff('POST', `/v1/emails/${statement!.id}/resend`, { to: [other] });
    expect((await inbox(other))[0].attachments[0].content.equals(big)).toBe(true);
    const resentKey = mailAttachmentKey(companyId, (await api.staff('GET', `/v1/clients/${target.id}/emails?limit=1`)).body.data[0].id, 0);

    expect((await api.staff('DELETE', `/v1/clients/${target.id}`)).status).toBe(204);
    expect(await partition(target.id)).toEqual([]);
    for (const key of [...keys, resentKey]) expect(await getServices().blobs.get(key), key).toBeUndefined();
  });
});

describe('templates', () => {
  it('ten concurrent PUTs of one template without If-Match are all applied: each 200, and the version moves by ten', async () => {
    const name = 'auto_debit_disabled';
    const before = (await api.staff('GET', `/v1/email-templates/${name}`)).body.version as number;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api.staff('PUT', `/v1/email-templates/${name}`, { subject: `Writer ${i}`, html: `<p>Writer ${i}</p>`, text: '' })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await api.staff('GET', `/v1/email-templates/${name}`)).body.version).toBe(before + 10);
    expect((await api.staff('DELETE', `/v1/email-templates/${name}`)).status).toBe(204);
  });

  it('lists, reads and replaces templates; unknown names are 404', async () => {
    const list = await api.staff('GET', '/v1/email-templates');
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(11);
    expect(list.body.nextCursor).toBeNull();
    expect(list.body.data[0]).toMatchObject({
      name: 'account_registration',
      custom: false,
      subject: expect.any(String),
      html: expect.any(String),
      text: expect.any(String),
    });
    const page = await api.staff('GET', '/v1/email-templates?limit=4');
    expect(page.body.data).toHaveLength(4);
    const rest = await api.staff('GET', `/v1/email-templates?limit=100&cursor=${encodeURIComponent(page.body.nextCursor)}`);
    expect(rest.body.data.map((t: { name: string }) => t.name)).toEqual(list.body.data.slice(4).map((t: { name: string }) => t.name));

    const read = await api.staff('GET', '/v1/email-templates/login_details');
    expect(read.body).toMatchObject({ name: 'login_details', custom: false, variables: expect.arrayContaining(['setPasswordUrl', 'username']) });
    expectProblem(await api.staff('GET', '/v1/email-templates/no_such_template'), 404);
    expectProblem(await api.staff('PUT', '/v1/email-templates/no_such_template', { subject: 'x', html: '<p>x</p>', text: '' }), 404);
    expect(errorPaths(await api.staff('PUT', '/v1/email-templates/statement', { subject: 'x', html: '<p>{{#open}}</p>', text: '' }))).toEqual(['html']);
    expect(errorPaths(await api.staff('PUT', '/v1/email-templates/statement', { subject: 'x', html: '<p>x</p>' }))).toEqual(['text']);

    const put = await api.staff('PUT', '/v1/email-templates/statement', {
      subject: 'Statement {{statement.date}}',
      html: '<p>Balance {{statement.closingBalance}}</p>',
      text: '',
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toMatchObject({ name: 'statement', custom: true, version: 1, subject: 'Statement {{statement.date}}' });
    expectProblem(await api.staff('PUT', '/v1/email-templates/statement', { subject: 'x', html: '<p>x</p>', text: '' }, { 'if-match': '7' }), 409);
    expect(
      (await api.staff('PUT', '/v1/email-templates/statement', { subject: 'Statement v2', html: '<p>x</p>', text: '' }, { 'if-match': '1' })).body.version,
    ).toBe(2);
    expect((await api.staff('GET', '/v1/email-templates')).body.data.find((t: { name: string }) => t.name === 'statement')).toMatchObject({
      custom: true,
      subject: 'Statement v2',
    });

    expect((await api.staff('DELETE', '/v1/email-templates/statement')).status).toBe(204);
    expect((await api.staff('GET', '/v1/email-templates/statement')).body).toMatchObject({ custom: false, version: 0 });
  });

  it('stores a template larger than an item whole', async () => {
    const html = `<p>{{client.firstName}}</p>${'<p>Terms and conditions apply. ✓</p>'.repeat(12_000)}`;
    expect(Buffer.byteLength(html)).toBeGreaterThan(400_000);
    const put = await api.staff('PUT', '/v1/email-templates/auto_debit_disabled', { subject: 'Big', html, text: '' });
    expect(put.status, put.text).toBe(200);
    expect((await api.staff('GET', '/v1/email-templates/auto_debit_disabled')).body.html).toBe(html);
    const smaller = await api.staff('PUT', '/v1/email-templates/auto_debit_disabled', { subject: 'Big again', html: html.slice(0, 420_000), text: '' });
    expect(smaller.status).toBe(200);
    expect((await api.staff('GET', '/v1/email-templates/auto_debit_disabled')).body.html).toBe(html.slice(0, 420_000));
    expect((await api.staff('DELETE', '/v1/email-templates/auto_debit_disabled')).status).toBe(204);
  });

  it("sends login details with the company's template: a set-password link, never a password", async () => {
    const password = 'very secret password 1';
    const client = await newClient({ username: unique('user'), password });
    const put = await api.staff('PUT', '/v1/email-templates/login_details', {
      subject: 'Login for {{username}} at {{company.name}}',
      html: '<p>Hi {{client.firstName}}, choose a password here: <a href="{{setPasswordUrl}}">set password</a></p><script>alert(1)</script>',
      text: '',
    });
    expect(put.status, put.text).toBe(200);
    const profile = await requireClient(companyId, client.id);
    const link = await createSetPasswordLink(companyId, profile, null);
    const entry = await sendLoginDetailsEmail(companyId, profile, link.url, system);
    expect(entry).toMatchObject({ template: 'login_details', to: [client.email], status: 'sent', automatic: false });

    const [captured] = await inbox(client.email);
    expect(captured.subject).toBe(`Login for ${profile.username} at Demo Hosting Co`);
    expect(captured.html).toContain(`href="${link.url.replace(/&/g, '&amp;')}"`);
    expect(captured.html).not.toContain('<script');
    expect(captured.text).toContain(link.url);
    for (const part of [captured.subject, captured.html!, captured.text!]) expect(part).not.toContain(password);

    // The link works once.
    expect((await api.call('POST', '/v1/auth/set-password', { body: { token: link.token, password: 'a brand new password' } })).status).toBe(204);
    expect((await api.staff('DELETE', '/v1/email-templates/login_details')).status).toBe(204);
  });

  it('registration mail carries a fresh set-password link when the template asks for one', async () => {
    const client = await newClient({ username: unique('user'), password: 'initial password 1' });
    const entry = await sendRegistrationEmail(companyId, await requireClient(companyId, client.id), system);
    expect(entry).toMatchObject({ template: 'account_registration', status: 'sent' });
    const [captured] = await inbox(client.email);
    const url = /https?:\/\/\S+\/set-password\?token=[\w-]+/.exec(captured.text!)?.[0];
    expect(url).toBeDefined();
    expect(captured.text).not.toContain('initial password 1');
  });
});

describe('access', () => {
  it('a client sees only its own mail log and mail; staff-only routes are 403 for it', async () => {
    const own = await createClientWithLogin(api, companyId, api.facts.staffToken);
    const other = await newClient();
    const ownMail = await sendManual(own.clientId, { html: '<p>For you</p>' });
    const otherMail = await sendManual(other.id);
    const as = (method: string, path: string, body?: unknown) => api.call(method, path, { token: own.clientToken, body });

    const log = await as('GET', `/v1/clients/${own.clientId}/emails`);
    expect(log.status).toBe(200);
    expect(log.body.data.map((e: { id: string }) => e.id)).toEqual([ownMail.body.id]);
    const read = await as('GET', `/v1/emails/${ownMail.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.html).toContain('For you');

    expectProblem(await as('GET', `/v1/clients/${other.id}/emails`), 404);
    expectProblem(await as('GET', `/v1/emails/${otherMail.body.id}`), 404);
    expectProblem(await as('POST', `/v1/clients/${own.clientId}/emails`, { subject: 'x', html: '<p>x</p>' }), 403);
    expectProblem(await as('POST', `/v1/emails/${ownMail.body.id}/resend`, {}), 403);
    expectProblem(await as('GET', '/v1/email-templates'), 403);
    expectProblem(await as('PUT', '/v1/email-templates/statement', { subject: 'x', html: '<p>x</p>', text: '' }), 403);
  });

  it("another company's staff cannot see or resend the mail", async () => {
    const { createCompany } = await import('../support/stack.js');
    const b = await createCompany(api, 'Mail Co B');
    const client = await newClient();
    const sent = await sendManual(client.id);
    const as = (method: string, path: string, body?: unknown) => api.call(method, path, { token: b.staffToken, body });
    expectProblem(await as('GET', `/v1/emails/${sent.body.id}`), 404);
    expectProblem(await as('POST', `/v1/emails/${sent.body.id}/resend`, {}), 404);
    expectProblem(await as('GET', `/v1/clients/${client.id}/emails`), 404);
    // Template overrides are per company.
    await api.staff('PUT', '/v1/email-templates/payment_declined', { subject: 'A only', html: '<p>x</p>', text: '' });
    expect((await as('GET', '/v1/email-templates/payment_declined')).body.custom).toBe(false);
    await api.staff('DELETE', '/v1/email-templates/payment_declined');
  });

  it('pages the mail log newest first with a signed cursor', async () => {
    const client = await newClient();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await sendManual(client.id, { subject: `Mail ${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { data: Array<{ id: string }>; nextCursor: string | null } } = await api.staff(
        'GET',
        `/v1/clients/${client.id}/emails?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((e) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const first = await api.staff('GET', `/v1/clients/${client.id}/emails?limit=2`);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/emails?cursor=${encodeURIComponent(`${first.body.nextCursor}x`)}`), 400);
    const another = await newClient();
    expectProblem(await api.staff('GET', `/v1/clients/${another.id}/emails?cursor=${encodeURIComponent(first.body.nextCursor)}`), 400);
    expectProblem(await api.staff('GET', `/v1/clients/${client.id}/emails?limit=0`), 400);
  });
});
