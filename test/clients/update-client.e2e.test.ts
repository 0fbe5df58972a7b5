import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/domain/errors.js';
import { startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
/** Changing a client while other requests change it or its group. */
let api: TestApi;
let seq = 0;
const unique = (stem: string) => `${stem}${++seq}${Math.random().toString(36).slice(2, 6)}`;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stack.stop();
});

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
}

describe('concurrent writes', () => {
  it('ten concurrent PATCHes without If-Match are all applied: each 200, and the version moves by ten', async () => {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Race Co') });
    expectStatus(created, 201);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api.staff('PATCH', `/v1/clients/${created.body.id}`, { customFields: { [`writer${i}`]: 'x' }, city: `City ${i}` })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    const after = await api.staff('GET', `/v1/clients/${created.body.id}`);
    expect(after.body.version).toBe(created.body.version + 10);
  });

  it('concurrent PATCHes with the same If-Match: one is applied, every other is a 409 stale_version', async () => {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Guarded Co') });
    expectStatus(created, 201);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api.staff('PATCH', `/v1/clients/${created.body.id}`, { city: `City ${i}` }, { 'if-match': String(created.body.version) }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused.map((r) => [r.status, r.body.code])).toEqual(Array(5).fill([409, 'stale_version']));
  });
});

describe('group delete racing a move into the group', () => {
  it('a client saved into a group that was deleted after the check is refused, not stranded in a missing group', async () => {
    const { getClient, updateClient } = await import('../../functions/store/clients.js');
    const group = await api.staff('POST', '/v1/client-groups', { name: unique('Doomed') });
    expectStatus(group, 201);
    const created = await api.staff('POST', '/v1/clients', { company: unique('Mover Co') });
    expectStatus(created, 201);
    // The PATCH has checked the group exists and read the client; then the group is deleted; then it saves.
    const current = (await getClient(api.facts.companyId, created.body.id))!;
    expectStatus(await api.staff('DELETE', `/v1/client-groups/${group.body.id}`), 204);
    await expect(updateClient(api.facts.companyId, current, { ...current, groupId: group.body.id, version: current.version + 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const after = await api.staff('GET', `/v1/clients/${created.body.id}`);
    expect(after.body.groupId).not.toBe(group.body.id);
  });
});

describe('changing the client number (staff)', () => {
  const freshNumber = () => 800_000_000 + Math.floor(Math.random() * 100_000_000);

  it('moves the client to the new number: it is read, listed and searched by it, and the version moves', async () => {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Renumbered Co') });
    expectStatus(created, 201);
    // Above every number the company has, whichever tests ran before, so the client is the last by number.
    const highest: number = (await api.staff('GET', '/v1/clients?sort=-number&limit=1')).body.data[0].number;
    const number = Math.max(highest, freshNumber()) + 1;
    const patched = await api.staff('PATCH', `/v1/clients/${created.body.id}`, { number });
    expectStatus(patched, 200);
    expect(patched.body.number).toBe(number);
    expect(patched.body.version).toBe(created.body.version + 1);
    expect((await api.staff('GET', `/v1/clients/${created.body.id}`)).body.number).toBe(number);
    const found = await api.staff('GET', `/v1/clients?q=${number}`);
    expect(found.body.data.map((c: { id: string }) => c.id)).toEqual([created.body.id]);
    const last = await api.staff('GET', '/v1/clients?sort=-number&limit=1');
    expect(last.body.data[0].id).toBe(created.body.id);
  });

  it('a number another client has, or one a client had before, → 409 naming number, and nothing changes', async () => {
    const first = await api.staff('POST', '/v1/clients', { company: unique('First Co') });
    const second = await api.staff('POST', '/v1/clients', { company: unique('Second Co') });
    const taken = await api.staff('PATCH', `/v1/clients/${second.body.id}`, { number: first.body.number, city: 'Nowhere' });
    expectStatus(taken, 409);
    expect(taken.body.errors.map((e: { path: string }) => e.path)).toEqual(['number']);
    const unchanged = await api.staff('GET', `/v1/clients/${second.body.id}`);
    expect([unchanged.body.number, unchanged.body.city, unchanged.body.version]).toEqual([second.body.number, null, second.body.version]);

    const oldNumber = first.body.number;
    expectStatus(await api.staff('PATCH', `/v1/clients/${first.body.id}`, { number: freshNumber() }), 200);
    const reuse = await api.staff('PATCH', `/v1/clients/${second.body.id}`, { number: oldNumber });
    expectStatus(reuse, 409);
    expect(reuse.body.errors.map((e: { path: string }) => e.path)).toEqual(['number']);
    const create = await api.staff('POST', '/v1/clients', { company: unique('Third Co'), number: oldNumber });
    expectStatus(create, 409);
  });

  it('the next numbered client comes after a number given by PATCH', async () => {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Jump Co') });
    const number = 1_000_000_000 + Math.floor(Math.random() * 1_000_000);
    expectStatus(await api.staff('PATCH', `/v1/clients/${created.body.id}`, { number }), 200);
    const next = await api.staff('POST', '/v1/clients', { company: unique('After Co') });
    expectStatus(next, 201);
    expect(next.body.number).toBe(number + 1);
  });

  it('a client token may not change its number: 400 naming it', async () => {
    const email = `${unique('numbered')}@example.com`;
    const created = await api.staff('POST', '/v1/clients', { firstName: 'Num', lastName: 'Ber', email, password: 'correct horse battery' });
    const login = await api.staff('POST', `/v1/clients/${created.body.id}/login-as`);
    expectStatus(login, 200);
    const res = await api.call('PATCH', `/v1/clients/${created.body.id}`, { token: login.body.token, body: { number: freshNumber() } });
    expectStatus(res, 400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(['number']);
  });
});
