import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSetPasswordLink } from '../../functions/clients/login-details.js';
import { requireClient } from '../../functions/store/clients.js';
import { useTestClockForThisTest } from '../support/clock.js';
import { createCompany, startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';

/**
 * Issue #3 end to end: every rule of the Clients, Contacts and Notes sections of the contract, over HTTP against
 * the local stack (fresh tables for this file).
 */
let api: TestApi;
let companyId: string;
let defaultGroupId: string;
let seq = 0;

const PASSWORD = 'correct horse battery';
const unique = (stem: string) => `${stem}${++seq}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  api = await startTestApi();
  companyId = api.facts.companyId;
  const groups = await api.staff('GET', '/v1/client-groups');
  defaultGroupId = groups.body.data.find((g: { isDefault: boolean }) => g.isDefault).id;
  const settings = await api.staff('PATCH', '/v1/settings', { currencies: ['USD', 'EUR', 'GBP'] });
  expect(settings.status).toBe(200);
});
afterAll(async () => {
  await api?.stack.stop();
});

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text}`);
}

function errorPaths(res: ApiResponse): string[] {
  return ((res.body?.errors ?? []) as Array<{ path: string }>).map((e) => e.path);
}

async function newClient(body: Record<string, unknown> = {}): Promise<any> {
  const email = `${unique('client')}@example.com`;
  const res = await api.staff('POST', '/v1/clients', { firstName: 'Test', lastName: 'Client', email, password: PASSWORD, ...body });
  expectStatus(res, 201);
  return res.body;
}

async function login(username: string, password = PASSWORD, company = companyId): Promise<ApiResponse> {
  return api.call('POST', '/v1/auth/token', { body: { companyId: company, username, password } });
}

async function clientToken(username: string, password = PASSWORD): Promise<string> {
  const res = await login(username, password);
  expectStatus(res, 200);
  return res.body.token;
}

const asClient = (token: string, method: string, path: string, body?: unknown) => api.call(method, path, { token, body });

async function activity(
  clientId: string,
): Promise<Array<{ at: string; actor: { type: string; id: string }; action: string; details: Record<string, unknown> }>> {
  const res = await api.staff('GET', `/v1/clients/${clientId}/activity?limit=100`);
  expectStatus(res, 200);
  return res.body.data;
}

describe('creating clients (seed 002 fields)', () => {
  it('stores every field, with defaultFax the first fax and the email as username', async () => {
    const group = await api.staff('POST', '/v1/client-groups', { name: unique('VIP') });
    expectStatus(group, 201);
    const email = `${unique('ada')}@Example.com`;
    const body = {
      firstName: 'Ada',
      lastName: 'Lovelace',
      company: 'Analytical Engines Ltd',
      title: 'Director',
      address1: '12 St James Square',
      address2: 'Floor 2',
      city: 'London',
      country: 'United Kingdom',
      state: 'Greater London',
      zip: 'SW1Y 4JH',
      email,
      phones: [
        { type: 'phone', location: 'work', number: '+44 20 7946 0000' },
        { type: 'fax', location: 'home', number: '+44 20 7946 0001' },
        { type: 'fax', location: 'work', number: '+44 20 7946 0002' },
        { type: 'phone', location: 'mobile', number: '+44 7700 900123' },
      ],
      taxExempt: true,
      taxId: 'GB123456789',
      currency: 'eur',
      password: PASSWORD,
      language: 'pt-BR',
      groupId: group.body.id,
      sendRegistrationEmail: false,
      marketingOptIn: true,
      customFields: { referrer: 'conference', tier: 'gold' },
    };
    const res = await api.staff('POST', '/v1/clients', body);
    expectStatus(res, 201);
    const expected = {
      firstName: 'Ada',
      lastName: 'Lovelace',
      company: 'Analytical Engines Ltd',
      title: 'Director',
      address1: '12 St James Square',
      address2: 'Floor 2',
      city: 'London',
      country: 'GB',
      state: 'Greater London',
      zip: 'SW1Y 4JH',
      email,
      phones: body.phones,
      defaultFax: '+44 20 7946 0001',
      taxExempt: true,
      taxId: 'GB123456789',
      currency: 'EUR',
      username: email,
      language: 'pt-BR',
      groupId: group.body.id,
      group: { id: group.body.id, name: group.body.name },
      marketingOptIn: true,
      customFields: { referrer: 'conference', tier: 'gold' },
      status: 'active',
      autoDebitAccountId: null,
      version: 1,
      stickyNotes: [],
    };
    expect(res.body).toMatchObject(expected);
    expect(res.body.id).toMatch(/^cl_/);
    expect(Number.isInteger(res.body.number)).toBe(true);
    expect(res.body).not.toHaveProperty('password');
    expect(res.body).not.toHaveProperty('generatedPassword');
    expect(res.body.summary).toEqual({ data: [{ currency: 'EUR', invoiced: 0, paid: 0, due: 0, credit: 0 }] });
    expect(res.text).not.toContain(PASSWORD);

    const read = await api.staff('GET', `/v1/clients/${res.body.id}`);
    expectStatus(read, 200);
    expect(read.body).toMatchObject(expected);
    expect(read.text).not.toContain(PASSWORD);

    // The username defaults to the email; logins are case-insensitive on the username.
    expectStatus(await login(email), 200);
    expectStatus(await login(email.toLowerCase()), 200);
  });

  it('accepts any number of phones, including none (no defaultFax without a fax)', async () => {
    const none = await newClient({ phones: [] });
    expect(none.phones).toEqual([]);
    expect(none.defaultFax).toBeNull();
    const phones = Array.from({ length: 12 }, (_, i) => ({
      type: 'phone',
      location: (['home', 'work', 'mobile'] as const)[i % 3],
      number: `555-01${String(i).padStart(2, '0')}`,
    }));
    const many = await newClient({ phones });
    expect(many.phones).toEqual(phones);
    expect(many.defaultFax).toBeNull();
  });

  it('applies the defaults: company currency, default group, company language, active, no custom fields', async () => {
    const c = await newClient();
    expect(c).toMatchObject({
      currency: 'USD',
      groupId: defaultGroupId,
      group: { id: defaultGroupId, name: 'General' },
      language: 'en',
      status: 'active',
      taxExempt: false,
      marketingOptIn: false,
      customFields: {},
    });
  });

  it('generates a password when asked, returns it once, and it logs in', async () => {
    const email = `${unique('gen')}@example.com`;
    const res = await api.staff('POST', '/v1/clients', { company: 'Generated Inc', email, generatePassword: true });
    expectStatus(res, 201);
    const generated = res.body.generatedPassword as string;
    expect(typeof generated).toBe('string');
    expect(generated.length).toBeGreaterThanOrEqual(8);
    expect(generated.length).toBeLessThanOrEqual(128);
    const read = await api.staff('GET', `/v1/clients/${res.body.id}`);
    expect(read.body).not.toHaveProperty('generatedPassword');
    expect(read.text).not.toContain(generated);
    expectStatus(await login(email, generated), 200);
  });

  it('refuses both a password and generatePassword, and a password without any username', async () => {
    const both = await api.staff('POST', '/v1/clients', {
      company: 'Both',
      email: `${unique('both')}@example.com`,
      password: PASSWORD,
      generatePassword: true,
    });
    expectStatus(both, 400);
    expect(errorPaths(both)).toContain('generatePassword');
    const noUser = await api.staff('POST', '/v1/clients', { company: 'No user', password: PASSWORD });
    expectStatus(noUser, 400);
    expect(errorPaths(noUser)).toContain('username');
    const short = await api.staff('POST', '/v1/clients', { company: 'Short', email: `${unique('s')}@example.com`, password: 'short' });
    expectStatus(short, 400);
    expect(errorPaths(short)).toContain('password');
  });

  it('uses a given username for the login instead of the email', async () => {
    const username = unique('ada_l');
    const c = await newClient({ username });
    expect(c.username).toBe(username);
    expect(c.hasLogin).toBe(true);
    expectStatus(await login(username), 200);
    expectStatus(await login(c.email), 401);
  });

  it('creates a client without email or username, and so without a login', async () => {
    const res = await api.staff('POST', '/v1/clients', { company: 'Paper Only Ltd' });
    expectStatus(res, 201);
    expect(res.body).toMatchObject({ email: null, username: null, hasLogin: false, company: 'Paper Only Ltd', firstName: null, lastName: null });
  });

  it('needs a company, or both a first and a last name (400 naming the fields)', async () => {
    const nothing = await api.staff('POST', '/v1/clients', { email: `${unique('n')}@example.com` });
    expectStatus(nothing, 400);
    expect(errorPaths(nothing)).toEqual(expect.arrayContaining(['company', 'firstName', 'lastName']));
    const firstOnly = await api.staff('POST', '/v1/clients', { firstName: 'Solo' });
    expectStatus(firstOnly, 400);
    expect(errorPaths(firstOnly)).toContain('lastName');
    expect(errorPaths(firstOnly)).not.toContain('firstName');
    const blank = await api.staff('POST', '/v1/clients', { company: '   ' });
    expectStatus(blank, 400);
    expectStatus(await api.staff('POST', '/v1/clients', { firstName: 'Only', lastName: 'Names' }), 201);
    expectStatus(await api.staff('POST', '/v1/clients', { company: 'Only A Company' }), 201);
  });

  it('validates fields: currency allowed, country, phones, email, group, unknown fields, custom field values', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ currency: 'JPY' }, 'currency'],
      [{ currency: 'XYZ' }, 'currency'],
      [{ country: 'Atlantis' }, 'country'],
      [{ phones: [{ type: 'pager', location: 'home', number: '1' }] }, 'phones.0.type'],
      [{ phones: [{ type: 'phone', location: 'office', number: '1' }] }, 'phones.0.location'],
      [{ phones: [{ type: 'phone', location: 'home', number: 'call me' }] }, 'phones.0.number'],
      [{ email: 'not-an-email' }, 'email'],
      [{ groupId: 'grp_nope' }, 'groupId'],
      [{ favouriteColour: 'blue' }, 'favouriteColour'],
      [{ customFields: { a: 1 } }, 'customFields.a'],
      [{ number: 0 }, 'number'],
      [{ number: 1.5 }, 'number'],
      [{ language: 'not a language!' }, 'language'],
      [{ username: 'has space' }, 'username'],
    ];
    for (const [extra, path] of cases) {
      const res = await api.staff('POST', '/v1/clients', { company: 'Validation Co', ...extra });
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(errorPaths(res), JSON.stringify(extra)).toContain(path);
    }
  });
});

