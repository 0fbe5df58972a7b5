import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allRoutes } from '../../functions/http/route-table.js';
import { routeKey, type AnyRoute, type Role } from '../../functions/http/route.js';
import { startTestApi, type ApiResponse, type TestApi } from '../support/stack.js';
import { createClientWithLogin, rawRequest } from '../support/platform.js';

/**
 * The role matrix, generated from the route table: every route is called with no token and with the token of every
 * role it does not admit, with made-up ids, a junk query and a body that is not JSON. The answer must be 401 (no
 * token) or 403 (a role the route does not admit) — the role is checked before any id, query or body is looked at,
 * so a caller without the role learns nothing of what exists. The roles a route admits must not be answered 403.
 *
 * Another client's ids on routes clients may use (→ 404) are in test/http/isolation.e2e.test.ts ("another client of
 * the same company").
 */

let api: TestApi;
let tokens: Record<Role, string>;

beforeAll(async () => {
  api = await startTestApi();
  const client = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
  tokens = { staff: api.facts.staffToken, client: client.clientToken, operator: api.facts.operatorToken };
});
afterAll(async () => {
  await api.stack.stop();
});

const ROLES: Role[] = ['staff', 'client', 'operator'];

/** The route's path with made-up ids (of the right shape where the prefix is known) and a junk query. */
function junkPath(route: AnyRoute): string {
  const path = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'name' ? 'no_such_template' : 'x_01JUNKJUNKJUNKJUNKJUNKJUNK'));
  return `${path}?limit=abc&cursor=%00junk&status=%ff`;
}

async function send(route: AnyRoute, token: string | undefined): Promise<ApiResponse> {
  const hasBody = route.method !== 'GET' && route.method !== 'DELETE';
  return rawRequest(api.url, route.method, junkPath(route), {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'if-match': 'junk', 'idempotency-key': '' },
    body: hasBody ? '{not json' : undefined,
  });
}

function problemOf(res: ApiResponse, status: number, label: string): string[] {
  const failures: string[] = [];
  const where = `${label} → ${res.status} ${res.text.slice(0, 160)}`;
  if (res.status !== status) failures.push(`expected ${status}: ${where}`);
  else if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '') || res.body?.status !== status)
    failures.push(`not a problem document: ${where}`);
  return failures;
}

const protectedRoutes = allRoutes.filter((r) => r.access !== 'public');

describe('role matrix', () => {
  it('covers every route of the table: each is public or admits at least one role', () => {
    for (const route of allRoutes) {
      if (route.access === 'public') continue;
      expect(route.access.length, routeKey(route)).toBeGreaterThan(0);
      for (const role of route.access) expect(ROLES, routeKey(route)).toContain(role);
    }
  });

  it.each(protectedRoutes.map((r) => [routeKey(r), r] as const))(
    '%s: no token → 401, a role it does not admit → 403, before ids or input',
    async (_k, route) => {
      const access = route.access as readonly Role[];
      const failures: string[] = [];
      const anonymous = await send(route, undefined);
      failures.push(...problemOf(anonymous, 401, `${routeKey(route)} without a token`));
      if (anonymous.status === 401 && !/^Bearer/.test(anonymous.headers.get('www-authenticate') ?? ''))
        failures.push(`${routeKey(route)}: a 401 without WWW-Authenticate`);
      for (const role of ROLES.filter((r) => !access.includes(r))) {
        failures.push(...problemOf(await send(route, tokens[role]), 403, `${routeKey(route)} with a ${role} token`));
      }
      // The control: the roles it admits get past the role check (to a 400 or 404 for the junk they sent).
      for (const role of access) {
        const res = await send(route, tokens[role]);
        if (res.status === 401 || res.status === 403 || res.status >= 500)
          failures.push(`${routeKey(route)} with a ${role} token it admits → ${res.status} ${res.text.slice(0, 160)}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    },
  );

  it('answers public routes without a token (never 401 or 403)', async () => {
    for (const route of allRoutes.filter((r) => r.access === 'public')) {
      const res = await send(route, undefined);
      expect([401, 403], `${routeKey(route)} → ${res.status}`).not.toContain(res.status);
      expect(res.status, routeKey(route)).toBeLessThan(500);
    }
  });

  it('names the role in its 403, not the object or input', async () => {
    const route = allRoutes.find((r) => r.method === 'DELETE' && r.path === '/v1/clients/{id}')!;
    const res = await send(route, tokens.client);
    expect(res.status).toBe(403);
    expect(res.body.errors).toBeUndefined();
    expect(res.text).not.toContain('x_01JUNK');
  });
});
