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
 * - `mergeAs: 'sum'` with `sumFields`: per-currency balances, added into the target's item of the same SK;
 * - a global index key beginning with the client's partition key (`<client pk>#…`) is renamed to the target's on merge.
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
 * Moves everything a client owns into another client of the same company, many items per transaction (up to
 * DynamoDB's 100 actions and ~4 MB, `moveBatches`), so a merge costs calls in proportion to its items ÷ ~33, not one
 * transaction per item. Each transaction is atomic and checks that the target still accepts items; an interrupted
 * merge resumes where it stopped when repeated. Batching keeps what the racing-writes guarantee rests on: the source
 * is claimed (`claimMerge`) before its partition is read, so every item read is final and no write into the source
 * lands behind the move (store/client-guard.ts). The source's own client item stays; the caller deletes it afterwards.
 */
export async function moveClientPartition(companyId: string, sourceId: string, targetId: string): Promise<number> {
  const sourcePk = clientPk(companyId, sourceId);
  const targetPk = clientPk(companyId, targetId);
  let moved = 0;
  for await (const items of partitionItems(sourcePk)) {
    for (const batch of moveBatches(items.filter((item) => item.SK !== clientSk).map((item) => ({ item, writes: moveItem(item, targetPk, targetId) })))) {
      // Which item each action of the transaction moves, to name the one whose condition failed.
      const owners = batch.flatMap((move) => move.writes.map(() => move.item));
      await retryOnTransactionConflict(() =>
        transact([targetAccepts(targetPk), ...batch.flatMap((move) => move.writes)], (index) =>
          index === 0 ? targetGone() : new Error(`Merge could not move ${String(owners[index - 1]?.SK)}: the target already has it.`),
        ),
      );
      moved += batch.length;
    }
  }
  return moved;
}

interface Move {
  item: Item;
  writes: TransactItem[];
}

/** DynamoDB's limits on one transaction: 100 actions (one is the target check) and 4 MB in all (some kept in reserve). */
const MOVE_ACTIONS = 99;
const MOVE_BYTES = 3_500_000;

/** An item's size as DynamoDB counts it, closely enough to pack transactions (binary values by their bytes). */
function sizeOf(value: unknown): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + sizeOf(v) + 1, 3);
  if (value && typeof value === 'object') return Object.entries(value).reduce((n, [k, v]) => n + Buffer.byteLength(k) + sizeOf(v) + 1, 3);
  return 8;
}

/**
 * Packs moves into transactions in partition order, each within the limits; a move whose keys the batch already
 * touches (two items pointing at one pointer) starts the next one, as a transaction may name an item only once.
 */
function* moveBatches(moves: Move[]): Generator<Move[]> {
  let batch: Move[] = [];
  let actions = 0;
  let bytes = 0;
  const keys = new Set<string>();
  for (const move of moves) {
    const moveKeys = move.writes.map(keyOfAction);
    const size = sizeOf(move.item);
    if (batch.length && (actions + move.writes.length > MOVE_ACTIONS || bytes + size > MOVE_BYTES || moveKeys.some((k) => keys.has(k)))) {
      yield batch;
      batch = [];
      actions = 0;
      bytes = 0;
      keys.clear();
    }
    batch.push(move);
    actions += move.writes.length;
    bytes += size;
    for (const k of moveKeys) keys.add(k);
  }
  if (batch.length) yield batch;
}

function keyOfAction(action: TransactItem): string {
  const op = (action.Put ?? action.Delete ?? action.Update ?? action.ConditionCheck) as { Key?: Item; Item?: Item };
  const key = op.Key ?? op.Item ?? {};
  return `${String(key.PK)}|${String(key.SK)}`;
}

/** Index keys naming the source's partition (`GSI<n>PK = <client pk>#…`, a client's invoices by status) renamed to the target's. */
function clientIndexKeys(item: Item, targetPk: string): Item {
  const sourcePrefix = `${String(item.PK)}#`;
  const renamed: Item = {};
  for (const [name, value] of Object.entries(item)) {
    if (/^GSI\dPK$/.test(name) && typeof value === 'string' && value.startsWith(sourcePrefix))
      renamed[name] = `${targetPk}#${value.slice(sourcePrefix.length)}`;
  }
  return renamed;
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
    {
      Put: {
        TableName: tableName(),
        Item: { ...item, ...clientIndexKeys(item, targetPk), PK: targetPk, clientId: targetId },
        ConditionExpression: 'attribute_not_exists(PK)',
      },
    },
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
