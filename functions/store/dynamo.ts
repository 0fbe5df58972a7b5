import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException, type ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ConcurrentChangeError, ThrottledError, UnavailableError } from '../domain/errors.js';
import { translateFaultsOf } from './dynamo-faults.js';
import { tracer } from '../observability/tracer.js';
import { injectFaultsInto } from '../faults/sdk.js';

let documentClient: DynamoDBDocumentClient | undefined;

/**
 * Module-scoped client, reused across invocations; endpoint and credentials come from the standard AWS env.
 * Throttling and an unreachable database leave it as `ThrottledError` and `UnavailableError` (dynamo-faults.ts).
 * Faults are injected into it only while the fault layer is on (functions/faults, off unless a test or `BILLOW_FAULT_RATE` asks).
 */
export function db(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(translateFaultsOf(injectFaultsInto(new DynamoDBClient({}), 'dynamodb'))), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return documentClient;
}

export function tableName(): string {
  const name = process.env.BILLOW_TABLE;
  if (!name) throw new Error('BILLOW_TABLE is not set');
  return name;
}

export type Item = Record<string, unknown>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** Sends of a transaction after the first, when its outcome is unknown (the SDK's own retries spent). */
const TRANSACT_REPLAYS = 3;
const replayBackoff = (replay: number) => new Promise((r) => setTimeout(r, 50 * 4 ** replay * (0.5 + Math.random() / 2)));

/**
 * A transaction that failed without an answer about its items: DynamoDB throttled or could not be reached past the
 * SDK's retries, or is still running the same token's first send. It may have been written (an attempt whose answer
 * was lost, then retries that failed), so it is sent again with the same token, which DynamoDB answers from the first
 * send when that one was written.
 */
function outcomeUnknown(error: unknown): boolean {
  return error instanceof ThrottledError || error instanceof UnavailableError || (error as Error)?.name === 'TransactionInProgressException';
}

/**
 * Runs a transaction. When it is cancelled by a failed condition, `onConditionFailed` is called with the index
 * of the first item whose condition failed, so the caller can throw the precise domain error.
 * Every send carries the same ClientRequestToken, so one whose outcome is unknown is sent again without risk of
 * applying it twice (found by the fault workload: a create written, its answer lost and the SDK's retries throttled,
 * was answered 429, and the caller's retry then created it again or was refused as a duplicate of itself).
 */
export async function transact(items: TransactItem[], onConditionFailed: (index: number, itemFound: boolean) => Error): Promise<void> {
  const input = { TransactItems: items, ClientRequestToken: randomUUID() };
  try {
    for (let replay = 0; ; replay++) {
      try {
        await db().send(new TransactWriteCommand(input));
        return;
      } catch (error) {
        if (replay >= TRANSACT_REPLAYS || !outcomeUnknown(error)) throw error;
        await replayBackoff(replay);
      }
    }
  } catch (error) {
    if (error instanceof TransactionCanceledException || (error as Error).name === 'TransactionCanceledException') {
      const reasons = (error as TransactionCanceledException).CancellationReasons ?? [];
      const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
      // `itemFound` is only known for items sent with ReturnValuesOnConditionCheckFailure: ALL_OLD.
      if (failed >= 0) throw onConditionFailed(failed, reasons[failed]?.Item !== undefined);
    }
    if (isTransactionConflict(error)) {
      throw new ConcurrentChangeError();
    }
    throw error;
  }
}

const MARSHALL_OPTIONS = { removeUndefinedValues: true, convertClassInstanceToMap: false };

/**
 * Puts an item that must not exist yet (one with a new id). When its condition fails on an item holding exactly what
 * was written, the Put had been done and its answer lost, and the SDK's retry met it: that is success, not a
 * collision (a ConditionalCheckFailedException would reach the caller as a 500, and its retry make a second item).
 */
export async function putNew(item: Item): Promise<void> {
  try {
    await db().send(
      new PutCommand({ TableName: tableName(), Item: item, ConditionExpression: 'attribute_not_exists(PK)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
    );
  } catch (error) {
    // The document client converts `Item` of successful answers only; the one on this error is still in wire format.
    const old = (error as ConditionalCheckFailedException).Item;
    if ((error as Error).name === 'ConditionalCheckFailedException' && old && isDeepStrictEqual(unmarshall(old), unmarshall(marshall(item, MARSHALL_OPTIONS))))
      return;
    throw error;
  }
}

/**
 * DynamoDB refused a transaction because another one was touching the same items at that moment (not a failed
 * condition): safe to retry after re-reading.
 */
export function isTransactionConflict(error: unknown): boolean {
  if (error instanceof ConcurrentChangeError) return true;
  const e = error as { name?: string; CancellationReasons?: Array<{ Code?: string }> };
  if (e?.name === 'TransactionConflictException') return true;
  return e?.name === 'TransactionCanceledException' && (e.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict');
}

export interface Page<T> {
  items: T[];
  lastKey?: Record<string, unknown>;
}

/** One page of a Query; the caller turns `lastKey` into a signed cursor. */
export async function queryPage<T = Item>(input: Omit<QueryCommandInput, 'TableName'>): Promise<Page<T>> {
  const out = await db().send(new QueryCommand({ TableName: tableName(), ...input }));
  return { items: (out.Items ?? []) as T[], lastKey: out.LastEvaluatedKey };
}

/**
 * Reads up to `limit` items matching a filter, following the partition past pages that the filter thinned out.
 * Returns the key to continue from, which is the last item returned (not the last item read), so no item is
 * skipped or repeated between pages.
 */
export async function queryFiltered<T extends Item>(
  input: Omit<QueryCommandInput, 'TableName' | 'Limit'>,
  limit: number,
  keep: (item: T) => boolean,
  keyOf: (item: T) => Record<string, unknown>,
): Promise<Page<T>> {
  const items: T[] = [];
  let startKey = input.ExclusiveStartKey;
  for (;;) {
    const page = await queryPage<T>({ ...input, ExclusiveStartKey: startKey, Limit: Math.max(limit * 2, 50) });
    for (const item of page.items) {
      if (!keep(item)) continue;
      items.push(item);
      if (items.length === limit) {
        return { items, lastKey: keyOf(item) };
      }
    }
    if (!page.lastKey) return { items };
    startKey = page.lastKey;
  }
}

/** Drops the table's key and index attributes before an item is shown to a caller. */
export function stripKeys<T extends Item>(item: T): Omit<T, 'PK' | 'SK'> {
  const { PK, SK, GSI1PK, GSI1SK, GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK, GSI5PK, GSI5SK, LSI1SK, expiresAt, entity, ...rest } = item as Item;
  return rest as Omit<T, 'PK' | 'SK'>;
}

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** attempt)));

/** Every item of one partition whose SK starts with `prefix`, in SK order (strongly consistent). */
export async function queryAll(pk: string, prefix: string): Promise<Item[]> {
  const items: Item[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await queryPage({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :p)',
      ExpressionAttributeValues: { ':pk': pk, ':p': prefix },
      ExclusiveStartKey: startKey,
      ConsistentRead: true,
    });
    items.push(...page.items);
    startKey = page.lastKey;
  } while (startKey);
  return items;
}

