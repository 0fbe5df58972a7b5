import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, ValidationError } from '../domain/errors.js';
import { getServices } from '../services.js';
import { batchWriteAll, db, deleteRequests, tableName, transact, type Item, type TransactItem } from './dynamo.js';
import { clientWritableCondition, MERGE_STALE_MS, retryOnTransactionConflict } from './client-guard.js';
import { isConditionFailure } from './items.js';
import { clientPk, clientSk, PENDING_CHARGE_SK_PREFIX } from './keys.js';

/**
 * Whole-partition operations on a client: delete and merge work on whatever the partition holds, so objects
 * added later (invoices, transactions, services, mail) are covered without a list of types. Conventions every
 * item in a client partition follows:
 * - `clientId`: the owning client (rewritten on merge);
 * - `owned`: keys of items outside the partition that exist only because of this item (index entries,
 *   unique markers) — deleted with it;
 * - `refs`: keys of pointer items (`CO#…#REF#<id>`) carrying `clientId` — rewritten on merge, deleted with it;
 * - `blobs`: keys of objects in the blob store (`getServices().blobs`, S3 in AWS) that exist only because of this
 *   item, e.g. a mail body too big for its entry — deleted with it (before it, so a repeated delete still finds
 *   them); a merge leaves them where they are, so their keys must not contain the client id;
 * - `mergeAs: 'sum'` with `sumFields`: per-currency balances, added into the target's item of the same SK.
 */
type Key = { PK: string; SK: string };

async function* partitionItems(pk: string): AsyncGenerator<Item[]> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    yield out.Items ?? [];
    startKey = out.LastEvaluatedKey;
  } while (startKey);
}

const dependents = (item: Item): Key[] => [...((item.owned as Key[] | undefined) ?? []), ...((item.refs as Key[] | undefined) ?? [])];

const blobsOf = (item: Item): string[] => (item.blobs as string[] | undefined) ?? [];

/** Removes blob-store objects; the store is only built when there is something to remove. */
async function deleteBlobs(keys: string[]): Promise<void> {
  if (keys.length) await getServices().blobs.delete(keys);
}

/**
 * Permanently deletes everything in a client's partition and what it owns outside it. An item's blobs go before
 * the item, and the client item goes last, so an interrupted delete leaves the client visible and can simply be
 * repeated.
 */
export async function deleteClientPartition(companyId: string, clientId: string): Promise<void> {
  const pk = clientPk(companyId, clientId);
  // First flag the client: from now on no merge moves anything into it and no profile write (stale version) can
  // re-create index entries or unique markers behind the delete.
  // The flag is the claim writes check (store/client-guard.ts): every write into the partition after it is refused.
  try {
    await retryOnTransactionConflict(() =>
      db().send(
        new UpdateCommand({
          TableName: tableName(),
          Key: { PK: pk, SK: clientSk },
          UpdateExpression: 'SET deleting = :true, version = version + :one',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':true': true, ':one': 1 },
        }),
      ),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  // A charge whose outcome is not recorded yet may have taken money: deleting its attempt would lose that money, so
  // the delete waits for it (the reconciler settles it within minutes). Checked after the flag, which stops new ones.
  if (await hasPendingCharge(pk)) {
    await unflagDelete(pk);
    throw new ConflictError('A payment of this client is still being processed; delete the client once it is settled (within minutes).', {
      code: 'payment_pending',
    });
  }
  let clientRow: Item | undefined;
  for await (const items of partitionItems(pk)) {
    const keys: Key[] = [];
    const blobs: string[] = [];
    for (const item of items) {
      if (item.SK === clientSk) {
        clientRow = item;
        continue;
      }
      keys.push(...dependents(item), { PK: item.PK as string, SK: item.SK as string });
      blobs.push(...blobsOf(item));
    }
    await deleteBlobs(blobs);
    await batchWriteAll(deleteRequests(keys));
  }
  if (clientRow) {
    await deleteBlobs(blobsOf(clientRow));
    await batchWriteAll(deleteRequests([...dependents(clientRow), { PK: pk, SK: clientSk }]));
  }
}

async function hasPendingCharge(pk: string): Promise<boolean> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ':prefix': PENDING_CHARGE_SK_PREFIX },
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return (out.Items ?? []).length > 0;
}

async function unflagDelete(pk: string): Promise<void> {
  await retryOnTransactionConflict(() =>
    db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: pk, SK: clientSk },
        UpdateExpression: 'REMOVE deleting SET version = version + :one',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    ),
  ).catch((error: unknown) => {
    if (!isConditionFailure(error)) throw error;
  });
}

/** The target of a merge takes items in only while it exists, is not being deleted and is not itself merging away: the check writes into a client commit with. */
function targetAccepts(targetPk: string): TransactItem {
  const writable = clientWritableCondition();
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: { PK: targetPk, SK: clientSk },
      ConditionExpression: writable.expression,
      ExpressionAttributeValues: writable.values,
    },
  };
}

const targetGone = () => ValidationError.field('intoClientId', 'No such client (it was deleted, or merged away, during the merge).');

