import { randomBytes } from 'node:crypto';
import { actorOf } from '../domain/activity.js';
import type { Client } from '../domain/client.js';
import { RuleViolationError, ValidationError } from '../domain/errors.js';
import type { Principal } from '../domain/principal.js';
import { getServices } from '../services.js';
import { recordActivity } from '../store/client-records.js';
import { requireClient } from '../store/clients.js';
import { putPasswordToken, takePasswordToken } from '../store/password-tokens.js';

export const SET_PASSWORD_TOKEN_HOURS = 72;

export function setPasswordUrl(token: string): string {
  const base = (process.env.BILLOW_APP_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  return `${base}/set-password?token=${encodeURIComponent(token)}`;
}

/**
 * A one-time set-password token for the client's login, valid 72 h. Only its hash is stored; the token itself
 * exists only in the link handed to the mailer.
 */
export async function createSetPasswordLink(
  companyId: string,
  client: Client,
  principal: Principal | null,
): Promise<{ url: string; token: string; expiresAt: string }> {
  if (!client.username || !client.userId) throw new RuleViolationError('This client has no login.', { code: 'no_login' });
  const token = randomBytes(32).toString('base64url');
  const expires = Math.floor(Date.now() / 1000) + SET_PASSWORD_TOKEN_HOURS * 3600;
  await putPasswordToken(token, { companyId, clientId: client.id, username: client.username }, expires);
  await recordActivity(companyId, client.id, actorOf(principal), 'client.login_details_sent', { expiresAt: new Date(expires * 1000).toISOString() });
  return { url: setPasswordUrl(token), token, expiresAt: new Date(expires * 1000).toISOString() };
}

/** Uses a set-password token once: the delete is conditional, so of two uses only one succeeds. */
export async function usePasswordToken(token: string, password: string): Promise<void> {
  const invalid = ValidationError.field('token', 'The link is unknown, used or expired.');
  const owner = await takePasswordToken(token);
  if (!owner) throw invalid;
  const client = await requireClient(owner.companyId, owner.clientId).catch(() => {
    throw invalid;
  });
  if (client.username !== owner.username) throw invalid;
  // The same name as the client's (checked just above).
  await getServices().identity.setPassword(owner.companyId, owner.username, password);
}