describe('numbers and uniqueness', () => {
  it('numbers clients sequentially, accepts a given number, and continues after it', async () => {
    const a = await newClient();
    const b = await newClient();
    expect(b.number).toBe(a.number + 1);
    const given = b.number + 1000;
    const c = await newClient({ number: given });
    expect(c.number).toBe(given);
    const d = await newClient();
    expect(d.number).toBe(given + 1);
  });

  it('409 naming the field for a duplicate email (any case), username or number', async () => {
    const a = await newClient({ username: unique('uniq') });
    const dupEmail = await api.staff('POST', '/v1/clients', { company: 'Dup', email: a.email.toUpperCase() });
    expectStatus(dupEmail, 409);
    expect(dupEmail.headers.get('content-type')).toContain('application/problem+json');
    expect(errorPaths(dupEmail)).toEqual(['email']);
    const dupUser = await api.staff('POST', '/v1/clients', { company: 'Dup', email: `${unique('x')}@example.com`, username: a.username.toUpperCase() });
    expectStatus(dupUser, 409);
    expect(errorPaths(dupUser)).toEqual(['username']);
    const dupNumber = await api.staff('POST', '/v1/clients', { company: 'Dup', number: a.number });
    expectStatus(dupNumber, 409);
    expect(errorPaths(dupNumber)).toEqual(['number']);
    // Another client's email as a username (and the reverse) is a different field, but a login name clash.
    const userIsEmail = await api.staff('POST', '/v1/clients', { company: 'Dup', username: a.username, email: `${unique('y')}@example.com` });
    expectStatus(userIsEmail, 409);
  });

  it('409 for a username a staff login of the company already has, and nothing is left behind', async () => {
    const email = `${unique('clash')}@example.com`;
    const res = await api.staff('POST', '/v1/clients', { company: 'Clash', email, username: api.facts.staffUsername });
    expectStatus(res, 409);
    expect(errorPaths(res)).toEqual(['username']);
    // The email is free again: the failed create left no client behind.
    expectStatus(await api.staff('POST', '/v1/clients', { company: 'Clash', email }), 201);
  });

  it('the same email and username may exist in another company', async () => {
    const a = await newClient();
    const other = await createCompany(api, 'Other Co', 'EUR');
    const res = await api.call('POST', '/v1/clients', { token: other.staffToken, body: { company: 'Twin', email: a.email, password: 'another password' } });
    expectStatus(res, 201);
    expectStatus(await login(a.email, 'another password', other.companyId), 200);
    expectStatus(await login(a.email, PASSWORD), 200);
    // And neither company sees the other's client.
    expectStatus(await api.call('GET', `/v1/clients/${res.body.id}`, { token: api.facts.staffToken }), 404);
    expectStatus(await api.call('GET', `/v1/clients/${a.id}`, { token: other.staffToken }), 404);
  });

  it('PATCH to a taken email or username → 409 naming it; the client is unchanged', async () => {
    const a = await newClient();
    const b = await newClient();
    const res = await api.staff('PATCH', `/v1/clients/${b.id}`, { email: a.email });
    expectStatus(res, 409);
    expect(errorPaths(res)).toEqual(['email']);
    const res2 = await api.staff('PATCH', `/v1/clients/${b.id}`, { username: a.username });
    expectStatus(res2, 409);
    expect(errorPaths(res2)).toEqual(['username']);
    const read = await api.staff('GET', `/v1/clients/${b.id}`);
    expect(read.body).toMatchObject({ email: b.email, username: b.username, version: 1 });
  });
});

