import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { AlreadyDoneError, NotFoundError } from '../domain/errors.js';
import { nextInvoiceDate, type Service } from '../domain/service.js';
import { batchGetAll, db, queryPage, tableName, type Item, type Page, type TransactItem } from './dynamo.js';
import { staleOrGone } from './items.js';
import { autoSuspendedPk, clientPk, serviceIndexKeys, servicesDuePk, SERVICE_SK_PREFIX, serviceSk } from './keys.js';
import type { EveryField, StoredItem } from './mapping.js';
import { clientOfObject, refItem, refKey } from './refs.js';
import { transactOnClient } from './client-guard.js';

export const serviceKey = (companyId: string, clientId: string, serviceId: string) => ({ PK: clientPk(companyId, clientId), SK: serviceSk(serviceId) });

/**
 * The service item, in its client's partition (a merge moves it, a delete removes it, with its pointer in `refs`).
 * `paidPeriods` is a string set, so paying a period is an `ADD` that needs no condition (store/ledger.ts); DynamoDB
 * has no empty sets, so an empty list is left out. `nextInvoiceDate` is stored for the index and the renewal's
 * condition; the entity derives it.
 */
export function serviceToItem(companyId: string, s: Service): Item {
  const { paidPeriods, ...fields } = s;
  const next = nextInvoiceDate(s);
  return {
    ...fields,
    ...serviceKey(companyId, s.clientId, s.id),
    entity: 'service',
    ...(paidPeriods.length ? { paidPeriods: new Set(paidPeriods) } : {}),
    nextInvoiceDate: next,
    ...serviceIndexKeys(companyId, { id: s.id, nextInvoiceDate: next, suspendedBy: s.suspendedBy, suspendedOn: s.suspendedOn }),
    refs: [refKey(companyId, s.id)],
  };
}

export function serviceFromItem(item: StoredItem): Service {
  const pricing = item.pricing as StoredItem;
  const paid = item.paidPeriods as Set<string> | string[] | undefined;
  const service: EveryField<Service> = {
    id: item.id,
    clientId: item.clientId,
    packageId: item.packageId,
    packageName: item.packageName,
    pricing: {
      id: pricing.id,
      term: pricing.term,
      period: pricing.period,
      price: pricing.price,
      setupFee: pricing.setupFee,
      currency: pricing.currency,
    },
    quantity: item.quantity,
    status: item.status,
    suspendedBy: item.suspendedBy ?? null,
    suspendedOn: item.suspendedOn ?? null,
    canceledOn: item.canceledOn ?? null,
    startDate: item.startDate,
    periodsInvoiced: item.periodsInvoiced,
    paidPeriods: [...(paid ?? [])].sort(),
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    version: item.version,
  };
  return service;
}

/** The puts of a new service and its pointer, for a transaction of the caller's (with its first invoice). */
export function newServiceItems(companyId: string, s: Service): TransactItem[] {
  return [
    { Put: { TableName: tableName(), Item: serviceToItem(companyId, s), ConditionExpression: 'attribute_not_exists(PK)' } },
    { Put: { TableName: tableName(), Item: refItem(companyId, s.id, 'service', s.clientId) } },
  ];
}

/** Stores a new service that has nothing to invoice yet (a pending one). */
export async function insertService(companyId: string, s: Service): Promise<void> {
  await transactOnClient(companyId, s.clientId, newServiceItems(companyId, s), () => new AlreadyDoneError('A service with this id exists.'));
}

export async function getService(companyId: string, clientId: string, serviceId: string): Promise<Service | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: serviceKey(companyId, clientId, serviceId), ConsistentRead: true }));
  return out.Item ? serviceFromItem(out.Item) : undefined;
}

/** A service by its bare id (through its pointer item). */
export async function findService(companyId: string, serviceId: string): Promise<Service | undefined> {
  const clientId = await clientOfObject(companyId, serviceId);
  return clientId ? getService(companyId, clientId, serviceId) : undefined;
}

export async function requireService(companyId: string, serviceId: string): Promise<Service> {
  const s = await findService(companyId, serviceId);
  if (!s) throw new NotFoundError('No such service.');
  return s;
}

/** Several services by (client, id), strongly consistent (an index page names them); a missing one is absent. */
export async function getServices(companyId: string, refs: ReadonlyArray<{ clientId: string; serviceId: string }>): Promise<Service[]> {
  // A batch read refuses a key given twice (two invoices of one service).
  const keys = new Map(refs.map((r) => [`${r.clientId}|${r.serviceId}`, serviceKey(companyId, r.clientId, r.serviceId)] as const));
  const items = await batchGetAll([...keys.values()], { consistent: true });
  return items.map(serviceFromItem);
}