/** Reads items by key, 100 per request, retrying what DynamoDB leaves unprocessed. Missing items are absent. */
export async function batchGetAll(
  keys: ReadonlyArray<{ PK: string; SK: string }>,
  options: { consistent?: boolean; projection?: string } = {},
): Promise<Item[]> {
  const found: Item[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Record<string, unknown>[] = keys.slice(i, i + 100).map(({ PK, SK }) => ({ PK, SK }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await db().send(
        new BatchGetCommand({
          RequestItems: { [tableName()]: { Keys: pending, ConsistentRead: options.consistent, ProjectionExpression: options.projection } },
        }),
      );
      found.push(...(out.Responses?.[tableName()] ?? []));
      pending = (out.UnprocessedKeys?.[tableName()]?.Keys as Record<string, unknown>[] | undefined) ?? [];
      if (pending.length) await backoff(attempt);
    }
  }
  return found;
}

type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Record<string, unknown> } };

/** Writes puts and deletes `perBatch` at a time (25 at most), retrying what DynamoDB leaves unprocessed. */
export async function batchWriteAll(requests: readonly WriteRequest[], perBatch = 25): Promise<void> {
  for (let i = 0; i < requests.length; i += perBatch) {
    let pending = requests.slice(i, i + perBatch);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await db().send(new BatchWriteCommand({ RequestItems: { [tableName()]: [...pending] } }));
      pending = (out.UnprocessedItems?.[tableName()] as WriteRequest[] | undefined) ?? [];
      if (pending.length) await backoff(attempt);
    }
  }
}

export const deleteRequests = (keys: ReadonlyArray<{ PK: string; SK: string }>): WriteRequest[] =>
  keys.map(({ PK, SK }) => ({ DeleteRequest: { Key: { PK, SK } } }));
