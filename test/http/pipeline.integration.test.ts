import { createHash } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CLAIM } from '../../functions/adapters/identity/claims.js';
import { type ApiEvent, createDispatcher } from '../../functions/http/pipeline.js';
import { json, noContent, route } from '../../functions/http/route.js';
import { idParam } from '../../functions/http/schemas.js';
import { db, tableName } from '../../functions/store/dynamo.js';
import { idempotencyPk, idempotencySk } from '../../functions/store/keys.js';
import { useFreshTables } from '../support/tables.js';

/** The pipeline called directly, as the Lambda entry calls it, with a Lambda context of our choosing. */
beforeAll(async () => {
  await useFreshTables();
});

const COMPANY = 'co_pipeline';
const KEY = 'lock-follows-the-invocation';

/** Answers with the idempotency record of its own request as it stands while the request runs. */
const recordWhileRunning = route({
  method: 'POST',
  path: '/v1/test/record-while-running',
  area: 'platform',
  access: ['staff'],
  summary: 'test route',
  handle: async () => {
    const key = { PK: idempotencyPk(COMPANY, createHash('sha256').update(KEY).digest('hex')), SK: idempotencySk };
    const out = await db().send(new GetCommand({ TableName: tableName(), Key: key, ConsistentRead: true }));
    return json(201, { lockedUntil: out.Item?.lockedUntil, status: out.Item?.status });
  },
});

const event: ApiEvent = {
  version: '2.0',
  routeKey: 'POST /v1/test/record-while-running',
  rawPath: '/v1/test/record-while-running',
  rawQueryString: '',
  headers: { 'idempotency-key': KEY },
  isBase64Encoded: false,
  requestContext: {
    accountId: '000000000000',
    apiId: 'test',
    domainName: 'localhost',
    domainPrefix: 'test',
    stage: '$default',
    time: '01/Jan/2030:00:00:00 +0000',
    timeEpoch: 0,
    requestId: 'req-lock',
    routeKey: 'POST /v1/test/record-while-running',
    http: { method: 'POST', path: '/v1/test/record-while-running', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
    authorizer: { jwt: { claims: { sub: 'usr_staff', [CLAIM.role]: 'staff', [CLAIM.companyId]: COMPANY, [CLAIM.username]: 'staff' } } },
  },
};

describe('the request pipeline', () => {
  it("locks an Idempotency-Key until the invocation's end, as the Lambda context reports it", async () => {
    const remainingTimeMs = 3_210;
    const before = Date.now();
    const result = await createDispatcher([recordWhileRunning])(event, { getRemainingTimeInMillis: () => remainingTimeMs });
    const after = Date.now();
    expect(result.statusCode).toBe(201);
    const seen = JSON.parse(result.body ?? '{}') as { lockedUntil: number; status: string };
    expect(seen.status).toBe('in_progress');
    expect(seen.lockedUntil).toBeGreaterThanOrEqual(before + remainingTimeMs);
    expect(seen.lockedUntil).toBeLessThanOrEqual(after + remainingTimeMs);
  });
});

describe('path parameters', () => {
  let reached = 0;
  beforeEach(() => {
    reached = 0;
  });
  const deleteThing = route({
    method: 'DELETE',
    path: '/v1/test/things/{id}',
    area: 'platform',
    access: ['staff'],
    summary: 'test route',
    params: idParam,
    successStatus: 204,
    handle: async () => {
      reached++;
      return noContent();
    },
  });
  const deleteEvent = (id: string): ApiEvent => ({
    ...event,
    routeKey: 'DELETE /v1/test/things/{id}',
    rawPath: `/v1/test/things/${id}`,
    headers: {},
    pathParameters: { id },
    requestContext: { ...event.requestContext, routeKey: 'DELETE /v1/test/things/{id}', http: { ...event.requestContext.http, method: 'DELETE' } },
  });

  it.each(['..', '.', '%2e%2e', '.%2E', '%2e'])(
    'a dot segment (%s) as a path parameter is a 404 that never reaches the route, whatever the front door did',
    async (id) => {
      const result = await createDispatcher([deleteThing])(deleteEvent(id), { getRemainingTimeInMillis: () => 10_000 });
      expect(result.statusCode).toBe(404);
      expect(reached).toBe(0);
    },
  );

  it('an id with dots in it that is not a dot segment reaches the route', async () => {
    const result = await createDispatcher([deleteThing])(deleteEvent('cl_a..b'), { getRemainingTimeInMillis: () => 10_000 });
    expect(result.statusCode).toBe(204);
    expect(reached).toBe(1);
  });
});
