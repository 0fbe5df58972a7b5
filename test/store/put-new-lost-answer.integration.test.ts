import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newDefaultGroup } from '../../functions/domain/group.js';
import { newId } from '../../functions/domain/ids.js';
import { faultReport, startFaults, stopFaults } from '../../functions/faults/faults.js';
import { getGroup, putNewGroup } from '../../functions/store/groups.js';
import { putNew } from '../../functions/store/dynamo.js';
import { useFreshTables } from '../support/tables.js';

/**
 * A new item (a group, a package, an import job: a fresh id) whose Put's answer is lost: the item was written, and
 * the SDK's retry of the Put fails its `attribute_not_exists` on that very item. That is the item created, not a
 * collision (found by the fault layer: the ConditionalCheckFailedException reached the caller as a 500, and the
 * client's retry, the key released, created a second one).
 */
beforeAll(async () => {
  await useFreshTables();
});
afterEach(() => {
  stopFaults();
});

const loseOnePut = () => startFaults({ rate: 1, seed: 17, kinds: ['lost'], targets: ['dynamodb'], operations: ['PutItemCommand'], limit: 1 });

describe('putting a new item whose answer is lost', () => {
  it('succeeds when the retry meets exactly what it wrote', async () => {
    const group = { ...newDefaultGroup(newId('grp'), '2030-01-01T00:00:00.000Z'), name: 'Lost answers' };
    loseOnePut();
    await putNewGroup('co_lost', group);
    expect(faultReport()?.injected.dynamodb.lost).toBe(1);
    stopFaults();
    expect(await getGroup('co_lost', group.id)).toEqual(group);
  });

  it('still refuses an item that is there with something else', async () => {
    const key = { PK: `LOSTTEST#${randomBytes(6).toString('hex')}`, SK: 'A' };
    await putNew({ ...key, value: 1 });
    await expect(putNew({ ...key, value: 2 })).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
  });
});
