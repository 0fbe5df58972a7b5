import { randomBytes } from 'node:crypto';
import { DeleteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityProvider } from '../../functions/adapters/identity/port.js';
import { createCompany, type CreateCompanyInput } from '../../functions/companies/create-company.js';
import { updateSettings } from '../../functions/companies/update-settings.js';
import { ConflictError, UpstreamError, ValidationError } from '../../functions/domain/errors.js';
import { DEFAULT_GROUP_SETTINGS } from '../../functions/domain/settings.js';
import { getServices, overrideServices } from '../../functions/services.js';
import { getCompany, listCompanies } from '../../functions/store/companies.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { companyPk, companySk } from '../../functions/store/keys.js';
import { useFreshTables } from '../support/tables.js';

/** create-company and update-settings called directly (no HTTP) against DynamoDB Local and the local identity provider. */
let realIdentity: IdentityProvider;

beforeAll(async () => {
  await useFreshTables();
  realIdentity = getServices().identity;
});

afterEach(() => {
  overrideServices({ identity: realIdentity });
});

function input(overrides: Partial<CreateCompanyInput> = {}): CreateCompanyInput {
  const username = `boss${randomBytes(3).toString('hex')}`;
  return {
    name: 'Acme Hosting',
    defaultCurrency: 'GBP',
    timeZone: 'Europe/London',
    staff: { username, email: `${username}@example.com`, password: 'a good password' },
    ...overrides,
  };
}

async function companyPartition(companyId: string): Promise<Array<Record<string, unknown>>> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': companyPk(companyId) },
      ConsistentRead: true,
    }),
  );
  return out.Items ?? [];
}

async function allCompanyIds(): Promise<string[]> {
  return (await listCompanies(1000)).items.map((c) => c.id);
}

/** The real local provider, except that `createUser` does `instead` (and records the company it was asked for). */
function identityWith(instead: (user: Parameters<IdentityProvider['createUser']>[0]) => ReturnType<IdentityProvider['createUser']>): { askedFor: string[] } {
  const askedFor: string[] = [];
  overrideServices({
    identity: Object.assign(Object.create(realIdentity) as IdentityProvider, {
      createUser: (user: Parameters<IdentityProvider['createUser']>[0]) => {
        askedFor.push(user.companyId!);
        return instead(user);
      },
    }),
  });
  return { askedFor };
}

describe('createCompany', () => {
  it('writes the company with its default group General and a staff login that authenticates, linked by its user id', async () => {
    const given = input();
    const { company, defaultGroup } = await createCompany(given);

    expect(company).toMatchObject({
      name: 'Acme Hosting',
      defaultGroupId: defaultGroup.id,
      own: { defaultCurrency: 'GBP', currencies: ['GBP'], timeZone: 'Europe/London', language: 'en', taxRates: [], contactTypes: [] },
      version: 1,
    });
    expect(company.groupSettings).toEqual(DEFAULT_GROUP_SETTINGS);
    expect(defaultGroup).toMatchObject({ name: 'General', isDefault: true, settings: {}, version: 1 });
    expect(await getCompany(company.id)).toEqual(company);
    const partition = await companyPartition(company.id);
    expect(partition.map((i) => i.entity).sort()).toEqual(['company', 'group']);

    const token = await realIdentity.authenticate(company.id, given.staff.username, given.staff.password);
    expect(token).not.toBeNull();
    expect(company.staffUserId).toEqual(expect.stringMatching(/^usr_/));
  });

  it('undoes the company and its default group when the identity provider refuses the staff login, and rethrows its error', async () => {
    const refusal = new UpstreamError('The identity provider is unavailable.');
    const { askedFor } = identityWith(() => Promise.reject(refusal));
    const before = await allCompanyIds();

    await expect(createCompany(input())).rejects.toBe(refusal);

    expect(askedFor).toHaveLength(1);
    expect(await companyPartition(askedFor[0])).toEqual([]);
    expect(await allCompanyIds()).toEqual(before);
  });

  it('also deletes the staff login when the company cannot record it, so no login is left for a company that does not exist', async () => {
    const given = input();
    // The login is made, then the company item vanishes before its user id is recorded on it.
    const { askedFor } = identityWith(async (user) => {
      const login = await realIdentity.createUser(user);
      await db().send(new DeleteCommand({ TableName: tableName(), Key: { PK: companyPk(user.companyId!), SK: companySk } }));
      return login;
    });

    await expect(createCompany(given)).rejects.toBeInstanceOf(ConflictError);

    expect(await companyPartition(askedFor[0])).toEqual([]);
    expect(await realIdentity.authenticate(askedFor[0], given.staff.username, given.staff.password)).toBeNull();
    // The username is free again in that company's scope.
    await expect(realIdentity.createUser({ ...given.staff, role: 'staff', companyId: askedFor[0] })).resolves.toMatchObject({ username: given.staff.username });
  });
});

