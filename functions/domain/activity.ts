import type { Principal } from './principal.js';

/** Who did something to a client, as its activity log and mail log record it. */
export interface Actor {
  type: 'staff' | 'client' | 'operator' | 'system';
  id: string;
}

/** One line of a client's activity log: what happened, when, by whom. Entries are never changed. */
export interface ActivityEntry {
  id: string;
  at: string;
  actor: Actor;
  action: string;
  details: Record<string, unknown>;
}

/** The actor behind a request; work nobody asked for (the automation, an import) is Billow itself. */
export function actorOf(principal: Principal | null): Actor {
  if (!principal) return { type: 'system', id: 'billow' };
  if (principal.role !== 'client') return { type: principal.role, id: principal.userId };
  if (!principal.clientId) throw new Error('A client principal has no clientId.');
  return { type: principal.role, id: principal.clientId };
}