/** One page of a client's services, oldest first. */
export async function listServices(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Service>> {
  const page = await queryPage<StoredItem>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
    ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId), ':p': SERVICE_SK_PREFIX },
    Limit: limit,
    ExclusiveStartKey: startKey,
    ConsistentRead: true,
  });
  return { items: page.items.map(serviceFromItem), lastKey: page.lastKey };
}

/**
 * Replaces a service that has not changed since it was read; `alsoWrite` commits with it (the automation's
 * once-marker: its failed condition means the change was already made, `AlreadyDoneError`).
 */
export async function saveService(companyId: string, previous: Service, next: Service, alsoWrite: readonly TransactItem[] = []): Promise<void> {
  await transactOnClient(
    companyId,
    next.clientId,
    [
      {
        Put: {
          TableName: tableName(),
          Item: serviceToItem(companyId, next),
          ConditionExpression: 'version = :v',
          ExpressionAttributeValues: { ':v': previous.version },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      ...alsoWrite,
    ],
    (index, itemFound) => (index === 0 ? staleOrGone('service', itemFound) : new AlreadyDoneError()),
  );
}

/**
 * Moves a service's next period to invoice on to `periodsInvoiced`, for the transaction of the renewal invoice. The
 * condition is on what the renewal was planned from (the periods invoiced and the status), not on the version, so a
 * payment landing on the service meanwhile does not undo the renewal. `paidAtOnce` marks the period paid (an
 * invoice with nothing to pay is paid when it opens).
 */
export function renewalUpdate(companyId: string, s: Service, periodsInvoiced: number, now: string, paidAtOnce?: string): TransactItem {
  const next = nextInvoiceDate({ ...s, periodsInvoiced });
  const index = serviceIndexKeys(companyId, { id: s.id, nextInvoiceDate: next, suspendedBy: s.suspendedBy, suspendedOn: s.suspendedOn });
  const values: Record<string, unknown> = { ':k': periodsInvoiced, ':bk': s.periodsInvoiced, ':bs': s.status, ':one': 1, ':now': now, ':next': next };
  let update = 'SET periodsInvoiced = :k, nextInvoiceDate = :next, version = version + :one, updatedAt = :now';
  if (index.GSI2PK) {
    values[':g2pk'] = index.GSI2PK;
    values[':g2sk'] = index.GSI2SK;
    update += ', GSI2PK = :g2pk, GSI2SK = :g2sk';
  } else {
    update += ' REMOVE GSI2PK, GSI2SK';
  }
  if (paidAtOnce) {
    values[':paid'] = new Set([paidAtOnce]);
    update += ' ADD paidPeriods :paid';
  }
  return {
    Update: {
      TableName: tableName(),
      Key: serviceKey(companyId, s.clientId, s.id),
      UpdateExpression: update,
      ConditionExpression: 'periodsInvoiced = :bk AND #s = :bs',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * Records periods of a service as paid, in the transaction that marks their invoice paid (store/ledger.ts). Adding to
 * a set is idempotent and needs no condition beyond the service's existence, so it can never cancel a payment.
 */
export function paidPeriodsUpdate(companyId: string, clientId: string, serviceId: string, periods: readonly string[], now: string): TransactItem {
  return {
    Update: {
      TableName: tableName(),
      Key: serviceKey(companyId, clientId, serviceId),
      UpdateExpression: 'ADD paidPeriods :p, version :one SET updatedAt = :now',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':p': new Set(periods), ':one': 1, ':now': now },
    },
  };
}

export interface IndexedService {
  clientId: string;
  serviceId: string;
}

const indexedService = (item: StoredItem): IndexedService => ({ clientId: item.clientId, serviceId: item.id });

/** Services that can renew whose next period to invoice starts on or before `through`, earliest first. */
export async function queryServicesDue(companyId: string, through: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<IndexedService>> {
  const page = await queryPage<StoredItem>({
    IndexName: 'GSI2',
    KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK <= :through',
    // `#` sorts before every id character: the bound takes every service of the date `through`.
    ExpressionAttributeValues: { ':pk': servicesDuePk(companyId), ':through': `${through}#~` },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(indexedService), lastKey: page.lastKey };
}

/** Services suspended by the automation, oldest suspension first. */
export async function queryAutoSuspended(companyId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<IndexedService>> {
  const page = await queryPage<StoredItem>({
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :pk',
    ExpressionAttributeValues: { ':pk': autoSuspendedPk(companyId) },
    Limit: limit,
    ExclusiveStartKey: startKey,
  });
  return { items: page.items.map(indexedService), lastKey: page.lastKey };
}
