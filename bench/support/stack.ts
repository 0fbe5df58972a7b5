import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalStack, type LocalFacts } from '../../bin/local/stack.js';
import { benchDynamoEndpoint } from './dynamo.js';

export class BenchCallError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Seeding in parallel meets the company's number counters (a 409 `busy` when too many creates race for one), writes
 * to the same client at the same moment (409 `concurrent_change`) and, on a loaded machine, throttling: those are
 * sent again, as a client of the API would.
 */
export async function retryingBusy<T>(request: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      const retryable =
        error instanceof BenchCallError && (error.code === 'busy' || error.code === 'concurrent_change' || error.status === 429 || error.status === 503);
      if (!retryable || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt));
    }
  }
}

export interface BenchResponse<T = any> {
  status: number;
  body: T;
}

export interface BenchCompany {
  companyId: string;
  staffToken: string;
  defaultGroupId: string;
}

export interface BenchStack {
  facts: LocalFacts;
  /** One request to the local API, as a client of the API sends it; a status other than `expect` throws. */
  call<T = any>(method: string, path: string, options?: { token?: string; body?: unknown; expect?: number | number[] }): Promise<BenchResponse<T>>;
  /** A company of its own (operator API), with a staff token. */
  createCompany(name: string): Promise<BenchCompany>;
  stop(): Promise<void>;
}

/**
 * The local stack of `npm start` in this process (API server, area handlers, SES and S3 stand-ins) on the bench's
 * DynamoDB Local with fresh tables, so what a benchmark measures is what the API does: routing, validation, the
 * route's use case and its DynamoDB calls. The handlers run in this process, so `recordDynamoCalls` sees their calls.
 */
export async function startBenchStack(): Promise<BenchStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'billow-bench-'));
  const suffix = randomBytes(4).toString('hex');
  const stack = await startLocalStack({
    stateDir,
    port: 0,
    dynamoEndpoint: benchDynamoEndpoint(),
    tables: { app: `billow-bench-${suffix}`, identity: `billow-bench-identity-${suffix}` },
  });
  const url = stack.facts.apiUrl;
  const call: BenchStack['call'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await res.text();
    const body = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : text;
    const expected = options.expect ?? (method === 'POST' ? [200, 201, 202] : method === 'DELETE' ? [204] : [200]);
    if (!(Array.isArray(expected) ? expected : [expected]).includes(res.status)) {
      throw new BenchCallError(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`, res.status, (body as { code?: string })?.code);
    }
    return { status: res.status, body };
  };
  return {
    facts: stack.facts,
    call,
    createCompany: async (name) => {
      const username = `staff${randomBytes(3).toString('hex')}`;
      const password = 'bench password 1';
      const created = await call('POST', '/v1/companies', {
        token: stack.facts.operatorToken,
        body: { name, defaultCurrency: 'USD', timeZone: 'UTC', staff: { username, email: `${username}@example.com`, password } },
      });
      const login = await call('POST', '/v1/auth/token', { body: { companyId: created.body.id, username, password } });
      return { companyId: created.body.id, staffToken: login.body.token, defaultGroupId: created.body.defaultGroupId };
    },
    stop: async () => {
      await stack.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
