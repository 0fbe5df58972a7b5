import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { startLocalStack, type LocalFacts, type LocalStack } from '../../bin/local/stack.js';

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
