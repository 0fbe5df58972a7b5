import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { db } from '../../functions/store/dynamo.js';
import { type ApiResponse, startTestApi, type TestApi } from '../support/stack.js';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api?.stack.stop();
});

const FAULT = 'testDynamoDbFault';
afterEach(() => {
  db().middlewareStack.remove(FAULT);
});

/**
 * Every request DynamoDB is sent whose body mentions `marker` fails with `fault()`, as the SDK would see it come
 * back: injected below the SDK's retries (the deserialize step), so they are spent first, as in production.
 */
function failRequestsMentioning(marker: string, fault: () => Error): void {
  db().middlewareStack.add(
    (next) => async (args) => {
      const body = (args as { request?: { body?: unknown } }).request?.body;
      const text = typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : '';
      if (text.includes(marker)) throw fault();
      return next(args);
    },
    { step: 'deserialize', name: FAULT },
  );
}

const throttle = () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400 },
  });
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { code: 'ECONNREFUSED' });

function expectFault(res: ApiResponse, status: number, retryAfter: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('retry-after')).toBe(retryAfter);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ status, requestId: res.headers.get('x-request-id') });
}

describe('DynamoDB throttling a request', () => {
  it('answers 429 with Retry-After and the request id', async () => {
    const group = await api.staff('POST', '/v1/client-groups', { name: 'Read while throttled' });
    expect(group.status).toBe(201);
    failRequestsMentioning(group.body.id, throttle);
    const read = await api.staff('GET', `/v1/client-groups/${group.body.id}`);
    expectFault(read, 429, '1');
    expect(read.body.code).toBe('throttled');
  });

  it('releases the idempotency key, so the same request acts once the throttle is gone', async () => {
    const name = `Created after a throttle ${Date.now()}`;
    const headers = { 'idempotency-key': `throttled-${name}` };
    failRequestsMentioning(name, throttle);
    expectFault(await api.staff('POST', '/v1/client-groups', { name }, headers), 429, '1');
    db().middlewareStack.remove(FAULT);
    const retried = await api.staff('POST', '/v1/client-groups', { name }, headers);
    expect(retried.status, retried.text).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect((await api.staff('GET', `/v1/client-groups/${retried.body.id}`)).body.name).toBe(name);
  });
});

describe('DynamoDB unreachable for a request', () => {
  it('answers 503 service_unavailable with Retry-After and the request id, not a 500', async () => {
    const group = await api.staff('POST', '/v1/client-groups', { name: 'Read while unreachable' });
    failRequestsMentioning(group.body.id, refused);
    const read = await api.staff('GET', `/v1/client-groups/${group.body.id}`);
    expectFault(read, 503, '5');
    expect(read.body.code).toBe('service_unavailable');
  });

  it('releases the idempotency key, so the same request acts once the database answers again', async () => {
    const name = `Created after an outage ${Date.now()}`;
    const headers = { 'idempotency-key': `unreachable-${name}` };
    failRequestsMentioning(name, refused);
    expectFault(await api.staff('POST', '/v1/client-groups', { name }, headers), 503, '5');
    db().middlewareStack.remove(FAULT);
    const retried = await api.staff('POST', '/v1/client-groups', { name }, headers);
    expect(retried.status, retried.text).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });
});
