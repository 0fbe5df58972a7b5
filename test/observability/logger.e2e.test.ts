import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '../support/stack.js';

// Lines are only written at INFO; set before the logger is made (the setup file silences it).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

const lines: Array<Record<string, unknown>> = [];
let api: TestApi;
beforeAll(async () => {
  // Every JSON line the process writes is kept here instead of being printed.
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    (rest.find((r) => typeof r === 'function') as (() => void) | undefined)?.();
    return true;
  }) as typeof process.stdout.write);
  api = await startTestApi();
});
afterAll(async () => {
  vi.restoreAllMocks();
  await api?.stack.stop();
});

describe('request log lines', () => {
  it('carry their own request id and route when one process serves many requests at once', async () => {
    // A 200 and a 404 of different routes, interleaved: a line under another request's id would show the other status.
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? api.staff('GET', '/v1/client-groups') : api.staff('GET', `/v1/client-groups/grp_missing${i}`))),
    );
    for (const res of responses) {
      const requestId = res.headers.get('x-request-id');
      const logged = lines.filter((line) => line.message === 'request' && line.requestId === requestId);
      expect(logged, `log lines of ${requestId}`).toHaveLength(1);
      expect(logged[0]).toMatchObject({ status: res.status, routeKey: res.status === 200 ? 'GET /v1/client-groups' : 'GET /v1/client-groups/{id}' });
    }
  });

  it('carry no request keys once the request is answered', async () => {
    await api.staff('GET', '/v1/client-groups');
    const { logger } = await import('../../functions/observability/logger.js');
    const before = lines.length;
    logger.info('between requests');
    const line = lines.slice(before).find((l) => l.message === 'between requests');
    expect(line).toBeDefined();
    expect(line).not.toHaveProperty('requestId');
    expect(line).not.toHaveProperty('routeKey');
  });
});
