import { GetCommand, UpdateCommand, DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { Company } from '../domain/company.js';
import type { Group } from '../domain/group.js';
import { NotFoundError } from '../domain/errors.js';
import { db, queryPage, stripKeys, tableName, transact, type Page } from './dynamo.js';
import { companiesListPk, companyPk, companySk, groupSk } from './keys.js';
import { isConditionFailure, staleOrGone } from './items.js';

const companyKey = (companyId: string) => ({ PK: companyPk(companyId), SK: companySk });

/** Company item plus its default group, in one transaction. */
export async function putNewCompany(company: Company, defaultGroup: Group): Promise<void> {
  await transact(
    [
      {
        Put: {
          TableName: tableName(),
          Item: { ...companyKey(company.id), entity: 'company', GSI1PK: companiesListPk, GSI1SK: `${company.createdAt}#${company.id}`, ...company },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
      {
        Put: {
          TableName: tableName(),
          Item: { PK: companyPk(company.id), SK: groupSk(defaultGroup.id), entity: 'group', ...defaultGroup },
          ConditionExpression: 'attribute_not_exists(PK)',
        },
      },
    ],
    () => new Error('Company id collision'),
  );
}

export async function getCompany(companyId: string): Promise<Company | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: companyKey(companyId), ConsistentRead: true }));
  return out.Item ? (stripKeys(out.Item) as unknown as Company) : undefined;
}

export async function requireCompany(companyId: string): Promise<Company> {
  const company = await getCompany(companyId);
  if (!company) throw new NotFoundError('No such company.');
  return company;
}

export async function listCompanies(limit: number, startKey?: Record<string, unknown>): Promise<Page<Company>> {
  const page = await queryPage({
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': companiesListPk },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map((i) => stripKeys(i) as unknown as Company), lastKey: page.lastKey };
}

/** Replaces the company's mutable fields if its version is still `previous.version`. */
export async function saveCompany(previous: Company, next: Company): Promise<void> {
  const { id, createdAt, ...fields } = next;
  void id, createdAt;
  const names: Record<string, string> = { '#v': 'version' };
  const values: Record<string, unknown> = { ':expected': previous.version };
  const sets = Object.entries(fields).map(([k, v], i) => {
    names[`#f${i}`] = k;
    values[`:f${i}`] = v;
    return `#f${i} = :f${i}`;
  });
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: companyKey(previous.id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: '#v = :expected',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw staleOrGone('company', true);
    throw error;
  }
}

/** Undoes a company whose first staff login could not be created. */
export async function deleteNewCompany(companyId: string, defaultGroupId: string): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: { PK: companyPk(companyId), SK: groupSk(defaultGroupId) } }));
  await db().send(new DeleteCommand({ TableName: tableName(), Key: companyKey(companyId) }));
}
