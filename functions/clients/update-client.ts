import { actorOf } from '../domain/activity.js';
import { assertClientMayChange, assertRequiredName, type Client, type ContactDetails } from '../domain/client.js';
import { assertCompanyCurrency } from '../domain/company.js';
import { ConflictError, ValidationError } from '../domain/errors.js';
import type { Principal } from '../domain/principal.js';
import { getServices } from '../services.js';
import { activityPut } from '../store/client-records.js';
import { transact, type TransactItem } from '../store/dynamo.js';
import { requireClient, updateClient } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { requireGroup } from '../store/groups.js';
import { assertVersion, nowIso } from '../store/items.js';
import { unusablePassword } from './passwords.js';
import { changedProfile, readProfileParts } from './client-view.js';
import { applyChange } from '../store/retry.js';

export type ClientProfilePatch = Partial<ContactDetails> & {
  taxExempt?: boolean;
  taxId?: string | null;
  currency?: string;
  /** A new username renames the login (or makes one); `null` removes the login. */
  username?: string | null;
  password?: string;
  language?: string;
  groupId?: string;
  marketingOptIn?: boolean;
  customFields?: Record<string, string>;
  /** Staff only; unique in the company (the old number stays taken: numbers are never reused). */
  number?: number;
};

export interface UpdateClientProfileInput {
  companyId: string;
  clientId: string;
  /** The version the caller last read; the change is refused when the client has moved on since. */
  expectedVersion?: number;
  patch: ClientProfilePatch;
  principal: Principal | null;
  /**
   * Items to commit in the same transaction as the change (an import's per-row marker). A patch that changes
   * nothing writes them alone.
   */
  alsoWrite?: TransactItem[];
  /** The client as the caller has just read it (the profile it answers with): the first attempt plans with it, unread again. */
  read?: Client;
}

const CHANGEABLE: Array<keyof Client> = [
  'firstName',
  'lastName',
  'company',
  'title',
  'address1',
  'address2',
  'city',
  'country',
  'state',
  'zip',
  'email',
  'phones',
  'taxExempt',
  'taxId',
  'currency',
  'username',
  'language',
  'groupId',
  'marketingOptIn',
  'customFields',
  'number',
];

/** Changes a client's profile; the login follows its username and password. A client may change only some fields of its own. */
export function updateClientProfile(input: UpdateClientProfileInput): Promise<Client> {
  // A retry (another change landed in between) reads the client again.
  let read = input.read?.id === input.clientId ? input.read : undefined;
  return applyChange(input.expectedVersion, () => {
    const known = read;
    read = undefined;
    return updateClientProfileOnce(input, known);
  });
}

async function updateClientProfileOnce(input: UpdateClientProfileInput, known: Client | undefined): Promise<Client> {
  const { companyId, patch, principal } = input;
  if (principal?.role === 'client') assertClientMayChange(Object.keys(patch).filter((field) => (patch as Record<string, unknown>)[field] !== undefined));
  const current = known ?? (await requireClient(companyId, input.clientId));
  assertVersion(current, input.expectedVersion);
  const next: Client = { ...current };
  const changed: string[] = [];
  for (const field of CHANGEABLE) {
    const value = (patch as Record<string, unknown>)[field];
    if (value === undefined) continue;
    if (JSON.stringify(value) !== JSON.stringify(current[field])) {
      (next as unknown as Record<string, unknown>)[field] = value;
      changed.push(field);
    }
  }
  assertRequiredName(next);
  if (patch.password && !next.username) throw ValidationError.field('password', 'This client has no login; give it a username first.');
  if (changed.includes('currency')) assertCompanyCurrency(await requireCompany(companyId), next.currency);
  if (changed.includes('groupId'))
    await requireGroup(companyId, next.groupId).catch(() => {
      throw ValidationError.field('groupId', 'No such client group.');
    });
  const identity = getServices().identity;
  // The login follows the profile. A new username renames it (or creates one) before the profile is saved, so a
  // name the identity provider already has fails with nothing changed; if the profile then cannot be saved, the
  // login change is undone. A removed username deletes the login once the profile is saved.
  const usernameChanged = changed.includes('username');
  let undoLogin: (() => Promise<void>) | undefined;
  if (usernameChanged && next.username) {
    const to = next.username;
    if (current.userId && current.username) {
      const from = current.username;
      await identity.renameUser(companyId, from, to);
      undoLogin = () => identity.renameUser(companyId, to, from);
    } else {
      const login = await identity.createUser({
        username: to,
        password: patch.password ?? unusablePassword(),
        role: 'client',
        companyId,
        clientId: current.id,
        email: next.email ?? undefined,
      });
      next.userId = login.userId;
      undoLogin = () => identity.deleteUser(companyId, to);
    }
  }
  if (usernameChanged && !next.username) next.userId = null;
  // Suppression is per address: a new address gets automatic mail again.
  if (changed.includes('email') && next.emailSuppressed) next.emailSuppressed = false;
  if (changed.length) {
    next.version = current.version + 1;
    next.updatedAt = nowIso();
    try {
      await updateClient(companyId, current, next, [
        activityPut(companyId, current.id, actorOf(principal), 'client.updated', { fields: changed }),
        ...(input.alsoWrite ?? []),
      ]);
    } catch (error) {
      await undoLogin?.().catch(() => undefined);
      throw error;
    }
  }
  if (!changed.length && input.alsoWrite?.length) await transact(input.alsoWrite, () => new ConflictError('The change was already recorded.'));
  if (usernameChanged && !next.username && current.userId && current.username) await identity.deleteUser(companyId, current.username);
  if (patch.password && (!usernameChanged || current.userId)) {
    // A password without a username was refused above.
    if (!next.username) throw new Error('A password was set on a client without a username.');
    await identity.setPassword(companyId, next.username, patch.password);
  }
  return next;
}

/**
 * A PATCH of a profile, answered with the profile: the profile's Query first, so the change plans with its client, and
 * the answer is built from what the change wrote (the balances and sticky notes as read: a profile change touches
 * neither) instead of read back.
 */
export async function patchClientProfile(input: Omit<UpdateClientProfileInput, 'read' | 'alsoWrite'>) {
  const parts = await readProfileParts(input.companyId, input.clientId);
  const client = await updateClientProfile({ ...input, read: parts.client });
  return changedProfile(input.companyId, parts, client, input.principal);
}
