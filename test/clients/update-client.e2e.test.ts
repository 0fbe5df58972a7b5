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
  it('concurrent PATCHes of one client answer 200 or 409, never 500', async () => {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Race Co') });
    expectStatus(created, 201);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => api.staff('PATCH', `/v1/clients/${created.body.id}`, { company: `Race Co ${i}`, city: `City ${i}` })),
    );
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 200 || s === 409),
      statuses.join(','),
    ).toBe(true);
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
    await expect(updateClient(api.facts.companyId, current, { ...current, groupId: group.body.id, version: current.version + 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const after = await api.staff('GET', `/v1/clients/${created.body.id}`);
    expect(after.body.groupId).not.toBe(group.body.id);
  });
});
