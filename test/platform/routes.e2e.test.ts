import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/stack.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.stack.stop();
});

describe('the local stack', () => {
  it('answers health without a token and carries a request id', async () => {
    const res = await api.call('GET', '/v1/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('creates and reads a client group with the seeded staff token', async () => {
    const created = await api.staff('POST', '/v1/client-groups', { name: 'Resellers', color: '#aa00ff' });
    expect(created.status).toBe(201);
    const read = await api.staff('GET', `/v1/client-groups/${created.body.id}`);
    expect(read.body).toMatchObject({ name: 'Resellers', color: '#aa00ff', isDefault: false, version: 1 });
  });
});