describe('updating a client (staff)', () => {
  it('changes fields, bumps the version, honours If-Match and records the change', async () => {
    const c = await newClient();
    const res = await api.staff(
      'PATCH',
      `/v1/clients/${c.id}`,
      { company: 'Renamed Ltd', phones: [{ type: 'fax', location: 'work', number: '555-9999' }], taxExempt: true },
      { 'if-match': '"1"' },
    );
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ company: 'Renamed Ltd', defaultFax: '555-9999', taxExempt: true, version: 2 });
    const stale = await api.staff('PATCH', `/v1/clients/${c.id}`, { city: 'Paris' }, { 'if-match': '1' });
    expectStatus(stale, 409);
    const log = await activity(c.id);
    const updated = log.find((e) => e.action === 'client.updated');
    expect(updated?.details.fields).toEqual(expect.arrayContaining(['company', 'phones', 'taxExempt']));
    expect(updated?.actor.type).toBe('staff');
  });

  it('renames the login with the username and sets a new password', async () => {
    const c = await newClient();
    const username = unique('renamed');
    expectStatus(await api.staff('PATCH', `/v1/clients/${c.id}`, { username, password: 'a brand new password' }), 200);
    expectStatus(await login(c.username), 401);
    expectStatus(await login(username, 'a brand new password'), 200);
  });

  it('gives a login to a client that had none when it gets a username', async () => {
    const res = await api.staff('POST', '/v1/clients', { company: 'Later Login' });
    const username = unique('later');
    const patched = await api.staff('PATCH', `/v1/clients/${res.body.id}`, { username, password: PASSWORD });
    expectStatus(patched, 200);
    expect(patched.body.hasLogin).toBe(true);
    expectStatus(await login(username), 200);
  });

  it('a username a staff login already has → 409 naming username, and the client and its login are unchanged', async () => {
    const c = await newClient();
    const res = await api.staff('PATCH', `/v1/clients/${c.id}`, { username: api.facts.staffUsername, city: 'Oslo' });
    expectStatus(res, 409);
    expect(errorPaths(res)).toEqual(['username']);
    expect((await api.staff('GET', `/v1/clients/${c.id}`)).body).toMatchObject({ username: c.username, city: null, version: 1 });
    expectStatus(await login(c.username), 200);
    expectStatus(await login(api.facts.staffUsername, api.facts.staffPassword), 200);

    const bare = await api.staff('POST', '/v1/clients', { company: 'Bare' });
    const res2 = await api.staff('PATCH', `/v1/clients/${bare.body.id}`, { username: api.facts.staffUsername, password: PASSWORD });
    expectStatus(res2, 409);
    expect(errorPaths(res2)).toEqual(['username']);
    expect((await api.staff('GET', `/v1/clients/${bare.body.id}`)).body).toMatchObject({ username: null, hasLogin: false, version: 1 });
    // The freed-up name can still be given to it later.
    const later = unique('bare');
    expectStatus(await api.staff('PATCH', `/v1/clients/${bare.body.id}`, { username: later, password: PASSWORD }), 200);
    expectStatus(await login(later), 200);
  });

  it('a change of case in the username keeps the login working', async () => {
    const username = unique('CaseUser');
    const c = await newClient({ username });
    const res = await api.staff('PATCH', `/v1/clients/${c.id}`, { username: username.toUpperCase() });
    expectStatus(res, 200);
    expect(res.body.username).toBe(username.toUpperCase());
    expectStatus(await login(username), 200);
    expectStatus(await login(username.toUpperCase()), 200);
  });

  it('removing the username removes the login', async () => {
    const c = await newClient();
    const res = await api.staff('PATCH', `/v1/clients/${c.id}`, { username: null });
    expectStatus(res, 200);
    expect(res.body).toMatchObject({ username: null, hasLogin: false });
    expectStatus(await login(c.email), 401);
  });

  it('a password for a client without a login → 400, and nothing else in the request is applied', async () => {
    const bare = await api.staff('POST', '/v1/clients', { company: 'No Login Yet' });
    const res = await api.staff('PATCH', `/v1/clients/${bare.body.id}`, { city: 'Madrid', password: PASSWORD });
    expectStatus(res, 400);
    expect(errorPaths(res)).toEqual(['password']);
    expect((await api.staff('GET', `/v1/clients/${bare.body.id}`)).body).toMatchObject({ city: null, version: 1 });
  });

  it('refuses to remove the name a client needs, an unknown group and a currency outside the company list', async () => {
    const c = await api.staff('POST', '/v1/clients', { company: 'Needs Name' });
    expect(errorPaths(await api.staff('PATCH', `/v1/clients/${c.body.id}`, { company: null }))).toContain('company');
    expect(errorPaths(await api.staff('PATCH', `/v1/clients/${c.body.id}`, { groupId: 'grp_missing' }))).toContain('groupId');
    expect(errorPaths(await api.staff('PATCH', `/v1/clients/${c.body.id}`, { currency: 'JPY' }))).toContain('currency');
    expect((await api.staff('GET', `/v1/clients/${c.body.id}`)).body.version).toBe(1);
  });

  it('404 for an unknown client', async () => {
    expectStatus(await api.staff('GET', '/v1/clients/cl_doesnotexist'), 404);
    expectStatus(await api.staff('PATCH', '/v1/clients/cl_doesnotexist', { city: 'x' }), 404);
    expectStatus(await api.staff('DELETE', '/v1/clients/cl_doesnotexist'), 404);
    expectStatus(await api.staff('POST', '/v1/clients/cl_doesnotexist/status', { status: 'fraud' }), 404);
  });
});

describe('status: inactive and fraud clients cannot log in', () => {
  for (const status of ['inactive', 'fraud'] as const) {
    it(`${status}: no new token (401 "not active"), and an existing client token stops working`, async () => {
      const c = await newClient();
      const token = await clientToken(c.email);
      expectStatus(await asClient(token, 'GET', `/v1/clients/${c.id}`), 200);

      const changed = await api.staff('POST', `/v1/clients/${c.id}/status`, { status });
      expectStatus(changed, 200);
      expect(changed.body).toMatchObject({ id: c.id, status, version: 2 });

      const denied = await login(c.email);
      expectStatus(denied, 401);
      expect(denied.body.detail).toMatch(/not active/i);
      const old = await asClient(token, 'GET', `/v1/clients/${c.id}`);
      expectStatus(old, 401);
      expect(old.body.detail).toMatch(/not active/i);

      // A wrong password for an active client is the plain "wrong credentials".
      const entry = (await activity(c.id)).find((e) => e.action === 'client.status_changed');
      expect(entry?.details).toEqual({ from: 'active', to: status });

      expectStatus(await api.staff('POST', `/v1/clients/${c.id}/status`, { status: 'active' }), 200);
      expectStatus(await login(c.email), 200);
      expectStatus(await asClient(token, 'GET', `/v1/clients/${c.id}`), 200);
    });
  }

  it('wrong credentials are a 401 that does not say "not active"', async () => {
    const c = await newClient();
    const res = await login(c.email, 'the wrong password');
    expectStatus(res, 401);
    expect(res.body.detail).not.toMatch(/not active/i);
  });

  it('rejects an unknown status', async () => {
    const c = await newClient();
    const res = await api.staff('POST', `/v1/clients/${c.id}/status`, { status: 'banned' });
    expectStatus(res, 400);
    expect(errorPaths(res)).toContain('status');
  });
});

