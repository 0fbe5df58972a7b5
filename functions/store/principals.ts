import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './dynamo.js';
import { clientPk, clientSk } from './keys.js';

const CACHE_MS = 5_000;
const cache = new Map<string, { status: string | undefined; at: number }>();

/**
 * The status of the client behind a client token: one read, cached for a few seconds per container, so a token
 * of a client who became inactive, fraud or deleted stops working within that time in both worlds.
 */
export async function clientLoginStatus(companyId: string, clientId: string): Promise<string | undefined> {
  const cacheKey = `${companyId}/${clientId}`;
  const hit = cache.get(cacheKey);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.status;
  const out = await db().send(
    new GetCommand({
      TableName: tableName(),
      Key: { PK: clientPk(companyId, clientId), SK: clientSk },
      ProjectionExpression: '#s',
      ExpressionAttributeNames: { '#s': 'status' },
    }),
  );
  const status = out.Item?.status as string | undefined;
  cache.set(cacheKey, { status, at: Date.now() });
  return status;
}

/** Called by whatever changes a client's status in this container, so the change is seen at once. */
export function forgetClientLoginStatus(companyId: string, clientId: string): void {
  cache.delete(`${companyId}/${clientId}`);
}
