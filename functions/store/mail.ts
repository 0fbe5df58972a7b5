import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EmailAttachment } from '../adapters/mailer/port.js';
import type { EmailTemplate, EmailTemplateName } from '../domain/email/templates.js';
import { AlreadyDoneError } from '../domain/errors.js';
import type { Actor } from './client-records.js';
import { batchGetAll, batchWriteAll, db, deleteRequests, queryAll, tableName, type Item, type Page, type TransactItem } from './dynamo.js';
import { isConditionFailure } from './items.js';
import { clientPk, clientSk, companyPk, refPk, refSk } from './keys.js';
import { ClientBusyError, ClientGoneError, MERGE_STALE_MS, transactOnClient } from './client-guard.js';
import { getServices } from '../services.js';
import {
  mailAttachmentKey,
  mailBodyKey,
  MAIL_SK_PREFIX,
  mailSk,
  sesMessagePk,
  sesMessageSk,
  TEMPLATE_SK_PREFIX,
  templateSk,
  templatePartSk,
  suppressionPk,
  suppressionSk,
} from './keys.js';

/**
 * The mail log and what email needs besides it, in the single table (and the blob store for what an item cannot hold):
 *
 * | item                         | PK                                | SK                                   |
 * |------------------------------|-----------------------------------|--------------------------------------|
 * | mail-log entry               | `CO#<co>#CL#<cl>`                 | `MAIL#<mailId>` (ids are time-ordered: newest first = descending) |
 * | mail id → client pointer     | `CO#<co>#REF#<mailId>`            | `REF` (kind `mail`, `clientId`)      |
 * | SES message id → mail        | `SESMSG#<sesMessageId>`           | `SESMSG` (`companyId`, `clientId`, `mailId`) |
 * | company template override    | `CO#<co>`                         | `TEMPLATE#<name>`                    |
 * | its parts, when too big      | `CO#<co>`                         | `TEMPLATEPART#<name>#<generation>#<part>` |
 * | suppressed address           | `CO#<co>#SUPPRESS#<email, lower>` | `SUPPRESS`                           |
 *
 * | blob (S3 object)             | key                                          |
 * |------------------------------|----------------------------------------------|
 * | a body too big for the entry | `mail/<co>/<mailId>/body.json` (`{ html, text }`) |
 * | an attachment that does not fit | `mail/<co>/<mailId>/attachments/<index>`  |
 *
 * Both pointers are listed in the entry's `refs`, so a client merge rewrites their `clientId` and a client delete
 * removes them; the entry's S3 keys are listed in its `blobs`, so a client delete removes those objects too, and a
 * merge leaves them where they are (the keys name the company and the mail, not the client; see
 * `client-partition.ts`). Everything of one mail is kept in its entry while the item stays under ~350 KB
 * (DynamoDB items are at most 400 KB): first the body, then attachments in order; what does not fit goes to the
 * blob store, and the entry keeps its key (`bodyKey`, an attachment's `blobKey`).
 */

/** An item stays inline while its estimated size is under this; DynamoDB's hard limit is 400 KB. */
export const INLINE_ITEM_LIMIT = 350_000;
/** Size of one template part. */
export const PART_BYTES = 300_000;

