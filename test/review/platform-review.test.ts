import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompany, startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
import { ValidationError } from '../../functions/domain/errors.js';

/** Review probes: defects found in the platform, companies and clients areas, each pinned by a test. */
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

describe('key lengths', () => {
  // U+FDFA folds (NFKD) to 18 characters, 33 UTF-8 bytes: a 100-character last name becomes a 3,300-byte sort key.
  const LONG = '\uFDFA'.repeat(100);

  it('a client whose names fold to more than DynamoDB\'s 1,024-byte sort key is created, listed and found', async () => {
    const created = await api.staff('POST', '/v1/clients', { firstName: LONG, lastName: LONG, company: '\uFDFA'.repeat(200), email: `${unique('long')}@example.com` });
    expectStatus(created, 201);
    const sorted = await api.staff('GET', '/v1/clients?sort=lastName&limit=100');
    expectStatus(sorted, 200);
    expect(sorted.body.data.map((c: { id: string }) => c.id)).toContain(created.body.id);
    const found = await api.staff('GET', `/v1/clients?q=${encodeURIComponent('\uFDFA'.repeat(3))}`);
    expectStatus(found, 200);
    expect(found.body.data.map((c: { id: string }) => c.id)).toContain(created.body.id);
    const patched = await api.staff('PATCH', `/v1/clients/${created.body.id}`, { company: '\uFDFB'.repeat(200) });
    expectStatus(patched, 200);
    const deleted = await api.staff('DELETE', `/v1/clients/${created.body.id}`);
    expectStatus(deleted, 204);
  });

  it('a search term that folds to more than 1,024 bytes is answered, not a 500', async () => {
    const res = await api.staff('GET', `/v1/clients?q=${encodeURIComponent('\uFDFA'.repeat(200))}`);
    expectStatus(res, 200);
  });
});

describe('create rollback', () => {
  it('a create that fails on the login (username of a staff login) does not keep the number it asked for', async () => {
    const number = 700_000 + Math.floor(Math.random() * 1000);
    const clash = await api.staff('POST', '/v1/clients', { company: 'Clash Ltd', username: api.facts.staffUsername, number });
    expectStatus(clash, 409);
    expect(clash.body.errors?.[0]?.path).toBe('username');
    const retry = await api.staff('POST', '/v1/clients', { company: 'Clash Ltd', username: unique('clash'), number });
    expectStatus(retry, 201);
    expect(retry.body.number).toBe(number);
  });
});

async function clientLogin(): Promise<{ id: string; token: string }> {
  const username = unique('cli');
  const password = 'client password 1';
  const created = await api.staff('POST', '/v1/clients', { firstName: 'Casey', lastName: 'Client', email: `${username}@example.com`, username, password });
  expectStatus(created, 201);
  const login = await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username, password } });
  expectStatus(login, 200);
  return { id: created.body.id, token: login.body.token };
}

describe('idempotency across client tokens', () => {
  it("another client's Idempotency-Key never replays that client's response", async () => {
    const a = await clientLogin();
    const b = await clientLogin();
    const key = unique('key');
    const body = { type: 'billing', firstName: 'Pat', lastName: 'Payer', email: 'pat@example.com' };
    const first = await api.call('POST', `/v1/clients/${a.id}/contacts`, { token: a.token, body, headers: { 'idempotency-key': key } });
    expectStatus(first, 201);
    const other = await api.call('POST', `/v1/clients/${a.id}/contacts`, { token: b.token, body, headers: { 'idempotency-key': key } });
    expect(other.status).not.toBe(201);
    expect(other.headers.get('idempotent-replayed')).toBeNull();
    expect(JSON.stringify(other.body)).not.toContain(first.body.id);
  });
});

describe('merge races', () => {
  async function clientWithContacts(n: number): Promise<string> {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Merge Co') });
    expectStatus(created, 201);
    for (let i = 0; i < n; i++) expectStatus(await api.staff('POST', `/v1/clients/${created.body.id}/contacts`, { type: 'billing', firstName: 'C', lastName: String(i), email: `c${i}@example.com` }), 201);
    return created.body.id;
  }

  it('merging A into B while B is merged into A loses nothing: one merge wins, the other is refused', async () => {
    const a = await clientWithContacts(6);
    const b = await clientWithContacts(6);
    const [ab, ba] = await Promise.all([api.staff('POST', `/v1/clients/${a}/merge`, { intoClientId: b }), api.staff('POST', `/v1/clients/${b}/merge`, { intoClientId: a })]);
    // The loser is refused (409 while the winner runs; 404/400 if the winner already finished), never both lost.
    expect(ab.status === 200 || ba.status === 200).toBe(true);
    expect([400, 404, 409]).toContain(ab.status === 200 ? ba.status : ab.status);
    const survivor = ab.status === 200 ? b : a;
    const contacts = await api.staff('GET', `/v1/clients/${survivor}/contacts?limit=100`);
    expectStatus(contacts, 200);
    expect(contacts.body.data).toHaveLength(12);
  });

  it('a merge into a client that is gone by the time items move moves nothing into the void', async () => {
    const { moveClientPartition } = await import('../../functions/store/client-partition.js');
    const a = await clientWithContacts(2);
    await expect(moveClientPartition(api.facts.companyId, a, 'cl_00000000000000000000000000')).rejects.toBeInstanceOf(ValidationError);
    const contacts = await api.staff('GET', `/v1/clients/${a}/contacts`);
    expect(contacts.body.data).toHaveLength(2);
  });
});

describe('contacts after the company drops a contact type', () => {
  it('a contact of a removed type can still be edited; changing to an unknown type is a 400', async () => {
    const co = await createCompany(api, 'Types Co', 'USD');
    const as = (method: string, path: string, body?: unknown) => api.call(method, path, { token: co.staffToken, body });
    expectStatus(await as('PATCH', '/v1/settings', { contactTypes: ['ops'] }), 200);
    const client = await as('POST', '/v1/clients', { company: 'Typed Ltd' });
    expectStatus(client, 201);
    const contact = await as('POST', `/v1/clients/${client.body.id}/contacts`, { type: 'ops', firstName: 'O', lastName: 'P', email: 'ops@example.com' });
    expectStatus(contact, 201);
    expectStatus(await as('PATCH', '/v1/settings', { contactTypes: [] }), 200);
    const edited = await as('PATCH', `/v1/clients/${client.body.id}/contacts/${contact.body.id}`, { city: 'Leeds' });
    expectStatus(edited, 200);
    expect(edited.body).toMatchObject({ type: 'ops', city: 'Leeds' });
    const retyped = await as('PATCH', `/v1/clients/${client.body.id}/contacts/${contact.body.id}`, { type: 'gone' });
    expectStatus(retyped, 400);
    expect(retyped.body.errors.map((e: { path: string }) => e.path)).toContain('type');
  });
});

describe('concurrent writes', () => {
  it('concurrent PATCHes of one client answer 200 or 409, never 500', async () => {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Race Co') });
    expectStatus(created, 201);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => api.staff('PATCH', `/v1/clients/${created.body.id}`, { company: `Race Co ${i}`, city: `City ${i}` })));
    const statuses = results.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 409), statuses.join(',')).toBe(true);
    expect(statuses).toContain(200);
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
    await expect(updateClient(api.facts.companyId, current, { ...current, groupId: group.body.id, version: current.version + 1 })).rejects.toBeInstanceOf(ValidationError);
    const after = await api.staff('GET', `/v1/clients/${created.body.id}`);
    expect(after.body.groupId).not.toBe(group.body.id);
  });
});
