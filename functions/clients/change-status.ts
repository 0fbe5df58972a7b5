import { actorOf } from '../domain/activity.js';
import type { Client, ClientStatus } from '../domain/client.js';
import type { Principal } from '../domain/principal.js';
import { getServices } from '../services.js';
import { activityPut } from '../store/client-records.js';
import { updateClient } from '../store/clients.js';
import { nowIso } from '../store/items.js';

/** Sets a client active, inactive or fraud; only an active client's login may sign in. */
export async function changeStatus(companyId: string, current: Client, status: ClientStatus, principal: Principal | null): Promise<Client> {
  if (current.status === status) return current;
  const next: Client = { ...current, status, version: current.version + 1, updatedAt: nowIso() };
  await updateClient(companyId, current, next, [
    activityPut(companyId, current.id, actorOf(principal), 'client.status_changed', { from: current.status, to: status }),
  ]);
  if (current.username && current.userId) await getServices().identity.setEnabled(companyId, current.username, status === 'active');
  return next;
}
