import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { CLAIM } from '../../functions/adapters/identity/claims.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../functions/adapters/identity/local.js';
import { allRoutes } from '../../functions/http/route-table.js';
import { API_AREAS, routeKey, type AnyRoute, type Role } from '../../functions/http/route.js';
import { createCompany, startTestApi, type TestApi } from '../support/stack.js';
import { createClientWithLogin, rawRequest } from '../support/platform.js';

/**
 * JWT tampering on every area: each Lambda function verifies the bearer token itself, so the forged tokens of
 * test/http/auth.e2e.test.ts are sent to one route of every area (generated from the route table) and to the
 * operator's routes. A token one area accepts and another refuses would be a bug; a forged one accepted anywhere,
 * a worse one.
 */

let api: TestApi;
let localKey: JWK;
let otherCompanyId: string;

beforeAll(async () => {
  api = await startTestApi();
  localKey = JSON.parse(process.env.BILLOW_LOCAL_IDENTITY_KEY!) as JWK;
  otherCompanyId = (await createCompany(api, 'Token Other Co')).companyId;
});
afterAll(async () => {
  await api.stack.stop();
});

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** One route of every area a token of `role` may use: a GET without path parameters where there is one. */
function oneRoutePerArea(role: Role): AnyRoute[] {
  return API_AREAS.flatMap((area) => {
    const candidates = allRoutes.filter((r) => r.area === area && r.access !== 'public' && r.access.includes(role));
    const best = candidates.find((r) => r.method === 'GET' && !r.path.includes('{')) ?? candidates.find((r) => r.method === 'GET') ?? candidates[0];
    return best ? [best] : [];
  });
}

const pathOf = (route: AnyRoute) =>
  route.path.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'name' ? 'invoice_delivery' : 'x_01JUNKJUNKJUNKJUNKJUNKJUNK'));

async function answer(route: AnyRoute, authorization: string): Promise<number> {
  const body = route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}';
  return (await rawRequest(api.url, route.method, pathOf(route), { headers: { authorization }, body })).status;
}

function claimsOf(role: Role): Record<string, string> {
  if (role === 'operator') return { [CLAIM.role]: 'operator', [CLAIM.username]: api.facts.operatorUsername, token_use: 'id' };
  return { [CLAIM.role]: 'staff', [CLAIM.username]: api.facts.staffUsername, [CLAIM.companyId]: api.facts.companyId, token_use: 'id' };
}

