import { PutCommand, QueryCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { db, tableName } from '../../functions/store/dynamo.js';
import { recordDynamoCalls } from './dynamo-calls.js';
import { useFreshTables } from './tables.js';

beforeAll(async () => {
  await useFreshTables();
});

describe('the DynamoDB call recorder', () => {
  it('counts items read by a query before its filter, gets, writes and capacity', async () => {
    for (let i = 0; i < 5; i++) await db().send(new PutCommand({ TableName: tableName(), Item: { PK: 'rec', SK: `x${i}`, keep: i === 0 } }));
    const recorder = recordDynamoCalls();
    await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        FilterExpression: 'keep = :t',
        ExpressionAttributeValues: { ':pk': 'rec', ':t': true },
      }),
    );
    await db().send(new GetCommand({ TableName: tableName(), Key: { PK: 'rec', SK: 'x1' } }));
    await db().send(new PutCommand({ TableName: tableName(), Item: { PK: 'rec2', SK: 'y' } }));
    recorder.stop();
    await db().send(new GetCommand({ TableName: tableName(), Key: { PK: 'rec', SK: 'x1' } }));
    expect(recorder.calls.map((c) => [c.command, c.partitions, c.itemsRead, c.itemsWritten])).toEqual([
      ['QueryCommand', ['rec'], 5, 0],
      ['GetItemCommand', ['rec'], 1, 0],
      ['PutItemCommand', ['rec2'], 0, 1],
    ]);
    expect(recorder.totals().readCapacity).toBeGreaterThan(0);
    expect(recorder.totals().writeCapacity).toBeGreaterThan(0);
  });
});
