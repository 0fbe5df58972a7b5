import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../domain/errors.js';
import { db, isTransactionConflict, tableName, transact, type TransactItem } from './dynamo.js';
import { companyPk, counterSk } from './keys.js';
import { ClientBusyError } from './client-guard.js';
import { retryWhile } from './retry.js';

/** Per-company counters: client numbers and (gapless) invoice numbers. */
export type CounterName = 'client' | 'invoice';

/** Each concurrent writer loses at most once per winner, so a burst of N needs up to N attempts. */
const ATTEMPTS = 60;

async function readCounter(companyId: string, name: CounterName): Promise<number> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: companyPk(companyId), SK: counterSk(name) }, ConsistentRead: true }));
  const value: number | undefined = out.Item?.value;
  return value ?? 0;
}

export interface CounterWrite<T> {
  /** The counter's value after the write. */
  next: number;
  items: TransactItem[];
  result: T;
  /** The error for a failed condition on `items[index]`. */
  onConditionFailed: (index: number, itemFound: boolean) => Error;
}

/**
 * Writes `build(seen)`'s items in one transaction with the counter moved from `seen` to `next`, conditioned on the
 * counter still being `seen`: the value is taken inside the write that uses it, so it is never skipped or reused.
 * A lost race (another writer moved the counter, or DynamoDB cancelled a colliding transaction) is re-read and
 * retried; after many losses the answer is a 409 `busy`.
 */
export async function writeWithCounter<T>(companyId: string, name: CounterName, build: (seen: number) => CounterWrite<T>): Promise<T> {
  let raced = false;
  // A client being merged or deleted is no lost race on the counter: trying again would only wait for it.
  const lostRace = (error: unknown) => raced || (isTransactionConflict(error) && !(error instanceof ClientBusyError));
  try {
    return await retryWhile(
      async () => {
        raced = false;
        const seen = await readCounter(companyId, name);
        const write = build(seen);
        const counter: TransactItem = {
          Update: {
            TableName: tableName(),
            Key: { PK: companyPk(companyId), SK: counterSk(name) },
            UpdateExpression: 'SET #v = :next',
            ConditionExpression: seen === 0 ? 'attribute_not_exists(#v) OR #v = :seen' : '#v = :seen',
            ExpressionAttributeNames: { '#v': 'value' },
            ExpressionAttributeValues: { ':next': write.next, ':seen': seen },
          },
        };
        await transact([counter, ...write.items], (index, itemFound) => {
          if (index > 0) return write.onConditionFailed(index - 1, itemFound);
          raced = true;
          return new ConflictError(`${name} counter race`);
        });
        return write.result;
      },
      lostRace,
      ATTEMPTS,
    );
  } catch (error) {
    if (lostRace(error)) throw new ConflictError(`Too many ${name}s are being numbered at once; retry.`, { code: 'busy' });
    throw error;
  }
}
