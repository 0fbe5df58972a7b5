import { SignJWT, importJWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateLocalSigningKey, LOCAL_AUDIENCE, LOCAL_ISSUER, verifyLocalToken } from '../../../functions/adapters/identity/local.js';

/** The local stand-in verifies its tokens as API Gateway's JWT authorizer does. */
let sign: (claims: Record<string, unknown>, expires: boolean | number) => Promise<string>;

beforeAll(async () => {
  const jwk = await generateLocalSigningKey();
  process.env.BILLOW_LOCAL_IDENTITY_KEY = JSON.stringify(jwk);
  const key = await importJWK(jwk, 'RS256');
  sign = async (claims, expires) => {
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setIssuedAt();
    return (expires === false ? jwt : jwt.setExpirationTime(expires === true ? '1h' : expires)).sign(key);
  };
});

describe('verifyLocalToken', () => {
  it('accepts a correctly signed token with an expiry', async () => {
    await expect(verifyLocalToken(await sign({ sub: 'usr_1' }, true))).resolves.toMatchObject({ sub: 'usr_1' });
  });

  it('refuses a correctly signed token without exp, as API Gateway does', async () => {
    await expect(verifyLocalToken(await sign({ sub: 'usr_1' }, false))).rejects.toThrow(/exp/);
  });
});

describe('verifyLocalToken on a token it verified before', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses it from the second of its exp on, as the first verification would', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const token = await sign({ sub: 'usr_2' }, exp);
    await expect(verifyLocalToken(token)).resolves.toMatchObject({ sub: 'usr_2' });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(exp * 1000 - 1);
    await expect(verifyLocalToken(token)).resolves.toMatchObject({ sub: 'usr_2' });
    vi.setSystemTime(exp * 1000);
    await expect(verifyLocalToken(token)).rejects.toThrow(/exp/);
  });

  it('refuses it once the signing key is another (a local stack started again with a new key)', async () => {
    const token = await sign({ sub: 'usr_3' }, true);
    await expect(verifyLocalToken(token)).resolves.toMatchObject({ sub: 'usr_3' });
    const first = process.env.BILLOW_LOCAL_IDENTITY_KEY;
    process.env.BILLOW_LOCAL_IDENTITY_KEY = JSON.stringify(await generateLocalSigningKey());
    try {
      await expect(verifyLocalToken(token)).rejects.toThrow(/signature/);
    } finally {
      process.env.BILLOW_LOCAL_IDENTITY_KEY = first;
    }
  });

  it('hands each caller its own copy of the claims', async () => {
    const token = await sign({ sub: 'usr_4' }, true);
    const first = await verifyLocalToken(token);
    first.sub = 'usr_changed';
    await expect(verifyLocalToken(token)).resolves.toMatchObject({ sub: 'usr_4' });
  });
});