export const MAIL_STATUSES = ['queued', 'sent', 'delivered', 'bounced', 'complained', 'failed'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

type Key = { PK: string; SK: string };

/** One mail-log entry, as stored (without its bodies). */
export interface MailEntry {
  id: string;
  clientId: string;
  to: string[];
  cc: string[];
  subject: string;
  /** Null for manual mail. */
  template: EmailTemplateName | null;
  status: MailStatus;
  /** Why the status is what it is: the send error, the bounce or complaint type. */
  statusReason: string | null;
  /** Null, or the id of the entry this one re-sends. */
  resentFrom: string | null;
  /** The provider's message id once it accepted the mail. */
  messageId: string | null;
  automatic: boolean;
  createdBy: Actor;
  createdAt: string;
  updatedAt: string;
}

/** An attachment as recorded: inline bytes, or the key of its object in the blob store. */
interface StoredAttachment {
  filename: string;
  contentType: string;
  size: number;
  content?: Uint8Array;
  blobKey?: string;
}

/** What a mail says: kept so the entry can be shown and re-sent as it was. */
export interface MailContent {
  html: string;
  text: string;
  attachments: EmailAttachment[];
}

const ENTRY_FIELDS = [
  'id',
  'clientId',
  'to',
  'cc',
  'subject',
  'template',
  'status',
  'statusReason',
  'resentFrom',
  'messageId',
  'automatic',
  'createdBy',
  'createdAt',
  'updatedAt',
] as const;

function toEntry(item: Item): MailEntry {
  const entry: Record<string, unknown> = {};
  for (const field of ENTRY_FIELDS) entry[field] = item[field] ?? null;
  entry.to = (item.to as string[] | undefined) ?? [];
  entry.cc = (item.cc as string[] | undefined) ?? [];
  entry.automatic = item.automatic === true;
  return entry as unknown as MailEntry;
}

function partsOf(bytes: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += PART_BYTES) parts.push(bytes.subarray(offset, offset + PART_BYTES));
  return parts.length ? parts : [Buffer.alloc(0)];
}

const joinParts = (items: Item[]) => Buffer.concat(items.map((item) => Buffer.from(item.data as Uint8Array)));

// ---------------------------------------------------------------------------------------------------------------
// Mail-log entries

/**
 * Writes a new entry (normally `queued`) with its body and attachments, and its id pointer. What does not fit in
 * the entry is written to the blob store first, so the entry never points at objects that are missing. (Should the
 * entry then not be written, those objects stay behind unreferenced: the mail id is new, so nothing reads them.)
 * `alsoWrite` commits with the entry (an automation once-marker): if its condition fails nothing is written and the
 * error is `AlreadyDoneError`, so a notice is logged, and so sent, at most once.
 */
export async function createMailEntry(companyId: string, entry: MailEntry, content: MailContent, alsoWrite: readonly TransactItem[] = []): Promise<void> {
  await transactOnClient(companyId, entry.clientId, [...(await mailEntryWrites(companyId, entry, content)), ...alsoWrite], (index) =>
    index >= 2 ? new AlreadyDoneError('This mail was already sent.') : new Error(`Mail id collision: ${entry.id}`),
  );
}

/**
 * The two writes of a new entry (the entry, conditioned on being new, and its id pointer), its blobs already in the
 * blob store: for `createMailEntry`, and for a caller that records the entry in its own guarded transaction (a
 * payment's receipt commits with the payment it acknowledges, so the mail is on record before it is sent).
 */
