import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalIdentityProvider } from '../../../functions/adapters/identity/local.js';
import { faultReport, startFaults, stopFaults } from '../../../functions/faults/faults.js';
import { useFreshTables } from '../../support/tables.js';

/**
 * A login whose creation answer is lost: the user was written, the connection broke, and the SDK's retry of the Put
 * met the item it had written. That is the login made, not a username taken (found by the fault workload: an import
 * row or a POST /v1/clients failed "That username is taken." and the client was undone, leaving the login behind).
 */
let identity: LocalIdentityProvider;
beforeAll(async () => {
  identity = new LocalIdentityProvider((await useFreshTables()).identity);
});
afterEach(() => {
  stopFaults();
});

describe('creating a login whose answer is lost', () => {
  it('returns the login it made', async () => {
    const username = `lost${randomBytes(4).toString('hex')}`;
    startFaults({ rate: 1, seed: 3, kinds: ['lost'], targets: ['dynamodb'], operations: ['PutItemCommand'], limit: 1 });
    const login = await identity.createUser({ username, password: 'a long password 1', role: 'client', companyId: 'co_lost', clientId: 'cl_lost' });
    expect(faultReport()?.injected.dynamodb.lost).toBe(1);
    stopFaults();
    expect(await identity.findUser('co_lost', username)).toEqual(login);
  });

  it('still refuses a username another login holds', async () => {
    const username = `taken${randomBytes(4).toString('hex')}`;
    await identity.createUser({ username, password: 'a long password 1', role: 'client', companyId: 'co_lost', clientId: 'cl_first' });
    await expect(
      identity.createUser({ username, password: 'a long password 2', role: 'client', companyId: 'co_lost', clientId: 'cl_second' }),
    ).rejects.toMatchObject({
      code: 'duplicate_username',
    });
  });
});
