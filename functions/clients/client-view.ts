import { defaultFax, summaryRows, type BalanceTotals, type Client } from '../domain/client.js';
import { NotFoundError } from '../domain/errors.js';
import type { Group } from '../domain/group.js';
import type { Note } from '../domain/note.js';
import type { Principal } from '../domain/principal.js';
import { readProfileView } from '../store/clients.js';
import { getGroup, getGroups } from '../store/groups.js';

export type ClientView = ReturnType<typeof clientView>;

export function clientView(c: Client, group?: { id: string; name: string }) {
  return {
    id: c.id,
    number: c.number,
    status: c.status,
    groupId: c.groupId,
    group: group ?? null,
    firstName: c.firstName,
    lastName: c.lastName,
    company: c.company,
    title: c.title,
    address1: c.address1,
    address2: c.address2,
    city: c.city,
    country: c.country,
    state: c.state,
    zip: c.zip,
    email: c.email,
    phones: c.phones,
    defaultFax: defaultFax(c.phones),
    taxExempt: c.taxExempt,
    taxId: c.taxId,
    currency: c.currency,
    username: c.username,
    hasLogin: Boolean(c.userId),
    language: c.language,
    marketingOptIn: c.marketingOptIn,
    customFields: c.customFields,
    autoDebitAccountId: c.autoDebitAccountId,
    emailSuppressed: c.emailSuppressed ?? false,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    version: c.version,
  };
}

/** Clients as a list shows them, each with its group: the page's groups are read once, not once per client. */
export async function clientListViews(companyId: string, clients: readonly Client[]): Promise<ClientView[]> {
  const groups = new Map(
    (
      await getGroups(
        companyId,
        clients.map((c) => c.groupId),
      )
    ).map((g) => [g.id, { id: g.id, name: g.name }]),
  );
  return clients.map((c) => clientView(c, groups.get(c.groupId)));
}

/** The profile: one Query of the client's partition (client, balances, sticky notes) plus the group's name. Sticky notes are for staff. */
export async function readProfile(companyId: string, clientId: string, principal: Principal | null): Promise<ClientView & Record<string, unknown>> {
  const view = await readProfileView(companyId, clientId);
  if (!view) throw new NotFoundError('No such client.');
  return profileOf({ ...view, group: await getGroup(companyId, view.client.groupId) }, principal);
}

/**
 * The profile of a client just created, from what its creation wrote: a new client has no balance and no note yet,
 * so its profile is the client and its group (`group` when the create read it, else read here) — no read-back.
 */
export async function createdProfile(
  companyId: string,
  client: Client,
  group: Group | undefined,
  principal: Principal | null,
): Promise<ClientView & Record<string, unknown>> {
  const named = group?.id === client.groupId ? group : await getGroup(companyId, client.groupId);
  return profileOf({ client, balances: [], stickyNotes: [], group: named }, principal);
}

/** A profile's parts as stored (client, balances, sticky notes), read by a PATCH before it changes the client. */
export type ProfileParts = NonNullable<Awaited<ReturnType<typeof readProfileView>>>;

export async function readProfileParts(companyId: string, clientId: string): Promise<ProfileParts> {
  const view = await readProfileView(companyId, clientId);
  if (!view) throw new NotFoundError('No such client.');
  return view;
}

/**
 * The profile after a change of the client alone (a PATCH): the changed client over the balances and sticky notes read
 * before it (a profile change touches neither), and its group — the profile's Query and the group, no read-back.
 */
export async function changedProfile(
  companyId: string,
  parts: ProfileParts,
  client: Client,
  principal: Principal | null,
): Promise<ClientView & Record<string, unknown>> {
  return profileOf({ ...parts, client, group: await getGroup(companyId, client.groupId) }, principal);
}

function profileOf(
  view: { client: Client; balances: BalanceTotals[]; stickyNotes: Note[]; group: Group | undefined },
  principal: Principal | null,
): ClientView & Record<string, unknown> {
  const { group } = view;
  const profile: ClientView & Record<string, unknown> = {
    ...clientView(view.client, group && { id: group.id, name: group.name }),
    summary: { data: summaryRows(view.client, view.balances) },
  };
  if (principal?.role === 'staff') {
    profile.stickyNotes = view.stickyNotes.map((n) => ({
      id: n.id,
      summary: n.summary,
      details: n.details ?? null,
      sticky: true,
      createdAt: n.createdAt,
      updatedAt: n.updatedAt,
      version: n.version,
    }));
  }
  return profile;
}
