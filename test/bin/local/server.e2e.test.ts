import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../../support/platform.js';
import { startTestApi, type TestApi } from '../../support/stack.js';

/** The local stand-in for API Gateway, spoken to byte for byte over node:http. */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stack.stop();
});

const asStaff = { authorization: '' };
beforeAll(() => {
  asStaff.authorization = `Bearer ${api.facts.staffToken}`;
});

describe('dot segments are opaque path values, never resolved', () => {
  it.each(['%2e%2e', '..', '.%2e', '%2E%2e', '.', '%2e'])(
    'DELETE /v1/clients/{id}/contacts/%s → 404, and the client and its contact are still there',
    async (segment) => {
      const client = await api.staff('POST', '/v1/clients', { company: 'Dot Segment Ltd' });
      expect(client.status).toBe(201);
      const contact = await api.staff('POST', `/v1/clients/${client.body.id}/contacts`, {
        type: 'billing',
        firstName: 'Dot',
        lastName: 'Segment',
        email: 'dot@example.com',
      });
      expect(contact.status).toBe(201);
      const res = await rawRequest(api.url, 'DELETE', `/v1/clients/${client.body.id}/contacts/${segment}`, { headers: asStaff });
      expect(res.status).toBe(404);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect((await api.staff('GET', `/v1/clients/${client.body.id}`)).status).toBe(200);
      expect((await api.staff('GET', `/v1/clients/${client.body.id}/contacts/${contact.body.id}`)).status).toBe(200);
    },
  );

  it.each(['%2e%2e', '..', '.'])('a dot segment in place of the client id is a 404 too (GET /v1/clients/%s/summary)', async (segment) => {
    const res = await rawRequest(api.url, 'GET', `/v1/clients/${segment}/summary`, { headers: asStaff });
    expect(res.status).toBe(404);
  });

  it('a path that would resolve to another route is not routed there: /v1/clients/x/../bulk is no route', async () => {
    const res = await rawRequest(api.url, 'POST', '/v1/clients/x/../bulk', { headers: asStaff, body: JSON.stringify({ action: 'delete', ids: ['cl_x'] }) });
    expect(res.status).toBe(404);
  });
});
