import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
/** Creating clients at the edges: names longer than a DynamoDB sort key, and a failed create giving its number back. */
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
  // U+FDFA folds (NFKD) to 18 characters, 33 UTF-8 bytes: a 1,000-character last name (the most a string may hold)
  // becomes a 33,000-byte sort key.
  const LONG = '\uFDFA'.repeat(1000);

  it("a client whose names fold to more than DynamoDB's 1,024-byte sort key is created, listed and found", async () => {
    const created = await api.staff('POST', '/v1/clients', {
      firstName: LONG,
      lastName: LONG,
      company: LONG,
      email: `${unique('long')}@example.com`,
    });
    expectStatus(created, 201);
    const sorted = await api.staff('GET', '/v1/clients?sort=lastName&limit=100');
    expectStatus(sorted, 200);
    expect(sorted.body.data.map((c: { id: string }) => c.id)).toContain(created.body.id);
    const found = await api.staff('GET', `/v1/clients?q=${encodeURIComponent('\uFDFA'.repeat(3))}`);
    expectStatus(found, 200);
    expect(found.body.data.map((c: { id: string }) => c.id)).toContain(created.body.id);
    const patched = await api.staff('PATCH', `/v1/clients/${created.body.id}`, { company: '\uFDFB'.repeat(1000) });
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
