import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { newId } from '../domain/ids.js';
import { NotFoundError } from '../domain/errors.js';
import { db, queryPage, stripKeys, tableName, type Item, type Page, type TransactItem } from './dynamo.js';
import { ACTIVITY_SK_PREFIX, activitySk, clientPk } from './keys.js';
import { isConditionFailure, nowIso, staleOrGone } from './items.js';

/**
 * Records kept in a client's partition under an SK prefix (contacts, notes, …): plain versioned items that
 * carry `clientId` so a merge can move them.
 */
export interface RecordKey {
  companyId: string;
  clientId: string;
  sk: string;
}

const key = (k: RecordKey) => ({ PK: clientPk(k.companyId, k.clientId), SK: k.sk });

export async function putRecord(k: RecordKey, record: Item, indexAttributes: Item = {}): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...key(k), ...indexAttributes, ...record, clientId: k.clientId }, ConditionExpression: 'attribute_not_exists(PK)' }));
}

export async function getRecord<T>(k: RecordKey): Promise<T | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key(k), ConsistentRead: true }));
  return out.Item ? (stripKeys(out.Item) as T) : undefined;
}

export async function requireRecord<T>(k: RecordKey, what: string): Promise<T> {
  const record = await getRecord<T>(k);
  if (!record) throw new NotFoundError(`No such ${what}.`);
  return record;
}

/** Replaces a record if its version is unchanged; `indexAttributes` (e.g. LSI1SK) are set afresh. */
export async function replaceRecord(k: RecordKey, previousVersion: number, next: Item, what: string, indexAttributes: Item = {}): Promise<void> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...key(k), ...indexAttributes, ...next, clientId: k.clientId },
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': previousVersion },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw staleOrGone(what, (await getRecord(k)) !== undefined);
    throw error;
  }
}

/** Sets a few fields of an existing record and bumps its version. */
export async function updateRecordFields(k: RecordKey, fields: Item): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':one': 1, ':now': new Date().toISOString() };
  const sets = Object.entries(fields).map(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:f${i}`] = value;
    return `#f${i} = :f${i}`;
  });
  await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: key(k),
      UpdateExpression: `SET ${sets.join(', ')}, version = version + :one, updatedAt = :now`,
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
}

export async function deleteRecord(k: RecordKey, what: string): Promise<void> {
  try {
    await db().send(new DeleteCommand({ TableName: tableName(), Key: key(k), ConditionExpression: 'attribute_exists(PK)' }));
  } catch (error) {
    if (isConditionFailure(error)) throw new NotFoundError(`No such ${what}.`);
    throw error;
  }
}

export async function listRecords<T>(companyId: string, clientId: string, prefix: string, limit: number, startKey?: Record<string, unknown>, newestFirst = false): Promise<Page<T>> {
  const page = await queryPage({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':prefix': prefix },
    Limit: limit,
    ExclusiveStartKey: startKey,
    ScanIndexForward: !newestFirst,
  });
  return { items: page.items.map((i) => stripKeys(i) as T), lastKey: page.lastKey };
}

export interface Actor {
  type: 'staff' | 'client' | 'operator' | 'system';
  id: string;
}

export interface ActivityEntry {
  id: string;
  at: string;
  actor: Actor;
  action: string;
  details: Record<string, unknown>;
}

/** An activity-log entry, as a transaction item so it commits with the change it records. */
export function activityPut(companyId: string, clientId: string, actor: Actor, action: string, details: Record<string, unknown> = {}): TransactItem {
  const entry: ActivityEntry = { id: newId('act'), at: nowIso(), actor, action, details };
  return { Put: { TableName: tableName(), Item: { PK: clientPk(companyId, clientId), SK: activitySk(entry.at, entry.id), entity: 'activity', clientId, ...entry } } };
}

/** Records one activity entry on its own (when there is no other write to commit it with). */
export async function recordActivity(companyId: string, clientId: string, actor: Actor, action: string, details: Record<string, unknown> = {}): Promise<void> {
  await db().send(new PutCommand(activityPut(companyId, clientId, actor, action, details).Put!));
}

export async function listActivity(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<ActivityEntry>> {
  return listRecords<ActivityEntry>(companyId, clientId, ACTIVITY_SK_PREFIX, limit, startKey, true);
}
