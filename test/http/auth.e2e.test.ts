import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { CLAIM } from '../../functions/adapters/identity/claims.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../functions/adapters/identity/local.js';
import { startTestApi, type TestApi } from '../support/stack.js';
import { createClientWithLogin, expectProblem } from '../support/platform.js';

let api: TestApi;
let localKey: JWK;

beforeAll(async () => {
  api = await startTestApi();
  localKey = JSON.parse(process.env.BILLOW_LOCAL_IDENTITY_KEY!) as JWK;
});
afterAll(async () => {
  await api.stack.stop();
});

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The claims of a genuine staff token of the seeded company. */
function staffClaims(): Record<string, string> {
  return { [CLAIM.role]: 'staff', [CLAIM.username]: api.facts.staffUsername, [CLAIM.companyId]: api.facts.companyId, token_use: 'id' };
}

async function signWith(jwk: JWK, options: { expiresAt?: number; issuer?: string; audience?: string; claims?: Record<string, string> } = {}): Promise<string> {
  const key = await importJWK(jwk, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(options.claims ?? staffClaims())
    .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
    .setSubject('usr_forged')
    .setIssuer(options.issuer ?? LOCAL_ISSUER)
    .setAudience(options.audience ?? LOCAL_AUDIENCE)
    .setIssuedAt(now - 7200)
    .setExpirationTime(options.expiresAt ?? now + 600)
    .sign(key);
}

const PROTECTED = '/v1/settings';

describe('POST /v1/auth/token', () => {
  it('issues a staff token for a staff login of a company, which works on company routes', async () => {
    const res = await api.call('POST', '/v1/auth/token', {
      body: { companyId: api.facts.companyId, username: api.facts.staffUsername, password: api.facts.staffPassword },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ token: expect.any(String), expiresIn: expect.any(Number) });
    expect(res.body.expiresIn).toBeGreaterThan(0);
    expect((await api.call('GET', PROTECTED, { token: res.body.token })).status).toBe(200);
  });

  it('issues an operator token without a companyId', async () => {
    const res = await api.call('POST', '/v1/auth/token', { body: { username: api.facts.operatorUsername, password: api.facts.operatorPassword } });
    expect(res.status).toBe(200);
    expect(res.body.token).toEqual(expect.any(String));
    expect((await api.call('GET', '/v1/companies', { token: res.body.token })).status).toBe(200);
  });

  it('answers a wrong password with a 401 problem', async () => {
    const res = await api.call('POST', '/v1/auth/token', {
      body: { companyId: api.facts.companyId, username: api.facts.staffUsername, password: 'wrong password' },
    });
    expectProblem(res, 401);
    expect(res.body.token).toBeUndefined();
  });

  it('answers an unknown company with a 401 problem (the same as a wrong password)', async () => {
    const res = await api.call('POST', '/v1/auth/token', {
      body: { companyId: 'co_DOESNOTEXIST0000000000000', username: api.facts.staffUsername, password: api.facts.staffPassword },
    });
    expectProblem(res, 401);
    const wrong = await api.call('POST', '/v1/auth/token', {
      body: { companyId: api.facts.companyId, username: api.facts.staffUsername, password: 'wrong password' },
    });
    expect(res.body.detail).toBe(wrong.body.detail);
  });

  it('answers an unknown username with 401', async () => {
    expectProblem(
      await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username: 'nobody-here', password: 'whatever123' } }),
      401,
    );
  });

  it('does not log a staff user in without its companyId, nor the operator with one', async () => {
    expectProblem(await api.call('POST', '/v1/auth/token', { body: { username: api.facts.staffUsername, password: api.facts.staffPassword } }), 401);
    expectProblem(
      await api.call('POST', '/v1/auth/token', {
        body: { companyId: api.facts.companyId, username: api.facts.operatorUsername, password: api.facts.operatorPassword },
      }),
      401,
    );
  });

  it('rejects a body missing fields or carrying unknown ones with 400', async () => {
    const missing = await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId } });
    expectProblem(missing, 400);
    expect(missing.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['username', 'password']));
    expectProblem(await api.call('POST', '/v1/auth/token', { body: { username: 'a', password: 'b', extra: 1 } }), 400);
  });

  it('keeps usernames per company: the same username in two companies logs into each with its own password', async () => {
    const created = await api.call('POST', '/v1/companies', {
      token: api.facts.operatorToken,
      body: {
        name: 'Twin Co',
        defaultCurrency: 'GBP',
        timeZone: 'Europe/London',
        staff: { username: api.facts.staffUsername, email: 'twin@example.com', password: 'twin password 1' },
      },
    });
    expect(created.status).toBe(201);
    const twin = await api.call('POST', '/v1/auth/token', {
      body: { companyId: created.body.id, username: api.facts.staffUsername, password: 'twin password 1' },
    });
    expect(twin.status).toBe(200);
    const settings = await api.call('GET', '/v1/settings', { token: twin.body.token });
    expect(settings.body.defaultCurrency).toBe('GBP');
    // The seeded company's password does not open the twin, and vice versa.
    expectProblem(
      await api.call('POST', '/v1/auth/token', { body: { companyId: created.body.id, username: api.facts.staffUsername, password: api.facts.staffPassword } }),
      401,
    );
    expectProblem(
      await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username: api.facts.staffUsername, password: 'twin password 1' } }),
      401,
    );
  });
});