async function sign(jwk: JWK, claims: Record<string, string>, options: { expiresAt?: number; issuer?: string; audience?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
    .setSubject('usr_forged')
    .setIssuer(options.issuer ?? LOCAL_ISSUER)
    .setAudience(options.audience ?? LOCAL_AUDIENCE)
    .setIssuedAt(now - 60)
    .setExpirationTime(options.expiresAt ?? now + 600)
    .sign(await importJWK(jwk, 'RS256'));
}

/** Tokens no area may accept, for a caller of `role`. */
async function forgeries(role: Role): Promise<Array<[string, string]>> {
  const claims = claimsOf(role);
  const now = Math.floor(Date.now() / 1000);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const otherKey = { ...(await exportJWK(privateKey)), kid: localKey.kid };
  const { d, p, q, dp, dq, qi, ...publicJwk } = localKey;
  const hs256 = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(LOCAL_ISSUER)
    .setAudience(LOCAL_AUDIENCE)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
  const genuine = role === 'operator' ? api.facts.operatorToken : api.facts.staffToken;
  const [header, payload, signature] = genuine.split('.');
  const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  const unsigned = { ...claims, sub: 'usr_forged', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat: now, exp: now + 600 };
  const forged: Array<[string, string]> = [
    ['signed with another key under the same kid', await sign(otherKey, claims)],
    ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(unsigned)}.`],
    ['HS256 keyed with the public key', hs256],
    ['expired', await sign(localKey, claims, { expiresAt: now - 120 })],
    ['another issuer', await sign(localKey, claims, { issuer: 'https://evil.example' })],
    ['another audience', await sign(localKey, claims, { audience: 'someone-else' })],
    ['an unknown role', await sign(localKey, { ...claims, [CLAIM.role]: 'admin' })],
    ['no role', await sign(localKey, Object.fromEntries(Object.entries(claims).filter(([k]) => k !== CLAIM.role)))],
    ['the payload changed under the real signature (another company)', `${header}.${b64url({ ...decoded, [CLAIM.companyId]: otherCompanyId })}.${signature}`],
    ['the payload changed under the real signature (expiry pushed back)', `${header}.${b64url({ ...decoded, exp: decoded.exp + 86_400 })}.${signature}`],
    ['the signature stripped', `${header}.${payload}.`],
    [
      'the signature of another token',
      `${header}.${payload}.${api.facts.operatorToken.split('.')[2] === signature ? api.facts.staffToken.split('.')[2] : api.facts.operatorToken.split('.')[2]}`,
    ],
  ];
  if (role === 'staff')
    forged.push(['a staff token without a company', await sign(localKey, { [CLAIM.role]: 'staff', [CLAIM.username]: api.facts.staffUsername })]);
  return forged;
}

describe('forged tokens on every area', () => {
  it('has a route of every area that takes tokens', () => {
    const covered = new Set([...oneRoutePerArea('staff'), ...oneRoutePerArea('operator')].map((r) => r.area));
    const withTokens = new Set(allRoutes.filter((r) => r.access !== 'public').map((r) => r.area));
    expect([...withTokens].filter((a) => !covered.has(a))).toEqual([]);
  });

  for (const role of ['staff', 'operator'] as const) {
    it.each(oneRoutePerArea(role).map((r) => [r.area, routeKey(r), r] as const))(
      `${role}: %s (%s) accepts the genuine token and refuses every forgery with 401`,
      async (_area, _key, route) => {
        const genuine = role === 'operator' ? api.facts.operatorToken : api.facts.staffToken;
        const control = await answer(route, `Bearer ${genuine}`);
        expect([401, 403], `${routeKey(route)}: the genuine ${role} token → ${control}`).not.toContain(control);
        expect((await answer(route, `Bearer ${await sign(localKey, claimsOf(role))}`)) === control, 'a token signed with the local key (control)').toBe(true);
        const accepted: string[] = [];
        for (const [name, token] of await forgeries(role)) {
          const status = await answer(route, `Bearer ${token}`);
          if (status !== 401) accepted.push(`${name} → ${status}`);
        }
        expect(accepted, `${routeKey(route)}: forged ${role} tokens not refused with 401`).toEqual([]);
      },
    );
  }

  it("client: a client token rewritten to name another client (or raised to staff) is refused with 401 on every area's client routes", async () => {
    const x = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    const y = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    const [header, payload, signature] = x.clientToken.split('.');
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    const routes = API_AREAS.flatMap((area) => {
      const r = allRoutes.find(
        (candidate) => candidate.area === area && candidate.method === 'GET' && candidate.access !== 'public' && candidate.access.includes('client'),
      );
      return r ? [r] : [];
    });
    expect(routes.length).toBeGreaterThan(3);
    for (const route of routes) {
      const path = route.path.replace('{id}', y.clientId);
      const own = route.path.replace('{id}', x.clientId);
      const control = await rawRequest(api.url, 'GET', route.path.includes('{id}') && route.path.startsWith('/v1/clients/') ? own : pathOf(route), {
        headers: { authorization: `Bearer ${x.clientToken}` },
      });
      expect([401, 403], `${routeKey(route)} with the genuine client token → ${control.status}`).not.toContain(control.status);
      for (const claims of [
        { ...decoded, [CLAIM.clientId]: y.clientId },
        { ...decoded, [CLAIM.role]: 'staff' },
      ]) {
        const res = await rawRequest(api.url, 'GET', route.path.startsWith('/v1/clients/') ? path : pathOf(route), {
          headers: { authorization: `Bearer ${header}.${b64url(claims)}.${signature}` },
        });
        expect(res.status, `${routeKey(route)} with a rewritten client token`).toBe(401);
      }
    }
  });
});
