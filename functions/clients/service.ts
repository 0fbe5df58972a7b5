import { createHash, randomBytes, randomInt } from 'node:crypto';
import { defaultFax, hasRequiredName, summaryRows, type Client, type ClientStatus } from '../domain/client.js';
import type { Company } from '../domain/company.js';
import { newId } from '../domain/ids.js';
import { resolveSettings, type GroupSettings } from '../domain/settings.js';
import { RuleViolationError, NotFoundError, ValidationError, type FieldError } from '../domain/errors.js';
import type { Principal } from '../http/route.js';
import { getServices } from '../services.js';
import { claimMerge, deleteClientPartition, moveClientPartition, releaseMerge } from '../store/client-partition.js';
import { activityPut, recordActivity, type Actor } from '../store/client-records.js';
import { insertClient, readProfileView, releaseClientNumber, requireClient, setClientUserId, updateClient } from '../store/clients.js';
import { requireCompany } from '../store/companies.js';
import { getGroup, requireGroup } from '../store/groups.js';
import { nowIso } from '../store/items.js';
import { setAutoDebitAccount } from '../store/payment-accounts.js';
import { putPasswordToken, takePasswordToken } from '../store/password-tokens.js';
import type { createClientBody, updateClientBody } from './schemas.js';
import type { z } from 'zod';

export const SET_PASSWORD_TOKEN_HOURS = 72;

export function actorOf(principal: Principal | null): Actor {
  if (!principal) return { type: 'system', id: 'billow' };
  return { type: principal.role, id: principal.role === 'client' ? principal.clientId! : principal.userId };
}