describe('bearer tokens on a protected route', () => {
  it('accepts a token signed with the local key (control for the forged ones below)', async () => {
    expect((await api.call('GET', PROTECTED, { token: await signWith(localKey) })).status).toBe(200);
  });

  it('answers a missing token with a 401 problem and WWW-Authenticate', async () => {
    const res = await api.call('GET', PROTECTED);
    expectProblem(res, 401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it.each([
    ['not a JWT', 'Bearer not-a-jwt'],
    ['three junk segments', 'Bearer aaa.bbb.ccc'],
    ['an empty bearer', 'Bearer '],
    ['a Basic scheme', `Basic ${Buffer.from('admin:pw').toString('base64')}`],
    ['a token without a scheme', 'eyJhbGciOiJSUzI1NiJ9.e30.x'],
    ['two tokens', 'Bearer a.b.c d.e.f'],
  ])('answers a malformed header (%s) with 401', async (_name, header) => {
    expectProblem(await api.call('GET', PROTECTED, { headers: { authorization: header } }), 401);
  });

  it('answers a token signed with another key with 401', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const other = { ...(await exportJWK(privateKey)), kid: localKey.kid };
    expectProblem(await api.call('GET', PROTECTED, { token: await signWith(other) }), 401);
  });

  it('answers an alg: none token with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { ...staffClaims(), sub: 'usr_forged', iss: LOCAL_ISSUER, aud: LOCAL_AUDIENCE, iat: now, exp: now + 600 };
    for (const alg of ['none', 'None', 'NONE']) {
      const token = `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}.`;
      expectProblem(await api.call('GET', PROTECTED, { token }), 401);
    }
  });

  it('answers an HS256 token keyed with the public key (algorithm confusion) with 401', async () => {
    const { d, p, q, dp, dq, qi, ...publicJwk } = localKey;
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT(staffClaims())
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('usr_forged')
      .setIssuer(LOCAL_ISSUER)
      .setAudience(LOCAL_AUDIENCE)
      .setExpirationTime(now + 600)
      .sign(secret);
    expectProblem(await api.call('GET', PROTECTED, { token }), 401);
  });

  it('answers an expired token signed with the real key with 401', async () => {
    const token = await signWith(localKey, { expiresAt: Math.floor(Date.now() / 1000) - 120 });
    expectProblem(await api.call('GET', PROTECTED, { token }), 401);
  });

  it('answers a token of another issuer or audience with 401', async () => {
    expectProblem(await api.call('GET', PROTECTED, { token: await signWith(localKey, { issuer: 'https://evil.example' }) }), 401);
    expectProblem(await api.call('GET', PROTECTED, { token: await signWith(localKey, { audience: 'someone-else' }) }), 401);
  });

  it('answers a validly signed token without a role or company with 401', async () => {
    expectProblem(
      await api.call('GET', PROTECTED, { token: await signWith(localKey, { claims: { [CLAIM.username]: 'x', [CLAIM.companyId]: api.facts.companyId } }) }),
      401,
    );
    expectProblem(await api.call('GET', PROTECTED, { token: await signWith(localKey, { claims: { [CLAIM.role]: 'staff', [CLAIM.username]: 'x' } }) }), 401);
    expectProblem(
      await api.call('GET', PROTECTED, {
        token: await signWith(localKey, { claims: { [CLAIM.role]: 'admin', [CLAIM.username]: 'x', [CLAIM.companyId]: api.facts.companyId } }),
      }),
      401,
    );
  });

  it('answers a tampered payload (role raised to operator) with 401', async () => {
    const [header, payload, signature] = api.facts.staffToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    claims[CLAIM.role] = 'operator';
    expectProblem(await api.call('GET', '/v1/companies', { token: `${header}.${b64url(claims)}.${signature}` }), 401);
  });
});

describe('roles', () => {
  it('forbids an operator token on company routes with 403', async () => {
    expectProblem(await api.call('GET', '/v1/settings', { token: api.facts.operatorToken }), 403);
    expectProblem(await api.call('POST', '/v1/client-groups', { token: api.facts.operatorToken, body: { name: 'x' } }), 403);
    expectProblem(await api.call('GET', '/v1/clients', { token: api.facts.operatorToken }), 403);
  });

  it('forbids a staff token on operator routes with 403', async () => {
    expectProblem(await api.call('GET', '/v1/companies', { token: api.facts.staffToken }), 403);
    const create = await api.call('POST', '/v1/companies', {
      token: api.facts.staffToken,
      body: {
        name: 'Sneaky',
        defaultCurrency: 'USD',
        timeZone: 'UTC',
        staff: { username: 'sneaky', email: 'sneaky@example.com', password: 'sneaky password' },
      },
    });
    expectProblem(create, 403);
  });

  it('checks the role before anything else: a staff token listing companies with junk query gets 403, not 400', async () => {
    expectProblem(await api.call('GET', '/v1/companies?limit=abc&cursor=%00junk', { token: api.facts.staffToken }), 403);
    expectProblem(
      await api.call('POST', '/v1/companies', { token: api.facts.staffToken, rawBody: '{not json', headers: { 'content-type': 'application/json' } }),
      403,
    );
  });

  it('checks the role before any id: an operator on a group path gets 403, not 404', async () => {
    expectProblem(await api.call('GET', '/v1/client-groups/grp_DOESNOTEXIST', { token: api.facts.operatorToken }), 403);
    expectProblem(await api.call('DELETE', '/v1/clients/cl_DOESNOTEXIST', { token: api.facts.operatorToken }), 403);
  });

  describe('client tokens', () => {
    let client: Awaited<ReturnType<typeof createClientWithLogin>>;
    beforeAll(async () => {
      client = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
    });

    it('reads its own profile', async () => {
      const res = await api.call('GET', `/v1/clients/${client.clientId}`, { token: client.clientToken });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe(client.clientId);
    });

    it('gets 403 on staff-only routes, before any id or body is looked at', async () => {
      expectProblem(await api.call('GET', '/v1/settings', { token: client.clientToken }), 403);
      expectProblem(await api.call('GET', '/v1/client-groups/grp_DOESNOTEXIST', { token: client.clientToken }), 403);
      expectProblem(await api.call('DELETE', `/v1/clients/${client.clientId}`, { token: client.clientToken }), 403);
      expectProblem(await api.call('POST', '/v1/clients', { token: client.clientToken, rawBody: '[', headers: { 'content-type': 'application/json' } }), 403);
      expectProblem(await api.call('GET', '/v1/companies', { token: client.clientToken }), 403);
    });

    it('gets 401 from then on once the client is made inactive, and logging in says the account is not active', async () => {
      const other = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
      expect((await api.call('GET', `/v1/clients/${other.clientId}`, { token: other.clientToken })).status).toBe(200);
      expect((await api.staff('POST', `/v1/clients/${other.clientId}/status`, { status: 'inactive' })).status).toBe(200);
      expectProblem(await api.call('GET', `/v1/clients/${other.clientId}`, { token: other.clientToken }), 401);
      const login = await api.call('POST', '/v1/auth/token', { body: { companyId: api.facts.companyId, username: other.username, password: other.password } });
      expectProblem(login, 401);
      expect(login.body.detail).toMatch(/not active/i);
    });

    it('gets 401 once the client is deleted', async () => {
      const other = await createClientWithLogin(api, api.facts.companyId, api.facts.staffToken);
      expect((await api.staff('DELETE', `/v1/clients/${other.clientId}`)).status).toBe(204);
      expectProblem(await api.call('GET', `/v1/clients/${other.clientId}`, { token: other.clientToken }), 401);
    });
  });
});
