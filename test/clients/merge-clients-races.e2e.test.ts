import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../functions/domain/errors.js';
import { startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
/** Merges racing each other, and a merge whose target vanishes. */
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

describe('merge races', () => {
  async function clientWithContacts(n: number): Promise<string> {
    const created = await api.staff('POST', '/v1/clients', { company: unique('Merge Co') });
    expectStatus(created, 201);
    for (let i = 0; i < n; i++)
      expectStatus(
        await api.staff('POST', `/v1/clients/${created.body.id}/contacts`, {
          type: 'billing',
          firstName: 'C',
          lastName: String(i),
          email: `c${i}@example.com`,
        }),
        201,
      );
    return created.body.id;
  }

  it('merging A into B while B is merged into A loses nothing: one merge wins, the other is refused', async () => {
    const a = await clientWithContacts(6);
    const b = await clientWithContacts(6);
    const [ab, ba] = await Promise.all([
      api.staff('POST', `/v1/clients/${a}/merge`, { intoClientId: b }),
      api.staff('POST', `/v1/clients/${b}/merge`, { intoClientId: a }),
    ]);
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
