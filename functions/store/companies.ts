import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Company } from '../domain/company.js';
import type { Group } from '../domain/group.js';
import { NotFoundError } from '../domain/errors.js';
import { db, queryPage, tableName, transact, type Page } from './dynamo.js';
import { groupToItem } from './groups.js';
import { companiesListPk, companyPk, companySk, groupSk } from './keys.js';
import { isConditionFailure, staleOrGone } from './items.js';
import { setAttributes, type EveryField, type StoredItem } from './mapping.js';

const companyKey = (companyId: string) => ({ PK: companyPk(companyId), SK: companySk });

/** The company item; GSI1 lists every company, oldest first, for the operator. */
export function companyToItem(company: Company) {
  return { ...companyKey(company.id), entity: 'company', GSI1PK: companiesListPk, GSI1SK: `${company.createdAt}#${company.id}`, ...company };
}

export function companyFromItem(item: StoredItem): Company {
  const company: EveryField<Company> = {
    id: item.id,
    name: item.name,
    defaultGroupId: item.defaultGroupId,
    staffUserId: item.staffUserId,
    own: item.own,
    groupSettings: item.groupSettings,
    version: item.version,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
  return company;
}

/** Company item plus its default group, in one transaction. */
export async function putNewCompany(company: Company, defaultGroup: Group): Promise<void> {
  await transact(
    [
      { Put: { TableName: tableName(), Item: companyToItem(company), ConditionExpression: 'attribute_not_exists(PK)' } },
      { Put: { TableName: tableName(), Item: groupToItem(company.id, defaultGroup), ConditionExpression: 'attribute_not_exists(PK)' } },
    ],
    () => new Error('Company id collision'),
  );
}

export async function getCompany(companyId: string): Promise<Company | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: companyKey(companyId), ConsistentRead: true }));
  return out.Item ? companyFromItem(out.Item) : undefined;
}

export async function requireCompany(companyId: string): Promise<Company> {
  const company = await getCompany(companyId);
  if (!company) throw new NotFoundError('No such company.');
  return company;
}

export async function listCompanies(limit: number, startKey?: Record<string, unknown>): Promise<Page<Company>> {
  const page = await queryPage<StoredItem>({
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': companiesListPk },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(companyFromItem), lastKey: page.lastKey };
}

/** Replaces the company's mutable fields if its version is still `previous.version`. */
export async function saveCompany(previous: Company, next: Company): Promise<void> {
  const { id, createdAt, ...fields } = next;
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: companyKey(previous.id),
        ...setAttributes(fields, { ':expected': previous.version }),
        ConditionExpression: 'version = :expected',
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw staleOrGone('company', true);
    throw error;
  }
}

/** Deletes a company written moments ago together with its default group (see `createCompany`'s compensation). */
export async function deleteNewCompany(companyId: string, defaultGroupId: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: { PK: companyPk(companyId), SK: groupSk(defaultGroupId) } }));
  await db().send(new DeleteCommand({ TableName: tableName(), Key: companyKey(companyId) }));
}
