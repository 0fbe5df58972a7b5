import { SignJWT, importJWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateLocalSigningKey, LOCAL_AUDIENCE, LOCAL_ISSUER, verifyLocalToken } from '../../../functions/adapters/identity/local.js';

/** The local stand-in verifies its tokens as API Gateway's JWT authorizer does. */
let sign: (claims: Record<string, unknown>, expires: boolean) => Promise<string>;

beforeAll(async () => {
  const jwk = await generateLocalSigningKey();
  process.env.BILLOW_LOCAL_IDENTITY_KEY = JSON.stringify(jwk);
  const key = await importJWK(jwk, 'RS256');
  sign = async (claims, expires) => {
    const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: jwk.kid }).setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setIssuedAt();
    return (expires ? jwt.setExpirationTime('1h') : jwt).sign(key);
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