/**
 * Marks `sourceId` as merging into `targetId` (bumping its version), checking in the same transaction that the
 * target accepts items. The mark is the claim writes into the source's partition check (store/client-guard.ts): from
 * here on nothing new lands in the source, so the move sees everything. So of two merges crossing each other (A into B, B into A) only one starts, and a client
 * being merged away cannot become a target. Repeating an interrupted merge into the same target is allowed.
 */
export async function claimMerge(companyId: string, sourceId: string, targetId: string): Promise<void> {
  const now = Date.now();
  await retryOnTransactionConflict(() => claimMergeOnce(companyId, sourceId, targetId, now));
}

async function claimMergeOnce(companyId: string, sourceId: string, targetId: string, now: number): Promise<void> {
  await transact(
    [
      {
        Update: {
          TableName: tableName(),
          Key: { PK: clientPk(companyId, sourceId), SK: clientSk },
          UpdateExpression: 'SET mergingInto = :t, mergingSince = :now, version = version + :one',
          ConditionExpression:
            'attribute_exists(PK) AND attribute_not_exists(deleting) AND (attribute_not_exists(mergingInto) OR mergingInto = :t OR mergingSince < :stale)',
          ExpressionAttributeValues: { ':t': targetId, ':now': now, ':one': 1, ':stale': now - MERGE_STALE_MS },
        },
      },
      targetAccepts(clientPk(companyId, targetId)),
    ],
    (index) =>
      index === 0
        ? new ConflictError('This client is being merged or deleted by another request.', { code: 'client_busy' })
        : new ConflictError('The client to merge into is being merged or deleted by another request.', { code: 'client_busy', field: 'intoClientId' }),
  );
}

/** Undoes `claimMerge` after a merge that could not go on (its target went away). */
export async function releaseMerge(companyId: string, sourceId: string, targetId: string): Promise<void> {
  try {
    await db().send(
      new UpdateCommand({
        TableName: tableName(),
        Key: { PK: clientPk(companyId, sourceId), SK: clientSk },
        UpdateExpression: 'REMOVE mergingInto, mergingSince SET version = version + :one',
        ConditionExpression: 'mergingInto = :t',
        ExpressionAttributeValues: { ':t': targetId, ':one': 1 },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Moves everything a client owns into another client of the same company, one item per transaction (each move
 * is atomic; an interrupted merge resumes where it stopped when repeated). The source's own client item stays;
 * the caller deletes it afterwards.
 */
export async function moveClientPartition(companyId: string, sourceId: string, targetId: string): Promise<number> {
  const sourcePk = clientPk(companyId, sourceId);
  const targetPk = clientPk(companyId, targetId);
  let moved = 0;
  for await (const items of partitionItems(sourcePk)) {
    for (const item of items) {
      if (item.SK === clientSk) continue;
      await retryOnTransactionConflict(() =>
        transact([targetAccepts(targetPk), ...moveItem(item, targetPk, targetId)], (index) =>
          index === 0 ? targetGone() : new Error(`Merge could not move ${String(item.SK)}: the target already has it.`),
        ),
      );
      moved++;
    }
  }
  return moved;
}

function moveItem(item: Item, targetPk: string, targetId: string): TransactItem[] {
  const sourceKey = { PK: item.PK as string, SK: item.SK as string };
  if (item.mergeAs === 'sum') {
    const fields = (item.sumFields as string[] | undefined) ?? [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':cid': targetId };
    const adds = fields.map((f, i) => {
      names[`#s${i}`] = f;
      values[`:s${i}`] = (item[f] as number | undefined) ?? 0;
      return `#s${i} :s${i}`;
    });
    const copied = Object.entries(item).filter(([k]) => !['PK', 'SK', 'clientId', ...fields].includes(k));
    const sets = copied.map(([k, v], i) => {
      names[`#c${i}`] = k;
      values[`:c${i}`] = v;
      return `#c${i} = if_not_exists(#c${i}, :c${i})`;
    });
    return [
      {
        Update: {
          TableName: tableName(),
          Key: { PK: targetPk, SK: sourceKey.SK },
          UpdateExpression: `SET clientId = :cid${sets.length ? `, ${sets.join(', ')}` : ''}${adds.length ? ` ADD ${adds.join(', ')}` : ''}`,
          ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
          ExpressionAttributeValues: values,
        },
      },
      { Delete: { TableName: tableName(), Key: sourceKey } },
    ];
  }
  const refs = (item.refs as Key[] | undefined) ?? [];
  return [
    { Put: { TableName: tableName(), Item: { ...item, PK: targetPk, clientId: targetId }, ConditionExpression: 'attribute_not_exists(PK)' } },
    { Delete: { TableName: tableName(), Key: sourceKey } },
    ...refs.map((ref) => ({
      Update: {
        TableName: tableName(),
        Key: { PK: ref.PK, SK: ref.SK },
        UpdateExpression: 'SET clientId = :cid',
        ExpressionAttributeValues: { ':cid': targetId },
      },
    })),
  ];
}
