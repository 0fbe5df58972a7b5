import { randomBytes } from 'node:crypto';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { IdentityProvider } from '../../functions/adapters/identity/port.js';
import { createClient } from '../../functions/clients/create-client.js';
import { createCompany } from '../../functions/companies/create-company.js';
import { UpstreamError } from '../../functions/domain/errors.js';
import type { Principal } from '../../functions/domain/principal.js';
import { getServices, overrideServices } from '../../functions/services.js';
import { getClient, ownerOfUnique } from '../../functions/store/clients.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { clientPk } from '../../functions/store/keys.js';
import { useFreshTables } from '../support/tables.js';

/** create-client called directly (no HTTP) against DynamoDB Local and the local identity provider, compensation included. */
let realIdentity: IdentityProvider;
let companyId: string;
let staff: Principal;

beforeAll(async () => {
  await useFreshTables();
  realIdentity = getServices().identity;
  const username = `boss${randomBytes(3).toString('hex')}`;
  const { company } = await createCompany({
    name: 'Acme',
    defaultCurrency: 'USD',
    timeZone: 'UTC',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
  });
  companyId = company.id;
  staff = { role: 'staff', userId: company.staffUserId!, username, companyId };
});

afterEach(() => {
  overrideServices({ identity: realIdentity });
  vi.restoreAllMocks();
});

const unique = (prefix: string) => `${prefix}${randomBytes(4).toString('hex')}`;

async function partition(clientId: string): Promise<Array<Record<string, unknown>>> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': clientPk(companyId, clientId) },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

/** The real local provider, except that `createUser` does `instead` (and records the client it was asked for). */
function identityWith(instead: (user: Parameters<IdentityProvider['createUser']>[0]) => ReturnType<IdentityProvider['createUser']>): { askedFor: string[] } {
  const askedFor: string[] = [];
  overrideServices({
    identity: Object.assign(Object.create(realIdentity) as IdentityProvider, {
      createUser: (user: Parameters<IdentityProvider['createUser']>[0]) => {
        askedFor.push(user.clientId!);
        return instead(user);
      },
    }),
  });
  return { askedFor };
}

describe('createClient', () => {
  it('writes the client with a "created" activity entry and a login that authenticates, linked by its user id', async () => {
    const email = `${unique('ada')}@example.com`;
    const { client } = await createClient(companyId, { firstName: 'Ada', lastName: 'Lovelace', email, password: 'correct horse battery' }, staff);

    expect(client).toMatchObject({ status: 'active', username: email, userId: expect.stringMatching(/^usr_/), currency: 'USD' });
    expect(await getClient(companyId, client.id)).toEqual(client);
    expect((await partition(client.id)).filter((i) => i.entity === 'activity').map((i) => i.action)).toEqual(['client.created']);
    expect(await realIdentity.authenticate(companyId, email, 'correct horse battery')).not.toBeNull();
  });

  it('undoes the client when the identity provider refuses its login: nothing of it remains and its number, email and username are free again', async () => {
    const email = `${unique('bob')}@example.com`;
    const refusal = new UpstreamError('The identity provider is unavailable.');
    const { askedFor } = identityWith(() => Promise.reject(refusal));

    await expect(createClient(companyId, { company: 'Refused Ltd', email, number: 9_000_001 }, staff)).rejects.toBe(refusal);

    expect(askedFor).toHaveLength(1);
    expect(await partition(askedFor[0])).toEqual([]);
    expect(await ownerOfUnique(companyId, 'email', email)).toBeUndefined();
    expect(await ownerOfUnique(companyId, 'username', email)).toBeUndefined();
    expect(await ownerOfUnique(companyId, 'number', '9000001')).toBeUndefined();
    overrideServices({ identity: realIdentity });
    await expect(createClient(companyId, { company: 'Second Try Ltd', email, number: 9_000_001 }, staff)).resolves.toMatchObject({
      client: { number: 9_000_001, username: email },
    });
  });

  it('also deletes the login when it cannot be linked to the client, so its username is free again at the identity provider', async () => {
    const email = `${unique('cy')}@example.com`;
    const { askedFor } = identityWith((user) => realIdentity.createUser(user));
    const send = db().send.bind(db());
    vi.spyOn(db(), 'send').mockImplementation(((command: unknown) => {
      if (command instanceof UpdateCommand && command.input.UpdateExpression === 'SET userId = :u')
        return Promise.reject(new UpstreamError('DynamoDB is unavailable.'));
      return send(command as never);
    }) as typeof send);

    await expect(createClient(companyId, { company: 'Unlinked Ltd', email, password: 'correct horse battery' }, staff)).rejects.toBeInstanceOf(UpstreamError);
    vi.restoreAllMocks();

    expect(await partition(askedFor[0])).toEqual([]);
    expect(await realIdentity.authenticate(companyId, email, 'correct horse battery')).toBeNull();
    await expect(
      realIdentity.createUser({ username: email, password: 'another password', role: 'client', companyId, clientId: 'cl_other' }),
    ).resolves.toMatchObject({ username: email });
  });
});