/** A readable random password for "generate password" (shown once, never mailed). */
export function generatePassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!@#%*-_';
  let out = '';
  for (let i = 0; i < 16; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

type ClientView = ReturnType<typeof clientView>;

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

/** The profile: one Query of the client's partition (client, balances, sticky notes) plus the group's name. */
export async function readProfile(companyId: string, clientId: string, principal: Principal | null): Promise<ClientView & Record<string, unknown>> {
  const view = await readProfileView(companyId, clientId);
  if (!view) throw new NotFoundError('No such client.');
  const group = await getGroup(companyId, view.client.groupId);
  const profile: ClientView & Record<string, unknown> = { ...clientView(view.client, group && { id: group.id, name: group.name }), summary: { data: summaryRows(view.client, view.balances) } };
  if (principal?.role === 'staff') {
    profile.stickyNotes = view.stickyNotes.map((n) => ({ id: n.id, summary: n.summary, details: n.details ?? null, sticky: true, createdAt: n.createdAt, updatedAt: n.updatedAt, version: n.version }));
  }
  return profile;
}

export async function effectiveSettingsFor(companyId: string, groupId: string): Promise<{ company: Company; settings: GroupSettings }> {
  const company = await requireCompany(companyId);
  const group = await getGroup(companyId, groupId);
  return { company, settings: resolveSettings(company.groupSettings, group?.settings ?? {}) };
}

function nameErrors(c: Pick<Client, 'company' | 'firstName' | 'lastName'>): FieldError[] {
  if (hasRequiredName(c)) return [];
  const message = 'A client needs a company, or both a first and a last name.';
  return [
    { path: 'company', message },
    ...(!c.firstName?.trim() ? [{ path: 'firstName', message }] : []),
    ...(!c.lastName?.trim() ? [{ path: 'lastName', message }] : []),
  ];
}

function assertCurrencyAllowed(company: Company, currency: string): void {
  if (!company.own.currencies.includes(currency)) {
    throw ValidationError.field('currency', `Not one of the company's currencies (${company.own.currencies.join(', ')}).`);
  }
}

export interface CreatedClient {
  client: Client;
  generatedPassword?: string;
}

export async function createClient(companyId: string, input: z.infer<typeof createClientBody>, principal: Principal | null): Promise<CreatedClient> {
  const company = await requireCompany(companyId);
  const errors = nameErrors({ company: input.company ?? null, firstName: input.firstName ?? null, lastName: input.lastName ?? null });
  if (input.password && input.generatePassword) errors.push({ path: 'generatePassword', message: 'Give a password or ask for one to be generated, not both.' });
  const username = input.username ?? input.email ?? null;
  if ((input.password || input.generatePassword) && !username) errors.push({ path: 'username', message: 'A login needs a username or an email.' });
  if (errors.length) throw new ValidationError(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  const currency = input.currency ?? company.own.defaultCurrency;
  assertCurrencyAllowed(company, currency);
  const groupId = input.groupId ?? company.defaultGroupId;
  if (input.groupId && !(await getGroup(companyId, input.groupId))) throw ValidationError.field('groupId', 'No such client group.');

  const now = nowIso();
  const draft: Omit<Client, 'number'> & { number?: number } = {
    id: newId('cl'),
    number: input.number,
    status: 'active',
    groupId,
    firstName: input.firstName ?? null,
    lastName: input.lastName ?? null,
    company: input.company ?? null,
    title: input.title ?? null,
    address1: input.address1 ?? null,
    address2: input.address2 ?? null,
    city: input.city ?? null,
    country: input.country ?? null,
    state: input.state ?? null,
    zip: input.zip ?? null,
    email: input.email ?? null,
    phones: input.phones ?? [],
    taxExempt: input.taxExempt ?? false,
    taxId: input.taxId ?? null,
    currency,
    username,
    userId: null,
    language: input.language ?? company.own.language,
    marketingOptIn: input.marketingOptIn ?? false,
    customFields: input.customFields ?? {},
    autoDebitAccountId: null,
    version: 1,
    createdAt: now,
    updatedAt: now,
  };
  const client = await insertClient(companyId, draft, (c) => [activityPut(companyId, c.id, actorOf(principal), 'client.created', { number: c.number })]);
  const generatedPassword = input.generatePassword ? generatePassword() : undefined;
  if (username) {
    try {
      const login = await getServices().identity.createUser({
        username,
        password: input.password ?? generatedPassword ?? generatePassword() + generatePassword(),
        role: 'client',
        companyId,
        clientId: client.id,
        email: client.email ?? undefined,
      });
      client.userId = login.userId;
      await setClientUserId(companyId, client.id, login.userId);
    } catch (error) {
      await deleteClientPartition(companyId, client.id);
      await releaseClientNumber(companyId, client);
      throw error;
    }
  }
  return { client, generatedPassword };
}

const CHANGEABLE: Array<keyof Client> = ['firstName', 'lastName', 'company', 'title', 'address1', 'address2', 'city', 'country', 'state', 'zip', 'email', 'phones', 'taxExempt', 'taxId', 'currency', 'username', 'language', 'groupId', 'marketingOptIn', 'customFields'];

export async function updateClientProfile(companyId: string, current: Client, patch: z.infer<typeof updateClientBody>, principal: Principal | null): Promise<Client> {
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
  const errors = nameErrors(next);
  if (errors.length) throw new ValidationError(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
  if (patch.password && !next.username) throw ValidationError.field('password', 'This client has no login; give it a username first.');
  if (changed.includes('currency')) assertCurrencyAllowed(await requireCompany(companyId), next.currency);
  if (changed.includes('groupId')) await requireGroup(companyId, next.groupId).catch(() => {
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
      const login = await identity.createUser({ username: to, password: patch.password ?? generatePassword() + generatePassword(), role: 'client', companyId, clientId: current.id, email: next.email ?? undefined });
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
      await updateClient(companyId, current, next, [activityPut(companyId, current.id, actorOf(principal), 'client.updated', { fields: changed })]);
    } catch (error) {
      await undoLogin?.().catch(() => undefined);
      throw error;
    }
  }
  if (usernameChanged && !next.username && current.userId && current.username) await identity.deleteUser(companyId, current.username);
  if (patch.password && (!usernameChanged || current.userId)) await identity.setPassword(companyId, next.username!, patch.password);
  return next;
}

export async function changeStatus(companyId: string, current: Client, status: ClientStatus, principal: Principal | null): Promise<Client> {
  if (current.status === status) return current;
  const next: Client = { ...current, status, version: current.version + 1, updatedAt: nowIso() };
  await updateClient(companyId, current, next, [activityPut(companyId, current.id, actorOf(principal), 'client.status_changed', { from: current.status, to: status })]);
  if (current.username && current.userId) await getServices().identity.setEnabled(companyId, current.username, status === 'active');
  return next;
}

export async function deleteClient(companyId: string, client: Client): Promise<void> {
  await deleteClientPartition(companyId, client.id);
  if (client.username && client.userId) await getServices().identity.deleteUser(companyId, client.username);
}

/** Moves everything of `sourceId` into `targetId`, then deletes the source and its login. */
export async function mergeClients(companyId: string, sourceId: string, targetId: string, principal: Principal | null): Promise<void> {
  if (sourceId === targetId) throw ValidationError.field('intoClientId', 'A client cannot be merged into itself.');
  const source = await requireClient(companyId, sourceId);
  const target = await requireClient(companyId, targetId).catch(() => {
    throw ValidationError.field('intoClientId', 'No such client.');
  });
  await claimMerge(companyId, source.id, target.id);
  let moved: number;
  try {
    moved = await moveClientPartition(companyId, source.id, target.id);
  } catch (error) {
    await releaseMerge(companyId, source.id, target.id);
    throw error;
  }
  // One auto-debit account per client: the target keeps its own; without one it takes the source's. The one writer
  // of that rule also unflags the moved account, in one transaction with the target's version as read now.
  if (source.autoDebitAccountId) {
    const merged = await requireClient(companyId, target.id);
    await setAutoDebitAccount(companyId, merged, merged.autoDebitAccountId ?? source.autoDebitAccountId);
  }
  await recordActivity(companyId, target.id, actorOf(principal), 'client.merged', { fromClientId: source.id, fromNumber: source.number, itemsMoved: moved });
  await deleteClient(companyId, source);
}

export async function loginAs(companyId: string, client: Client, principal: Principal | null) {
  if (!client.username || !client.userId) throw new RuleViolationError('This client has no login.', { code: 'no_login' });
  if (client.status !== 'active') throw new RuleViolationError('This account is not active.', { code: 'client_not_active' });
  const issued = await getServices().identity.issueToken(companyId, client.username);
  await recordActivity(companyId, client.id, actorOf(principal), 'client.login_as', {});
  return issued;
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

export function setPasswordUrl(token: string): string {
  const base = (process.env.BILLOW_APP_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  return `${base}/set-password?token=${encodeURIComponent(token)}`;
}

/**
 * A one-time set-password token for the client's login, valid 72 h. Only its hash is stored; the token itself
 * exists only in the link handed to the mailer.
 */
export async function createSetPasswordLink(companyId: string, client: Client, principal: Principal | null): Promise<{ url: string; token: string; expiresAt: string }> {
  if (!client.username || !client.userId) throw new RuleViolationError('This client has no login.', { code: 'no_login' });
  const token = randomBytes(32).toString('base64url');
  const expires = Math.floor(Date.now() / 1000) + SET_PASSWORD_TOKEN_HOURS * 3600;
  await putPasswordToken(tokenHash(token), { companyId, clientId: client.id, username: client.username }, expires);
  await recordActivity(companyId, client.id, actorOf(principal), 'client.login_details_sent', { expiresAt: new Date(expires * 1000).toISOString() });
  return { url: setPasswordUrl(token), token, expiresAt: new Date(expires * 1000).toISOString() };
}

/** Uses a set-password token once: the delete is conditional, so of two uses only one succeeds. */
export async function usePasswordToken(token: string, password: string): Promise<void> {
  const invalid = ValidationError.field('token', 'The link is unknown, used or expired.');
  const item = await takePasswordToken(tokenHash(token));
  if (!item) throw invalid;
  const client = await requireClient(item.companyId, item.clientId).catch(() => {
    throw invalid;
  });
  if (client.username !== item.username) throw invalid;
  await getServices().identity.setPassword(item.companyId, client.username!, password);
}