export async function mailEntryWrites(companyId: string, entry: MailEntry, content: MailContent): Promise<TransactItem[]> {
  const pk = clientPk(companyId, entry.clientId);
  const blobs: Array<{ key: string; body: Buffer; contentType: string }> = [];
  // Entry metadata, then the body, then attachments in order, inline while the item stays under the limit. A key
  // of the blob store takes ~100 bytes of the item (the field and its copy in `blobs`).
  let size = Buffer.byteLength(JSON.stringify(entry)) + 2_000;
  const body = Buffer.from(JSON.stringify({ html: content.html, text: content.text }));
  const inlineBody = size + body.length <= INLINE_ITEM_LIMIT;
  let bodyKey: string | undefined;
  if (inlineBody) size += body.length;
  else {
    bodyKey = mailBodyKey(companyId, entry.id);
    blobs.push({ key: bodyKey, body, contentType: 'application/json' });
    size += 2 * Buffer.byteLength(bodyKey) + 50;
  }
  const attachments: StoredAttachment[] = content.attachments.map((attachment, index) => {
    const bytes = Buffer.from(attachment.content);
    const meta = { filename: attachment.filename, contentType: attachment.contentType, size: bytes.length };
    const overhead = Buffer.byteLength(JSON.stringify(meta)) + 50;
    if (size + bytes.length + overhead <= INLINE_ITEM_LIMIT) {
      size += bytes.length + overhead;
      return { ...meta, content: bytes };
    }
    const blobKey = mailAttachmentKey(companyId, entry.id, index);
    blobs.push({ key: blobKey, body: bytes, contentType: attachment.contentType });
    size += overhead + 2 * Buffer.byteLength(blobKey) + 50;
    return { ...meta, blobKey };
  });
  if (blobs.length) {
    const store = getServices().blobs;
    await Promise.all(blobs.map((blob) => store.put(blob.key, blob.body, blob.contentType)));
  }

  const ref: Key = { PK: refPk(companyId, entry.id), SK: refSk };
  // `messageId` is absent (not null) until the provider accepts the mail: `markMailSent` sets it once.
  const { messageId, ...stored } = entry;
  const item: Item = {
    PK: pk,
    SK: mailSk(entry.id),
    entity: 'mail',
    ...stored,
    ...(messageId ? { messageId } : {}),
    ...(inlineBody ? { html: content.html, text: content.text } : { bodyKey }),
    attachments,
    refs: [ref],
    ...(blobs.length ? { blobs: blobs.map((blob) => blob.key) } : {}),
  };
  return [
    { Put: { TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' } },
    { Put: { TableName: tableName(), Item: { ...ref, entity: 'ref', kind: 'mail', clientId: entry.clientId } } },
  ];
}

/** The client a mail belongs to now (through its id pointer), or undefined for an unknown id. */
export async function clientOfMail(companyId: string, mailId: string): Promise<string | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: refPk(companyId, mailId), SK: refSk }, ConsistentRead: true }));
  return out.Item?.kind === 'mail' ? (out.Item.clientId as string) : undefined;
}

async function getMailItem(companyId: string, clientId: string, mailId: string): Promise<Item | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: clientPk(companyId, clientId), SK: mailSk(mailId) }, ConsistentRead: true }));
  return out.Item;
}

/** A stored mail: its entry, its attachments' facts and, on demand, what it said. */
export interface StoredMail {
  entry: MailEntry;
  attachments: Array<{ filename: string; contentType: string; size: number }>;
  content(): Promise<MailContent>;
}

/** Finds a mail by id in a company, wherever its client is now (a merge may have moved it). */
export async function getMail(companyId: string, mailId: string): Promise<StoredMail | undefined> {
  const clientId = await clientOfMail(companyId, mailId);
  if (!clientId) return undefined;
  const item = await getMailItem(companyId, clientId, mailId);
  if (!item) return undefined;
  const attachments = ((item.attachments as StoredAttachment[] | undefined) ?? []).map((a) => ({
    filename: a.filename,
    contentType: a.contentType,
    size: a.size,
  }));
  return { entry: toEntry(item), attachments, content: () => readContent(companyId, item) };
}

async function readContent(companyId: string, item: Item): Promise<MailContent> {
  const mailId = item.id as string;
  const blob = async (key: string): Promise<Buffer> => {
    const bytes = await getServices().blobs.get(key);
    if (!bytes) throw new Error(`Mail ${mailId} of company ${companyId}: its object ${key} is missing from the blob store`);
    return bytes;
  };
  const stored = (item.attachments as StoredAttachment[] | undefined) ?? [];
  const [body, attachments] = await Promise.all([
    typeof item.bodyKey === 'string'
      ? blob(item.bodyKey).then((bytes) => JSON.parse(bytes.toString('utf8')) as { html: string; text: string })
      : { html: item.html as string | undefined, text: item.text as string | undefined },
    Promise.all(
      stored.map(async (attachment) => ({
        filename: attachment.filename,
        contentType: attachment.contentType,
        content: attachment.blobKey ? await blob(attachment.blobKey) : Buffer.from(attachment.content ?? new Uint8Array()),
      })),
    ),
  ]);
  return { html: body.html ?? '', text: body.text ?? '', attachments };
}

