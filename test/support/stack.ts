import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startLocalStack, type LocalFacts, type LocalStack } from '../../bin/local/stack.js';
import { declaredResponses, problemSchema } from '../../functions/http/openapi.js';
import type { AnyRoute } from '../../functions/http/route.js';
import { allRoutes } from '../../functions/http/route-table.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Sent as is (for malformed-input tests). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestApi {
  facts: LocalFacts;
  url: string;
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>>;
  /** Shorthands with the seeded staff token. */
  staff<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  stack: LocalStack;
}

/**
 * The local stack in this test process: the same startLocalStack as `npm start`, on the run's shared DynamoDB
 * Local with fresh tables, so files never see each other's data.
 */
export async function startTestApi(): Promise<TestApi> {
  const suffix = randomBytes(4).toString('hex');
  const stack = await startLocalStack({
    stateDir: mkdtempSync(join(tmpdir(), 'billow-test-')),
    port: 0,
    dynamoEndpoint: inject('dynamoEndpoint'),
    tables: { app: `billow-e2e-${suffix}`, identity: `billow-e2e-identity-${suffix}` },
  });
  const url = stack.facts.apiUrl;
  const call = async <T>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(url + path, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    assertAsDeclared(method, path, res, parsed, text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  };
  return {
    facts: stack.facts,
    url,
    call,
    staff: (method, path, body, headers) => call(method, path, { token: stack.facts.staffToken, body, headers }),
    stack,
  };
}

/** Creates another company through the operator API and returns its staff token. */
export async function createCompany(
  api: TestApi,
  name = 'Other Co',
  currency = 'EUR',
): Promise<{ companyId: string; staffToken: string; defaultGroupId: string }> {
  const username = `staff${randomBytes(3).toString('hex')}`;
  const password = 'correct horse battery';
  const created = await api.call('POST', '/v1/companies', {
    token: api.facts.operatorToken,
    body: { name, defaultCurrency: currency, timeZone: 'Europe/London', staff: { username, email: `${username}@example.com`, password } },
  });
  if (created.status !== 201) throw new Error(`company create failed: ${created.status} ${created.text}`);
  const token = await api.call('POST', '/v1/auth/token', { body: { companyId: created.body.id, username, password } });
  return { companyId: created.body.id, staffToken: token.body.token, defaultGroupId: created.body.defaultGroupId };
}

/** The route a request reaches: a literal segment wins over a `{param}` (`/v1/clients/bulk` is not a client id). */
function routeOf(method: string, path: string): AnyRoute | undefined {
  const segments = path.split('?')[0].split('/');
  let best: { route: AnyRoute; params: number } | undefined;
  for (const route of allRoutes) {
    if (route.method !== method.toUpperCase()) continue;
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    if (!template.every((part, i) => part.startsWith('{') || part === segments[i])) continue;
    const params = template.filter((part) => part.startsWith('{')).length;
    if (!best || params < best.params) best = { route, params };
  }
  return best?.route;
}

/**
 * Every answer an e2e test receives is checked against what the OpenAPI document declares for its route: a problem
 * status the operation lists and a body that is a problem document, or the success status with its media type and a
 * body its schema accepts. So the document cannot drift from what the API does.
 */
function assertAsDeclared(method: string, path: string, res: Response, body: unknown, text: string): void {
  // Only the methods routes have: a CORS preflight (OPTIONS) is answered for any path and is not in the document.
  if (!allRoutes.some((r) => r.method === method.toUpperCase())) return;
  const route = routeOf(method, path);
  const contentType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
  const where = `${method} ${path} → ${res.status}`;
  if (res.status >= 400) {
    if (contentType !== 'application/problem+json') throw new Error(`${where}: a ${contentType || 'bodiless'} error, not a problem document`);
    const problem = problemSchema.safeParse(body);
    if (!problem.success) throw new Error(`${where}: not a valid problem document: ${problem.error.message}`);
    if (route && !declaredResponses(route).problems.includes(res.status)) {
      throw new Error(`${where}: the OpenAPI document does not declare ${res.status} for ${route.method} ${route.path}`);
    }
    return;
  }
  if (!route) throw new Error(`${where}: no route declares this success`);
  const declared = declaredResponses(route);
  if (res.status !== declared.success) throw new Error(`${where}: the document declares ${declared.success} for ${route.method} ${route.path}`);
  if (res.status === 204) {
    if (text !== '') throw new Error(`${where}: a 204 with a body`);
    return;
  }
  if (contentType === 'application/json') {
    if (!declared.json) throw new Error(`${where}: JSON, but the document declares no JSON response`);
    const result = declared.json.safeParse(body);
    if (!result.success) throw new Error(`${where}: the body does not match the declared schema: ${result.error.message}`);
    return;
  }
  if (!declared.produces.includes(contentType)) throw new Error(`${where}: ${contentType} is not a media type the document declares`);
}
