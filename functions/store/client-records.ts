import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Actor, ActivityEntry } from '../domain/activity.js';
import type { Contact } from '../domain/contact.js';
import { ConcurrentChangeError, NotFoundError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Note } from '../domain/note.js';
import { transactOnClient } from './client-guard.js';
import { db, queryPage, tableName, type Item, type Page, type TransactItem } from './dynamo.js';
import { nowIso, staleOrGone } from './items.js';
import { ACTIVITY_SK_PREFIX, activitySk, clientPk, CONTACT_SK_PREFIX, contactSk, NOTE_SK_PREFIX, noteSk, profileViewStickyNote } from './keys.js';
import type { EveryField, StoredItem } from './mapping.js';

export type { Actor, ActivityEntry } from '../domain/activity.js';

/**
 * Records kept in a client's partition under an SK prefix (contacts, notes, activity): plain items that carry
 * `clientId` so a merge can move them; contacts and notes are versioned.
 */
type Key = { PK: string; SK: string };

/** The write's client: every write here commits with `clientIsWritable` (store/client-guard.ts). */
type Owner = { companyId: string; clientId: string };

async function putNewItem(owner: Owner, item: Key & Item, what: string): Promise<void> {
  await transactOnClient(
    owner.companyId,
    owner.clientId,
    [{ Put: { TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)' } }],
    () => new ConcurrentChangeError(`A ${what} with this id already exists; nothing was written.`),
  );
}

async function readItem(itemKey: Key): Promise<StoredItem | undefined> {
  return (await db().send(new GetCommand({ TableName: tableName(), Key: itemKey, ConsistentRead: true }))).Item;
}

/** Replaces an item if its version is unchanged; attributes it no longer has (an unstuck note's LSI1SK) go. */
async function replaceItem(owner: Owner, item: Key & Item, previousVersion: number, what: string): Promise<void> {
  await transactOnClient(
    owner.companyId,
    owner.clientId,
    [
      {
        Put: {
          TableName: tableName(),
          Item: item,
          ConditionExpression: 'version = :expected',
          ExpressionAttributeValues: { ':expected': previousVersion },
          // Tells a stale version (409) from a record that is gone (404) without reading it again.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ],
    (_index, itemFound) => staleOrGone(what, itemFound),
  );
}

async function deleteItem(owner: Owner, itemKey: Key, what: string): Promise<void> {
  await transactOnClient(
    owner.companyId,
    owner.clientId,
    [{ Delete: { TableName: tableName(), Key: itemKey, ConditionExpression: 'attribute_exists(PK)' } }],
    () => new NotFoundError(`No such ${what}.`),
  );
}

async function queryRecords(
  companyId: string,
  clientId: string,
  prefix: string,
  limit: number,
  startKey?: Record<string, unknown>,
  newestFirst = false,
): Promise<Page<StoredItem>> {
  return queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':prefix': prefix },
    Limit: limit,
    ExclusiveStartKey: startKey,
    ScanIndexForward: !newestFirst,
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Contacts

const contactKey = (companyId: string, clientId: string, contactId: string): Key => ({ PK: clientPk(companyId, clientId), SK: contactSk(contactId) });

export function contactToItem(companyId: string, contact: Contact) {
  return { ...contactKey(companyId, contact.clientId, contact.id), entity: 'contact', ...contact };
}

export function contactFromItem(item: StoredItem): Contact {
  const contact: EveryField<Contact> = {
    id: item.id,
    clientId: item.clientId,
    type: item.type,
    firstName: item.firstName,
    lastName: item.lastName,
    email: item.email,
    company: item.company,
    title: item.title,
    address1: item.address1,
    address2: item.address2,
    city: item.city,
    country: item.country,
    state: item.state,
    zip: item.zip,
    phones: item.phones,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
  return contact;
}

export async function putNewContact(companyId: string, contact: Contact): Promise<void> {
  await putNewItem({ companyId, clientId: contact.clientId }, contactToItem(companyId, contact), 'contact');
}

export async function getContact(companyId: string, clientId: string, contactId: string): Promise<Contact | undefined> {
  const item = await readItem(contactKey(companyId, clientId, contactId));
  return item ? contactFromItem(item) : undefined;
}

export async function requireContact(companyId: string, clientId: string, contactId: string): Promise<Contact> {
  const contact = await getContact(companyId, clientId, contactId);
  if (!contact) throw new NotFoundError('No such contact.');
  return contact;
}

export async function replaceContact(companyId: string, previous: Contact, next: Contact): Promise<void> {
  await replaceItem({ companyId, clientId: next.clientId }, contactToItem(companyId, next), previous.version, 'contact');
}

export async function deleteContact(companyId: string, clientId: string, contactId: string): Promise<void> {
  await deleteItem({ companyId, clientId }, contactKey(companyId, clientId, contactId), 'contact');
}

export async function listContacts(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Contact>> {
  const page = await queryRecords(companyId, clientId, CONTACT_SK_PREFIX, limit, startKey);
  return { items: page.items.map(contactFromItem), lastKey: page.lastKey };
}

// ---------------------------------------------------------------------------------------------------------------
// Notes

const noteKey = (companyId: string, clientId: string, noteId: string): Key => ({ PK: clientPk(companyId, clientId), SK: noteSk(noteId) });

/** A sticky note joins the profile view (LSI1), newest first; an unstuck one leaves it. */
export function noteToItem(companyId: string, note: Note) {
  return {
    ...noteKey(companyId, note.clientId, note.id),
    ...(note.sticky ? { LSI1SK: profileViewStickyNote(note.createdAt, note.id) } : {}),
    entity: 'note',
    ...note,
  };
}

export function noteFromItem(item: StoredItem): Note {
  const note: EveryField<Note> = {
    id: item.id,
    clientId: item.clientId,
    summary: item.summary,
    details: item.details ?? null,
    sticky: item.sticky,
    createdBy: item.createdBy,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
  return note;
}

export async function putNewNote(companyId: string, note: Note): Promise<void> {
  await putNewItem({ companyId, clientId: note.clientId }, noteToItem(companyId, note), 'note');
}

export async function requireNote(companyId: string, clientId: string, noteId: string): Promise<Note> {
  const item = await readItem(noteKey(companyId, clientId, noteId));
  if (!item) throw new NotFoundError('No such note.');
  return noteFromItem(item);
}

export async function replaceNote(companyId: string, previous: Note, next: Note): Promise<void> {
  await replaceItem({ companyId, clientId: next.clientId }, noteToItem(companyId, next), previous.version, 'note');
}

export async function deleteNote(companyId: string, clientId: string, noteId: string): Promise<void> {
  await deleteItem({ companyId, clientId }, noteKey(companyId, clientId, noteId), 'note');
}

export async function listNotes(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Note>> {
  const page = await queryRecords(companyId, clientId, NOTE_SK_PREFIX, limit, startKey, true);
  return { items: page.items.map(noteFromItem), lastKey: page.lastKey };
}

// ---------------------------------------------------------------------------------------------------------------
// Activity

/** Entries sort by time within the client's partition, so the log reads newest first with one Query. */
export function activityToItem(companyId: string, clientId: string, entry: ActivityEntry) {
  return { PK: clientPk(companyId, clientId), SK: activitySk(entry.at, entry.id), entity: 'activity', clientId, ...entry };
}

export function activityFromItem(item: StoredItem): ActivityEntry {
  const entry: EveryField<ActivityEntry> = { id: item.id, at: item.at, actor: item.actor, action: item.action, details: item.details };
  return entry;
}

/** An activity-log entry, as a transaction item so it commits with the change it records. */
export function activityPut(companyId: string, clientId: string, actor: Actor, action: string, details: Record<string, unknown> = {}): TransactItem {
  return { Put: activityPutInput(companyId, clientId, actor, action, details) };
}

/** The put of one new activity-log entry: in a transaction (`activityPut`) or on its own (`recordActivity`). */
function activityPutInput(companyId: string, clientId: string, actor: Actor, action: string, details: Record<string, unknown>) {
  const entry: ActivityEntry = { id: newId('act'), at: nowIso(), actor, action, details };
  return { TableName: tableName(), Item: activityToItem(companyId, clientId, entry) };
}

/** Records one activity entry on its own (when there is no other write to commit it with). */
export async function recordActivity(companyId: string, clientId: string, actor: Actor, action: string, details: Record<string, unknown> = {}): Promise<void> {
  await transactOnClient(companyId, clientId, [{ Put: activityPutInput(companyId, clientId, actor, action, details) }], () => new ConcurrentChangeError());
}

export async function listActivity(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<ActivityEntry>> {
  const page = await queryRecords(companyId, clientId, ACTIVITY_SK_PREFIX, limit, startKey, true);
  return { items: page.items.map(activityFromItem), lastKey: page.lastKey };
}
