import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Group } from '../domain/group.js';
import { NotFoundError } from '../domain/errors.js';
import { batchGetAll, db, putNew, queryPage, tableName, type Page } from './dynamo.js';
import { companyPk, GROUP_SK_PREFIX, groupSk } from './keys.js';
import { isConditionFailure, staleOrGone } from './items.js';
import type { EveryField, StoredItem } from './mapping.js';

const groupKey = (companyId: string, groupId: string) => ({ PK: companyPk(companyId), SK: groupSk(groupId) });

/** A group lives in its company's partition, so one Query lists a company's groups. */
export function groupToItem(companyId: string, group: Group) {
  return { ...groupKey(companyId, group.id), entity: 'group', ...group };
}

export function groupFromItem(item: StoredItem): Group {
  const group: EveryField<Group> = {
    id: item.id,
    name: item.name,
    description: item.description,
    color: item.color,
    isDefault: item.isDefault,
    settings: item.settings,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
  return group;
}

export async function putNewGroup(companyId: string, group: Group): Promise<void> {
  await putNew(groupToItem(companyId, group));
}

export async function getGroup(companyId: string, groupId: string): Promise<Group | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: groupKey(companyId, groupId), ConsistentRead: true }));
  return out.Item ? groupFromItem(out.Item) : undefined;
}

/** Several groups in one batch read (a page of clients names a few); an unknown id is simply absent. */
export async function getGroups(companyId: string, groupIds: readonly string[]): Promise<Group[]> {
  const items = await batchGetAll([...new Set(groupIds)].map((groupId) => groupKey(companyId, groupId)));
  return items.map(groupFromItem);
}

export async function requireGroup(companyId: string, groupId: string): Promise<Group> {
  const group = await getGroup(companyId, groupId);
  if (!group) throw new NotFoundError('No such client group.');
  return group;
}

export async function listGroups(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Group>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': companyPk(companyId), ':prefix': GROUP_SK_PREFIX },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(groupFromItem), lastKey: page.lastKey };
}

/** Writes `next` if the stored group still has `previous.version`. */
export async function saveGroup(companyId: string, previous: Group, next: Group): Promise<void> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: groupToItem(companyId, next),
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': previous.version },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw staleOrGone('client group', (await getGroup(companyId, previous.id)) !== undefined);
    throw error;
  }
}

export async function deleteGroupItem(companyId: string, group: Group): Promise<void> {
  try {
    await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: groupKey(companyId, group.id),
        ConditionExpression: 'version = :expected AND isDefault = :false',
        ExpressionAttributeValues: { ':expected': group.version, ':false': false },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw staleOrGone('client group', (await getGroup(companyId, group.id)) !== undefined);
    throw error;
  }
}
