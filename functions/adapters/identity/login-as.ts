import { createHash } from 'node:crypto';
import { loginAsPk, loginAsSk } from '../../store/keys.js';
import { CLAIM } from './claims.js';
import { scopedUsername } from './port.js';

/**
 * Staff "login as" in AWS: the pieces shared by `CognitoIdentityProvider.issueToken` and the Cognito
 * verify-auth-challenge trigger (kept apart from `cognito.ts` so the trigger bundle holds no Cognito SDK).
 */

/** Seconds a "login as" one-time answer stays valid. */
export const LOGIN_AS_TTL_SECONDS = 60;

/** Key of the one-time "login as" answer of a pool user; shared with the verify-auth-challenge trigger. */
export function loginAsKey(poolUsername: string): { PK: string; SK: string } {
  return { PK: loginAsPk(poolUsername), SK: loginAsSk };
}

export function hashAnswer(answer: string): string {
  return createHash('sha256').update(answer, 'utf8').digest('hex');
}

/** The pool username of the user behind a trigger event, rebuilt from attributes the user cannot write. */
export function poolUsernameFromAttributes(attributes: Record<string, string | undefined>): string | undefined {
  const username = attributes[CLAIM.username];
  if (!username) return undefined;
  const companyId = attributes[CLAIM.companyId];
  return scopedUsername(companyId ? companyId : undefined, username);
}
