import { createHash, createHmac } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { getServices } from '../services.js';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../store/dynamo.js';
import { idempotencyPk, idempotencySk } from '../store/keys.js';
import { RuleViolationError, ConflictError, ValidationError } from '../domain/errors.js';
import type { HttpResponse } from './route.js';

const RETENTION_SECONDS = 24 * 3600;
/** A request holding a key longer than this is presumed dead (its Lambda timed out) and may be taken over. */
const LOCK_SECONDS = 90;

interface IdempotencyRecord {
  status: 'in_progress' | 'completed';
  requestHash: string;
  lockedUntil: number;
  expiresAt: number;
  response?: string;
}

/** Large responses (an invoice of 200 long lines) are stored gzipped, so the record stays under the 400 KB item limit. */
function packResponse(response: HttpResponse): string {
  const text = JSON.stringify(response);
  return text.length > 32_000 ? `gz:${gzipSync(text).toString('base64')}` : text;
}

function unpackResponse(stored: string): HttpResponse {
  const text = stored.startsWith('gz:') ? gunzipSync(Buffer.from(stored.slice(3), 'base64')).toString('utf8') : stored;
  return JSON.parse(text) as HttpResponse;
}

export type IdempotencyClaim = { kind: 'acquired'; complete: (response: HttpResponse) => Promise<void>; release: () => Promise<void> } | { kind: 'replay'; response: HttpResponse };

/** Canonical JSON: the same body with keys in another order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Keyed with the server secret: a body may hold a card number, and a plain hash of one is guessable
 * (PCI DSS treats unkeyed hashes of card numbers as card data).
 */
export async function requestFingerprint(method: string, path: string, body: unknown): Promise<string> {
  const secret = await getServices().secrets.signingSecret();
  return createHmac('sha256', secret).update(`${method} ${path}\n${canonical(body)}`).digest('hex');
}

/**
 * Claims an `Idempotency-Key` for a request, scoped to the company (or `operator`/`public`).
 * - first use: acquired; the caller stores the response with `complete`, or `release`s on a 5xx so a retry acts again;
 * - same key, same request, finished: the stored response is replayed;
 * - same key, other method/path/body: 422; same key still in flight: 409.
 */
export async function claimIdempotencyKey(scope: string, key: string, fingerprint: string): Promise<IdempotencyClaim> {
  if (key.length < 1 || key.length > 255) throw ValidationError.field('Idempotency-Key', 'Must be 1–255 characters.');
  const Key = { PK: idempotencyPk(scope, createHash('sha256').update(key).digest('hex')), SK: idempotencySk };
  const now = Math.floor(Date.now() / 1000);
  const fresh: IdempotencyRecord = { status: 'in_progress', requestHash: fingerprint, lockedUntil: now + LOCK_SECONDS, expiresAt: now + RETENTION_SECONDS };
  const acquired = (): IdempotencyClaim => ({
    kind: 'acquired',
    complete: async (response) => {
      const { notStored, ...storable } = response;
      if (notStored?.length && storable.body && typeof storable.body === 'object') {
        storable.body = Object.fromEntries(Object.entries(storable.body as Record<string, unknown>).filter(([k]) => !notStored.includes(k)));
      }
      await db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key,
          UpdateExpression: 'SET #s = :done, #r = :resp',
          ExpressionAttributeNames: { '#s': 'status', '#r': 'response' },
          ExpressionAttributeValues: { ':done': 'completed', ':resp': packResponse(storable) },
        }),
      );
    },
    release: async () => {
      await db().send(new DeleteCommand({ TableName: tableName(), Key }));
    },
  });

  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...Key, ...fresh },
        // DynamoDB deletes expired items lazily, so an expired record counts as absent.
        ConditionExpression: 'attribute_not_exists(PK) OR expiresAt < :now',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    return acquired();
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
  }

  const existing = (await db().send(new GetCommand({ TableName: tableName(), Key, ConsistentRead: true }))).Item as IdempotencyRecord | undefined;
  if (!existing) return claimIdempotencyKey(scope, key, fingerprint);
  if (existing.requestHash !== fingerprint) {
    throw new RuleViolationError('This Idempotency-Key was used with a different request (method, path or body).', { code: 'idempotency_key_reused' });
  }
  if (existing.status === 'completed' && existing.response) {
    const response = unpackResponse(existing.response);
    return { kind: 'replay', response: { ...response, headers: { ...response.headers, 'idempotent-replayed': 'true' } } };
  }
  if (existing.lockedUntil > now) {
    throw new ConflictError('A request with this Idempotency-Key is still being processed.', { code: 'idempotency_in_progress' });
  }
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key,
        UpdateExpression: 'SET lockedUntil = :lock',
        ConditionExpression: '#s = :inProgress AND lockedUntil = :seen',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':lock': now + LOCK_SECONDS, ':inProgress': 'in_progress', ':seen': existing.lockedUntil },
      }),
    );
    return acquired();
  } catch (error) {
    if ((error as Error).name === 'ConditionalCheckFailedException') {
      throw new ConflictError('A request with this Idempotency-Key is still being processed.', { code: 'idempotency_in_progress' });
    }
    throw error;
  }
}
