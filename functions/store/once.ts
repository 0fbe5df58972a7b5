import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, db, queryPage, tableName, type TransactItem } from './dynamo.js';
import { clientPk, onceSk } from './keys.js';

/**
 * Exactly-once for the daily automation: an effect (a renewal invoice for a service and period, a notice of a kind
 * for an invoice, a suspension…) commits together with a marker keyed by (task, object, period), put only if it
 * does not exist. The same date run twice, two runs at once, a page retried by Step Functions: the second write's
 * condition fails and nothing happens twice. Markers are kept (no TTL), so an earlier date run after a later one
 * repeats nothing either.
 */
export interface OnceKey {
  companyId: string;
  /** The client the object belongs to now: the marker lives in its partition. */
  clientId: string;
  /** The task or effect kind, e.g. `renewals`, `notice:late_notice_first`, `suspend`. */
  task: string;
  objectId: string;
  /** The period the effect is for, e.g. the renew date, the invoice's due date, the run date. */
  period: string;
}

export function onceMarkerPut(key: OnceKey, runId: string, at: string): TransactItem {
  return {
    Put: {
      TableName: tableName(),
      Item: { ...markerKey(key), entity: 'once', clientId: key.clientId, runId, at },
      ConditionExpression: 'attribute_not_exists(PK)',
    },
  };
}

/** Whether the effect was already done (dry runs and pre-checks; the transaction's condition is the real guard). */
export async function isDone(key: OnceKey): Promise<boolean> {
  const out = await db().send(
    new GetCommand({
      TableName: tableName(),
      Key: markerKey(key),
      ConsistentRead: true,
      ProjectionExpression: 'PK',
    }),
  );
  return out.Item !== undefined;
}

/** Which run wrote a marker, and when: a replayed page tells its own killed attempt's effects from earlier ones. */
export interface MarkerWriter {
  runId: string;
  at: string;
}

/** The marker's writer, or undefined when the effect was not done. */
export async function markerOf(key: OnceKey): Promise<MarkerWriter | undefined> {
  const out = await db().send(
    new GetCommand({
      TableName: tableName(),
      Key: markerKey(key),
      ConsistentRead: true,
      ProjectionExpression: 'runId, #at',
      ExpressionAttributeNames: { '#at': 'at' },
    }),
  );
  return out.Item && { runId: String(out.Item.runId), at: String(out.Item.at) };
}

/** Which of these effects were already done, by whom: keyed by `doneKey` (one batch read for a page). */
export async function doneAmong(keys: readonly OnceKey[]): Promise<Map<string, MarkerWriter>> {
  if (!keys.length) return new Map();
  // Whole items (a marker is a few attributes): `at` is a reserved word, which a projection would have to alias.
  const items = await batchGetAll(keys.map(markerKey), { consistent: true });
  return new Map(items.map((item) => [`${String(item.PK)}|${String(item.SK)}`, { runId: String(item.runId), at: String(item.at) }] as const));
}

/**
 * The writers of an object's markers of one kind, whatever their periods (one query of the client's partition): for
 * an effect whose period cannot be told afterwards (an unsuspension's is the suspension it lifted).
 */
export async function markersOf(key: Omit<OnceKey, 'period'>): Promise<MarkerWriter[]> {
  const page = await queryPage<{ runId: string; at: string }>({
    KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
    ExpressionAttributeValues: { ':pk': clientPk(key.companyId, key.clientId), ':prefix': onceSk(key.objectId, key.task, '') },
    ConsistentRead: true,
  });
  return page.items.map((item) => ({ runId: String(item.runId), at: String(item.at) }));
}

/** The member of `doneAmong`'s answer that stands for `key`. */
export const doneKey = (key: OnceKey) => {
  const { PK, SK } = markerKey(key);
  return `${PK}|${SK}`;
};

function markerKey(key: OnceKey): { PK: string; SK: string } {
  return { PK: clientPk(key.companyId, key.clientId), SK: onceSk(key.objectId, key.task, key.period) };
}