const LIST_PROJECTION = ENTRY_FIELDS.map((_, i) => `#f${i}`).join(', ');
const LIST_NAMES = Object.fromEntries(ENTRY_FIELDS.map((field, i) => [`#f${i}`, field]));

/**
 * One page of a client's mail log, newest first. Bodies are not read into the page; a Query stops at 1 MB of
 * items (inline bodies count), so pages are filled by reading on until `limit` entries are found.
 */
export async function listMailEntries(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<MailEntry>> {
  const items: MailEntry[] = [];
  let key = startKey;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':prefix': MAIL_SK_PREFIX },
        ExpressionAttributeNames: LIST_NAMES,
        ProjectionExpression: LIST_PROJECTION,
        ScanIndexForward: false,
        Limit: limit - items.length,
        ExclusiveStartKey: key,
      }),
    );
    items.push(...(out.Items ?? []).map(toEntry));
    key = out.LastEvaluatedKey;
  } while (key && items.length < limit);
  return { items, lastKey: key };
}

/**
 * Runs a conditional update of a mail entry in its client's partition. When the entry is not where it was (a merge
 * moved it meanwhile) the client is looked up again and the update retried, so no update lands on a moved entry's
 * old key (the condition requires the entry to exist). Returns false when `condition` itself does not hold.
 */
