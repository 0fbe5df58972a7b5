import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../functions/domain/errors.js';
import { faultReport, startFaults, stopFaults } from '../../functions/faults/faults.js';
import { db, tableName, transact, type TransactItem } from '../../functions/store/dynamo.js';
import { useFreshTables } from '../support/tables.js';

/**
 * A transaction whose outcome is unknown once the SDK's retries are spent (written, its answer lost, the retries
 * throttled; or DynamoDB unreachable): sent again with the same ClientRequestToken, it is applied once, and the caller
 * learns it was (found by the fault workload: a client written under a 429 was created again by the caller's retry,
 * or refused as a duplicate of itself).
 */
beforeAll(async () => {
  await useFreshTables();
});
afterEach(() => {
  stopFaults();
});

const newItem = (): TransactItem => ({
  Put: { TableName: tableName(), Item: { PK: `TXTEST#${randomBytes(6).toString('hex')}`, SK: 'A', n: 1 }, ConditionExpression: 'attribute_not_exists(PK)' },
});
const refused = () => new ConflictError('taken');
const stored = async (item: TransactItem) =>
  (await db().send(new GetCommand({ TableName: tableName(), Key: { PK: item.Put?.Item?.PK, SK: 'A' }, ConsistentRead: true }))).Item;

describe('a transaction whose outcome is unknown', () => {
  it('is written once and succeeds when the whole call was written and its answer lost', async () => {
    const item = newItem();
    startFaults({ rate: 1, seed: 31, kinds: ['lost'], targets: ['dynamodb'], operations: ['TransactWriteItemsCommand'], callShare: 1, limit: 1 });
    await transact([item], refused);
    expect(faultReport()?.wholeCalls).toBe(1);
    stopFaults();
    expect(await stored(item)).toMatchObject({ n: 1 });
  });

  it('is written when the first call was throttled past the SDK retries', async () => {
    const item = newItem();
    startFaults({ rate: 1, seed: 37, kinds: ['throttle'], targets: ['dynamodb'], operations: ['TransactWriteItemsCommand'], callShare: 1, limit: 1 });
    await transact([item], refused);
    stopFaults();
    expect(await stored(item)).toMatchObject({ n: 1 });
  });

  it('still refuses a condition that fails on someone else’s item', async () => {
    const item = newItem();
    await transact([item], refused);
    await expect(transact([item], refused)).rejects.toBeInstanceOf(ConflictError);
  });
});
