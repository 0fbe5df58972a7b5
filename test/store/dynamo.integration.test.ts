import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConcurrentChangeError } from '../../functions/domain/errors.js';
import { statusOf } from '../../functions/http/problem.js';
import { db, tableName, transact } from '../../functions/store/dynamo.js';
import { useFreshTables } from '../support/tables.js';

beforeAll(async () => {
  await useFreshTables();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('transactions that collide with another transaction', () => {
  it('become a retryable 409, not a 500', async () => {
    const collision = new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
    });
    vi.spyOn(db(), 'send').mockRejectedValueOnce(collision as never);
    const attempt = transact(
      [{ ConditionCheck: { TableName: tableName(), Key: { PK: 'x', SK: 'y' }, ConditionExpression: 'attribute_not_exists(PK)' } }],
      () => new Error('not a condition failure'),
    );
    await expect(attempt).rejects.toSatisfy((error) => error instanceof ConcurrentChangeError && statusOf(error) === 409);
  });
});