describe('updateSettings', () => {
  it('changes own keys, keeps the default currency first in currencies, merges notices key by key and moves the version by one', async () => {
    const { company } = await createCompany(input());
    const next = await updateSettings({
      companyId: company.id,
      expectedVersion: company.version,
      patch: {
        defaultCurrency: 'EUR',
        currencies: ['USD', 'EUR', 'USD'],
        language: 'de',
        autoDebitAttempts: 5,
        paymentDueNotices: { secondNoticeDays: 'never' },
      },
    });

    expect(next.version).toBe(company.version + 1);
    expect(next.own).toMatchObject({ defaultCurrency: 'EUR', currencies: ['EUR', 'USD'], language: 'de', timeZone: 'Europe/London' });
    expect(next.groupSettings).toEqual({
      ...DEFAULT_GROUP_SETTINGS,
      autoDebitAttempts: 5,
      paymentDueNotices: { ...DEFAULT_GROUP_SETTINGS.paymentDueNotices, secondNoticeDays: 'never' },
    });
    expect(await getCompany(company.id)).toEqual(next);
  });

  it('gives new tax rates a tax_ id and keeps the id of a rate sent back with one', async () => {
    const { company } = await createCompany(input());
    const first = await updateSettings({ companyId: company.id, patch: { taxRates: [{ name: 'VAT', percent: '20', country: 'GB' }] } });
    const vat = first.own.taxRates[0];
    expect(vat.id).toMatch(/^tax_/);

    const second = await updateSettings({ companyId: company.id, patch: { taxRates: [vat, { name: 'Reduced', percent: '5', country: 'GB' }] } });
    expect(second.own.taxRates[0]).toEqual(vat);
    expect(second.own.taxRates[1].id).toMatch(/^tax_/);
    expect(second.own.taxRates[1].id).not.toBe(vat.id);
    expect((await getCompany(company.id))?.own.taxRates).toEqual(second.own.taxRates);
  });

  it('refuses a stale expected version with stale_version and changes nothing', async () => {
    const { company } = await createCompany(input());
    await updateSettings({ companyId: company.id, patch: { language: 'fr' } });

    const stale = updateSettings({ companyId: company.id, expectedVersion: company.version, patch: { language: 'es' } });
    await expect(stale).rejects.toBeInstanceOf(ConflictError);
    await expect(stale).rejects.toMatchObject({ code: 'stale_version' });
    expect((await getCompany(company.id))?.own.language).toBe('fr');
  });

  it('refuses tax rates sharing an id, naming taxRates, and changes nothing', async () => {
    const { company } = await createCompany(input());
    const attempt = updateSettings({
      companyId: company.id,
      patch: {
        taxRates: [
          { id: 'tax_same', name: 'A', percent: '1' },
          { id: 'tax_same', name: 'B', percent: '2' },
        ],
      },
    });
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(attempt).rejects.toMatchObject({ errors: [{ path: 'taxRates' }] });
    expect(await getCompany(company.id)).toEqual(company);
  });
});
