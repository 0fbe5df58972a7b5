import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { ApiResponse, TestApi } from './stack.js';

/** Creates a client with a login in the company of `token`; returns its id and a client token. */
export async function createClientWithLogin(
  api: TestApi,
  companyId: string,
  token: string,
  extra: Record<string, unknown> = {},
): Promise<{ clientId: string; clientToken: string; username: string; password: string }> {
  const username = `client${randomBytes(4).toString('hex')}`;
  const password = 'client password 1';
  const created = await api.call('POST', '/v1/clients', {
    token,
    body: { firstName: 'Casey', lastName: 'Client', email: `${username}@example.com`, username, password, ...extra },
  });
  if (created.status !== 201) throw new Error(`client create failed: ${created.status} ${created.text}`);
  const login = await api.call('POST', '/v1/auth/token', { body: { companyId, username, password } });
  if (login.status !== 200) throw new Error(`client login failed: ${login.status} ${login.text}`);
  return { clientId: created.body.id, clientToken: login.body.token, username, password };
}

/** Asserts a response is an RFC 9457 problem document with the given status. */
export function expectProblem(res: ApiResponse, status: number): void {
  expect(res.status, `${res.status} ${res.text.slice(0, 300)}`).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status });
  expect(typeof res.body.detail).toBe('string');
}

/** The `errors[].path` values of a problem document. */
export const errorPaths = (res: ApiResponse): string[] => ((res.body?.errors ?? []) as Array<{ path: string }>).map((e) => e.path);

/**
 * A request over node:http, so bodies can go with any method (fetch refuses a GET body) and the path is sent
 * byte for byte (fetch would normalise `%2e%2e`).
 */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<ApiResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...(options.body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          let body: unknown = text;
          if ((headers.get('content-type') ?? '').includes('json') && text) {
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers, body, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
