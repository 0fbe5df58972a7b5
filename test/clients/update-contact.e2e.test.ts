import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCompany, startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
/** Editing contacts after the company's contact types change. */
let api: TestApi;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stack.stop();
});

function expectStatus(res: ApiResponse, status: number): void {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${res.text.slice(0, 500)}`);
}

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