describe('client tokens', () => {
  it('read their own profile (without sticky notes) and nothing else', async () => {
    const me = await newClient();
    const other = await newClient();
    expectStatus(await api.staff('POST', `/v1/clients/${me.id}/notes`, { summary: 'Staff eyes only', sticky: true }), 201);
    const token = await clientToken(me.email);
    const own = await asClient(token, 'GET', `/v1/clients/${me.id}`);
    expectStatus(own, 200);
    expect(own.body.id).toBe(me.id);
    expect(own.body).not.toHaveProperty('stickyNotes');
    expect(own.text).not.toContain('Staff eyes only');
    expectStatus(await asClient(token, 'GET', `/v1/clients/${me.id}/summary`), 200);

    for (const [method, path] of [
      ['GET', `/v1/clients/${other.id}`],
      ['PATCH', `/v1/clients/${other.id}`],
      ['GET', `/v1/clients/${other.id}/summary`],
      ['GET', `/v1/clients/${other.id}/contacts`],
      ['POST', `/v1/clients/${other.id}/contacts`],
      ['GET', '/v1/clients/cl_doesnotexist'],
    ] as const) {
      const res = await asClient(
        token,
        method,
        path,
        method === 'GET' ? undefined : method === 'PATCH' ? { city: 'X' } : { type: 'billing', firstName: 'A', lastName: 'B', email: 'a@b.co' },
      );
      expect(res.status, `${method} ${path}`).toBe(404);
    }
  });

  it('get 403 on staff-only routes, whatever the id', async () => {
    const me = await newClient();
    const other = await newClient();
    const token = await clientToken(me.email);
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/v1/clients'],
      ['POST', '/v1/clients', { company: 'Sneaky' }],
      ['POST', '/v1/clients/bulk', { action: 'delete', ids: [other.id] }],
      ['DELETE', `/v1/clients/${me.id}`],
      ['DELETE', `/v1/clients/${other.id}`],
      ['POST', `/v1/clients/${me.id}/status`, { status: 'active' }],
      ['POST', `/v1/clients/${me.id}/merge`, { intoClientId: other.id }],
      ['POST', `/v1/clients/${other.id}/login-as`],
      ['POST', `/v1/clients/${me.id}/send-login-details`],
      ['GET', `/v1/clients/${me.id}/activity`],
      ['GET', `/v1/clients/${me.id}/notes`],
      ['POST', `/v1/clients/${me.id}/notes`, { summary: 'x' }],
      ['GET', `/v1/clients/${other.id}/notes`],
      ['GET', '/v1/client-groups'],
      ['GET', '/v1/settings'],
    ];
    for (const [method, path, body] of routes) {
      const res = await asClient(token, method, path, body);
      expect(res.status, `${method} ${path}`).toBe(403);
    }
  });

  it('operator tokens get 403 and missing or bad tokens 401 on client routes', async () => {
    const c = await newClient();
    for (const [method, path] of [
      ['GET', '/v1/clients'],
      ['GET', `/v1/clients/${c.id}`],
      ['GET', `/v1/clients/${c.id}/contacts`],
      ['GET', `/v1/clients/${c.id}/notes`],
    ] as const) {
      expect((await api.call(method, path, { token: api.facts.operatorToken })).status, `${method} ${path}`).toBe(403);
      expect((await api.call(method, path)).status, `${method} ${path}`).toBe(401);
      expect((await api.call(method, path, { token: 'not.a.jwt' })).status, `${method} ${path}`).toBe(401);
    }
  });

  it('may change only the allowed fields of their own profile; anything else → 400 naming each field', async () => {
    const me = await newClient();
    const token = await clientToken(me.email);
    const allowed = {
      title: 'CTO',
      address1: '1 Main St',
      address2: 'Suite 5',
      city: 'Vienna',
      country: 'Austria',
      state: 'Wien',
      zip: '1010',
      phones: [{ type: 'fax', location: 'work', number: '030 1234' }],
      language: 'de',
      marketingOptIn: true,
    };
    const ok = await asClient(token, 'PATCH', `/v1/clients/${me.id}`, allowed);
    expectStatus(ok, 200);
    expect(ok.body).toMatchObject({ ...allowed, country: 'AT', defaultFax: '030 1234', version: 2 });
    expect(ok.body).not.toHaveProperty('stickyNotes');

    for (const field of ['firstName', 'lastName', 'company', 'email', 'taxExempt', 'taxId', 'currency', 'username', 'groupId', 'customFields']) {
      const value = {
        firstName: 'X',
        lastName: 'Y',
        company: 'Z',
        email: 'new@example.com',
        taxExempt: true,
        taxId: 'T',
        currency: 'EUR',
        username: 'newname',
        groupId: defaultGroupId,
        customFields: { a: 'b' },
      }[field];
      const res = await asClient(token, 'PATCH', `/v1/clients/${me.id}`, { city: 'Hamburg', [field]: value });
      expect(res.status, field).toBe(400);
      expect(errorPaths(res), field).toEqual([field]);
    }
    const several = await asClient(token, 'PATCH', `/v1/clients/${me.id}`, { email: null, taxExempt: true, city: 'Hamburg' });
    expectStatus(several, 400);
    expect(errorPaths(several).sort()).toEqual(['email', 'taxExempt']);
    const unknown = await asClient(token, 'PATCH', `/v1/clients/${me.id}`, { status: 'active' });
    expectStatus(unknown, 400);
    expect(errorPaths(unknown)).toContain('status');
    expect((await api.staff('GET', `/v1/clients/${me.id}`)).body).toMatchObject({ city: 'Vienna', email: me.email, taxExempt: false, version: 2 });

    // The password, too; the new one logs in and the old one no longer does.
    expectStatus(await asClient(token, 'PATCH', `/v1/clients/${me.id}`, { password: 'my own new password' }), 200);
    expectStatus(await login(me.email), 401);
    expectStatus(await login(me.email, 'my own new password'), 200);
    const log = await activity(me.id);
    expect(log.some((e) => e.action === 'client.updated' && e.actor.type === 'client' && e.actor.id === me.id)).toBe(true);
  });

  it('manage their own contacts', async () => {
    const me = await newClient();
    const token = await clientToken(me.email);
    const created = await asClient(token, 'POST', `/v1/clients/${me.id}/contacts`, {
      type: 'technical',
      firstName: 'Tech',
      lastName: 'Person',
      email: 'tech@example.com',
    });
    expectStatus(created, 201);
    expectStatus(await asClient(token, 'GET', `/v1/clients/${me.id}/contacts/${created.body.id}`), 200);
    const other = await newClient();
    const theirs = await api.staff('POST', `/v1/clients/${other.id}/contacts`, { type: 'billing', firstName: 'B', lastName: 'C', email: 'bc@example.com' });
    expectStatus(await asClient(token, 'GET', `/v1/clients/${other.id}/contacts/${theirs.body.id}`), 404);
    expectStatus(await asClient(token, 'DELETE', `/v1/clients/${other.id}/contacts/${theirs.body.id}`), 404);
    expectStatus(await asClient(token, 'DELETE', `/v1/clients/${me.id}/contacts/${created.body.id}`), 204);
  });
});

describe('bulk actions', () => {
  it('deactivates, activates and deletes with one result per id', async () => {
    const a = await newClient();
    const b = await newClient();
    const c = await newClient();
    const tokenA = await clientToken(a.email);

    const off = await api.staff('POST', '/v1/clients/bulk', { action: 'deactivate', ids: [a.id, b.id, 'cl_missing'] });
    expectStatus(off, 200);
    expect(off.body.results).toHaveLength(3);
    expect(off.body.results[0]).toEqual({ id: a.id, ok: true });
    expect(off.body.results[1]).toEqual({ id: b.id, ok: true });
    expect(off.body.results[2]).toMatchObject({ id: 'cl_missing', ok: false, error: { status: 404 } });
    expect((await api.staff('GET', `/v1/clients/${a.id}`)).body.status).toBe('inactive');
    expect((await api.staff('GET', `/v1/clients/${c.id}`)).body.status).toBe('active');
    expectStatus(await login(a.email), 401);
    expectStatus(await asClient(tokenA, 'GET', `/v1/clients/${a.id}`), 401);

    const on = await api.staff('POST', '/v1/clients/bulk', { action: 'activate', ids: [a.id] });
    expect(on.body.results).toEqual([{ id: a.id, ok: true }]);
    expect((await api.staff('GET', `/v1/clients/${a.id}`)).body.status).toBe('active');
    expectStatus(await login(a.email), 200);

    const del = await api.staff('POST', '/v1/clients/bulk', { action: 'delete', ids: [b.id, c.id, b.id] });
    expectStatus(del, 200);
    expect(del.body.results[0]).toEqual({ id: b.id, ok: true });
    expect(del.body.results[1]).toEqual({ id: c.id, ok: true });
    expect(del.body.results[2]).toMatchObject({ id: b.id, ok: false, error: { status: 404 } });
    expectStatus(await api.staff('GET', `/v1/clients/${b.id}`), 404);
    expectStatus(await api.staff('GET', `/v1/clients/${c.id}`), 404);
    expectStatus(await login(c.email), 401);
  });

  it('validates the action and 1–100 ids', async () => {
    expectStatus(await api.staff('POST', '/v1/clients/bulk', { action: 'fraud', ids: ['cl_x'] }), 400);
    expectStatus(await api.staff('POST', '/v1/clients/bulk', { action: 'delete', ids: [] }), 400);
    expectStatus(await api.staff('POST', '/v1/clients/bulk', { action: 'delete', ids: Array.from({ length: 101 }, (_, i) => `cl_${i}`) }), 400);
    const hundred = await api.staff('POST', '/v1/clients/bulk', { action: 'activate', ids: Array.from({ length: 100 }, (_, i) => `cl_${i}`) });
    expectStatus(hundred, 200);
    expect(hundred.body.results).toHaveLength(100);
    expect(hundred.body.results.every((r: { ok: boolean }) => !r.ok)).toBe(true);
  });
});

