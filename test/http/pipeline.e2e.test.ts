import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientWithLogin } from '../support/platform.js';
import { startTestApi, type TestApi } from '../support/stack.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.stack.stop();
});

const newKey = () => `key-${randomBytes(6).toString('hex')}`;
const contact = { type: 'billing', firstName: 'Pat', lastName: 'Payer', email: 'pat@example.com' };
const contactIdsOf = async (clientId: string): Promise<string[]> => {
  const res = await api.staff('GET', `/v1/clients/${clientId}/contacts?limit=100`);
  expect(res.status).toBe(200);
  return (res.body.data as Array<{ id: string }>).map((c) => c.id);
};

/**
 * Each request goes to the caller's own client, so the ownership check lets it through and the key is looked at:
 * these fail if a client token's keys shared the company's scope.
 */
describe('Idempotency-Key scope of client tokens', () => {
  it('two clients of one company using the same key on their own records each act, and each replays its own response', async () => {
    const a = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    const b = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    const headers = { 'idempotency-key': newKey() };
    const post = (client: typeof a) => api.call('POST', `/v1/clients/${client.clientId}/contacts`, { token: client.clientToken, body: contact, headers });

    const fromA = await post(a);
    const fromB = await post(b);
    expect(fromA.status).toBe(201);
    expect(fromB.status).toBe(201);
    expect(fromB.headers.get('idempotent-replayed')).toBeNull();
    expect(await contactIdsOf(a.clientId)).toContain(fromA.body.id);
    expect(await contactIdsOf(b.clientId)).toContain(fromB.body.id);

    const againFromA = await post(a);
    const againFromB = await post(b);
    expect(againFromA.headers.get('idempotent-replayed')).toBe('true');
    expect(againFromA.body).toEqual(fromA.body);
    expect(againFromB.headers.get('idempotent-replayed')).toBe('true');
    expect(againFromB.body).toEqual(fromB.body);
  });

  it("a staff request's stored response is not replayed to a client token sending the same key and request", async () => {
    const a = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    const headers = { 'idempotency-key': newKey() };
    const path = `/v1/clients/${a.clientId}/contacts`;

    const byStaff = await api.staff('POST', path, contact, headers);
    const byClient = await api.call('POST', path, { token: a.clientToken, body: contact, headers });
    expect(byStaff.status).toBe(201);
    expect(byClient.status).toBe(201);
    expect(byClient.headers.get('idempotent-replayed')).toBeNull();
    expect(byClient.body.id).not.toBe(byStaff.body.id);
    expect(await contactIdsOf(a.clientId)).toEqual(expect.arrayContaining([byStaff.body.id, byClient.body.id]));
  });
});

describe('the body of a JSON route must be declared JSON', () => {
  const body = JSON.stringify({ name: 'Typed group' });
  const post = (contentType: string | undefined, rawBody = body) =>
    fetch(`${api.url}/v1/client-groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.facts.staffToken}`, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
      body: rawBody,
    });

  it.each(['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml'])(
    'a body sent as %s → 415 unsupported_media_type, and nothing is created',
    async (contentType) => {
      const before = await api.staff('GET', '/v1/client-groups?limit=100');
      const res = await post(contentType);
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(res.headers.get('x-request-id')).toBeTruthy();
      expect(((await res.json()) as { code: string }).code).toBe('unsupported_media_type');
      const after = await api.staff('GET', '/v1/client-groups?limit=100');
      expect(after.body.data.length).toBe(before.body.data.length);
    },
  );

  it('a body with no Content-Type at all → 415', async () => {
    const res = await fetch(`${api.url}/v1/client-groups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.facts.staffToken}` },
      body: new Blob([body]),
    });
    expect(res.status).toBe(415);
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8', 'application/merge-patch+json'])(
    'a body sent as %s is read as JSON (201)',
    async (contentType) => {
      const res = await post(contentType, JSON.stringify({ name: `Typed group ${randomBytes(3).toString('hex')}` }));
      expect(res.status).toBe(201);
    },
  );

  it('a request without a body needs no Content-Type, whatever it says', async () => {
    const res = await fetch(`${api.url}/v1/client-groups?limit=1`, {
      headers: { authorization: `Bearer ${api.facts.staffToken}`, 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(200);
  });
});
