import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../domain/errors.js';
import type { Package, Pricing } from '../domain/package.js';
import { db, putNew, queryPage, tableName, type Page } from './dynamo.js';
import { isConditionFailure, staleOrGone } from './items.js';
import { companyPk, PACKAGE_SK_PREFIX, packageSk } from './keys.js';
import type { EveryField, StoredItem } from './mapping.js';

const packageKey = (companyId: string, packageId: string) => ({ PK: companyPk(companyId), SK: packageSk(packageId) });

/** A package lives in its company's partition, so one Query lists the catalogue (oldest first: ids sort by time). */
export function packageToItem(companyId: string, pkg: Package) {
  return { ...packageKey(companyId, pkg.id), entity: 'package', ...pkg };
}

function pricingFromItem(item: StoredItem): Pricing {
  const pricing: EveryField<Pricing> = {
    id: item.id,
    term: item.term,
    period: item.period,
    price: item.price,
    setupFee: item.setupFee,
    currency: item.currency,
  };
  return pricing;
}

export function packageFromItem(item: StoredItem): Package {
  const pkg: EveryField<Package> = {
    id: item.id,
    name: item.name,
    description: item.description ?? null,
    pricing: (item.pricing as StoredItem[]).map(pricingFromItem),
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
  return pkg;
}

export async function putNewPackage(companyId: string, pkg: Package): Promise<void> {
  await putNew(packageToItem(companyId, pkg));
}

export async function getPackage(companyId: string, packageId: string): Promise<Package | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: packageKey(companyId, packageId), ConsistentRead: true }));
  return out.Item ? packageFromItem(out.Item) : undefined;
}

export async function requirePackage(companyId: string, packageId: string): Promise<Package> {
  const pkg = await getPackage(companyId, packageId);
  if (!pkg) throw new NotFoundError('No such package.');
  return pkg;
}

export async function listPackages(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Package>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': companyPk(companyId), ':prefix': PACKAGE_SK_PREFIX },
    Limit: limit,
    ExclusiveStartKey: startKey,
    ConsistentRead: true,
  });
  return { items: page.items.map(packageFromItem), lastKey: page.lastKey };
}

/** Writes `next` if the stored package still has `previous.version`. */
export async function savePackage(companyId: string, previous: Package, next: Package): Promise<void> {
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: packageToItem(companyId, next),
        ConditionExpression: 'version = :expected',
        ExpressionAttributeValues: { ':expected': previous.version },
      }),
    );
  } catch (error) {
    if (isConditionFailure(error)) throw staleOrGone('package', (await getPackage(companyId, previous.id)) !== undefined);
    throw error;
  }
}
