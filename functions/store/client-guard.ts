import { ConcurrentChangeError, NotFoundError } from '../domain/errors.js';
import { isTransactionConflict, tableName, transact, type TransactItem } from './dynamo.js';
import { clientPk, clientSk } from './keys.js';
import { retryWhile, withRetries } from './retry.js';

/**
 * Merge and delete are exclusive with writes to a client's partition. A merge or delete first claims the client
 * (`mergingInto` or `deleting` set on the client item, see store/client-partition.ts), then moves or deletes the
 * partition. Every write into the partition carries, in its own DynamoDB transaction, a `ConditionCheck` on the client
 * item (`clientIsWritable`). DynamoDB serialises that check with the claim's update of the same item, so a write
 * either commits before the claim (and the merge's or delete's scan, which starts after the claim, sees it) or is
 * refused with a retryable `ConcurrentChangeError` — never acknowledged and then left behind.
 */

/** A merge that has held its source this long is presumed dead (a Lambda runs at most 15 minutes). */
export const MERGE_STALE_MS = 15 * 60 * 1000;

/**
 * The check a write into the client's partition commits with: the client exists, is not being deleted and is not
 * being merged away (a merge dead for longer than `MERGE_STALE_MS` no longer holds it; repeating that merge moves
 * what was written since).
 */
export function clientIsWritable(companyId: string, clientId: string): TransactItem {
  const writable = clientWritableCondition();
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: { PK: clientPk(companyId, clientId), SK: clientSk },
      ConditionExpression: writable.expression,
      ExpressionAttributeValues: writable.values,
      // Tells a client that is gone (404) from one being merged or deleted (retryable 409).
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** The same condition, for a transaction that already writes or checks the client item (one item, one action). */
export function clientWritableCondition(): { expression: string; values: Record<string, unknown> } {
  return {
    expression: 'attribute_exists(PK) AND attribute_not_exists(deleting) AND (attribute_not_exists(mergingInto) OR mergingSince < :staleMerge)',
    values: { ':staleMerge': Date.now() - MERGE_STALE_MS },
  };
}

/**
 * The refusal of a write that met a client being merged or deleted (or already gone): a retryable 409
 * `concurrent_change`. Its own class so that a write that must not give up (an approved charge) can wait it out.
 */
export class ClientBusyError extends ConcurrentChangeError {
  constructor(clientId: string) {
    super(
      'The client is being merged or deleted by another request (or is gone); nothing was written. Retry: after a merge, the client merged into holds its records.',
      { clientId },
    );
  }
}

/**
 * A client that is gone: a 404, but its own class, because a write that must land (an approved charge) re-resolves
 * its client and tries again — after a merge the attempt lives on the client merged into.
 */
export class ClientGoneError extends NotFoundError {
  constructor(readonly clientId: string) {
    super('No such client.');
  }
}

/** Why the client guard refused a write: the client is gone (404), or is being merged or deleted (retryable 409). */
export function clientRefusal(clientId: string, clientFound: boolean): Error {
  return clientFound ? new ClientBusyError(clientId) : new ClientGoneError(clientId);
}

/** Attempts of one guarded write against transactions meeting it on the client item (each wrote nothing). */
const CONFLICT_ATTEMPTS = 20;

/**
 * `transact` for a write into a client's partition: the items commit only with `clientIsWritable`.
 * `onConditionFailed` gets the index within `items`, as with `transact`. Concurrent writes to one client now all
 * check its client item, and DynamoDB may cancel transactions that meet on an item (`TransactionConflict`) though
 * no condition failed; such a cancelled write wrote nothing and is sent again, so the check adds no refusals of its own.
 */
export async function transactOnClient(
  companyId: string,
  clientId: string,
  items: TransactItem[],
  onConditionFailed: (index: number, itemFound: boolean) => Error,
): Promise<void> {
  let conditionFailed = false;
  await retryWhile(
    () => {
      conditionFailed = false;
      return transact([clientIsWritable(companyId, clientId), ...items], (index, itemFound) => {
        conditionFailed = true;
        if (index > 0) return onConditionFailed(index - 1, itemFound);
        return clientRefusal(clientId, itemFound);
      });
    },
    // A failed condition is the answer (its error may itself be a ConcurrentChangeError), not a meeting to wait out.
    (error) => !conditionFailed && isTransactionConflict(error),
    CONFLICT_ATTEMPTS,
  );
}

/**
 * `withRetries`, and past it for as long as the client is being merged or deleted (at most until the claim is stale):
 * for a write that must land (an approved charge), which re-resolves its client each round so that after a merge it
 * lands on the client merged into.
 */
export async function withRetriesWhileClientBusy<T>(step: () => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + MERGE_STALE_MS;
  for (;;) {
    try {
      return await withRetries(step);
    } catch (error) {
      // A client gone after a merge: the next round finds the attempt on the client merged into (or, if the client was
      // deleted, finds no owner at all and stops there).
      if (!(error instanceof ClientBusyError || error instanceof ClientGoneError) || Date.now() > giveUpAt) throw error;
    }
  }
}

/**
 * Sends a write again while DynamoDB cancels it for meeting another transaction on one of its items (it wrote
 * nothing). A merge or delete claims a client that concurrent writes are checking, and moves items they may be
 * touching: such a meeting is no reason for the merge or delete to stop.
 */
export function retryOnTransactionConflict<T>(write: () => Promise<T>): Promise<T> {
  return retryWhile(write, isTransactionConflict, CONFLICT_ATTEMPTS);
}
