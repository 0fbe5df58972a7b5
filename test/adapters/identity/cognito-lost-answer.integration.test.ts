import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { beforeAll, describe, expect, it } from 'vitest';
import { CognitoIdentityProvider } from '../../../functions/adapters/identity/cognito.js';
import { ConflictError } from '../../../functions/domain/errors.js';
import { useFreshTables } from '../../support/tables.js';

/**
 * A client's login whose AdminCreateUser answer was lost: Cognito made the user, and the SDK's retry was refused
 * UsernameExists. The user that exists is this very client's (same company and client attributes), so it is finished
 * and returned, not refused as a taken username (which undid the client and left the login behind; found by the fault
 * workload on the local identity provider, test/faults/workload.e2e.test.ts). A name held by another client is still
 * refused.
 */
const POOL = 'us-east-1_pool';
const CO = 'co_01TESTCOMPANY0000000000000';

/** A stand-in for the Cognito client: answers per command name and records the commands called. */
function fakeCognito(existing: Record<string, string>) {
  const names: string[] = [];
  const client = {
    send: async (command: { constructor: { name: string } }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      names.push(name);
      if (name === 'AdminCreateUser') throw Object.assign(new Error('User account already exists'), { name: 'UsernameExistsException' });
      if (name === 'AdminGetUser') return { Username: `${CO}:alice`, UserAttributes: Object.entries(existing).map(([Name, Value]) => ({ Name, Value })) };
      return {};
    },
  };
  return { client: client as unknown as CognitoIdentityProviderClient, names };
}

let table: string;
beforeAll(async () => {
  table = (await useFreshTables()).app;
});

describe('creating a client login whose AdminCreateUser answer was lost', () => {
  it('finishes and returns the user made for that client', async () => {
    const cognito = fakeCognito({ sub: 'sub-lost', 'custom:companyId': CO, 'custom:clientId': 'cl_1' });
    const user = await new CognitoIdentityProvider(POOL, 'app', table, cognito.client).createUser({
      username: 'alice',
      role: 'client',
      companyId: CO,
      clientId: 'cl_1',
      password: 'pass word 1',
    });
    expect(user).toEqual({ userId: 'sub-lost', username: 'alice', role: 'client', companyId: CO, clientId: 'cl_1' });
    expect(cognito.names).toEqual(['AdminCreateUser', 'AdminGetUser', 'AdminSetUserPassword', 'AdminAddUserToGroup']);
  });

  it('still refuses a username another client holds', async () => {
    const cognito = fakeCognito({ sub: 'sub-other', 'custom:companyId': CO, 'custom:clientId': 'cl_other' });
    const error = await new CognitoIdentityProvider(POOL, 'app', table, cognito.client)
      .createUser({ username: 'alice', role: 'client', companyId: CO, clientId: 'cl_1', password: 'pass word 1' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(cognito.names).toEqual(['AdminCreateUser', 'AdminGetUser']);
  });
});
