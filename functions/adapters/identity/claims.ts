import type { Principal, Role } from '../../domain/principal.js';

/**
 * Claim names of Billow tokens. Cognito puts custom attributes in ID tokens as `custom:*`; the local
 * stand-in issues the same names, so handlers read identity one way in both worlds.
 */
export const CLAIM = {
  role: 'custom:role',
  companyId: 'custom:companyId',
  clientId: 'custom:clientId',
  username: 'custom:username',
} as const;

const ROLES: readonly Role[] = ['operator', 'staff', 'client'];

/** API Gateway hands claims over as strings; anything unexpected yields no principal (→ 401). */
export function principalFromClaims(claims: Record<string, unknown> | undefined): Principal | null {
  if (!claims) return null;
  const role = claims[CLAIM.role];
  const sub = claims.sub;
  const username = claims[CLAIM.username];
  if (typeof role !== 'string' || !ROLES.includes(role as Role) || typeof sub !== 'string' || typeof username !== 'string') return null;
  const companyId = typeof claims[CLAIM.companyId] === 'string' && claims[CLAIM.companyId] !== '' ? (claims[CLAIM.companyId] as string) : undefined;
  const clientId = typeof claims[CLAIM.clientId] === 'string' && claims[CLAIM.clientId] !== '' ? (claims[CLAIM.clientId] as string) : undefined;
  if (role !== 'operator' && !companyId) return null;
  if (role === 'client' && !clientId) return null;
  return { role: role as Role, userId: sub, username, companyId, clientId };
}
