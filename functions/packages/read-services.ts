import type { Principal } from '../domain/principal.js';
import { assertServiceVisibleTo, type Service } from '../domain/service.js';
import type { Page } from '../store/dynamo.js';
import { listServices, requireService } from '../store/services.js';

/** A service the principal may see (a client token: only its own); any other is "not found". */
export async function readService(companyId: string, serviceId: string, principal: Principal | null): Promise<Service> {
  const service = await requireService(companyId, serviceId);
  assertServiceVisibleTo(principal, service);
  return service;
}

/** One page of a client's services, oldest first (an unknown client has none). */
export function listClientServices(companyId: string, clientId: string, limit: number, startKey?: Record<string, unknown>): Promise<Page<Service>> {
  return listServices(companyId, clientId, limit, startKey);
}
