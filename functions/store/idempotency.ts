import { createHash, randomUUID } from 'node:crypto';
import type { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { db, tableName, type Item } from './dynamo.js';
import { isConditionFailure } from './items.js';
import { idempotencyPk, idempotencySk } from './keys.js';

/** How long a finished request's response is replayed; also the item's TTL (`expiresAt`). */
export const IDEMPOTENCY_RETENTION_SECONDS = 24 * 3600;

/**
 * One `Idempotency-Key` of one scope (a company, one client of a company, the operator).
 * - in progress: a request holds the key until `lockedUntilMs`, the moment its invocation times out; after that it
 *   is presumed dead and a retry of the same request may take the key over;
 * - completed: `response` is replayed to a retry of the same request until `expiresAt`.
 * `claimId` names the request holding the key, so one that was taken over cannot complete or release it.
 */
export type IdempotencyRecord =
  | { status: 'in_progress'; fingerprint: string; claimId: string; lockedUntilMs: number; expiresAt: number }
  | { status: 'completed'; fingerprint: string; response: string; expiresAt: number };

export interface IdempotencyClaimInput {
  fingerprint: string;
  nowMs: number;
  /** What is left of the invocation making the request (Lambda's `getRemainingTimeInMillis()`). */
  remainingTimeMs: number;
}

export type IdempotencyClaimOutcome =
  | { kind: 'acquired'; claimId: string }
  | { kind: 'completed'; response: string }
  | { kind: 'in_progress' }
  | { kind: 'different_request' };

/** The key itself may be anything up to 255 characters a caller chose: only its hash goes into the table key. */
function itemKey(scope: string, idempotencyKey: string): { PK: string; SK: string } {
  return { PK: idempotencyPk(scope, createHash('sha256').update(idempotencyKey).digest('hex')), SK: idempotencySk };
}

function toItem(key: { PK: string; SK: string }, record: IdempotencyRecord): Item {
  const common = { ...key, entity: 'idempotency', status: record.status, requestHash: record.fingerprint, expiresAt: record.expiresAt };
  return record.status === 'in_progress' ? { ...common, claimId: record.claimId, lockedUntil: record.lockedUntilMs } : { ...common, response: record.response };
}

/**
 * Records written before locks were kept in milliseconds hold seconds in `lockedUntil` and no `claimId`: they read
 * as in progress with a lock long expired, so a retry of their request may take them over.
 */
function fromItem(item: Item): IdempotencyRecord {
  const fingerprint = String(item.requestHash);
  const expiresAt = Number(item.expiresAt);
  if (item.status === 'completed') return { status: 'completed', fingerprint, response: String(item.response), expiresAt };
  return { status: 'in_progress', fingerprint, claimId: String(item.claimId ?? ''), lockedUntilMs: Number(item.lockedUntil ?? 0), expiresAt };
}

/**
 * Claims a key with ONE conditional Put. It succeeds when the key is free: no record, a record past its retention
 * (DynamoDB deletes expired items lazily, and DynamoDB Local not at all on this table), or the same request still
 * in progress whose invocation has timed out. A different request never takes a dead one's key over: that one may
 * have acted, so reusing its key is the caller's mistake, as it is for a finished one.
 * When the condition fails, DynamoDB returns the record in the way (`ALL_OLD`), and that record decides the outcome,
 * so a collision costs no second read and cannot be fooled by a record that changes in between.
 */
export async function claimIdempotencyRecord(scope: string, idempotencyKey: string, input: IdempotencyClaimInput): Promise<IdempotencyClaimOutcome> {
  const key = itemKey(scope, idempotencyKey);
  const claimId = randomUUID();
  const nowSeconds = Math.floor(input.nowMs / 1000);
  const record: IdempotencyRecord = {
    status: 'in_progress',
    fingerprint: input.fingerprint,
    claimId,
    lockedUntilMs: input.nowMs + input.remainingTimeMs,
    expiresAt: nowSeconds + IDEMPOTENCY_RETENTION_SECONDS,
  };
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: toItem(key, record),
        ConditionExpression:
          'attribute_not_exists(PK) OR expiresAt < :nowSeconds OR (#s = :inProgress AND lockedUntil < :nowMs AND requestHash = :fingerprint)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':nowSeconds': nowSeconds, ':nowMs': input.nowMs, ':inProgress': 'in_progress', ':fingerprint': input.fingerprint },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { kind: 'acquired', claimId };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // The document client converts `Item` of successful answers only; the one on this error is still in wire format.
    const old = (error as ConditionalCheckFailedException).Item;
    if (!old) throw new Error('DynamoDB refused the idempotency claim without returning the record in the way.');
    const existing = fromItem(unmarshall(old));
    // Our own claim: the Put was written, its answer lost, and the SDK's retry of it found what it had written.
    if (existing.status === 'in_progress' && existing.claimId === claimId) return { kind: 'acquired', claimId };
    return outcomeOf(existing, input.fingerprint);
  }
}

function outcomeOf(existing: IdempotencyRecord, fingerprint: string): IdempotencyClaimOutcome {
  if (existing.fingerprint !== fingerprint) return { kind: 'different_request' };
  if (existing.status === 'completed') return { kind: 'completed', response: existing.response };
  return { kind: 'in_progress' };
}

const HELD_BY_CLAIM = '#s = :inProgress AND claimId = :claimId';

/**
 * Stores the response of the request holding the key. Returns false, storing nothing, when that request no longer
 * holds it (its lock expired and a retry took the key over): the retry's response is the one to keep.
 */
export async function completeIdempotencyRecord(scope: string, idempotencyKey: string, claimId: string, response: string): Promise<boolean> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: itemKey(scope, idempotencyKey),
        UpdateExpression: 'SET #s = :completed, #r = :response REMOVE claimId, lockedUntil',
        ConditionExpression: HELD_BY_CLAIM,
        ExpressionAttributeNames: { '#s': 'status', '#r': 'response' },
        ExpressionAttributeValues: { ':completed': 'completed', ':response': response, ':inProgress': 'in_progress', ':claimId': claimId },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // Completed with this very response: the update was written, its answer lost, and the SDK's retry found it done.
    const old = (error as ConditionalCheckFailedException).Item;
    const existing = old ? unmarshall(old) : undefined;
    return existing?.status === 'completed' && existing.response === response;
  }
}

/**
 * Frees the key after a failure worth retrying (a 5xx), so the retry acts again. Returns false, deleting nothing,
 * when the request no longer holds the key.
 */
export async function releaseIdempotencyRecord(scope: string, idempotencyKey: string, claimId: string): Promise<boolean> {
  try {
    await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: itemKey(scope, idempotencyKey),
        ConditionExpression: HELD_BY_CLAIM,
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':inProgress': 'in_progress', ':claimId': claimId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
