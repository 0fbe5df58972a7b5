import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName, type Item } from './dynamo.js';
import { refPk, refSk } from './keys.js';

/**
 * Pointer items (`CO#<co>#REF#<id>`) from a bare object id (invoice, transaction…) to the client whose partition
 * holds the object. The object lists its pointer in `refs`, so a merge rewrites it and a delete removes it.
 */

export const refKey = (companyId: string, objectId: string) => ({ PK: refPk(companyId, objectId), SK: refSk });

/** The pointer item of an object of `kind` owned by `clientId`. */
export function refItem(companyId: string, objectId: string, kind: string, clientId: string): Item {
  return { ...refKey(companyId, objectId), entity: 'ref', kind, clientId };
}

/** Resolves a bare object id to its client through the object's pointer item. */
export async function clientOfObject(companyId: string, objectId: string): Promise<string | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: refKey(companyId, objectId), ConsistentRead: true }));
  const clientId: unknown = out.Item?.clientId;
  return typeof clientId === 'string' ? clientId : undefined;
}