async function updateEntry(
  companyId: string,
  clientId: string,
  mailId: string,
  build: (clientId: string) => {
    update: string;
    condition: string;
    names?: Record<string, string>;
    values: Record<string, unknown>;
    extra?: TransactItem[];
  },
): Promise<{ updated: boolean; clientId: string }> {
  let current: string | undefined = clientId;
  const giveUpAt = Date.now() + MERGE_STALE_MS;
  for (let attempt = 0; attempt < 3 && current; attempt++) {
    const spec = build(current);
    const update = {
      TableName: tableName(),
      Key: { PK: clientPk(companyId, current), SK: mailSk(mailId) },
      UpdateExpression: spec.update,
      ConditionExpression: `attribute_exists(PK) AND (${spec.condition})`,
      ExpressionAttributeNames: namesOrUndefined({ ...(/#status\b/.test(`${spec.update} ${spec.condition}`) ? { '#status': 'status' } : {}), ...spec.names }),
      ExpressionAttributeValues: spec.values,
    };
    try {
      // Guarded like every write into the partition (store/client-guard.ts), so a merge never moves a copy of the
      // entry older than an update it acknowledged.
      await transactOnClient(companyId, current, [{ Update: update }, ...(spec.extra ?? [])], () => new ConditionFailed());
      return { updated: true, clientId: current };
    } catch (error) {
      if (error instanceof ClientBusyError && Date.now() < giveUpAt) {
        // The client is being merged or deleted: wait, then follow the entry's pointer to where it is now (none
        // once deleted). Not counted as an attempt: the merge or delete ends.
        attempt--;
        await new Promise((r) => setTimeout(r, BUSY_CLIENT_WAIT_MS));
        current = await clientOfMail(companyId, mailId);
        continue;
      }
      if (error instanceof ClientGoneError) {
        // Merged away meanwhile: the entry's pointer says where it is now (none once deleted).
        current = await clientOfMail(companyId, mailId);
        continue;
      }
      if (!(error instanceof ConditionFailed) && !isConditionFailure(error)) throw error;
      if (await getMailItem(companyId, current, mailId)) return { updated: false, clientId: current };
      current = await clientOfMail(companyId, mailId);
    }
  }
  return { updated: false, clientId: current ?? clientId };
}

class ConditionFailed extends Error {}

/** How long a mail-log update waits before looking again for an entry whose client is being merged or deleted. */
const BUSY_CLIENT_WAIT_MS = 50;

const namesOrUndefined = (names: Record<string, string>) => (Object.keys(names).length ? names : undefined);

/**
 * Records that the provider accepted a mail: its message id, the `SESMSG#` pointer delivery events look it up by
 * (listed in `refs`), and status `sent` unless an event has already moved it on. Says whether it set `sent` (then the
 * entry is as the caller wrote it plus these fields) and on which client the entry was found.
 */
export async function markMailSent(
  companyId: string,
  clientId: string,
  mailId: string,
  messageId: string,
  at: string,
): Promise<{ statusSet: boolean; clientId: string }> {
  const pointer: Key = { PK: sesMessagePk(messageId), SK: sesMessageSk };
  const build = (setStatus: boolean) => (owner: string) => ({
    update: `SET messageId = :m, updatedAt = :at, refs = list_append(if_not_exists(refs, :empty), :ref)${setStatus ? ', #status = :sent' : ''}`,
    condition: `attribute_not_exists(messageId)${setStatus ? ' AND #status = :queued' : ''}`,
    values: { ':m': messageId, ':at': at, ':empty': [], ':ref': [pointer], ...(setStatus ? { ':sent': 'sent', ':queued': 'queued' } : {}) },
    extra: [{ Put: { TableName: tableName(), Item: { ...pointer, entity: 'sesMessage', kind: 'mail', companyId, clientId: owner, mailId } } }],
  });
  const first = await updateEntry(companyId, clientId, mailId, build(true));
  if (first.updated) return { statusSet: true, clientId: first.clientId };
  const second = await updateEntry(companyId, first.clientId, mailId, build(false));
  return { statusSet: false, clientId: second.clientId };
}

/** Marks a mail that could not be handed to the provider. Only a `queued` entry becomes `failed`. */
export async function markMailFailed(
  companyId: string,
  clientId: string,
  mailId: string,
  reason: string,
  at: string,
): Promise<{ updated: boolean; clientId: string }> {
  return updateEntry(companyId, clientId, mailId, () => ({
    update: 'SET #status = :failed, statusReason = :reason, updatedAt = :at',
    condition: '#status = :queued',
    values: { ':failed': 'failed', ':reason': reason.slice(0, 1000), ':at': at, ':queued': 'queued' },
  }));
}

/** Moves an entry from `from` to `to` if it is still `from` (optimistic: the caller re-reads and decides again). */
export async function changeMailStatus(
  companyId: string,
  clientId: string,
  mailId: string,
  from: MailStatus,
  to: MailStatus,
  reason: string | null,
  at: string,
): Promise<boolean> {
  const result = await updateEntry(companyId, clientId, mailId, () => ({
    update: 'SET #status = :to, statusReason = :reason, updatedAt = :at',
    condition: '#status = :from',
    values: { ':to': to, ':from': from, ':reason': reason, ':at': at },
  }));
  return result.updated;
}

/** Where a provider message id leads: the company, client and mail it was sent for. */
export interface MailPointer {
  companyId: string;
  clientId: string;
  mailId: string;
}

export async function findMailByMessageId(messageId: string): Promise<MailPointer | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: sesMessagePk(messageId), SK: sesMessageSk }, ConsistentRead: true }));
  if (!out.Item) return undefined;
  return { companyId: out.Item.companyId as string, clientId: out.Item.clientId as string, mailId: out.Item.mailId as string };
}

/** An entry by company, client and id (the delivery-events path, which knows all three). */
export async function getMailEntry(companyId: string, clientId: string, mailId: string): Promise<MailEntry | undefined> {
  const item = await getMailItem(companyId, clientId, mailId);
  return item ? toEntry(item) : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Suppressed addresses

export interface Suppression {
  email: string;
  reason: 'bounce' | 'complaint';
  detail: string | null;
  mailId: string | null;
  at: string;
}

/** Records that mail to `email` bounced permanently or drew a complaint (the latest reason wins). */
export async function suppressAddress(companyId: string, suppression: Suppression): Promise<void> {
  const email = suppression.email.trim().toLowerCase();
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: { PK: suppressionPk(companyId, email), SK: suppressionSk, entity: 'suppression', companyId, ...suppression, email },
    }),
  );
}

