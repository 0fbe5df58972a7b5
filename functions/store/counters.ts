import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../domain/errors.js';
import { db, isTransactionConflict, tableName, transact, type TransactItem } from './dynamo.js';
import { isConditionFailure } from './items.js';
import { companyPk, counterSk } from './keys.js';
import { ClientBusyError } from './client-guard.js';
import { retryWhile } from './retry.js';

/**
 * Per-company counters: client numbers (unique and increasing, gaps allowed: `writeNumbered`) and invoice numbers
 * (gapless: `writeWithCounter`).
 */
export type CounterName = 'client' | 'invoice';

/** Each concurrent writer loses at most once per winner, so a burst of N needs up to N attempts. */
const ATTEMPTS = 60;

// A client being merged or deleted is no lost race: trying again would only wait for it.
const lostRace = (error: unknown) => isTransactionConflict(error) && !(error instanceof ClientBusyError);

const busy = (name: CounterName) => new ConflictError(`Too many ${name}s are being numbered at once; retry.`, { code: 'busy' });

async function readCounter(companyId: string, name: CounterName): Promise<number> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: { PK: companyPk(companyId), SK: counterSk(name) }, ConsistentRead: true }));
  const value: number | undefined = out.Item?.value;
  return value ?? 0;
}

/**
 * The value each counter was last moved to by this process (per table, company and counter): a guess, never trusted
 * (the write that uses it is conditioned on it), so the next write usually needs no read of the counter first.
 */
const lastWritten = new Map<string, number>();
/** Companies whose last value is kept; the oldest is forgotten beyond it. */
const REMEMBERED_COUNTERS = 1000;
const rememberedKey = (companyId: string, name: CounterName) => `${tableName()}|${companyId}|${name}`;

function remember(key: string, value: number): void {
  lastWritten.delete(key);
  lastWritten.set(key, value);
  if (lastWritten.size > REMEMBERED_COUNTERS) lastWritten.delete(lastWritten.keys().next().value as string);
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
 * retried; after many losses the answer is a 409 `busy`. With `inSequence`, the first attempt starts from the value
 * this process last wrote, when it has one (`lastWritten`), instead of reading the counter: a stale guess is one lost
 * race.
 */
export async function writeWithCounter<T>(
  companyId: string,
  name: 'invoice',
  build: (seen: number) => CounterWrite<T>,
  options: { inSequence?: boolean } = {},
): Promise<T> {
  let raced = false;
  const lostCounterRace = (error: unknown) => raced || lostRace(error);
  const remembered = rememberedKey(companyId, name);
  // In sequence (a run's renewals number one invoice after another), the first attempt takes the value this process
  // last wrote: the condition on the counter refuses it if another writer moved on, and every later attempt reads the
  // counter. Elsewhere (requests spread over many processes) a guess would often be stale: the counter is read.
  let guess = options.inSequence ? lastWritten.get(remembered) : undefined;
  try {
    return await retryWhile(
      async () => {
        raced = false;
        const seen = guess ?? (await readCounter(companyId, name));
        guess = undefined;
        lastWritten.delete(remembered);
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
        remember(remembered, write.next);
        return write.result;
      },
      lostCounterRace,
      ATTEMPTS,
    );
  } catch (error) {
    if (lostCounterRace(error)) throw busy(name);
    throw error;
  }
}

/** Takes the counter's next value with one atomic increment: never refused, so writers at once never lose a race on it. */
async function increment(companyId: string, name: CounterName): Promise<number> {
  const out = await db().send(
    new UpdateCommand({
      TableName: tableName(),
      Key: { PK: companyPk(companyId), SK: counterSk(name) },
      UpdateExpression: 'ADD #v :one',
      ExpressionAttributeNames: { '#v': 'value' },
      ExpressionAttributeValues: { ':one': 1 },
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return out.Attributes?.value as number;
}

/** Moves the counter up to `value` when it is below (never down: a counter already there refuses, and that is fine). */
async function raise(companyId: string, name: CounterName, value: number): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: companyPk(companyId), SK: counterSk(name) },
        UpdateExpression: 'SET #v = :n',
        ConditionExpression: 'attribute_not_exists(#v) OR #v < :n',
        ExpressionAttributeNames: { '#v': 'value' },
        ExpressionAttributeValues: { ':n': value },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

export interface NumberedWrite<T> {
  items: TransactItem[];
  result: T;
  /** The index in `items` of the marker that claims the number (a Put conditioned on `attribute_not_exists`). */
  markerIndex: number;
  /** The error for a failed condition on `items[index]` (the marker's too, when the number was given). */
  onConditionFailed: (index: number, itemFound: boolean) => Error;
}

/** The marker of a number the counter gave is taken (the same number given meanwhile): the write takes another. */
class NumberTaken extends Error {}

/**
 * Writes `build(number)`'s items in one transaction in which the number's marker claims it. The counter is moved
 * outside that transaction, and nothing in it is conditioned on the counter, so writers at once never cancel each
 * other (numbers may have gaps; they are never reused, and the counter only goes up):
 * - no number given: one atomic increment takes the next. Should its marker be taken (the same number given by
 *   another request between this increment and this transaction), another increment takes the one after.
 * - a given number first raises the counter to it, so every number the counter gives from then on is above it
 *   (raised before the marker is written: no client with a given number exists while the counter is below it). Its
 *   marker taken is the caller's error (a 409 naming `number`).
 * A transaction cancelled by a conflict is sent again with the same number; one that fails after the increment
 * leaves that number unused (a gap). After many losses the answer is a 409 `busy`.
 */
export async function writeNumbered<T>(companyId: string, name: 'client', given: number | undefined, build: (number: number) => NumberedWrite<T>): Promise<T> {
  if (given !== undefined) await raise(companyId, name, given);
  for (let attempt = 1; ; attempt++) {
    const write = build(given ?? (await increment(companyId, name)));
    try {
      await retryWhile(
        () =>
          transact(write.items, (index, itemFound) =>
            given === undefined && index === write.markerIndex ? new NumberTaken() : write.onConditionFailed(index, itemFound),
          ),
        lostRace,
        ATTEMPTS,
      );
      return write.result;
    } catch (error) {
      if (error instanceof NumberTaken && attempt < ATTEMPTS) continue;
      if (error instanceof NumberTaken || lostRace(error)) throw busy(name);
      throw error;
    }
  }
}
