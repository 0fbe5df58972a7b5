import { createHash } from 'node:crypto';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './dynamo.js';
import { isConditionFailure } from './items.js';
import { passwordTokenPk, passwordTokenSk } from './keys.js';
import type { EveryField, StoredItem } from './mapping.js';

export interface PasswordTokenOwner {
  companyId: string;
  clientId: string;
  username: string;
}

/** Only a token's hash is stored: whoever reads the table cannot use a link that was mailed. */
const tokenKey = (token: string) => ({ PK: passwordTokenPk(createHash('sha256').update(token).digest('hex')), SK: passwordTokenSk });

/** Its expiry (epoch seconds) is the item's TTL. */
function passwordTokenToItem(token: string, owner: PasswordTokenOwner, expiresAt: number) {
  return { ...tokenKey(token), entity: 'passwordToken', ...owner, expiresAt };
}

function passwordTokenOwnerFromItem(item: StoredItem): PasswordTokenOwner {
  const owner: EveryField<PasswordTokenOwner> = { companyId: item.companyId, clientId: item.clientId, username: item.username };
  return owner;
}

/** Stores a set-password token by its hash, with its expiry as the item's TTL. */
export async function putPasswordToken(token: string, owner: PasswordTokenOwner, expiresAt: number): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName(), Item: passwordTokenToItem(token, owner, expiresAt) }));
}

/**
 * Takes a token out of the table if it exists and has not expired: the delete is conditional, so of two uses of
 * the same token only one gets its owner back.
 */
export async function takePasswordToken(token: string): Promise<PasswordTokenOwner | undefined> {
  try {
    const out = await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: tokenKey(token),
        ConditionExpression: 'attribute_exists(PK) AND expiresAt > :now',
        ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return out.Attributes ? passwordTokenOwnerFromItem(out.Attributes) : undefined;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}