/** The addresses among `emails` (lower-cased) that are suppressed in the company. */
export async function suppressedAmong(companyId: string, emails: readonly string[]): Promise<Set<string>> {
  const items = await batchGetAll(suppressionKeys(companyId, emails), { consistent: true, projection: 'email' });
  return new Set(items.map((item) => String(item.email)));
}

/** The keys of the suppression items of these addresses (each once): for a caller that reads them with other items. */
export function suppressionKeys(companyId: string, emails: readonly string[]): Array<{ PK: string; SK: string }> {
  return [...new Set(emails.map((e) => e.trim().toLowerCase()))].map((email) => ({ PK: suppressionPk(companyId, email), SK: suppressionSk }));
}

/** The suppressed addresses (lower case) among whole items read by `suppressionKeys`; other items are ignored. */
export function suppressedIn(items: readonly Item[]): Set<string> {
  return new Set(items.filter((item) => item.SK === suppressionSk).map((item) => String(item.email)));
}

/**
 * Sets `emailSuppressed` on the client item (with a new version, so a concurrent profile write based on the old
 * one fails rather than clears it). A no-op when already set or when the client is gone.
 */
export async function markClientEmailSuppressed(companyId: string, clientId: string, at: string): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: clientPk(companyId, clientId), SK: clientSk },
        UpdateExpression: 'SET emailSuppressed = :t, version = version + :one, updatedAt = :at',
        ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(emailSuppressed) OR emailSuppressed <> :t)',
        ExpressionAttributeValues: { ':t': true, ':one': 1, ':at': at },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Company template overrides

export interface StoredTemplate extends EmailTemplate {
  version: number;
  updatedAt: string;
}

async function readTemplateItem(companyId: string, item: Item): Promise<StoredTemplate> {
  const parts = (item.parts as number | undefined) ?? 0;
  let body = { subject: item.subject as string, html: item.html as string, text: item.text as string };
  if (parts > 0) {
    const name = (item.SK as string).slice(TEMPLATE_SK_PREFIX.length);
    const prefix = `TEMPLATEPART#${name}#${item.generation as string}#`;
    const found = await queryAll(companyPk(companyId), prefix);
    if (found.length !== parts) throw new TemplatePartsChanged();
    body = JSON.parse(joinParts(found).toString('utf8'));
  }
  return { ...body, version: item.version as number, updatedAt: item.updatedAt as string };
}

/** A concurrent replacement removed the parts being read; reading again finds the new ones. */
class TemplatePartsChanged extends Error {}

async function withRetry<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!(error instanceof TemplatePartsChanged) || attempt >= 2) throw error;
    }
  }
}

/**
 * A template override read by the caller with other items (one BatchGet for a request): its text, the parts read
 * when it has any (read again from the start if a replacement removed them meanwhile).
 */
export async function templateOfItem(companyId: string, item: Item): Promise<StoredTemplate> {
  try {
    return await readTemplateItem(companyId, item);
  } catch (error) {
    if (!(error instanceof TemplatePartsChanged)) throw error;
    const name = (item.SK as string).slice(TEMPLATE_SK_PREFIX.length) as EmailTemplateName;
    const now = await getCompanyTemplate(companyId, name);
    if (!now) throw error;
    return now;
  }
}

/** The company's own version of a template, if it has one. */
export async function getCompanyTemplate(companyId: string, name: EmailTemplateName): Promise<StoredTemplate | undefined> {
  return withRetry(async () => {
    const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: companyPk(companyId), SK: templateSk(name) }, ConsistentRead: true }));
    return out.Item ? readTemplateItem(companyId, out.Item) : undefined;
  });
}

