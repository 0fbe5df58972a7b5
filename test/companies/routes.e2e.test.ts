import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GROUP_SETTINGS } from '../../functions/domain/settings.js';
import { startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.stack.stop();
});

const errorPaths = (res: ApiResponse): string[] => ((res.body?.errors ?? []) as Array<{ path: string }>).map((e) => e.path);
function expectProblem(res: ApiResponse, status: number, field?: string): void {
  expect(res.status, res.text.slice(0, 300)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  if (field) expect(errorPaths(res)).toContain(field);
}

const operator = (method: string, path: string, body?: unknown) => api.call(method, path, { token: api.facts.operatorToken, body });

async function newCompany(overrides: Record<string, unknown> = {}) {
  const username = `boss${randomBytes(3).toString('hex')}`;
  const password = 'a good password';
  const res = await operator('POST', '/v1/companies', {
    name: 'Acme Hosting',
    defaultCurrency: 'GBP',
    timeZone: 'Europe/London',
    staff: { username, email: `${username}@example.com`, password },
    ...overrides,
  });
  return { res, username, password };
}

async function staffLogin(companyId: string, username: string, password: string): Promise<string> {
  const res = await api.call('POST', '/v1/auth/token', { body: { companyId, username, password } });
  expect(res.status).toBe(200);
  return res.body.token;
}

describe('companies (operator)', () => {
  it('creates a company with its default group General and a working staff login', async () => {
    const { res, username, password } = await newCompany();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      id: expect.stringMatching(/^co_/),
      name: 'Acme Hosting',
      defaultCurrency: 'GBP',
      timeZone: 'Europe/London',
      staffUserId: expect.any(String),
    });
    const token = await staffLogin(res.body.id, username, password);
    const groups = await api.call('GET', '/v1/client-groups', { token });
    expect(groups.status).toBe(200);
    expect(groups.body.data).toHaveLength(1);
    expect(groups.body.data[0]).toMatchObject({ name: 'General', isDefault: true, id: expect.stringMatching(/^grp_/) });
    expect(res.body.defaultGroupId ?? res.body.defaultGroup?.id).toBe(groups.body.data[0].id);
    const settings = await api.call('GET', '/v1/settings', { token });
    expect(settings.body).toMatchObject({ defaultCurrency: 'GBP', currencies: ['GBP'], timeZone: 'Europe/London', language: 'en' });
  });

  it('upper-cases the currency code', async () => {
    const { res } = await newCompany({ defaultCurrency: 'jpy' });
    expect(res.status).toBe(201);
    expect(res.body.defaultCurrency).toBe('JPY');
  });

  it('lists companies, paging with a cursor', async () => {
    const created = [];
    for (let i = 0; i < 3; i++) created.push((await newCompany()).res.body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await operator('GET', `/v1/companies?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.data.map((c: { id: string }) => c.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining([api.facts.companyId, ...created]));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('rejects invalid company input with 400 naming each field', async () => {
    const res = await operator('POST', '/v1/companies', {
      name: '',
      defaultCurrency: 'XXQ',
      timeZone: 'Mars/Olympus',
      staff: { username: 'has space', email: 'nope', password: 'short' },
    });
    expectProblem(res, 400);
    expect(errorPaths(res)).toEqual(expect.arrayContaining(['name', 'defaultCurrency', 'timeZone', 'staff.username', 'staff.email', 'staff.password']));
  });

  it('accepts the same staff username in another company', async () => {
    const first = await newCompany();
    expect(first.res.status).toBe(201);
    // Same username in another company is fine.
    const second = await newCompany({ staff: { username: first.username, email: 'other@example.com', password: 'another password' } });
    expect(second.res.status).toBe(201);
    expect(await staffLogin(second.res.body.id, first.username, 'another password')).toEqual(expect.any(String));
  });
});

/** A company of the test's own, logged in as its staff user: no test sees another's settings or groups. */
async function ownCompany(overrides: Record<string, unknown> = {}) {
  const { res, username, password } = await newCompany(overrides);
  expect(res.status, res.text).toBe(201);
  const token = await staffLogin(res.body.id, username, password);
  return {
    companyId: res.body.id as string,
    token,
    call: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => api.call(method, path, { token, body, headers }),
  };
}

describe('company settings', () => {
  let settings: (method: string, path: string, body?: unknown) => Promise<ApiResponse>;
  beforeEach(async () => {
    // The seeded demo company's currency and time zone, which the expectations below name.
    settings = (await ownCompany({ defaultCurrency: 'USD', timeZone: 'America/New_York' })).call;
  });

  it('shows the company keys and a concrete value for every group setting', async () => {
    const res = await settings('GET', '/v1/settings');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      defaultCurrency: 'USD',
      currencies: ['USD'],
      timeZone: 'America/New_York',
      language: 'en',
      taxRates: [],
      contactTypes: [],
      version: expect.any(Number),
    });
    for (const key of Object.keys(DEFAULT_GROUP_SETTINGS)) expect(res.body, key).toHaveProperty(key);
  });

  it('always keeps the default currency in currencies', async () => {
    const set = await settings('PATCH', '/v1/settings', { currencies: ['eur', 'GBP'] });
    expect(set.status).toBe(200);
    expect(set.body.currencies).toEqual(expect.arrayContaining(['USD', 'EUR', 'GBP']));
    expect(set.body.currencies).toHaveLength(3);
    const changed = await settings('PATCH', '/v1/settings', { defaultCurrency: 'CAD' });
    expect(changed.body.defaultCurrency).toBe('CAD');
    expect(changed.body.currencies).toEqual(expect.arrayContaining(['CAD', 'USD', 'EUR', 'GBP']));
    const both = await settings('PATCH', '/v1/settings', { defaultCurrency: 'USD', currencies: ['EUR'] });
    expect(both.body.currencies).toEqual(expect.arrayContaining(['USD', 'EUR']));
    expect(both.body.currencies).toHaveLength(2);
    const dupes = await settings('PATCH', '/v1/settings', { currencies: ['USD', 'usd', 'EUR', 'EUR'] });
    expect(dupes.body.currencies).toEqual(['USD', 'EUR']);
  });

  it.each([
    ['defaultCurrency', 'DOLLARS'],
    ['defaultCurrency', 'XYZ'],
    ['currencies', ['USD', 'ABC']],
    ['currencies', []],
    ['timeZone', 'Europe/Atlantis'],
    ['timeZone', 'GMT+25'],
    ['language', 'not a language!'],
    ['language', 12],
    ['invoiceDaysBeforeRenewal', -1],
    ['autoDebitAttempts', 0],
    ['suspendServicesDaysAfterDue', 'sometimes'],
    ['invoiceDeliveryMethods', ['fax']],
    ['requiredContactFields', ['shoeSize']],
    ['contactTypes', ['billing']],
  ])('rejects %s = %j with 400 naming the field', async (field, value) => {
    const before = await settings('GET', '/v1/settings');
    const res = await settings('PATCH', '/v1/settings', { [field]: value });
    expectProblem(res, 400);
    expect(
      errorPaths(res).some((p) => p === field || p.startsWith(`${field}.`)),
      JSON.stringify(res.body.errors),
    ).toBe(true);
    expect((await settings('GET', '/v1/settings')).body.version).toBe(before.body.version);
  });

  it('canonicalises the language tag', async () => {
    const res = await settings('PATCH', '/v1/settings', { language: 'pt-br' });
    expect(res.status).toBe(200);
    expect(res.body.language).toBe('pt-BR');
  });

  it('round-trips tax rates, giving each an id and storing countries as codes', async () => {
    const res = await settings('PATCH', '/v1/settings', {
      taxRates: [
        { name: 'VAT', percent: '20', country: 'GB' },
        { name: 'NY sales tax', percent: '8.875', country: 'United States', state: 'NY' },
        { name: 'Fallback', percent: 0 },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.taxRates).toEqual([
      { id: expect.any(String), name: 'VAT', percent: '20', country: 'GB' },
      { id: expect.any(String), name: 'NY sales tax', percent: '8.875', country: 'US', state: 'NY' },
      { id: expect.any(String), name: 'Fallback', percent: '0' },
    ]);
    const read = await settings('GET', '/v1/settings');
    expect(read.body.taxRates).toEqual(res.body.taxRates);
    // Sending them back unchanged (with their ids) keeps them as they are.
    const again = await settings('PATCH', '/v1/settings', { taxRates: read.body.taxRates });
    expect(again.body.taxRates).toEqual(read.body.taxRates);
  });

  it.each([
    [{ name: 'Too much', percent: '101' }],
    [{ name: 'Negative', percent: '-1' }],
    [{ name: 'Precise', percent: '1.23456' }],
    [{ name: 'State only', percent: '5', state: 'NY' }],
    [{ name: '', percent: '5' }],
    [{ name: 'Nowhere', percent: '5', country: 'Narnia' }],
  ])('rejects the tax rate %j with 400 naming taxRates', async (rate) => {
    const res = await settings('PATCH', '/v1/settings', { taxRates: [rate] });
    expectProblem(res, 400);
    expect(
      errorPaths(res).some((p) => p.startsWith('taxRates')),
      JSON.stringify(res.body.errors),
    ).toBe(true);
  });

  it('merges paymentDueNotices key by key', async () => {
    const before = (await settings('GET', '/v1/settings')).body.paymentDueNotices;
    const res = await settings('PATCH', '/v1/settings', { paymentDueNotices: { secondNoticeDays: 'never' } });
    expect(res.status).toBe(200);
    expect(res.body.paymentDueNotices).toEqual({ ...before, secondNoticeDays: 'never' });
    const next = await settings('PATCH', '/v1/settings', { paymentDueNotices: { enabled: false, firstNoticeDays: -2 } });
    expect(next.body.paymentDueNotices).toEqual({ ...before, secondNoticeDays: 'never', enabled: false, firstNoticeDays: -2 });
  });

  it('adds company contact types', async () => {
    const res = await settings('PATCH', '/v1/settings', { contactTypes: ['legal', 'abuse'] });
    expect(res.status).toBe(200);
    expect(res.body.contactTypes).toEqual(['legal', 'abuse']);
  });
});

describe('client groups', () => {
  let staff: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResponse>;
  let defaultGroupId: string;

  beforeEach(async () => {
    staff = (await ownCompany()).call;
    defaultGroupId = (await staff('GET', '/v1/client-groups')).body.data[0].id;
  });

  it('creates, reads, lists, updates and deletes a group', async () => {
    const created = await staff('POST', '/v1/client-groups', {
      name: 'Resellers',
      description: 'Wholesale',
      color: '#AA00ff',
      settings: { invoiceDaysBeforeRenewal: 5 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^grp_/),
      name: 'Resellers',
      description: 'Wholesale',
      isDefault: false,
      settings: { invoiceDaysBeforeRenewal: 5 },
      version: 1,
    });
    expect(created.body.color.toLowerCase()).toBe('#aa00ff');
    expect(created.body.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
    const id = created.body.id;

    expect((await staff('GET', `/v1/client-groups/${id}`)).body).toEqual(created.body);
    const list = await staff('GET', '/v1/client-groups');
    expect(list.body.data.map((g: { id: string }) => g.id)).toEqual(expect.arrayContaining([defaultGroupId, id]));

    const patched = await staff('PATCH', `/v1/client-groups/${id}`, { name: 'Partners', description: null, color: null });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Partners', description: null, color: null, version: 2, settings: { invoiceDaysBeforeRenewal: 5 } });

    expect((await staff('DELETE', `/v1/client-groups/${id}`)).status).toBe(204);
    expectProblem(await staff('GET', `/v1/client-groups/${id}`), 404);
    expectProblem(await staff('DELETE', `/v1/client-groups/${id}`), 404);
    expectProblem(await staff('PATCH', `/v1/client-groups/${id}`, { name: 'Ghost' }), 404);
  });

  it('rejects invalid groups with 400 naming the field', async () => {
    const res = await staff('POST', '/v1/client-groups', { name: ' ', color: 'blue', settings: { autoDebitAttempts: 0, bogus: true } });
    expectProblem(res, 400);
    expect(errorPaths(res)).toEqual(expect.arrayContaining(['name', 'color', 'settings.autoDebitAttempts', 'settings.bogus']));
  });

  it('shows effectiveSettings: the company value for every key the group does not override', async () => {
    const company = (await staff('GET', '/v1/settings')).body;
    const res = await staff('POST', '/v1/client-groups', {
      name: 'Inherits',
      settings: { enableAutoDebit: false, paymentDueNotices: { thirdNoticeDays: 30 } },
    });
    expect(res.body.settings).toEqual({ enableAutoDebit: false, paymentDueNotices: { thirdNoticeDays: 30 } });
    for (const key of Object.keys(DEFAULT_GROUP_SETTINGS)) {
      if (key === 'enableAutoDebit' || key === 'paymentDueNotices') continue;
      expect(res.body.effectiveSettings[key], key).toEqual(company[key]);
    }
    expect(res.body.effectiveSettings.enableAutoDebit).toBe(false);
    expect(res.body.effectiveSettings.paymentDueNotices).toEqual({ ...company.paymentDueNotices, thirdNoticeDays: 30 });
  });

  it('follows company changes in effectiveSettings for keys without an override', async () => {
    const group = (await staff('POST', '/v1/client-groups', { name: 'Follower', settings: { autoDebitAttempts: 7 } })).body;
    const change = await staff('PATCH', '/v1/settings', { invoiceDaysBeforeRenewal: 21, autoDebitAttempts: 2, paymentDueNotices: { firstNoticeDays: 4 } });
    expect(change.status).toBe(200);
    const read = await staff('GET', `/v1/client-groups/${group.id}`);
    expect(read.body.effectiveSettings).toMatchObject({ invoiceDaysBeforeRenewal: 21, autoDebitAttempts: 7 });
    expect(read.body.effectiveSettings.paymentDueNotices.firstNoticeDays).toBe(4);
    expect(read.body.settings).toEqual({ autoDebitAttempts: 7 });
    const general = await staff('GET', `/v1/client-groups/${defaultGroupId}`);
    expect(general.body.effectiveSettings).toMatchObject({ invoiceDaysBeforeRenewal: 21, autoDebitAttempts: 2 });
    // The group list resolves the same way.
    const listed = (await staff('GET', '/v1/client-groups?limit=100')).body.data.find((g: { id: string }) => g.id === group.id);
    expect(listed.effectiveSettings).toEqual(read.body.effectiveSettings);
  });

  it('merges settings key by key on PATCH; null removes the override so the key inherits again', async () => {
    const company = (await staff('GET', '/v1/settings')).body;
    const group = (
      await staff('POST', '/v1/client-groups', {
        name: 'Patchy',
        settings: { voidInvoicesDaysAfterDue: 30, enableAutoDebit: false, paymentDueNotices: { firstNoticeDays: 3, secondNoticeDays: 10 } },
      })
    ).body;

    const merged = await staff('PATCH', `/v1/client-groups/${group.id}`, {
      settings: { suspendServicesDaysAfterDue: 'never', paymentDueNotices: { thirdNoticeDays: 20 } },
    });
    expect(merged.status).toBe(200);
    expect(merged.body.settings).toEqual({
      voidInvoicesDaysAfterDue: 30,
      enableAutoDebit: false,
      suspendServicesDaysAfterDue: 'never',
      paymentDueNotices: { firstNoticeDays: 3, secondNoticeDays: 10, thirdNoticeDays: 20 },
    });

    const cleared = await staff('PATCH', `/v1/client-groups/${group.id}`, {
      settings: { voidInvoicesDaysAfterDue: null, paymentDueNotices: { firstNoticeDays: null } },
    });
    expect(cleared.body.settings).toEqual({
      enableAutoDebit: false,
      suspendServicesDaysAfterDue: 'never',
      paymentDueNotices: { secondNoticeDays: 10, thirdNoticeDays: 20 },
    });
    expect(cleared.body.effectiveSettings.voidInvoicesDaysAfterDue).toEqual(company.voidInvoicesDaysAfterDue);
    expect(cleared.body.effectiveSettings.paymentDueNotices.firstNoticeDays).toEqual(company.paymentDueNotices.firstNoticeDays);

    // Once the override is gone, a company change flows through.
    await staff('PATCH', '/v1/settings', { voidInvoicesDaysAfterDue: 90 });
    expect((await staff('GET', `/v1/client-groups/${group.id}`)).body.effectiveSettings.voidInvoicesDaysAfterDue).toBe(90);

    const allNotices = await staff('PATCH', `/v1/client-groups/${group.id}`, {
      settings: { paymentDueNotices: null, enableAutoDebit: null, suspendServicesDaysAfterDue: null },
    });
    expect(allNotices.body.settings).toEqual({});
    expect(allNotices.body.effectiveSettings).toEqual((await staff('GET', `/v1/client-groups/${defaultGroupId}`)).body.effectiveSettings);
  });

  it('refuses to delete the default group with 409', async () => {
    expectProblem(await staff('DELETE', `/v1/client-groups/${defaultGroupId}`), 409);
    const read = await staff('GET', `/v1/client-groups/${defaultGroupId}`);
    expect(read.body).toMatchObject({ name: 'General', isDefault: true });
  });

  it('moves the clients of a deleted group to the default group', async () => {
    const doomed = (await staff('POST', '/v1/client-groups', { name: 'Doomed' })).body;
    const keeper = (await staff('POST', '/v1/client-groups', { name: 'Keeper' })).body;
    const members: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await staff('POST', '/v1/clients', { company: `Member ${i}`, groupId: doomed.id });
      expect(res.status).toBe(201);
      expect(res.body.groupId).toBe(doomed.id);
      members.push(res.body.id);
    }
    const bystander = (await staff('POST', '/v1/clients', { company: 'Bystander', groupId: keeper.id })).body.id;
    const unassigned = (await staff('POST', '/v1/clients', { company: 'Default member' })).body;
    expect(unassigned.groupId).toBe(defaultGroupId);

    expect((await staff('DELETE', `/v1/client-groups/${doomed.id}`)).status).toBe(204);
    for (const id of members) {
      const res = await staff('GET', `/v1/clients/${id}`);
      expect(res.status).toBe(200);
      expect(res.body.groupId).toBe(defaultGroupId);
    }
    expect((await staff('GET', `/v1/clients/${bystander}`)).body.groupId).toBe(keeper.id);
    const filtered = await staff('GET', `/v1/clients?groupId=${defaultGroupId}&limit=100`);
    expect(filtered.body.data.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining([...members, unassigned.id]));
    expect((await staff('GET', `/v1/clients?groupId=${doomed.id}`)).body.data).toEqual([]);
  });

  it('refuses a client in a group that does not exist', async () => {
    const res = await staff('POST', '/v1/clients', { company: 'Lost', groupId: 'grp_DOESNOTEXIST00000000000000' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
});