describe('login-as', () => {
  it('returns a client token for that client and records it in the activity', async () => {
    const c = await newClient();
    const res = await api.staff('POST', `/v1/clients/${c.id}/login-as`);
    expectStatus(res, 200);
    expect(res.body).toEqual({ token: expect.any(String), expiresIn: expect.any(Number) });
    const own = await asClient(res.body.token, 'GET', `/v1/clients/${c.id}`);
    expectStatus(own, 200);
    expect(own.body).not.toHaveProperty('stickyNotes');
    expectStatus(await asClient(res.body.token, 'GET', '/v1/clients'), 403);
    const log = await activity(c.id);
    const entry = log.find((e) => e.action === 'client.login_as');
    expect(entry).toBeDefined();
    expect(entry!.actor.type).toBe('staff');
  });

  it('refuses a client that is not active or has no login', async () => {
    const c = await newClient();
    expectStatus(await api.staff('POST', `/v1/clients/${c.id}/status`, { status: 'fraud' }), 200);
    expectStatus(await api.staff('POST', `/v1/clients/${c.id}/login-as`), 422);
    const noLogin = await api.staff('POST', '/v1/clients', { company: 'No Login' });
    expectStatus(await api.staff('POST', `/v1/clients/${noLogin.body.id}/login-as`), 422);
    expectStatus(await api.staff('POST', '/v1/clients/cl_missing/login-as'), 404);
  });
});

