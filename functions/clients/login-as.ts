import { actorOf } from '../domain/activity.js';
import type { Client } from '../domain/client.js';
import { RuleViolationError } from '../domain/errors.js';
import type { Principal } from '../domain/principal.js';
import type { IssuedToken } from '../adapters/identity/port.js';
import { getServices } from '../services.js';
import { recordActivity } from '../store/client-records.js';

/** A client token for staff acting as the client; recorded in the client's activity. */
export async function loginAs(companyId: string, client: Client, principal: Principal | null): Promise<IssuedToken> {
  if (!client.username || !client.userId) throw new RuleViolationError('This client has no login.', { code: 'no_login' });
  if (client.status !== 'active') throw new RuleViolationError('This account is not active.', { code: 'client_not_active' });
  const issued = await getServices().identity.issueToken(companyId, client.username);
  await recordActivity(companyId, client.id, actorOf(principal), 'client.login_as', {});
  return issued;
}