/** Every template the company has overridden, by name. */
export async function listCompanyTemplates(companyId: string): Promise<Map<string, StoredTemplate>> {
  return withRetry(async () => {
    const items = await queryAll(companyPk(companyId), TEMPLATE_SK_PREFIX);
    const out = new Map<string, StoredTemplate>();
    for (const item of items) out.set((item.SK as string).slice(TEMPLATE_SK_PREFIX.length), await readTemplateItem(companyId, item));
    return out;
  });
}

/**
 * Replaces the company's version of a template. With `expectedVersion` the write is conditional on it (409 for the
 * caller when stale: returns `'stale'`). Oversized templates are written as parts of a new generation first; the
 * previous generation's parts are removed after the switch.
 */
export async function putCompanyTemplate(
  companyId: string,
  name: EmailTemplateName,
  template: EmailTemplate,
  expectedVersion?: number,
): Promise<StoredTemplate | 'stale'> {
  const pk = companyPk(companyId);
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = (await db().send(new GetCommand({ TableName: tableName(), Key: { PK: pk, SK: templateSk(name) }, ConsistentRead: true }))).Item;
    const currentVersion = (current?.version as number | undefined) ?? 0;
    if (expectedVersion !== undefined && expectedVersion !== currentVersion) return 'stale';
    const generation = randomBytes(6).toString('hex');
    const body = Buffer.from(JSON.stringify({ subject: template.subject, html: template.html, text: template.text }));
    const inline = body.length + 1_000 <= INLINE_ITEM_LIMIT;
    const parts = inline ? [] : partsOf(body);
    // Parts are up to 300 KB each: 10 per batch keeps a request far under BatchWriteItem's 16 MB.
    await batchWriteAll(
      parts.map((data, part) => ({ PutRequest: { Item: { PK: pk, SK: templatePartSk(name, generation, part), entity: 'templatePart', data } } })),
      10,
    );
    const updatedAt = new Date().toISOString();
    const version = currentVersion + 1;
    try {
      await db().send(
        new PutCommand({
          TableName: tableName(),
          Item: {
            PK: pk,
            SK: templateSk(name),
            entity: 'emailTemplate',
            name,
            ...(inline ? { subject: template.subject, html: template.html, text: template.text } : {}),
            parts: parts.length,
            generation,
            version,
            updatedAt,
          },
          ConditionExpression: current ? 'version = :v' : 'attribute_not_exists(PK)',
          ExpressionAttributeValues: current ? { ':v': currentVersion } : undefined,
        }),
      );
    } catch (error) {
      await deleteTemplateParts(name, generation, parts.length, pk);
      if (!isConditionFailure(error)) throw error;
      if (expectedVersion !== undefined) return 'stale';
      continue;
    }
    if (current && ((current.parts as number | undefined) ?? 0) > 0) await deleteTemplateParts(name, current.generation as string, current.parts as number, pk);
    return { ...template, version, updatedAt };
  }
  return 'stale';
}

async function deleteTemplateParts(name: string, generation: string, count: number, pk: string): Promise<void> {
  await batchWriteAll(deleteRequests(Array.from({ length: count }, (_, part) => ({ PK: pk, SK: templatePartSk(name, generation, part) }))));
}

/** Removes the company's version of a template (the default applies again). Returns false when there was none. */
export async function deleteCompanyTemplate(companyId: string, name: EmailTemplateName): Promise<boolean> {
  const pk = companyPk(companyId);
  const current = (await db().send(new GetCommand({ TableName: tableName(), Key: { PK: pk, SK: templateSk(name) }, ConsistentRead: true }))).Item;
  if (!current) return false;
  await batchWriteAll(deleteRequests([{ PK: pk, SK: templateSk(name) }]));
  if (((current.parts as number | undefined) ?? 0) > 0) await deleteTemplateParts(name, current.generation as string, current.parts as number, pk);
  return true;
}
