import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { requestFingerprint } from '../../functions/http/idempotency.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { startTestApi, type TestApi } from '../support/stack.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.stack.stop();
});

describe('idempotency records', () => {
  it('fingerprint bodies with a keyed hash, so a stored fingerprint does not reveal a card number', async () => {
    const body = { source: { newCard: { number: '4242424242424242', expMonth: 12, expYear: 2031 } } };
    const keyed = await requestFingerprint('POST', '/v1/clients/x/payments', body);
    const plain = createHash('sha256')
      .update(`POST /v1/clients/x/payments\n${JSON.stringify(body)}`)
      .digest('hex');
    expect(keyed).toMatch(/^[0-9a-f]{64}$/);
    expect(keyed).not.toBe(plain);
    expect(await requestFingerprint('POST', '/v1/clients/x/payments', body)).toBe(keyed);
  });

  it('are not kept for public routes: no bearer token at rest, no key space shared by anonymous callers', async () => {
    const key = 'shared-anonymous-key';
    const login = { username: api.facts.operatorUsername, password: api.facts.operatorPassword };
    const first = await api.call('POST', '/v1/auth/token', { body: login, headers: { 'idempotency-key': key } });
    const wrong = await api.call('POST', '/v1/auth/token', { body: { ...login, password: 'not the password' }, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(200);
    expect(wrong.status).toBe(401);
    const items = await db().send(
      new ScanCommand({ TableName: tableName(), FilterExpression: 'contains(PK, :idem)', ExpressionAttributeValues: { ':idem': '#IDEM#' } }),
    );
    expect(JSON.stringify(items.Items ?? [])).not.toContain(first.body.token);
  });

  it('replay a response too large for one item exactly (it is stored compressed)', async () => {
    const client = await api.staff('POST', '/v1/clients', { company: 'Big Invoice Co' });
    const lines = Array.from({ length: 180 }, (_, i) => ({
      description: `Line ${i} ${'Lorem ipsum dolor sit amet, '.repeat(70)}`.slice(0, 1000),
      quantity: 1,
      unitAmount: 100,
    }));
    const headers = { 'idempotency-key': 'big-invoice' };
    const first = await api.staff('POST', `/v1/clients/${client.body.id}/invoices`, { lines }, headers);
    expect(first.status).toBe(201);
    expect(first.text.length).toBeGreaterThan(400_000 / 2);
    const replay = await api.staff('POST', `/v1/clients/${client.body.id}/invoices`, { lines }, headers);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
  });
});