describe('send-login-details and set-password', () => {
  it('202 with a link valid 72 h, recorded in the activity', async () => {
    const c = await newClient();
    const before = Date.now();
    const res = await api.staff('POST', `/v1/clients/${c.id}/send-login-details`);
    expectStatus(res, 202);
    expect(res.text).not.toContain(PASSWORD);
    const expiresAt = Date.parse(res.body.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 72 * 3600_000 - 2000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 72 * 3600_000 + 2000);
    expect((await activity(c.id)).some((e) => e.action === 'client.login_details_sent')).toBe(true);
    const noLogin = await api.staff('POST', '/v1/clients', { company: 'Nobody' });
    expectStatus(await api.staff('POST', `/v1/clients/${noLogin.body.id}/send-login-details`), 422);
  });

  it('the one-time token sets the password once (204); used, unknown or expired → 400', async () => {
    const c = await newClient();
    const link = await createSetPasswordLink(companyId, await requireClient(companyId, c.id), null);
    expect(link.url).toContain(encodeURIComponent(link.token));

    const short = await api.call('POST', '/v1/auth/set-password', { body: { token: link.token, password: 'short' } });
    expectStatus(short, 400);
    expect(errorPaths(short)).toContain('password');

    const used = await api.call('POST', '/v1/auth/set-password', { body: { token: link.token, password: 'a password from the link' } });
    expectStatus(used, 204);
    expectStatus(await login(c.email, 'a password from the link'), 200);
    expectStatus(await login(c.email), 401);

    const again = await api.call('POST', '/v1/auth/set-password', { body: { token: link.token, password: 'another password here' } });
    expectStatus(again, 400);
    expect(errorPaths(again)).toContain('token');
    expectStatus(await login(c.email, 'another password here'), 401);

    const unknown = await api.call('POST', '/v1/auth/set-password', { body: { token: 'not-a-real-token', password: 'whatever password' } });
    expectStatus(unknown, 400);
    expect(errorPaths(unknown)).toContain('token');

    // A token made 72 h and a minute ago has expired.
    const realNow = Date.now();
    const spy = vi.spyOn(Date, 'now').mockReturnValue(realNow - (72 * 3600 + 60) * 1000);
    let expired: { token: string };
    try {
      expired = await createSetPasswordLink(companyId, await requireClient(companyId, c.id), null);
    } finally {
      spy.mockRestore();
    }
    const late = await api.call('POST', '/v1/auth/set-password', { body: { token: expired.token, password: 'too late password' } });
    expectStatus(late, 400);
    expectStatus(await login(c.email, 'too late password'), 401);

    // One made 71 h ago still works.
    const spy2 = vi.spyOn(Date, 'now').mockReturnValue(realNow - 71 * 3600 * 1000);
    let fresh: { token: string };
    try {
      fresh = await createSetPasswordLink(companyId, await requireClient(companyId, c.id), null);
    } finally {
      spy2.mockRestore();
    }
    expectStatus(await api.call('POST', '/v1/auth/set-password', { body: { token: fresh.token, password: 'just in time pw' } }), 204);
    expectStatus(await login(c.email, 'just in time pw'), 200);
  });

  it('two uses of the same token at once: exactly one succeeds', async () => {
    const c = await newClient();
    const link = await createSetPasswordLink(companyId, await requireClient(companyId, c.id), null);
    const results = await Promise.all(
      ['first racing password', 'second racing password'].map((password) =>
        api.call('POST', '/v1/auth/set-password', { body: { token: link.token, password } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([204, 400]);
  });

  it('a token is void once the client is deleted', async () => {
    const c = await newClient();
    const link = await createSetPasswordLink(companyId, await requireClient(companyId, c.id), null);
    expectStatus(await api.staff('DELETE', `/v1/clients/${c.id}`), 204);
    expectStatus(await api.call('POST', '/v1/auth/set-password', { body: { token: link.token, password: 'ghost password' } }), 400);
  });
});

describe('contacts', () => {
  // Tests here change company settings (a contact type, required fields): each test's changes are put back, so
  // the other tests of this file, in whatever order, see the company as it was.
  let settingsBefore: { contactTypes: string[]; requiredContactFields: string[] };
  beforeEach(async () => {
    const { contactTypes, requiredContactFields } = (await api.staff('GET', '/v1/settings')).body;
    settingsBefore = { contactTypes, requiredContactFields };
  });
  afterEach(async () => {
    expectStatus(await api.staff('PATCH', '/v1/settings', settingsBefore), 200);
  });

  it('adds billing, technical and company-defined contacts with phones; lists, reads, changes and deletes them', async () => {
    const c = await newClient();
    const billing = await api.staff('POST', `/v1/clients/${c.id}/contacts`, {
      type: 'billing',
      firstName: 'Bill',
      lastName: 'Payer',
      email: 'bill@example.com',
      company: 'Payer Co',
      country: 'France',
      phones: [
        { type: 'phone', location: 'work', number: '+33 1 23 45 67 89' },
        { type: 'fax', location: 'work', number: '+33 1 23 45 67 80' },
      ],
    });
    expectStatus(billing, 201);
    expect(billing.body).toMatchObject({ type: 'billing', clientId: c.id, firstName: 'Bill', country: 'FR', version: 1 });
    expect(billing.body.id).toMatch(/^ct_/);
    expect(billing.body.phones).toHaveLength(2);
    expectStatus(
      await api.staff('POST', `/v1/clients/${c.id}/contacts`, { type: 'technical', firstName: 'Tess', lastName: 'Tech', email: 'tess@example.com' }),
      201,
    );

    const unknownType = await api.staff('POST', `/v1/clients/${c.id}/contacts`, { type: 'reseller', firstName: 'R', lastName: 'S', email: 'r@example.com' });
    expectStatus(unknownType, 400);
    expect(errorPaths(unknownType)).toContain('type');
    expectStatus(await api.staff('PATCH', '/v1/settings', { contactTypes: ['reseller'] }), 200);
    const reseller = await api.staff('POST', `/v1/clients/${c.id}/contacts`, { type: 'reseller', firstName: 'R', lastName: 'S', email: 'r@example.com' });
    expectStatus(reseller, 201);

    const list = await api.staff('GET', `/v1/clients/${c.id}/contacts`);
    expectStatus(list, 200);
    expect(list.body.data.map((x: { type: string }) => x.type).sort()).toEqual(['billing', 'reseller', 'technical']);
    expect(list.body.nextCursor).toBeNull();
    const page1 = await api.staff('GET', `/v1/clients/${c.id}/contacts?limit=2`);
    expect(page1.body.data).toHaveLength(2);
    const page2 = await api.staff('GET', `/v1/clients/${c.id}/contacts?limit=2&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    expect(page2.body.data).toHaveLength(1);

    const patched = await api.staff('PATCH', `/v1/clients/${c.id}/contacts/${billing.body.id}`, { city: 'Lyon' }, { 'if-match': '1' });
    expectStatus(patched, 200);
    expect(patched.body).toMatchObject({ city: 'Lyon', firstName: 'Bill', version: 2 });
    expectStatus(await api.staff('PATCH', `/v1/clients/${c.id}/contacts/${billing.body.id}`, { city: 'Nice' }, { 'if-match': '1' }), 409);
    expect((await api.staff('GET', `/v1/clients/${c.id}/contacts/${billing.body.id}`)).body.city).toBe('Lyon');

    expectStatus(await api.staff('DELETE', `/v1/clients/${c.id}/contacts/${reseller.body.id}`), 204);
    expectStatus(await api.staff('GET', `/v1/clients/${c.id}/contacts/${reseller.body.id}`), 404);
    expectStatus(await api.staff('DELETE', `/v1/clients/${c.id}/contacts/${reseller.body.id}`), 404);
    // A contact is reached only through its own client.
    const other = await newClient();
    expectStatus(await api.staff('GET', `/v1/clients/${other.id}/contacts/${billing.body.id}`), 404);
    expectStatus(await api.staff('GET', `/v1/clients/cl_missing/contacts`), 404);
  });

  it('needs a first name, last name and email', async () => {
    const c = await newClient();
    const res = await api.staff('POST', `/v1/clients/${c.id}/contacts`, { type: 'billing' });
    expectStatus(res, 400);
    expect(errorPaths(res)).toEqual(expect.arrayContaining(['firstName', 'lastName', 'email']));
  });

  it("enforces the client group's requiredContactFields, naming each missing field", async () => {
    const group = await api.staff('POST', '/v1/client-groups', {
      name: unique('Strict'),
      settings: { requiredContactFields: ['phones', 'address1', 'city', 'country'] },
    });
    expectStatus(group, 201);
    const c = await newClient({ groupId: group.body.id });
    const missing = await api.staff('POST', `/v1/clients/${c.id}/contacts`, {
      type: 'billing',
      firstName: 'Req',
      lastName: 'Fields',
      email: 'req@example.com',
      city: 'Oslo',
    });
    expectStatus(missing, 400);
    expect(errorPaths(missing).sort()).toEqual(['address1', 'country', 'phones']);
    const blank = await api.staff('POST', `/v1/clients/${c.id}/contacts`, {
      type: 'billing',
      firstName: 'Req',
      lastName: 'Fields',
      email: 'req@example.com',
      city: '  ',
      address1: 'A',
      country: 'NO',
      phones: [],
    });
    expect(errorPaths(blank).sort()).toEqual(['city', 'phones']);
    const ok = await api.staff('POST', `/v1/clients/${c.id}/contacts`, {
      type: 'billing',
      firstName: 'Req',
      lastName: 'Fields',
      email: 'req@example.com',
      city: 'Oslo',
      address1: 'Karl Johans gate 1',
      country: 'NO',
      phones: [{ type: 'phone', location: 'work', number: '+47 22 00 00 00' }],
    });
    expectStatus(ok, 201);
    // A change that would drop a required field is refused as well.
    const drop = await api.staff('PATCH', `/v1/clients/${c.id}/contacts/${ok.body.id}`, { address1: null });
    expectStatus(drop, 400);
    expect(errorPaths(drop)).toEqual(['address1']);
    // Clients in other groups are not affected.
    const free = await newClient();
    expectStatus(
      await api.staff('POST', `/v1/clients/${free.id}/contacts`, { type: 'billing', firstName: 'No', lastName: 'Rules', email: 'nr@example.com' }),
      201,
    );
  });

  it('a company-wide requiredContactFields applies to groups without an override; a group override of [] lifts it', async () => {
    const loose = await api.staff('POST', '/v1/client-groups', { name: unique('Loose'), settings: { requiredContactFields: [] } });
    const inDefault = await newClient();
    const inLoose = await newClient({ groupId: loose.body.id });
    expectStatus(await api.staff('PATCH', '/v1/settings', { requiredContactFields: ['zip', 'title'] }), 200);
    try {
      const res = await api.staff('POST', `/v1/clients/${inDefault.id}/contacts`, {
        type: 'technical',
        firstName: 'Z',
        lastName: 'Ip',
        email: 'zip@example.com',
      });
      expectStatus(res, 400);
      expect(errorPaths(res).sort()).toEqual(['title', 'zip']);
      expectStatus(
        await api.staff('POST', `/v1/clients/${inDefault.id}/contacts`, {
          type: 'technical',
          firstName: 'Z',
          lastName: 'Ip',
          email: 'zip@example.com',
          zip: '12345',
          title: 'Ops',
        }),
        201,
      );
      expectStatus(
        await api.staff('POST', `/v1/clients/${inLoose.id}/contacts`, { type: 'technical', firstName: 'Z', lastName: 'Ip', email: 'zip@example.com' }),
        201,
      );
    } finally {
      expectStatus(await api.staff('PATCH', '/v1/settings', { requiredContactFields: [] }), 200);
    }
  });
});

describe('notes', () => {
  it('sticky notes show in the profile newest first; PATCH {sticky:false} unsticks', async () => {
    const clock = useTestClockForThisTest('2025-05-01T09:00:00Z');
    const c = await newClient();
    const first = await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: 'First sticky', details: 'Older', sticky: true });
    expectStatus(first, 201);
    expect(first.body).toMatchObject({ summary: 'First sticky', details: 'Older', sticky: true, clientId: c.id, version: 1 });
    expect(first.body.id).toMatch(/^note_/);
    clock.advance();
    const plain = await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: 'Not sticky' });
    expect(plain.body.sticky).toBe(false);
    clock.advance();
    const second = await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: 'Second sticky', sticky: true });
    expect([first.body.createdAt, second.body.createdAt]).toEqual(['2025-05-01T09:00:00.000Z', '2025-05-01T09:00:02.000Z']);

    let profile = await api.staff('GET', `/v1/clients/${c.id}`);
    expect(profile.body.stickyNotes.map((n: { id: string }) => n.id)).toEqual([second.body.id, first.body.id]);
    expect(profile.body.stickyNotes[1]).toMatchObject({ summary: 'First sticky', details: 'Older' });

    const unstick = await api.staff('PATCH', `/v1/clients/${c.id}/notes/${second.body.id}`, { sticky: false });
    expectStatus(unstick, 200);
    expect(unstick.body).toMatchObject({ sticky: false, summary: 'Second sticky', version: 2 });
    profile = await api.staff('GET', `/v1/clients/${c.id}`);
    expect(profile.body.stickyNotes.map((n: { id: string }) => n.id)).toEqual([first.body.id]);

    const restick = await api.staff('PATCH', `/v1/clients/${c.id}/notes/${plain.body.id}`, { sticky: true, summary: 'Now sticky' });
    expectStatus(restick, 200);
    profile = await api.staff('GET', `/v1/clients/${c.id}`);
    expect(profile.body.stickyNotes.map((n: { summary: string }) => n.summary)).toEqual(['Now sticky', 'First sticky']);

    const list = await api.staff('GET', `/v1/clients/${c.id}/notes`);
    expect(list.body.data).toHaveLength(3);
    expectStatus(await api.staff('DELETE', `/v1/clients/${c.id}/notes/${first.body.id}`), 204);
    profile = await api.staff('GET', `/v1/clients/${c.id}`);
    expect(profile.body.stickyNotes.map((n: { summary: string }) => n.summary)).toEqual(['Now sticky']);
    expectStatus(await api.staff('GET', `/v1/clients/${c.id}/notes/${first.body.id}`), 404);
  });

  it('validates summary and details length', async () => {
    const c = await newClient();
    expect(errorPaths(await api.staff('POST', `/v1/clients/${c.id}/notes`, {}))).toContain('summary');
    expectStatus(await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: 'Long', details: 'x'.repeat(10_000) }), 201);
    expect(errorPaths(await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: 'Too long', details: 'x'.repeat(10_001) }))).toContain('details');
    expectStatus(await api.staff('POST', '/v1/clients/cl_missing/notes', { summary: 'x' }), 404);
  });
});

describe('deleting a client', () => {
  it('removes everything, including the login, and frees its email but not its number', async () => {
    const c = await newClient();
    const token = await clientToken(c.email);
    const contact = await api.staff('POST', `/v1/clients/${c.id}/contacts`, {
      type: 'billing',
      firstName: 'Gone',
      lastName: 'Soon',
      email: 'gone@example.com',
    });
    const note = await api.staff('POST', `/v1/clients/${c.id}/notes`, { summary: 'Gone too', sticky: true });
    expectStatus(await api.staff('DELETE', `/v1/clients/${c.id}`), 204);

    expectStatus(await api.staff('GET', `/v1/clients/${c.id}`), 404);
    expectStatus(await api.staff('GET', `/v1/clients/${c.id}/contacts`), 404);
    expectStatus(await api.staff('GET', `/v1/clients/${c.id}/contacts/${contact.body.id}`), 404);
    expectStatus(await api.staff('GET', `/v1/clients/${c.id}/notes/${note.body.id}`), 404);
    expectStatus(await api.staff('GET', `/v1/clients/${c.id}/activity`), 404);
    expectStatus(await login(c.email), 401);
    const old = await asClient(token, 'GET', `/v1/clients/${c.id}`);
    expectStatus(old, 401);
    const found = await api.staff('GET', `/v1/clients?q=${encodeURIComponent(c.email)}`);
    expect(found.body.data).toEqual([]);

    const again = await newClient({ email: c.email });
    expect(again.number).toBeGreaterThan(c.number);
    const reuse = await api.staff('POST', '/v1/clients', { company: 'Reuse', number: c.number });
    expectStatus(reuse, 409);
    expect(errorPaths(reuse)).toEqual(['number']);
  });
});

describe('merging clients', () => {
  it('moves contacts, notes and activity into the target, deletes the source and its login', async () => {
    const clock = useTestClockForThisTest('2025-05-01T09:00:00Z');
    const target = await newClient({ company: 'Target Co' });
    const source = await newClient({ company: 'Source Co' });
    const sourceToken = await clientToken(source.email);
    const targetContact = await api.staff('POST', `/v1/clients/${target.id}/contacts`, {
      type: 'billing',
      firstName: 'T',
      lastName: 'C',
      email: 't@example.com',
    });
    const sourceContact = await api.staff('POST', `/v1/clients/${source.id}/contacts`, {
      type: 'technical',
      firstName: 'S',
      lastName: 'C',
      email: 's@example.com',
    });
    const targetNote = await api.staff('POST', `/v1/clients/${target.id}/notes`, { summary: 'Target sticky', sticky: true });
    clock.advance();
    const sourceNote = await api.staff('POST', `/v1/clients/${source.id}/notes`, { summary: 'Source sticky', sticky: true });
    const sourcePlain = await api.staff('POST', `/v1/clients/${source.id}/notes`, { summary: 'Source plain' });
    expectStatus(await api.staff('PATCH', `/v1/clients/${source.id}`, { city: 'Source City' }), 200);

    const merged = await api.staff('POST', `/v1/clients/${source.id}/merge`, { intoClientId: target.id });
    expectStatus(merged, 200);
    expect(merged.body).toMatchObject({ id: target.id, company: 'Target Co', number: target.number });
    expect(merged.body.stickyNotes.map((n: { id: string }) => n.id)).toEqual([sourceNote.body.id, targetNote.body.id]);

    const contacts = await api.staff('GET', `/v1/clients/${target.id}/contacts`);
    expect(contacts.body.data.map((c: { id: string }) => c.id).sort()).toEqual([targetContact.body.id, sourceContact.body.id].sort());
    expect(contacts.body.data.every((c: { clientId: string }) => c.clientId === target.id)).toBe(true);
    const moved = await api.staff('GET', `/v1/clients/${target.id}/contacts/${sourceContact.body.id}`);
    expectStatus(moved, 200);
    expect(moved.body.clientId).toBe(target.id);
    const notes = await api.staff('GET', `/v1/clients/${target.id}/notes`);
    expect(notes.body.data.map((n: { id: string }) => n.id).sort()).toEqual([targetNote.body.id, sourceNote.body.id, sourcePlain.body.id].sort());
    expect(notes.body.data.every((n: { clientId: string }) => n.clientId === target.id)).toBe(true);
    // The moved note can be changed through its new client.
    expectStatus(await api.staff('PATCH', `/v1/clients/${target.id}/notes/${sourceNote.body.id}`, { sticky: false }), 200);

    expectStatus(await api.staff('GET', `/v1/clients/${source.id}`), 404);
    expectStatus(await api.staff('GET', `/v1/clients/${source.id}/contacts/${sourceContact.body.id}`), 404);
    expectStatus(await login(source.email), 401);
    expectStatus(await asClient(sourceToken, 'GET', `/v1/clients/${source.id}`), 401);
    expectStatus(await login(target.email), 200);

    const log = await activity(target.id);
    const entry = log.find((e) => e.action === 'client.merged');
    expect(entry?.details).toMatchObject({ fromClientId: source.id, fromNumber: source.number });
    expect(entry?.actor.type).toBe('staff');
    // The source's history came along.
    expect(log.some((e) => e.action === 'client.updated' && (e.details.fields as string[]).includes('city'))).toBe(true);
    // The source's email is free again.
    await newClient({ email: source.email });
  });

  it('refuses merging into itself or into an unknown client, and an unknown source is 404', async () => {
    const a = await newClient();
    const self = await api.staff('POST', `/v1/clients/${a.id}/merge`, { intoClientId: a.id });
    expectStatus(self, 400);
    expect(errorPaths(self)).toEqual(['intoClientId']);
    const unknown = await api.staff('POST', `/v1/clients/${a.id}/merge`, { intoClientId: 'cl_missing' });
    expect([400, 404]).toContain(unknown.status);
    expectStatus(await api.staff('GET', `/v1/clients/${a.id}`), 200);
    expectStatus(await api.staff('POST', `/v1/clients/cl_missing/merge`, { intoClientId: a.id }), 404);
    expectStatus(await api.staff('POST', `/v1/clients/${a.id}/merge`, {}), 400);
  });

  it('cannot merge a client of another company', async () => {
    const a = await newClient();
    const other = await createCompany(api, 'Merge Other', 'USD');
    const theirs = await api.call('POST', '/v1/clients', { token: other.staffToken, body: { company: 'Theirs' } });
    const res = await api.staff('POST', `/v1/clients/${a.id}/merge`, { intoClientId: theirs.body.id });
    expect([400, 404]).toContain(res.status);
    expectStatus(await api.staff('GET', `/v1/clients/${a.id}`), 200);
    expectStatus(await api.call('GET', `/v1/clients/${theirs.body.id}`, { token: other.staffToken }), 200);
  });
});

describe('activity log', () => {
  it('lists changes, status changes, login-as and merges newest first', async () => {
    const clock = useTestClockForThisTest('2025-05-01T09:00:00Z');
    const c = await newClient();
    const other = await newClient();
    expectStatus(await api.staff('PATCH', `/v1/clients/${c.id}`, { city: 'Rome' }), 200);
    clock.advance();
    expectStatus(await api.staff('POST', `/v1/clients/${c.id}/status`, { status: 'inactive' }), 200);
    clock.advance();
    expectStatus(await api.staff('POST', `/v1/clients/${c.id}/status`, { status: 'active' }), 200);
    clock.advance();
    expectStatus(await api.staff('POST', `/v1/clients/${c.id}/login-as`), 200);
    clock.advance();
    expectStatus(await api.staff('POST', `/v1/clients/${other.id}/merge`, { intoClientId: c.id }), 200);

    const log = await activity(c.id);
    const mine = log.filter(
      (e) =>
        ['client.created', 'client.updated', 'client.status_changed', 'client.login_as', 'client.merged'].includes(e.action) && e.action !== 'client.created',
    );
    expect(mine.map((e) => e.action).slice(0, 5)).toEqual([
      'client.merged',
      'client.login_as',
      'client.status_changed',
      'client.status_changed',
      'client.updated',
    ]);
    for (let i = 1; i < log.length; i++) expect(log[i - 1].at >= log[i].at).toBe(true);
    for (const e of log) {
      expect(Object.keys(e).sort()).toEqual(['action', 'actor', 'at', 'details']);
      expect(e.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    }
    expect(log.filter((e) => e.action === 'client.created')).toHaveLength(2);
    const page = await api.staff('GET', `/v1/clients/${c.id}/activity?limit=2`);
    expect(page.body.data).toHaveLength(2);
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const rest = await api.staff('GET', `/v1/clients/${c.id}/activity?limit=100&cursor=${encodeURIComponent(page.body.nextCursor)}`);
    expect(rest.body.data).toHaveLength(log.length - 2);
  });
});

describe('browse', () => {
  it('lists with pagination, validates limit, sort and cursors', async () => {
    // Three of its own, so there is a next page whichever tests ran before this one.
    for (let i = 0; i < 3; i++) await newClient();
    const page = await api.staff('GET', '/v1/clients?limit=2');
    expectStatus(page, 200);
    expect(page.body.data).toHaveLength(2);
    expect(typeof page.body.nextCursor).toBe('string');
    expect(page.body.data[0].number).toBeLessThan(page.body.data[1].number);
    expectStatus(await api.staff('GET', '/v1/clients?limit=0'), 400);
    expectStatus(await api.staff('GET', '/v1/clients?limit=101'), 400);
    expectStatus(await api.staff('GET', '/v1/clients?sort=email'), 400);
    expectStatus(await api.staff('GET', '/v1/clients?status=deleted'), 400);
    const tampered = page.body.nextCursor.slice(0, -2) + (page.body.nextCursor.endsWith('AA') ? 'BB' : 'AA');
    expectStatus(await api.staff('GET', `/v1/clients?limit=2&cursor=${encodeURIComponent(tampered)}`), 400);
    // A cursor of another list (another sort) or another tenant is refused.
    expectStatus(await api.staff('GET', `/v1/clients?limit=2&sort=-number&cursor=${encodeURIComponent(page.body.nextCursor)}`), 400);
    const other = await createCompany(api, 'Cursor Other', 'USD');
    expectStatus(await api.call('GET', `/v1/clients?limit=2&cursor=${encodeURIComponent(page.body.nextCursor)}`, { token: other.staffToken }), 400);
    expectStatus(await api.call('GET', '/v1/clients', { token: other.staffToken }), 200);
  });
});

describe('Done when (issue #3)', () => {
  it('group → client with three phones, billing contact and sticky note → found by company prefix → fraud → merge → delete', async () => {
    const group = await api.staff('POST', '/v1/client-groups', { name: 'Wholesale', color: '#336699', settings: { requiredContactFields: ['phones'] } });
    expectStatus(group, 201);

    const email = `${unique('quux')}@quuxcorp.example`;
    const created = await api.staff('POST', '/v1/clients', {
      firstName: 'Quinn',
      lastName: 'Uxley',
      company: 'Quuxcorp Holdings',
      email,
      password: PASSWORD,
      groupId: group.body.id,
      phones: [
        { type: 'phone', location: 'work', number: '+1 555 0100' },
        { type: 'phone', location: 'mobile', number: '+1 555 0101' },
        { type: 'fax', location: 'work', number: '+1 555 0102' },
      ],
    });
    expectStatus(created, 201);
    const client = created.body;
    expect(client.phones).toHaveLength(3);
    expect(client.defaultFax).toBe('+1 555 0102');
    expect(client.group).toEqual({ id: group.body.id, name: 'Wholesale' });

    const noPhones = await api.staff('POST', `/v1/clients/${client.id}/contacts`, {
      type: 'billing',
      firstName: 'Bea',
      lastName: 'Payne',
      email: 'bea@quuxcorp.example',
    });
    expectStatus(noPhones, 400);
    expect(errorPaths(noPhones)).toEqual(['phones']);
    const contact = await api.staff('POST', `/v1/clients/${client.id}/contacts`, {
      type: 'billing',
      firstName: 'Bea',
      lastName: 'Payne',
      email: 'bea@quuxcorp.example',
      phones: [{ type: 'phone', location: 'work', number: '+1 555 0199' }],
    });
    expectStatus(contact, 201);
    const note = await api.staff('POST', `/v1/clients/${client.id}/notes`, { summary: 'Pays by wire only', sticky: true });
    expectStatus(note, 201);
    const profile = await api.staff('GET', `/v1/clients/${client.id}`);
    expect(profile.body.stickyNotes).toEqual([expect.objectContaining({ id: note.body.id, summary: 'Pays by wire only' })]);

    const found = await api.staff('GET', '/v1/clients?q=quux');
    expectStatus(found, 200);
    expect(found.body.data.map((c: { id: string }) => c.id)).toEqual([client.id]);
    expect((await api.staff('GET', '/v1/clients?q=QUUXC')).body.data.map((c: { id: string }) => c.id)).toEqual([client.id]);

    const token = await clientToken(email);
    expectStatus(await api.staff('POST', `/v1/clients/${client.id}/status`, { status: 'fraud' }), 200);
    const denied = await login(email);
    expectStatus(denied, 401);
    expect(denied.body.detail).toMatch(/not active/i);
    expectStatus(await asClient(token, 'GET', `/v1/clients/${client.id}`), 401);
    expect((await api.staff('GET', `/v1/clients?q=quux&status=fraud`)).body.data.map((c: { id: string }) => c.id)).toEqual([client.id]);
    expect((await api.staff('GET', `/v1/clients?q=quux&status=active`)).body.data).toEqual([]);

    const second = await api.staff('POST', '/v1/clients', { company: 'Quux Second', email: `${unique('second')}@example.com` });
    expectStatus(second, 201);
    const secondContact = await api.staff('POST', `/v1/clients/${second.body.id}/contacts`, {
      type: 'technical',
      firstName: 'Sec',
      lastName: 'Ond',
      email: 'sec@example.com',
    });
    expectStatus(secondContact, 201);
    const merged = await api.staff('POST', `/v1/clients/${second.body.id}/merge`, { intoClientId: client.id });
    expectStatus(merged, 200);
    expect(merged.body.id).toBe(client.id);
    const contacts = await api.staff('GET', `/v1/clients/${client.id}/contacts`);
    expect(contacts.body.data.map((c: { id: string }) => c.id).sort()).toEqual([contact.body.id, secondContact.body.id].sort());
    expectStatus(await api.staff('GET', `/v1/clients/${second.body.id}`), 404);
    expect((await api.staff('GET', '/v1/clients?q=quux')).body.data.map((c: { id: string }) => c.id)).toEqual([client.id]);

    expectStatus(await api.staff('DELETE', `/v1/clients/${client.id}`), 204);
    expectStatus(await api.staff('GET', `/v1/clients/${client.id}`), 404);
    expect((await api.staff('GET', '/v1/clients?q=quux')).body.data).toEqual([]);
    expectStatus(await api.staff('GET', `/v1/clients/${client.id}/contacts/${contact.body.id}`), 404);
  });
});
