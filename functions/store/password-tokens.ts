import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './dynamo.js';
import { isConditionFailure } from './items.js';
import { passwordTokenPk, passwordTokenSk } from './keys.js';

export interface PasswordTokenOwner {
  companyId: string;
  clientId: string;
  username: string;
}

/** Stores a set-password token by its hash, with its expiry as the item's TTL. */
export async function putPasswordToken(tokenHash: string, owner: PasswordTokenOwner, expiresAt: number): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName(), Item: { PK: passwordTokenPk(tokenHash), SK: passwordTokenSk, entity: 'passwordToken', ...owner, expiresAt } }));
}

/**
 * Takes a token out of the table if it exists and has not expired: the delete is conditional, so of two uses of
 * the same token only one gets its owner back.
 */
export async function takePasswordToken(tokenHash: string): Promise<PasswordTokenOwner | undefined> {
  try {
    const out = await db().send(
      new DeleteCommand({
        TableName: tableName(),
        Key: { PK: passwordTokenPk(tokenHash), SK: passwordTokenSk },
        ConditionExpression: 'attribute_exists(PK) AND expiresAt > :now',
        ExpressionAttributeValues: { ':now': Math.floor(Date.now() / 1000) },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const item = out.Attributes;
    return item ? { companyId: item.companyId as string, clientId: item.clientId as string, username: item.username as string } : undefined;
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}
