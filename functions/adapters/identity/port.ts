import type { Role } from '../../domain/principal.js';

/** A login as the identity provider knows it. Usernames are unique per company (operators: platform-wide). */
export interface LoginUser {
  userId: string;
  username: string;
  role: Role;
  companyId?: string;
  clientId?: string;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

/**
 * The identity provider: Cognito in AWS (`cognito.ts`), a stand-in on DynamoDB Local (`local.ts`).
 * Both issue JWTs carrying the same claims (see `claims.ts`).
 */
export interface IdentityProvider {
  createUser(user: Omit<LoginUser, 'userId'> & { password: string; email?: string }): Promise<LoginUser>;
  /** Null when the username is unknown in that scope or the password is wrong. */
  authenticate(companyId: string | undefined, username: string, password: string): Promise<IssuedToken | null>;
  /** A token for an existing login without its password (staff "login as"). */
  issueToken(companyId: string | undefined, username: string): Promise<IssuedToken>;
  setPassword(companyId: string | undefined, username: string, password: string): Promise<void>;
  setEnabled(companyId: string | undefined, username: string, enabled: boolean): Promise<void>;
  renameUser(companyId: string | undefined, from: string, to: string): Promise<void>;
  deleteUser(companyId: string | undefined, username: string): Promise<void>;
  /** The login of that username in that scope, undefined when there is none (a crashed create looks for its login). */
  findUser(companyId: string | undefined, username: string): Promise<LoginUser | undefined>;
}

export const TOKEN_LIFETIME_SECONDS = 3600;

/** How a username is namespaced in the provider's single pool: logins are per company. */
export function scopedUsername(companyId: string | undefined, username: string): string {
  return `${companyId ?? 'operator'}:${username.toLowerCase()}`;
}
