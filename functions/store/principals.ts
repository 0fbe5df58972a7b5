import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ClientStatus } from '../domain/client.js';
import { db, tableName } from './dynamo.js';
import { clientPk, clientSk } from './keys.js';

/**
 * The status of the client behind a client token: one strongly consistent read of one attribute per request.
 * Not cached: each API area is its own Lambda in AWS, so a cache in one could let a deactivated or deleted
 * client's token keep working on the others for a while; the contract says 401 "from then on".
 */
export async function clientLoginStatus(companyId: string, clientId: string): Promise<ClientStatus | undefined> {
  const out = await db().send(
    new GetCommand({
      TableName: tableName(),
      Key: { PK: clientPk(companyId, clientId), SK: clientSk },
      ProjectionExpression: '#s',
      ExpressionAttributeNames: { '#s': 'status' },
      ConsistentRead: true,
    }),
  );
  const status: ClientStatus | undefined = out.Item?.status;
  return status;
}
